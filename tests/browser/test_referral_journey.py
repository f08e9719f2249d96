"""A person refers themself by keyboard only; a coordinator finds them and moves them on."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import sign_in, tab_to


def test_referral_by_keyboard_then_coordinator_contacts(page, live_server, output_path):
    # From Dudley Link Workers' own link: the referral can only go to them.
    page.goto(live_server("/o/dlw/refer"))
    expect(page.locator("#organisation-named")).to_contain_text("Dudley Link Workers")
    # Keyboard only: Tab to each field, type, Space for checkboxes, Enter to send.
    tab_to(page, "#first_name")
    page.keyboard.type("Winifred")
    tab_to(page, "#last_name")
    page.keyboard.type("Keyboardson")
    tab_to(page, "#phone")
    page.keyboard.type("01384 555 777")
    tab_to(page, "#postcode")
    page.keyboard.type("dy1 1lq")
    tab_to(page, "#needs_skills")
    page.keyboard.press("Space")
    tab_to(page, "#referral_reason")
    page.keyboard.type("Would like to video call her sister in Jamaica.")
    tab_to(page, "#consent")
    page.keyboard.press("Space")
    tab_to(page, "button[type=submit]")
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name="Referral received")).to_be_visible()
    reference = page.locator("#reference").inner_text().strip()
    assert re.fullmatch(r"R-\d{6}", reference)

    # Their coordinator picks it up.
    sign_in(page, live_server, "coordinator@dlw.example.org")
    page.goto(live_server("/residents"))
    page.get_by_label("Search name, reference or postcode").fill("Keyboardson")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=reference).click()
    expect(page.get_by_role("heading", name=re.compile("Winifred Keyboardson"))).to_be_visible()
    expect(page.get_by_text("01384 555777")).to_be_visible()  # national format on screen

    page.get_by_label("Move to").select_option("contacted")
    page.get_by_role("button", name="Update status").click()
    expect(page.get_by_text(f"{reference} is now contacted.")).to_be_visible()
    expect(page.locator(".timeline")).to_contain_text("Referred → Contacted")

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"resident page scrolls sideways on a phone ({width}px)"
    page.screenshot(path=f"{output_path}/resident-page-390.png", full_page=True)
