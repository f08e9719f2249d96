"""The coordinator's menu, grouped by job: one line on a desk, a quarter of a phone at most."""

from __future__ import annotations

from sqlalchemy import select

from tests.browser.conftest import open_navigation, sign_in

# Everything above the page's own content: the header, the menu, the group's row, the
# language switcher and the scan box.
HEADER_BOTTOM = """() => Math.max(...[...document.querySelectorAll(
  'header.govuk-header, .govuk-service-navigation, .app-subnav, .app-languages, .app-tool-bar'
)].filter(e => e.offsetParent !== null).map(e => e.getBoundingClientRect().bottom))"""


def test_the_menu_is_one_line_at_1280_px_and_each_group_shows_its_pages(page, live_server):
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, live_server, "coordinator@wdi.example.org")
    main = page.get_by_role("navigation", name="Main")
    items = main.locator(".govuk-service-navigation__list > .govuk-service-navigation__item")
    labels = [t.strip() for t in items.all_inner_texts()]
    assert labels[:5] == ["Home", "Residents", "Devices and data", "Buddies", "Reports"]
    tops = {round(item.bounding_box()["y"]) for item in items.all()}
    assert len(tops) == 1, f"the menu wraps: {labels} at {tops}"

    main.get_by_role("link", name="Devices and data").click()
    page.wait_for_url("**/devices")
    group = page.get_by_role("navigation", name="Devices and data")
    for name in ("Devices", "Donations", "Loans", "Data", "Call list", "Waiting list"):
        assert group.get_by_role("link", name=name, exact=True).is_visible()
    group.get_by_role("link", name="Donations").click()
    page.wait_for_url("**/donations")
    assert (
        main.locator(".govuk-service-navigation__item--active > a").inner_text().strip()
        == "Devices and data"
    )
    assert (
        page.get_by_role("navigation", name="Devices and data")
        .locator("[aria-current=page]")
        .inner_text()
        == "Donations"
    )


def test_on_a_phone_the_header_takes_a_quarter_of_the_screen_at_most(page, live_server):
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_server, "coordinator@wdi.example.org")
    for path in ("/dashboard", "/devices", "/residents"):
        page.goto(live_server(path))
        page.get_by_role("button", name="Menu").wait_for(state="visible")
        bottom = page.evaluate(HEADER_BOTTOM)
        assert bottom <= 844 / 4, f"{path}: the header ends at {bottom}px"
    # The folded menu lists each group's pages under it.
    open_navigation(page)
    main = page.get_by_role("navigation", name="Main")
    main.get_by_role("link", name="Donations", exact=True).click()
    page.wait_for_url("**/donations")


def test_contacted_and_assessed_in_one_step_from_the_resident_page(page, live_server):
    from datetime import date, timedelta

    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_server, "coordinator@wdi.example.org")
    # A referred resident of the demo, referred before yesterday and not erased (other
    # browser tests change residents: the list's first may not be one any more).
    from inclusion.accounts.models import Organisation
    from inclusion.extensions import db
    from inclusion.residents.models import Resident

    with live_server.app.app_context():
        org = db.session.scalar(select(Organisation.id).where(Organisation.code == "WDI"))
        reference = db.session.scalar(
            select(Resident.reference)
            .where(
                Resident.organisation_id == org,
                Resident.status == "referred",
                Resident.anonymised_at.is_(None),
                Resident.referral_date < date.today() - timedelta(days=1),
            )
            .order_by(Resident.id)
            .limit(1)
        )
        db.session.remove()
    assert reference, "the demo has a referred resident"
    page.goto(live_server(f"/residents/{reference}"))
    page.get_by_text("Record steps already done, with their dates").click()
    today = date.today()
    for status, day in (("contacted", today - timedelta(days=1)), ("assessed", today)):
        group = page.get_by_role("group", name=f"Date {status}")
        group.get_by_label("Day").fill(str(day.day))
        group.get_by_label("Month").fill(str(day.month))
        group.get_by_label("Year").fill(str(day.year))
    page.get_by_role("button", name="Record steps").click()
    page.get_by_text("2 steps recorded").wait_for()
    timeline = page.locator("ol.timeline").inner_text()
    assert "Referred → Contacted" in timeline and "Contacted → Assessed" in timeline
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
