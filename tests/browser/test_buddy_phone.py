"""The buddy's phone (390 × 844): the home is their residents, next visit first; logging
a session after a visit is one tap from the list and survives a lost connection; the
progress charts keep their labels at 12 px or more and their tables become lists; the
availability grid never breaks a day's name; a coordinator's programme page fits too."""

from __future__ import annotations

import re
from datetime import date, timedelta

from playwright.sync_api import expect

from tests.browser.conftest import open_navigation, sign_in

PHONE = {"width": 390, "height": 844}


def _no_sideways_scroll(page, what):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{what} scrolls sideways on a phone ({width}px)"
    clipped = page.evaluate(
        """() => Array.from(document.querySelectorAll('.table-wrap'))
            .filter(w => w.scrollWidth > w.clientWidth + 1).length"""
    )
    assert clipped == 0, f"{what} has a table with columns cut off on a phone"


def _chart_text_problems(page, chart):
    """Each axis label's size on screen, and whether it is drawn inside the chart."""
    return page.evaluate(
        """id => {
          const svg = document.querySelector('#' + id + ' svg.chart-svg');
          const box = svg.getBoundingClientRect();
          const out = [];
          svg.querySelectorAll('text.chart-tick, text.chart-label').forEach(t => {
            const size = parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a;
            const r = t.getBoundingClientRect();
            if (size < 12) out.push(`${t.textContent}: ${size.toFixed(1)}px`);
            if (r.left < box.left - 0.5 || r.right > box.right + 0.5 ||
                r.top < box.top - 0.5 || r.bottom > box.bottom + 0.5)
              out.push(`${t.textContent}: cut off`);
          });
          return out;
        }""",
        chart,
    )


def _reflowed(page, selector):
    return page.evaluate(
        "s => Array.from(document.querySelectorAll(s + ' tbody tr'))"
        ".every(tr => getComputedStyle(tr).display === 'block')",
        selector,
    )


def test_the_buddy_lands_on_their_residents_next_visit_first(page, live_server, output_path):
    page.set_viewport_size(PHONE)
    sign_in(page, live_server, "buddy@wdi.example.org")
    expect(page.get_by_role("heading", name="My residents", level=1)).to_be_visible()
    cards = page.locator(".resident-list > li.card")
    assert cards.count() >= 2
    # Each card has the next planned visit and the last session; planned visits come
    # first, soonest first.
    visits = [t.strip() for t in page.locator(".resident-list .next-visit").all_inner_texts()]
    planned = [v for v in visits if v != "Not planned yet"]
    assert planned and visits[: len(planned)] == planned
    days = [
        re.search(r"\(in (\d+) days?\)|\((today|tomorrow)\)", v) for v in planned if "ago" not in v
    ]
    assert all(days)
    assert page.locator(".resident-list .last-session").count() == cards.count()
    _no_sideways_scroll(page, "the buddy's residents")
    page.screenshot(path=f"{output_path}/buddy-residents-390.png", full_page=True)


