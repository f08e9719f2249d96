"""The coordinator's desk in the browser: a USB scanner types into the page with no click
and lands in the scan box; a serial number opens its device; "Lend a device" on the
resident's page goes scan → lend form → done in at most three page loads, the resident
signing on screen with the mouse; the signature is in the agreement PDF."""

from __future__ import annotations

import re
from io import BytesIO

from playwright.sync_api import expect
from pypdf import PdfReader
from sqlalchemy import func, select

from tests.browser.conftest import sign_in

COORDINATOR = "coordinator@wdi.example.org"


def _ready_device(live_server, kind=None, serial=None):
    """A ready device of the demo organisation, not a hotspot (given ``serial`` when asked)."""
    from devices.models import Device
    from inclusion.accounts.models import Organisation
    from inclusion.extensions import db

    with live_server.app.app_context():
        org = db.session.scalar(select(Organisation).where(Organisation.code == "WDI"))
        device = db.session.scalars(
            select(Device)
            .where(
                Device.organisation_id == org.id,
                Device.status == "ready",
                Device.kind == kind if kind else Device.kind != "hotspot",
            )
            .order_by(Device.id.desc())
        ).first()
        assert device is not None, "the demo data has a ready device"
        if serial:
            device.serial = serial
            db.session.commit()
        tag = device.asset_tag
        db.session.remove()
        return tag


def _resident_without_a_loan(live_server):
    from devices.loans.models import Loan
    from inclusion.accounts.models import Organisation
    from inclusion.extensions import db
    from inclusion.residents.models import Resident

    with live_server.app.app_context():
        org = db.session.scalar(select(Organisation).where(Organisation.code == "WDI"))
        borrowing = select(Loan.resident_id).where(Loan.ended_at.is_(None))
        names = (
            select(Resident.first_name, Resident.last_name)
            .where(Resident.organisation_id == org.id)
            .group_by(Resident.first_name, Resident.last_name)
            .having(func.count() == 1)
        )
        unique = {tuple(row) for row in db.session.execute(names)}
        resident = next(
            r
            for r in db.session.scalars(
                select(Resident)
                .where(
                    Resident.organisation_id == org.id,
                    Resident.id.not_in(borrowing),
                    Resident.anonymised_at.is_(None),
                    Resident.status != "closed",
                    # the agreement's English wording is asserted (a Polish-speaking
                    # resident's is printed in Polish)
                    Resident.preferred_language == "English",
                )
                .order_by(Resident.id.desc())
            )
            if (r.first_name, r.last_name) in unique
        )
        found = dict(reference=resident.reference, name=resident.full_name)
        db.session.remove()
        return found


def test_a_scanner_types_into_the_page_with_no_click_and_opens_the_device(page, live_server):
    tag = _ready_device(live_server)
    sign_in(page, live_server, COORDINATOR)
    page.goto(live_server("/loans"))
    expect(page.locator("#scan-q")).to_be_focused()
    # the scanner: characters then Enter, no click anywhere
    page.keyboard.type(tag.lower())
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=re.compile(tag))).to_be_visible()
    assert page.url.endswith(f"/devices/{tag}")

    # after a click on the page's background the scan still lands in the box
    page.goto(live_server("/devices"))
    page.mouse.click(5, 600)
    page.keyboard.type(tag)
    expect(page.locator("#scan-q")).to_have_value(tag)

    # a page with its own field keeps its focus
    page.goto(live_server("/devices/new"))
    expect(page.locator("#scan-q")).not_to_be_focused()
    page.goto(live_server("/scan"))
    expect(page.locator("#scan-page-q")).to_be_focused()


def test_a_scanned_serial_number_opens_its_device(page, live_server):
    tag = _ready_device(live_server, serial="356938035643809")
    sign_in(page, live_server, COORDINATOR)
    page.keyboard.type("356938035643809")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=re.compile(tag))).to_be_visible()
    # anything else: a search with the results
    page.locator("#scan-q").fill("iPad")
    page.locator("#scan-q").press("Enter")
    expect(page.get_by_role("heading", name="Search results")).to_be_visible()


def _sign(page):
    pad = page.locator("#signature-pad")
    expect(pad).to_be_visible()
    box = pad.bounding_box()
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    page.mouse.move(x + w * 0.1, y + h * 0.6)
    page.mouse.down()
    for i in range(1, 30):
        page.mouse.move(x + w * (0.1 + 0.027 * i), y + h * (0.6 - 0.3 * ((i % 6) / 6)), steps=2)
    page.mouse.up()


def test_lend_from_the_resident_page_signed_on_screen_in_three_page_loads(page, live_server):
    tag = _ready_device(live_server)
    resident = _resident_without_a_loan(live_server)
    sign_in(page, live_server, COORDINATOR)
    page.goto(live_server(f"/residents/{resident['reference']}"))

    loads: list[str] = []
    page.on("load", lambda p: loads.append(p.url))
    # 1: "Lend a device" → scan or choose, the resident already chosen
    page.get_by_role("link", name="Lend a device").click()
    expect(page.get_by_role("heading", name=f"Lend a device to {resident['name']}")).to_be_visible()
    field = page.get_by_label("Scan the device or type its tag, serial number or IMEI")
    expect(field).to_be_focused()
    # 2: the scanner types the tag and Enter → the lend form for this resident
    page.keyboard.type(tag)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=re.compile(f"Lend {tag}"))).to_be_visible()
    expect(page.locator("#chosen-resident")).to_contain_text(resident["name"])
    # signed on screen: the pad appears; the resident signs with the mouse
    expect(page.locator("#signature-block")).to_be_hidden()
    page.get_by_label("Signed on screen").check()
    _sign(page)
    # 3: lent
    page.get_by_role("button", name="Lend and print the agreement").click()
    expect(page.get_by_text(f"{tag} lent to {resident['name']}")).to_be_visible()
    assert len(loads) <= 3, loads
    expect(page.locator("#agreement-language")).to_contain_text("normal print")

    pdf = page.request.get(live_server(page.locator("#agreement-link").get_attribute("href")))
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    reader = PdfReader(BytesIO(pdf.body()))
    assert sum(len(p.images) for p in reader.pages) == 1, "the signature is printed"
    text = " ".join(p.extract_text() for p in reader.pages)
    assert re.search(r"Accepted on screen on \d{1,2} \w+ \d{4} at \d\d:\d\d", text), text


def test_a_keyboard_user_signs_on_paper_instead(page, live_server):
    tag = _ready_device(live_server)
    resident = _resident_without_a_loan(live_server)
    sign_in(page, live_server, COORDINATOR)
    page.goto(live_server(f"/devices/{tag}/lend?resident={resident['reference']}"))
    page.get_by_label("Signed on screen").check()
    # submitted without a signature: the message says what to do, next to the box
    page.get_by_role("button", name="Lend and print the agreement").click()
    expect(page.locator("#signature-error")).to_contain_text("or choose signed on paper")
    # GOV.UK Frontend's error summary takes the focus when it starts: let it, then move on
    # (on a busy machine the page is shown before its scripts have run).
    page.wait_for_load_state("load")
    page.get_by_label("Signed on paper").focus()
    page.keyboard.press("Space")
    expect(page.locator("#signature-block")).to_be_hidden()
    page.get_by_role("button", name="Lend and print the agreement").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text(f"{tag} lent to {resident['name']}")).to_be_visible()
