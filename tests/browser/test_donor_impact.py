"""On a phone (390 × 844): the demo donor goes from their home page to what their gift
achieved, opens one donation, and downloads the impact PDF and CSV; by keyboard too."""

from __future__ import annotations

import io

from playwright.sync_api import expect
from pypdf import PdfReader

from tests.browser.conftest import sign_in, tab_to


def _no_sideways_scroll(page, what):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{what} scrolls sideways on a phone ({width}px)"


def test_donor_sees_what_their_gift_achieved_on_a_phone(page, live_server, output_path):
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_server, "donor@acme.example.com")
    expect(page.get_by_role("heading", name="What your gift achieved")).to_be_visible()
    _no_sideways_scroll(page, "the donor's home page")
    tab_to(page, "a[href='/impact'].govuk-button")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="What your gift achieved", level=1)).to_be_visible()
    expect(page.get_by_text("Residents supported").first).to_be_visible()
    _no_sideways_scroll(page, "the impact page")
    page.screenshot(path=f"{output_path}/impact-390.png", full_page=True)

    with page.expect_download() as download:
        page.get_by_role("link", name="Download the report (PDF)").click()
    data = open(download.value.path(), "rb").read()
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    assert "What your gift achieved: Acme Builders Ltd" in text
    assert "Residents supported" in text
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the figures (CSV)").click()
    csv_text = open(download.value.path(), encoding="utf-8").read()
    assert csv_text.startswith("Donation,Pledged on,Status")

    reference = page.locator(".card h3 a").first.inner_text().strip()
    page.locator(".card h3 a").first.click()
    expect(page.get_by_role("heading", name=reference)).to_be_visible()
    _no_sideways_scroll(page, "one donation's impact")
