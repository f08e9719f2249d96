"""A volunteer applies on a phone; a coordinator checks, activates and invites them,
then matches a waiting resident with the top-ranked buddy."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import open_navigation, sign_in


def test_volunteer_to_active_buddy_then_matching(page, live_server, output_path):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server("/"))
    open_navigation(page)
    page.get_by_role("link", name="Volunteer", exact=True).click()
    page.get_by_label("Which scheme would you like to volunteer with?").select_option(
        label="Wolverhampton Digital Inclusion CVS"
    )
    page.get_by_label("Full name").fill("Winnie Browser")
    page.get_by_label("Email address").fill(f"winnie.{live_server.backend}@example.org")
    page.get_by_label("Phone number").fill("07911 123457")
    page.get_by_label("Areas you can cover").fill("wv3 wv4")
    page.locator("input[name=languages][value=English]").check()
    page.locator("input[name=languages][value=Punjabi]").check()
    page.locator("input[name=skills][value=communicating]").check()
    page.locator("input[name=access_experience][value=bsl]").check()
    page.get_by_label("Tuesday morning").check()
    page.get_by_label("Thursday evening").check()
    page.locator("input[name=visit_modes][value=home]").check()
    page.get_by_label("How many people could you support at once?").fill("2")
    page.get_by_label("I agree that the scheme keeps").check()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"volunteer form scrolls sideways on a phone ({width}px)"
    page.screenshot(path=f"{output_path}/volunteer-form-390.png", full_page=True)
    page.get_by_role("button", name="Send application").click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()

    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, live_server, "coordinator@wdi.example.org")
    page.goto(live_server("/buddies?status=applicant"))
    page.get_by_role("link", name="Winnie Browser").click()
    expect(page.get_by_text("Record a DBS check first.")).to_be_visible()
    page.get_by_label("DBS level").select_option("enhanced")
    page.get_by_label("Certificate number").fill("001122334455")
    page.get_by_label("Issue date").fill("2025-06-01")
    page.get_by_role("button", name="Record DBS check").click()
    expect(page.get_by_text(re.compile("renewal due 01 Jun 2028"))).to_be_visible()
    for kind in ("safeguarding", "data_protection"):
        page.locator("#kind").select_option(kind)
        page.get_by_label("Completed on").fill("2025-06-10")
        page.get_by_role("button", name="Record training").click()
        expect(page.get_by_text("Training recorded.")).to_be_visible()
    page.get_by_label("Move to").select_option("active")
    page.get_by_role("button", name="Update status").click()
    expect(page.get_by_text("Winnie Browser is now active.")).to_be_visible()
    page.get_by_role("button", name="Invite to an account").click()
    expect(page.locator(".invite-link code")).to_contain_text("/invitations/")

    page.goto(live_server("/matching"))
    page.get_by_role("link", name="Find a buddy").first.click()
    expect(page.get_by_role("heading", name=re.compile("Buddies for"))).to_be_visible()
    expect(page.locator("ol.ranked .reasons").first).to_contain_text("places left")
    page.locator("ol.ranked button").first.click()
    expect(page.get_by_text(re.compile("is proposed for"))).to_be_visible()
    page.get_by_role("button", name="Confirm").first.click()
    expect(page.locator(".flash-success")).to_contain_text("IT buddy.")
    expect(page.locator("section[aria-labelledby=matches-h] .tag-active")).to_be_visible()
