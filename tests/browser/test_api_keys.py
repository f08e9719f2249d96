"""An admin makes an API key, a partner system uses it, the admin revokes it."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import sign_in

REFERRAL = {
    "first_name": "Percy",
    "last_name": "Partnerson",
    "phone": "01902 555123",
    "postcode": "WV3 0AA",
    "needs": ["device"],
    "referral_reason": "Wants to shop online.",
    "referral_source": "gp",
    "referrer_name": "Dr A Patel",
    "referrer_contact": "01902 555000",
    "consent": True,
}


def test_admin_makes_uses_and_revokes_an_api_key(page, live_server, output_path):
    sign_in(page, live_server, "admin@wdi.example.org")
    # API keys are under Settings in the menu, in the row of that group's pages.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="API keys").click()
    expect(page.get_by_role("heading", name="API keys")).to_be_visible()
    page.get_by_role("link", name="Create a key").click()
    page.get_by_role("button", name="Create key").click()  # no name
    expect(page.locator("#name-error")).to_contain_text("Enter a name for the key.")
    page.get_by_label("Name").fill("Browser surgery")
    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_role("heading", name=re.compile("Copy the key"))).to_be_visible()
    page.set_viewport_size({"width": 390, "height": 844})
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the new key's page scrolls sideways on a phone ({width}px)"
    secret = page.get_by_label("API key").input_value()
    assert secret.startswith("inc_")

    sent = page.request.post(
        live_server("/api/referrals"), data=REFERRAL, headers={"Authorization": f"Bearer {secret}"}
    )
    assert sent.status == 201, sent.text()
    assert re.fullmatch(r"R-\d{6}", sent.json()["reference"])

    page.get_by_role("link", name="Back to API keys").click()
    expect(page.get_by_text(secret)).to_have_count(0)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"API keys page scrolls sideways on a phone ({width}px)"
    page.screenshot(path=f"{output_path}/api-keys-390.png", full_page=True)
    page.get_by_role("link", name="Revoke Browser surgery").click()
    page.get_by_role("button", name="Revoke key").click()
    expect(page.get_by_text("is revoked")).to_be_visible()

    refused = page.request.post(
        live_server("/api/referrals"), data=REFERRAL, headers={"Authorization": f"Bearer {secret}"}
    )
    assert refused.status == 401
