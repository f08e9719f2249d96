"""The coordinator's shelf: one wipe recorded for all sixteen laptops of a donation (then
their labels), and a stocktake of a cupboard where one device is missing and one from
another cupboard turns up, typed in as a USB scanner types (the tag, then Enter)."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.conftest import sign_in


def _sixteen_laptops(live_server) -> str:
    """A donation of sixteen laptops, received and processed into devices (as the donation
    page does it), in the demo organisation; returns its reference."""
    from devices import service
    from inclusion.accounts.models import Organisation, User
    from inclusion.extensions import db

    with live_server.app.app_context():
        org = db.session.scalar(select(Organisation).where(Organisation.code == "WDI"))
        coordinator = db.session.scalar(
            select(User).where(User.email == "coordinator@wdi.example.org")
        )
        donation = service.pledge_donation(
            org.id,
            {
                "business_name": "Sixteen Laptops Ltd",
                "contact_name": "Lee Lap",
                "email": "lee@sixteen.example.com",
            },
            [{"kind": "laptop", "quantity": 16, "make_model": "Dell Latitude 7490"}],
        )
        service.receive_donation(donation, {donation.items[0].id: 16}, by=coordinator)
        service.process_donation(
            donation,
            {donation.items[0].id: {"condition_grade": "B", "storage_location": "Cupboard B"}},
            by=coordinator,
        )
        reference = donation.reference
        db.session.commit()
        db.session.remove()
    return reference


def test_one_wipe_for_a_donation_of_sixteen_laptops(page, live_server, output_path):
    reference = _sixteen_laptops(live_server)
    sign_in(page, live_server, "coordinator@wdi.example.org")
    page.goto(live_server(f"/donations/{reference}"))
    page.get_by_role("link", name="Wipe or change the status of all 16").click()
    expect(page.get_by_role("heading", name=f"All 16 devices of {reference}")).to_be_visible()
    expect(page.locator("#selected tbody tr")).to_have_count(16)

    page.get_by_label("Method").select_option("certified_software")
    page.get_by_label("Certificate reference").fill("BLANCCO-2026-16")
    page.get_by_role("button", name="Record the wipe for 16 devices").click()

    expect(page.get_by_text("Wipe recorded for 16 devices.")).to_be_visible()
    expect(page.locator("#selected .tag-ready")).to_have_count(16)
    page.screenshot(path=f"{output_path}/bulk-wipe-1280.png", full_page=True)

    # a second wipe is refused for every device, with its reason, and nothing changes
    page.get_by_label("Method").select_option("nist_clear")
    page.get_by_role("button", name="Record the wipe for 16 devices").click()
    expect(page.locator("#refused tbody tr")).to_have_count(16)
    expect(page.locator("#refused")).to_contain_text("A ready device cannot be wiped now.")
    expect(page.locator("#selected .tag-ready")).to_have_count(16)

    page.get_by_role("link", name="Print labels for 16 devices").click()
    expect(page).to_have_url(re.compile(rf"/labels\?donation={reference}"))

    # two of them ticked in the devices list go for repair together
    page.goto(live_server("/devices?q=Latitude+7490"))
    ticks = page.locator("input[name=tag]")
    tags = [ticks.nth(i).get_attribute("value") for i in range(2)]
    for tag in tags:
        page.get_by_label(f"Select {tag}").check()
    page.get_by_role("button", name="Wipe or change the status of the selected devices").click()
    expect(page.get_by_role("heading", name="2 selected devices")).to_be_visible()
    page.get_by_label("Move them to").select_option("in_repair")
    page.get_by_role("button", name="Change the status of 2 devices").click()
    expect(page.get_by_text("2 devices moved to a new status.")).to_be_visible()
    expect(page.locator("#selected .tag-in-repair")).to_have_count(2)


def _cupboard_b_device(live_server) -> str:
    """A device on a shelf in Cupboard B: it will turn up in Cupboard A."""
    from devices.models import Device
    from devices.shelf.models import ON_SHELF_STATUSES
    from inclusion.accounts.models import Organisation
    from inclusion.extensions import db

    with live_server.app.app_context():
        org = db.session.scalar(select(Organisation).where(Organisation.code == "WDI"))
        tag = db.session.scalar(
            select(Device.asset_tag)
            .where(
                Device.organisation_id == org.id,
                Device.storage_location == "Cupboard B",
                Device.status.in_(ON_SHELF_STATUSES),
            )
            .order_by(Device.id)
            .limit(1)
        )
        db.session.remove()
    assert tag, "the demo data keeps a device in Cupboard B"
    return tag


def test_stocktake_with_one_missing_and_one_misplaced_device(page, live_server, output_path):
    stranger = _cupboard_b_device(live_server)
    sign_in(page, live_server, "coordinator@wdi.example.org")
    page.goto(live_server("/stocktakes"))
    page.get_by_label("Storage location").select_option("Cupboard A")
    page.get_by_role("button", name="Start a stocktake").click()
    expect(page.get_by_role("heading", name="Stocktake of Cupboard A")).to_be_visible()

    expected = page.locator("#missing tbody tr td:first-child").all_inner_texts()
    assert len(expected) >= 2, expected
    *shelf, left_behind = expected
    box = page.get_by_label("Scan or type a tag, serial number or IMEI")
    for tag in [*shelf, stranger, "NO-SUCH-LABEL"]:
        expect(box).to_be_focused()  # the scanner types into the box without a click
        page.keyboard.type(tag)
        page.keyboard.press("Enter")
        page.wait_for_load_state()
    expect(page.locator("#count-found")).to_have_text(str(len(shelf)))
    expect(page.locator("#count-missing")).to_have_text("1")
    expect(page.locator("#missing")).to_contain_text(left_behind)
    expect(page.locator("#misplaced")).to_contain_text(stranger)
    expect(page.locator("#misplaced")).to_contain_text("Cupboard B")
    expect(page.locator("#unknown")).to_contain_text("NO-SUCH-LABEL")

    expect(page.get_by_label("No, leave them recorded where they were")).to_be_checked()
    page.get_by_role("button", name="Save the stocktake").click()
    expect(
        page.get_by_text(
            f"Stocktake of Cupboard A saved: {len(shelf)} found, 1 missing, 1 misplaced, "
            "1 never seen."
        )
    ).to_be_visible()
    page.screenshot(path=f"{output_path}/stocktake-1280.png", full_page=True)

    page.locator("#missing").get_by_role("link", name=left_behind).click()
    expect(page.locator("#last-stocktake")).to_contain_text("(missing)")
    page.goto(live_server(f"/devices/{stranger}"))
    expect(page.locator("#last-stocktake")).to_contain_text("(misplaced)")
    expect(page.get_by_text("Cupboard B", exact=True)).to_be_visible()  # not moved
    page.goto(live_server("/stocktakes"))
    expect(page.locator("#stocktakes")).to_contain_text("Cupboard A")
