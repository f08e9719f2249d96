"""On the buddy's phone an unsent session form is kept as a draft, but never the
safeguarding description, never for more than 24 hours, and never after sign-out."""

from __future__ import annotations

import json
import re

from playwright.sync_api import expect

from tests.browser.conftest import open_navigation, sign_in

NOTES = "Draft test: practised video calls with her granddaughter."
CONCERN = "Draft test: a caller asked for her bank PIN."
PREFIX = "practice-draft:"


def _drafts(page) -> dict:
    return page.evaluate(
        """p => Object.fromEntries(Object.keys(localStorage)
            .filter(k => k.startsWith(p)).map(k => [k, localStorage.getItem(k)]))""",
        PREFIX,
    )


def _open_session_form(page, live_server):
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_server, "buddy@wdi.example.org")
    open_navigation(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My residents").click()
    page.locator(".resident-list h2 a").first.click()
    page.get_by_role("link", name="Log a session").first.click()
    expect(page.get_by_role("heading", name=re.compile("Log a session"))).to_be_visible()
    page.wait_for_load_state("load")  # drafts.js has run (its clean-up, its restore)


def test_a_draft_keeps_notes_but_never_the_safeguarding_description(page, live_server):
    _open_session_form(page, live_server)
    page.get_by_label("Notes", exact=True).fill(NOTES)
    page.get_by_label("I have a safeguarding concern").check()
    page.get_by_label("Describe the concern").fill(CONCERN)

    drafts = _drafts(page)
    assert len(drafts) == 1 and NOTES in next(iter(drafts.values()))
    assert all("bank PIN" not in value for value in drafts.values())

    page.reload()
    expect(page.get_by_label("Notes", exact=True)).to_have_value(NOTES)
    expect(page.get_by_label("Describe the concern")).to_have_value("")


def test_a_draft_older_than_a_day_is_forgotten(page, live_server):
    _open_session_form(page, live_server)
    page.get_by_label("Notes", exact=True).fill(NOTES)
    # The draft is written as the buddy types; wait for it rather than race it.
    page.wait_for_function("p => Object.keys(localStorage).some(k => k.startsWith(p))", arg=PREFIX)
    [key] = _drafts(page)
    page.evaluate(
        """k => { const d = JSON.parse(localStorage.getItem(k));
                  d.saved_at = Date.now() - 25 * 3600 * 1000;
                  localStorage.setItem(k, JSON.stringify(d)); }""",
        key,
    )
    # A draft written before drafts expired (no time, safeguarding text in it) goes too.
    page.evaluate(
        "([k, v]) => localStorage.setItem(k, v)",
        [PREFIX + "/practice/old", json.dumps({"notes": "x", "safeguarding_description": "y"})],
    )
    page.reload()
    expect(page.get_by_label("Notes", exact=True)).to_have_value("")
    assert _drafts(page) == {}


def test_signing_out_clears_every_draft(page, live_server):
    _open_session_form(page, live_server)
    page.get_by_label("Notes", exact=True).fill(NOTES)
    # Another form's recent draft (one without a time would be dropped by drafts.js's
    # clean-up, should the page's scripts still be starting on a busy machine).
    page.evaluate(
        "k => localStorage.setItem(k, JSON.stringify({saved_at: Date.now(), fields: {}}))",
        PREFIX + "/practice/another",
    )
    page.evaluate("() => localStorage.setItem('unrelated', 'kept')")
    assert len(_drafts(page)) == 2

    open_navigation(page)
    page.get_by_role("button", name=re.compile("Sign out")).click()
    expect(page.get_by_text("You are signed out, on this device and every other.")).to_be_visible()
    assert _drafts(page) == {}
    assert page.evaluate("() => localStorage.getItem('unrelated')") == "kept"
