"""Lending at a desk: a coordinator types a tag into the scan box, lends the device to a
resident with a data bundle they choose in at most three page loads, opens the agreement
PDF, and takes the device back with one scan and one form (saying what became of the data)."""

from __future__ import annotations

import re
from io import BytesIO

from playwright.sync_api import expect
from pypdf import PdfReader
from sqlalchemy import func, select

from tests.browser.conftest import sign_in


def _desk_world(live_server):
    """A ready tablet and a resident (with a name nobody else has) of the demo organisation."""
    from devices.loans.models import Loan
    from devices.models import Device
    from inclusion.accounts.models import Organisation
    from inclusion.extensions import db
    from inclusion.residents.models import Resident

    with live_server.app.app_context():
        org = db.session.scalar(select(Organisation).where(Organisation.code == "WDI"))
        device = db.session.scalars(
            select(Device)
            .where(
                Device.organisation_id == org.id, Device.status == "ready", Device.kind == "tablet"
            )
            .order_by(Device.id.desc())
        ).first()
        assert device is not None, "the demo data has a ready tablet"
        borrowing = select(Loan.resident_id).where(Loan.ended_at.is_(None))
        names = (
            select(Resident.first_name, Resident.last_name)
            .group_by(Resident.first_name, Resident.last_name)
            .having(func.count() == 1)
        )
        unique = {
            tuple(row)
            for row in db.session.execute(names.where(Resident.organisation_id == org.id))
        }
        resident = next(
            r
            for r in db.session.scalars(
                select(Resident)
                .where(
                    Resident.organisation_id == org.id,
                    Resident.id.not_in(borrowing),
                    Resident.anonymised_at.is_(None),
                    Resident.status != "closed",
                )
                .order_by(Resident.id)
            )
            if (r.first_name, r.last_name) in unique
        )
        found = dict(tag=device.asset_tag, name=resident.full_name, reference=resident.reference)
        db.session.remove()
        return found


def test_scan_lend_with_a_bundle_print_and_return(page, live_server):
    world = _desk_world(live_server)
    sign_in(page, live_server, "coordinator@wdi.example.org")

    loads: list[str] = []
    page.on("load", lambda p: loads.append(p.url))

    # 1: the USB scanner types the tag and Enter into the scan box → the device page
    page.locator("#scan-q").fill(world["tag"].lower())
    page.locator("#scan-q").press("Enter")
    expect(page.get_by_role("heading", name=re.compile(world["tag"]))).to_be_visible()
    # 2: the lend form
    page.locator("#lend-button").click()
    expect(page.get_by_role("heading", name=re.compile(f"Lend {world['tag']}"))).to_be_visible()
    page.get_by_label("Resident", exact=True).fill(world["name"])
    bundle = page.locator("#bundle")
    assert bundle.input_value() == "", "no bundle is chosen for the coordinator"
    bundle.select_option(index=1)  # the coordinator decides to give data
    bundle_label = bundle.locator("option:checked").inner_text()
    assert page.locator("#due_on").input_value() != ""
    page.get_by_label("Read aloud and agreed by phone").check()
    # 3: submit → the confirmation with the agreement
    page.get_by_role("button", name="Lend and print the agreement").click()
    expect(page.get_by_text(f"{world['tag']} lent to {world['name']}")).to_be_visible()
    assert len(loads) <= 3, loads
    reference = re.search(r"/loans/(L-\d+)", page.url).group(1)

    with page.context.expect_event("response", lambda r: "agreement.pdf" in r.url) as info:
        page.locator("#agreement-link").click()
    response = info.value
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    pdf = page.request.get(response.url)
    assert pdf.ok
    text = "".join(p.extract_text() for p in PdfReader(BytesIO(pdf.body())).pages)
    assert reference in text and world["name"] in text and world["tag"] in text
    assert bundle_label.split(" (")[0].split(" ")[0] in text  # the network of the bundle
    for extra in page.context.pages[1:]:
        extra.close()

    # Return: one scan, one form.
    page.locator("#scan-q").fill(world["tag"])
    page.locator("#scan-q").press("Enter")
    expect(page.get_by_text(f"On loan to {world['name']}")).to_be_visible()
    page.get_by_role("link", name="Return", exact=True).click()
    page.get_by_label("Condition it came back in").select_option("B")
    page.get_by_label("The resident keeps it until it expires").check()
    page.get_by_role("button", name="Take it back").click()
    expect(page.get_by_text(f"{world['tag']} returned.")).to_be_visible()
    expect(page.get_by_text("Lend", exact=True)).to_have_count(0)
