"""On a phone (390 × 844): a coordinator opens the follow-ups due, asks the questions of the
first person on the list (one declined), saves, and sees the outcomes report count them; and
from the call list, records a follow-up and sees the reports page count it."""

from __future__ import annotations

import re
from datetime import date, timedelta

from playwright.sync_api import expect

from tests.browser.conftest import open_navigation, sign_in

ANSWERS = {
    "life_satisfaction": "8",
    "worthwhile": "7",
    "happy": "8",
    "anxious": "declined",
    "ucla_companionship": "1",
    "ucla_left_out": "1",
    "ucla_isolated": "2",
    "lonely_direct": "4",
}


def _pairs(page) -> int:
    return int(page.locator(".big-figure strong").inner_text())


def test_coordinator_records_a_follow_up_on_a_phone_and_the_report_changes(
    page, live_server, output_path
):
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_server, "coordinator@wdi.example.org")
    page.goto(live_server("/outcomes/report"))
    before = _pairs(page)

    page.goto(live_server("/dashboard"))
    open_navigation(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Follow-ups").click()
    expect(page.get_by_role("heading", name="Follow-ups due", level=1)).to_be_visible()
    first = page.locator(".call-list a.call-name").first
    name = first.inner_text().strip()
    first.click()
    expect(page.get_by_role("heading", name="Outcome questions", level=1)).to_be_visible()
    expect(page.get_by_text(name)).to_be_visible()
    page.get_by_label("By phone").check()
    for key, value in ANSWERS.items():
        radio = page.locator(f"input[name='{key}'][value='{value}']")
        page.locator(f"label[for='{radio.get_attribute('id')}']").click()  # a tap on the label
        expect(radio).to_be_checked()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the questions scroll sideways on a phone ({width}px)"
    page.screenshot(path=f"{output_path}/outcome-questions-390.png", full_page=True)
    page.get_by_role("button", name="Save answers").click()
    expect(page.get_by_text(re.compile(r"Outcome answers recorded for R-\d+"))).to_be_visible()

    page.goto(live_server("/outcomes/report"))
    assert _pairs(page) == before + 1


def _reported_pairs(page, live_server) -> int:
    """The reports page's headline: people asked at the start and at follow-up (last year)."""
    end = date.today()
    start = end - timedelta(days=365)
    page.goto(live_server(f"/reports/?period=custom&start={start}&end={end}"))
    card = page.locator(".key-figures li", has_text="people asked at the start and at follow-up")
    return int(card.locator(".big").inner_text().replace(",", ""))


def test_coordinator_records_a_follow_up_from_the_call_list_and_the_reports_change(
    page, live_server, output_path
):
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_server, "coordinator@wdi.example.org")
    before = _reported_pairs(page, live_server)

    page.goto(live_server("/dashboard"))
    open_navigation(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Call list").click()
    expect(page.get_by_role("heading", name="Outcome follow-ups due", level=2)).to_be_visible()
    # A first follow-up (a later one may replace an earlier pair instead of adding one).
    row = page.locator(".follow-up-calls tbody tr", has_text="3-month follow-up").first
    reference = row.get_attribute("id").removeprefix("follow-up-")
    page.screenshot(path=f"{output_path}/call-list-follow-ups-390.png", full_page=True)
    row.get_by_role("link", name=re.compile("Ask the questions")).click()
    expect(page.get_by_role("heading", name="Outcome questions", level=1)).to_be_visible()
    expect(page.get_by_text(reference)).to_be_visible()
    page.get_by_label("By phone").check()
    for key, value in ANSWERS.items():
        radio = page.locator(f"input[name='{key}'][value='{value}']")
        page.locator(f"label[for='{radio.get_attribute('id')}']").click()
        expect(radio).to_be_checked()
    page.get_by_role("button", name="Save answers").click()

    # Back on the call list, where the follow-up is no longer due.
    page.wait_for_url(re.compile(r"/reminders$"))
    expect(page.get_by_text(f"Outcome answers recorded for {reference}.")).to_be_visible()
    expect(page.locator(f"#follow-up-{reference}")).to_have_count(0)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the call list scrolls sideways on a phone ({width}px)"

    assert _reported_pairs(page, live_server) == before + 1
