"""A coordinator opens the reports page, changes the period, sees a chart (SVG) with its
table, and downloads the CSV zip and the PDF report; the page also works on a phone."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta
from pathlib import Path

from playwright.sync_api import expect
from pypdf import PdfReader

from inclusion.clock import today
from inclusion.reports.periods import last_quarter
from inclusion.reports.queries import report_figures
from tests.browser.conftest import sign_in


def _download(page, trigger) -> tuple[str, bytes]:
    with page.expect_download() as info:
        trigger()
    return info.value.suggested_filename, Path(info.value.path()).read_bytes()


def _referrals(live_server, start, end) -> int:
    """The figure the page should show, from the same function the page uses."""
    from sqlalchemy import select

    from inclusion.accounts.models import Organisation
    from inclusion.extensions import db

    with live_server.app.app_context():
        org_id = db.session.scalar(select(Organisation.id).where(Organisation.code == "WDI"))
        return report_figures(org_id, start, end)["referrals"]["total"]


def test_coordinator_reads_and_downloads_the_report(page, live_server):
    sign_in(page, live_server, "coordinator@wdi.example.org")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", name="Reports", level=1)).to_be_visible()
    expect(page.locator("#chart-referrals-source svg")).to_be_visible()

    # Change the period: last quarter.
    quarter = last_quarter(today())
    page.get_by_label("Last quarter").check()
    page.get_by_role("button", name="Show report").click()
    expect(page.locator("#period")).to_have_text(quarter.label)
    assert "period=quarter" in page.url

    # Then dates of our own choosing: the last 200 days, where the demo referrals are.
    start, end = today() - timedelta(days=200), today()
    total = _referrals(live_server, start, end)
    page.get_by_label("Choose dates").check()
    page.get_by_label("From", exact=True).fill(start.isoformat())
    page.get_by_label("To", exact=True).fill(end.isoformat())
    page.get_by_role("button", name="Show report").click()
    expect(page.locator("#period")).to_contain_text(str(start.year))

    chart = page.locator("#chart-referrals-source svg")
    expect(chart).to_be_visible()
    assert chart.get_attribute("role") == "img"
    assert chart.locator("rect.bar").count() == 6
    table = page.get_by_role("table", name="Referrals by source")
    expect(table).to_be_visible()
    expect(table.get_by_role("row", name=f"All sources {total}")).to_be_visible()
    expect(page.get_by_text("Referrals:", exact=False).first).to_be_visible()  # demo targets

    name, body = _download(page, lambda: page.get_by_role("link", name="CSV tables (zip)").click())
    assert name.endswith(".zip")
    files = zipfile.ZipFile(io.BytesIO(body)).namelist()
    assert "referrals_by_source.csv" in files and "README.txt" in files
    sources = zipfile.ZipFile(io.BytesIO(body)).read("referrals_by_source.csv").decode()
    assert f"All sources,{total}" in sources

    name, body = _download(page, lambda: page.get_by_role("link", name="PDF report").click())
    assert name.endswith(".pdf")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(body)).pages)
    assert "Wolverhampton Digital Inclusion CVS" in text
    assert "Referrals by source" in text and "All sources" in text

    _, body = _download(page, lambda: page.get_by_role("link", name="PDF for publication").click())
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(body)).pages)
    assert "For publication" in text and "fewer than 5" in text


def test_reports_page_fits_a_phone(page, live_server):
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_server, "coordinator@wdi.example.org")
    page.goto(live_server("/reports/"))
    expect(page.locator("#chart-referrals-month svg")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the reports page scrolls sideways on a phone ({width}px)"
