"""On a phone (390 × 844): a buddy opens a resident, logs a session with three
checkpoints and a safeguarding concern, and sees the chart change; a coordinator
then sees the concern on the safeguarding alert list."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import open_navigation, sign_in

CONCERN = "Phone test: a caller claiming to be her bank asked for her PIN."


def _no_sideways_scroll(page, what):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{what} scrolls sideways on a phone ({width}px)"


def test_buddy_logs_a_session_on_a_phone_and_coordinator_sees_the_alert(
    page, live_server, output_path
):
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_server, "buddy@wdi.example.org")
    open_navigation(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My residents").click()
    expect(page.get_by_role("heading", name="My residents", level=1)).to_be_visible()
    _no_sideways_scroll(page, "my residents")

    first = page.locator(".resident-list h2 a").first
    name = first.inner_text().strip()
    first.click()
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()
    dots = page.locator("#resident-chart circle.chart-dot")
    before_dots = dots.count()
    before_points = page.locator("#resident-chart polyline").first.get_attribute("points")
    _no_sideways_scroll(page, "resident progress")

    page.get_by_role("link", name="Log a session").first.click()
    expect(page.get_by_role("heading", name=re.compile("Log a session"))).to_be_visible()
    page.get_by_label("How long (minutes)").fill("50")
    page.get_by_label("Home visit").check()
    page.get_by_label("Where").fill("At home")
    rows = page.locator("details.task-group").first.locator(".task-row")
    for i, level in enumerate(("2", "3", "4")):
        row = rows.nth(i)
        row.locator("input.practised").check()
        row.locator("select").select_option(level)
    page.get_by_label("Next steps").fill("Try the NHS App login together.")
    page.get_by_label("I have a safeguarding concern").check()
    page.get_by_label("Describe the concern").fill(CONCERN)
    _no_sideways_scroll(page, "the session form")
    page.screenshot(path=f"{output_path}/log-session-390.png", full_page=True)
    page.get_by_role("button", name="Save session").click()

    expect(page.get_by_text(f"Session saved for {name}.")).to_be_visible()
    expect(
        page.get_by_text("safeguarding concern is on the coordinators' alert list")
    ).to_be_visible()
    # The chart now has one more point per area practised, and its lines moved on.
    assert dots.count() > before_dots
    assert page.locator("#resident-chart polyline").first.get_attribute("points") != before_points
    page.screenshot(path=f"{output_path}/progress-390.png", full_page=True)

    open_navigation(page)
    page.get_by_role("button", name=re.compile("Sign out")).click()
    sign_in(page, live_server, "coordinator@wdi.example.org")
    panel = page.locator(".safeguarding-panel")
    expect(panel).to_contain_text(name)
    expect(panel).to_contain_text(CONCERN[:60])
    page.goto(live_server("/practice/alerts"))
    expect(page.locator(".alert-list")).to_contain_text(CONCERN)
