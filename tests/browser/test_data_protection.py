"""Subject access and erasure on a phone-sized screen: a coordinator downloads everything
held about a closed case, then erases it by typing the reference (a wrong one first)."""

from __future__ import annotations

import io
import json
import zipfile

from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.conftest import sign_in


def _old_case(live_server) -> str:
    """The demo's closed case that is due for retention (nothing open on it)."""
    from inclusion.extensions import db
    from inclusion.residents.models import Resident

    with live_server.app.app_context():
        resident = db.session.scalar(
            select(Resident).where(
                Resident.first_name == "Arthur", Resident.last_name == "Pennington"
            )
        )
        reference = resident.reference
        db.session.remove()
    return reference


def test_export_then_erase_a_closed_case(page, live_server):
    reference = _old_case(live_server)
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_server, "coordinator@wdi.example.org")
    page.goto(live_server(f"/residents/{reference}"))
    expect(page.get_by_role("heading", name="Data protection")).to_be_visible()

    with page.expect_download() as info:
        page.get_by_role("button", name="Download everything held (subject access, zip)").click()
    archive = zipfile.ZipFile(io.BytesIO(open(info.value.path(), "rb").read()))
    assert json.loads(archive.read("resident.json"))[0]["last_name"] == "Pennington"
    assert "summary.pdf" in archive.namelist()

    page.get_by_role("link", name="Erase this person's data (anonymise)…").click()
    field = page.get_by_label(f"Type the reference {reference} to confirm")
    field.fill("R-999999")
    page.get_by_role("button", name="Erase for good").click()
    expect(page.locator("#reference-error")).to_contain_text(f"Type {reference} exactly")
    expect(field).to_have_attribute("aria-invalid", "true")

    page.get_by_label(f"Type the reference {reference} to confirm").fill(reference)
    page.get_by_role("button", name="Erase for good").click()
    expect(page.get_by_role("heading", name=f"Anonymised resident {reference}")).to_be_visible()
    expect(page.get_by_text("Pennington")).to_have_count(0)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways at 390 px ({width})"
