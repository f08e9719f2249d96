"""A person refers themself in Urdu (right to left) and in Punjabi, by keyboard, on a phone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import tab_to
from tests.browser.test_every_page_on_a_phone import axe_violations

JOURNEYS = {
    # lang: (dir, name typed, the send button, the confirmation heading)
    "ur": ("rtl", "نسرین", "حوالہ بھیجیں", "حوالہ موصول ہو گیا"),
    "pa": ("ltr", "ਹਰਜੀਤ", "ਹਵਾਲਾ ਭੇਜੋ", "ਹਵਾਲਾ ਮਿਲ ਗਿਆ"),
}


def _no_sideways_scroll(page, where: str) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{where} scrolls sideways on a phone ({width}px)"


@pytest.mark.parametrize("lang", JOURNEYS)
def test_referral_in_the_residents_language_by_keyboard_on_a_phone(
    page, live_server, output_path, lang
):
    direction, name, send, received = JOURNEYS[lang]
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server("/refer"))
    # The switcher names the language in itself; choosing it is remembered.
    page.get_by_role("navigation", name="Language").get_by_role(
        "link", name={"ur": "اردو", "pa": "ਪੰਜਾਬੀ"}[lang]
    ).click()
    expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(page.locator("html")).to_have_attribute("dir", direction)
    _no_sideways_scroll(page, f"/refer in {lang}")
    assert axe_violations(page) == []
    page.screenshot(path=f"{output_path}/refer-{lang}-390.png", full_page=True)

    # Sent with a mistake first: the messages are in the same language, next to the fields.
    tab_to(page, "#first_name")
    page.keyboard.type(name)
    tab_to(page, "button[type=submit]")
    page.keyboard.press("Enter")
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", lang)
    assert "Enter their last name." not in page.content()
    _no_sideways_scroll(page, f"/refer with errors in {lang}")
    page.screenshot(path=f"{output_path}/refer-{lang}-errors-390.png", full_page=True)

    tab_to(page, "#organisation")
    page.keyboard.press("ArrowDown")  # the first scheme; the shared form has no default
    assert page.locator("#organisation").input_value() != ""
    tab_to(page, "#last_name")
    page.keyboard.type("Testperson")
    tab_to(page, "#phone")
    page.keyboard.type("01902 555 777")
    tab_to(page, "#postcode")
    page.keyboard.type("wv3 0aa")
    tab_to(page, "#needs_device")
    page.keyboard.press("Space")
    tab_to(page, "#referral_reason")
    page.keyboard.type({"ur": "ویڈیو کال کرنا سیکھنا", "pa": "ਵੀਡੀਓ ਕਾਲ ਕਰਨਾ ਸਿੱਖਣਾ"}[lang])
    tab_to(page, "#consent")
    if not page.locator("#consent").is_checked():
        page.keyboard.press("Space")
    tab_to(page, "button[type=submit]")
    expect(page.locator("button[type=submit]")).to_have_text(send)
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name=received)).to_be_visible()
    expect(page.locator("html")).to_have_attribute("dir", direction)
    reference = page.locator("#reference").inner_text().strip()
    assert re.fullmatch(r"R-\d{6}", reference)
    # The reference reads left to right even on a right-to-left page.
    assert page.locator("#reference").evaluate("e => getComputedStyle(e).direction") == "ltr"
    _no_sideways_scroll(page, f"the confirmation in {lang}")
    assert axe_violations(page) == []
    page.screenshot(path=f"{output_path}/received-{lang}-390.png", full_page=True)

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(live_server("/refer"))
    expect(page.locator("html")).to_have_attribute("lang", lang)
    page.screenshot(path=f"{output_path}/refer-{lang}-1280.png", full_page=True)


def test_every_public_page_works_on_a_phone_in_urdu(page, live_server):
    """The every-page phone check, signed out, right to left."""
    from tests.browser.test_every_page_on_a_phone import audit, demo_values, fill, pages_for

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server("/?lang=ur"))
    values = demo_values(live_server.app)
    failures, seen = [], 0
    for template in pages_for("anon"):
        url = fill(template, values)
        if url is None:
            continue
        response = page.goto(live_server(url))
        seen += 1
        if response is None or response.status >= 400:
            failures.append(f"{url}: HTTP {response and response.status}")
            continue
        problems = audit(page) + axe_violations(page)
        if page.locator("html").get_attribute("dir") != "rtl":
            problems.append("not right to left")
        if problems:
            failures.append(f"{url}:\n    " + "\n    ".join(problems))
    assert seen >= 5
    assert not failures, f"{len(failures)} of {seen} pages in Urdu have problems:\n" + "\n".join(
        failures
    )
