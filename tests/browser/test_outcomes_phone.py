"""On a phone (390 × 844): a coordinator opens the follow-ups due, asks the questions of the
first person on the list (one declined), saves, and sees the outcomes report count them."""

from __future__ import annotations

import re

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