def test_a_session_after_a_visit_in_a_few_taps_survives_a_lost_connection(
    page, live_server, output_path
):
    page.set_viewport_size(PHONE)
    sign_in(page, live_server, "buddy@wdi.example.org")
    # The last card: the one with no visit planned yet (demo data), so it moves up.
    card = page.locator(".resident-list > li.card").last
    name = card.locator("h2 a").inner_text().strip()
    card.get_by_role("link", name=re.compile("Log a session")).click()  # tap 1
    expect(page.get_by_role("heading", name=re.compile(f"Log a session.*{name}"))).to_be_visible()
    # Today, and how long and how they met last time, are already filled in.
    assert page.get_by_label("Date", exact=True).input_value() == date.today().isoformat()
    assert page.get_by_label("How long (minutes)").input_value() != ""
    first_task = page.locator("details.task-group").first.locator(".task-row").first
    first_task.locator("input.practised").check()  # tap 2
    first_task.locator("select").select_option("3")  # tap 3
    next_visit = date.today() + timedelta(days=1)
    page.get_by_label("Next visit").fill(next_visit.isoformat())  # tap 4
    page.get_by_label("Notes", exact=True).fill("Offline test: sent on a bus with no signal.")
    page.wait_for_function(
        "() => Object.keys(localStorage).some(k => k.startsWith('practice-draft:'))"
    )
    _no_sideways_scroll(page, "the session form")
    form_url = page.url

    # The signal drops as the buddy taps Save: the send fails, nothing is lost.
    page.context.set_offline(True)
    try:
        page.get_by_role("button", name="Save session").click()  # tap 5
        page.wait_for_timeout(500)
    finally:
        page.context.set_offline(False)
    page.goto(form_url)
    expect(page.get_by_label("Notes", exact=True)).to_have_value(
        "Offline test: sent on a bus with no signal."
    )
    expect(page.get_by_label("Next visit")).to_have_value(next_visit.isoformat())
    page.get_by_role("button", name="Save session").click()
    expect(page.get_by_text(f"Session saved for {name}.")).to_be_visible()

    open_navigation(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My residents").click()
    first = page.locator(".resident-list > li.card").first
    expect(first.locator("h2 a")).to_have_text(name)
    expect(first.locator(".next-visit")).to_contain_text("tomorrow")
    expect(first.locator(".last-session")).to_contain_text(date.today().strftime("%a %d %b %Y"))
    page.screenshot(path=f"{output_path}/buddy-residents-after-visit-390.png", full_page=True)


def test_progress_charts_and_tables_are_legible_at_390(page, live_server, output_path):
    page.set_viewport_size(PHONE)
    sign_in(page, live_server, "buddy@wdi.example.org")
    page.locator(".resident-list h2 a").first.click()
    expect(page.locator("#resident-chart svg.chart-svg")).to_be_visible()
    assert _chart_text_problems(page, "resident-chart") == []
    assert page.locator(".progress-table tbody tr").count() > 0
    assert _reflowed(page, ".progress-table"), "the task table is not a list on a phone"
    _no_sideways_scroll(page, "a resident's progress")
    page.screenshot(path=f"{output_path}/buddy-progress-390.png", full_page=True)

    open_navigation(page)
    page.get_by_role("button", name=re.compile("Sign out")).click()
    sign_in(page, live_server, "coordinator@wdi.example.org")
    page.goto(live_server("/practice/progress?group=age"))
    expect(page.locator("#programme-chart svg.chart-svg")).to_be_visible()
    assert _chart_text_problems(page, "programme-chart") == []
    assert _reflowed(page, ".task-table") and _reflowed(page, ".km-table")
    _no_sideways_scroll(page, "programme progress")
    text = page.locator("main").inner_text()
    assert "Kaplan" not in text and "censored" not in text.lower()  # the detail is closed
    page.get_by_text("How this is worked out").click()
    expect(page.locator("#method")).to_contain_text("Kaplan–Meier")

    # On a desk the same chart keeps its labels at 12 px or more too.
    page.set_viewport_size({"width": 1280, "height": 900})
    assert _chart_text_problems(page, "programme-chart") == []


def test_the_availability_grid_never_breaks_a_day_at_390(page, live_server, output_path):
    page.set_viewport_size(PHONE)
    page.goto(live_server("/volunteer"))
    grid = page.locator(".availability-grid table")
    expect(grid).to_be_visible()
    # Screen readers still hear the full day; on screen it is three letters on one line.
    expect(page.get_by_role("rowheader", name="Wednesday")).to_be_visible()
    broken = page.evaluate(
        """() => {
          const out = [];
          document.querySelectorAll('.availability-grid th, .availability-grid td').forEach(c => {
            if (c.scrollWidth > c.clientWidth + 1) out.push(c.textContent.trim() + ': overflows');
            const visible = Array.from(c.childNodes).flatMap(n =>
              n.nodeType === 3 ? [n] :
              (n.nodeType === 1 && getComputedStyle(n).display !== 'none' &&
               getComputedStyle(n).position !== 'absolute') ? Array.from(n.childNodes) : []);
            visible.filter(n => n.nodeType === 3 && n.textContent.trim()).forEach(n => {
              const range = document.createRange();
              range.selectNodeContents(n);
              const lines = new Set(Array.from(range.getClientRects()).map(r => Math.round(r.top)));
              if (lines.size > 1) out.push(n.textContent.trim() + ': broken over lines');
            });
          });
          return out;
        }"""
    )
    assert broken == []
    shown = page.locator(".availability-grid th[scope=row] .app-day-short").first
    expect(shown).to_have_text("Mon")
    _no_sideways_scroll(page, "the volunteer form")
    grid.screenshot(path=f"{output_path}/availability-grid-390.png")
