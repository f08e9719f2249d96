"""Choosing a resident with accessible-autocomplete (GOV.UK's component), and the same form
without JavaScript: progressive enhancement, so both put the right resident on the list."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.conftest import sign_in


def _two_residents_not_waiting(live_server):
    from devices.loans.models import WaitingListEntry
    from inclusion.accounts.models import Organisation
    from inclusion.extensions import db
    from inclusion.residents.models import Resident

    with live_server.app.app_context():
        org = db.session.scalar(select(Organisation.id).where(Organisation.code == "WDI"))
        waiting = select(WaitingListEntry.resident_id).where(WaitingListEntry.status == "waiting")
        found = [
            (r.reference, r.full_name, r.last_name)
            for r in db.session.scalars(
                select(Resident)
                .where(
                    Resident.organisation_id == org,
                    Resident.id.not_in(waiting),
                    Resident.anonymised_at.is_(None),
                    Resident.status != "closed",
                )
                .order_by(Resident.id.desc())
                .limit(2)
            )
        ]
        db.session.remove()
    assert len(found) == 2, "the demo data has residents not on the waiting list"
    return found


def _on_the_list(live_server, reference) -> bool:
    from devices.loans.models import WaitingListEntry
    from inclusion.extensions import db
    from inclusion.residents.models import Resident

    with live_server.app.app_context():
        entry = db.session.scalar(
            select(WaitingListEntry.id)
            .join(Resident, Resident.id == WaitingListEntry.resident_id)
            .where(Resident.reference == reference, WaitingListEntry.status == "waiting")
        )
        db.session.remove()
    return entry is not None


def test_a_resident_is_chosen_from_suggestions_or_typed_without_javascript(
    page, browser, live_server
):
    (ref_js, name_js, surname_js), (ref_plain, name_plain, _) = _two_residents_not_waiting(
        live_server
    )
    sign_in(page, live_server, "coordinator@wdi.example.org")
    page.goto(live_server("/waiting-list/new"))
    field = page.get_by_role("combobox", name="Resident")
    field.press_sequentially(surname_js, delay=30)
    option = page.get_by_role("option", name=f"{ref_js} {name_js}", exact=False).first
    expect(option).to_be_visible()
    option.click()
    assert field.input_value().startswith(f"{ref_js} {name_js}")
    page.get_by_label("Main reason").select_option(index=1)
    page.get_by_role("button", name="Add to the list").click()
    expect(page.get_by_text(f"{name_js} is on the device waiting list.")).to_be_visible()
    assert _on_the_list(live_server, ref_js)

    # Without JavaScript the same field is a plain text box and the server finds the person.
    context = browser.new_context(java_script_enabled=False)
    plain = context.new_page()
    try:
        sign_in(plain, live_server, "coordinator@wdi.example.org")
        plain.goto(live_server("/waiting-list/new"))
        assert plain.locator("input#resident[type=text], input#resident:not([type])").count() == 1
        plain.get_by_label("Resident", exact=True).fill(ref_plain)
        plain.get_by_label("Main reason").select_option(index=1)
        plain.get_by_role("button", name="Add to the list").click()
        expect(plain.get_by_text(f"{name_plain} is on the device waiting list.")).to_be_visible()
        assert _on_the_list(live_server, ref_plain)
    finally:
        context.close()
