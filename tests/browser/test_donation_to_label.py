"""A business pledges on the public form and downloads its receipt; a coordinator receives the
donation into devices, records a wipe, prints a label sheet whose QR code opens the device, and
finds the device again by typing its tag into the scan box."""

from __future__ import annotations

import re
from io import BytesIO
from pathlib import Path

from playwright.sync_api import expect
from pypdf import PdfReader

from tests.browser.conftest import sign_in
from tests.test_labels import decode_qr_codes


def _download(page, trigger) -> bytes:
    """The file a click downloads."""
    with page.expect_download() as info:
        trigger()
    return Path(info.value.path()).read_bytes()


def _opened_pdf(page, trigger, path: str) -> bytes:
    """The PDF a click opens in the browser (its bytes fetched again with the same session:
    Chromium's PDF viewer keeps the navigation's body to itself)."""
    with page.expect_response(lambda r: path in r.url) as info:
        trigger()
    response = info.value
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    again = page.request.get(response.url)
    assert again.ok
    return again.body()


def test_pledge_receive_wipe_print_scan(page, live_server, output_path):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server("/o/wdi/donate"))
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the pledge form scrolls sideways on a phone ({width}px)"
    page.screenshot(path=f"{output_path}/pledge-390.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_label("Business name").fill("Playwright Plumbing Ltd")
    page.get_by_label("Contact name").fill("Pat Tester")
    page.get_by_label("Email address").fill("pat@plumbing.example.com")
    page.locator("#items-0-kind").select_option("tablet")
    page.locator("#items-0-quantity").fill("2")
    page.locator("#items-0-make").fill("Lenovo")
    page.locator("#items-0-model").fill("Tab M10")
    page.locator("#items-0-chargers_included").check()
    page.get_by_role("button", name="Send pledge").click()

    expect(page.get_by_role("heading", name="Thank you for your pledge")).to_be_visible()
    reference = page.locator("#reference").inner_text().strip()
    assert re.fullmatch(r"D-\d{4}", reference)
    receipt = _download(page, lambda: page.locator("#receipt-link").click())
    text = PdfReader(BytesIO(receipt)).pages[0].extract_text()
    assert reference in text and "Playwright Plumbing Ltd" in text

    sign_in(page, live_server, "coordinator@wdi.example.org")
    # Donations are under "Devices and data" in the menu, in the row of that group's pages.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Devices and data").click()
    page.get_by_role("navigation", name="Devices and data").get_by_role(
        "link", name="Donations", exact=True
    ).click()
    page.get_by_role("link", name=reference).click()
    expect(page.get_by_role("heading", name=re.compile(reference))).to_be_visible()
    page.get_by_role("button", name="Record what arrived").click()
    expect(page.get_by_text(f"{reference} received: 2 devices.")).to_be_visible()
    page.get_by_role("button", name="Create 2 device records").click()
    expect(page.get_by_text("2 devices registered")).to_be_visible()

    tags = page.locator(".device-tags a").all_inner_texts()
    assert len(tags) == 2 and all(re.fullmatch(r"IN-[2-9A-HJ-NP-Z]{4,}", t) for t in tags)
    page.get_by_role("link", name=tags[0]).click()
    page.get_by_role("link", name="Record a wipe").click()
    page.get_by_label("Method").select_option("nist_clear")
    page.get_by_label("Certificate reference").fill("BLANCCO-4242")
    page.get_by_role("button", name="Record wipe").click()
    expect(page.get_by_text(f"Wipe recorded; {tags[0]} is ready.")).to_be_visible()
    expect(page.locator("#device-history")).to_contain_text("Awaiting wipe → Ready")

    page.goto(live_server(f"/donations/{reference}"))
    page.get_by_role("link", name="Print labels for all 2").click()
    page.get_by_label(re.compile("A4, 3 × 7")).check()
    page.get_by_label("Start at position").fill("4")
    sheet = _opened_pdf(
        page, lambda: page.get_by_role("button", name="Make the label PDF").click(), "/labels/pdf"
    )
    reader = PdfReader(BytesIO(sheet))
    assert len(reader.pages) == 1 and all(t in reader.pages[0].extract_text() for t in tags)
    assert decode_qr_codes(sheet) == sorted(live_server(f"/d/{t}") for t in tags)

    # A USB scanner types the tag into the scan box and presses Enter.
    page.goto(live_server("/dashboard"))
    page.get_by_label("Scan or type a device tag").fill(tags[1].lower())
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/devices/{tags[1]}")
    expect(page.get_by_role("heading", name=re.compile(tags[1]))).to_be_visible()
