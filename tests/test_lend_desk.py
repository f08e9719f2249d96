"""The coordinator's desk: a scan finds a device by tag, serial number or IMEI (else a
search with the results); lending starts from the resident's page too; the agreement is
signed on screen (a checked PNG kept with the loan and printed on the agreement, which says
how and when it was accepted) or on paper; large print (16 pt or more) for a sight need."""

from __future__ import annotations

import base64
import io
import re
from datetime import datetime, timedelta

import pytest
from PIL import Image, ImageDraw
from pypdf import PdfReader
from pypdf.generic import ContentStream
from sqlalchemy import select

from devices.loans.demo import demo_signature
from devices.loans.models import SIGNATURE_MAX_BYTES, Loan, LoanSignature
from devices.models import Device, DeviceStatusChange
from inclusion.audit import AuditEvent
from inclusion.clock import today
from inclusion.extensions import db
from tests.conftest import row_counts
from tests.factories import DeviceFactory, LoanFactory, ResidentFactory
from tests.test_shaping import _margins_blank, contains_sequence, drawn, hb_glyphs


def _png(image: Image.Image) -> str:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def _lend_data(resident, **overrides):
    data = {
        "resident": resident.reference,
        "due_on": (today() + timedelta(days=56)).isoformat(),
        "bundle": "",
        "agreement_method": "screen",
        "signature": demo_signature(),
        "notes": "",
    }
    data.update(overrides)
    return data


def _text(pdf: bytes) -> str:
    return " ".join(s for _, spans in drawn(pdf) for s in spans)


def _font_sizes(pdf: bytes) -> set[float]:
    """The sizes text is drawn in (a font set and never drawn with is not text)."""
    reader = PdfReader(io.BytesIO(pdf))
    sizes = set()
    for page in reader.pages:
        size = None
        for operands, op in ContentStream(page.get_contents(), reader).operations:
            if op == b"Tf":
                size = float(operands[1])
            elif op in (b"Tj", b"TJ") and size is not None:
                sizes.add(size)
    return sizes


def _images(pdf: bytes) -> list:
    return [image for page in PdfReader(io.BytesIO(pdf)).pages for image in page.images]


# ---- the scan box -------------------------------------------------------------------


def test_a_scanned_serial_number_or_imei_opens_the_device(coordinator, org, other_coordinator):
    laptop = DeviceFactory(organisation=org, kind="laptop", serial="PF3ZK9QX")
    phone = DeviceFactory(organisation=org, kind="smartphone", serial="356938035643809")
    for typed, device in (("pf3zk9qx", laptop), (" 3569 3803 5643 809 ", phone)):
        response = coordinator.get("/scan", query_string={"q": typed})
        assert response.status_code == 302
        assert response.headers["Location"].endswith(f"/devices/{device.asset_tag}")
    # exact within the organisation: another organisation's scan finds nothing
    assert other_coordinator.get("/scan?q=PF3ZK9QX").status_code == 404


def test_anything_else_falls_back_to_a_search_with_the_results(coordinator, org):
    one = DeviceFactory(organisation=org, make="Lenovo", model="IdeaPad 3", serial="LNV-0001")
    two = DeviceFactory(organisation=org, make="Lenovo", model="IdeaPad 5")
    DeviceFactory(organisation=org, make="Apple", model="iPad 9th gen")
    resident = ResidentFactory(organisation=org)

    response = coordinator.get("/scan?q=ideapad")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "2 devices match" in page
    assert one.asset_tag in page and two.asset_tag in page and "iPad 9th gen" not in page
    assert "LNV-0001" in page  # the serial is shown to tell them apart

    number = int(resident.reference.split("-")[1])
    page = coordinator.get(f"/scan?q=r{number}").get_data(as_text=True)
    assert resident.full_name in page and f"/residents/{resident.reference}" in page

    response = coordinator.get("/scan?q=no such thing")
    assert response.status_code == 404
    assert "Nothing of yours matches “no such thing”" in response.get_data(as_text=True)


def test_the_scan_box_loads_its_focus_script_for_staff(coordinator):
    page = coordinator.get("/devices").get_data(as_text=True)
    assert 'id="scan-q"' in page and "/static/scan-box.js" in page
    assert "<script>" not in page  # no inline script (CSP)


# ---- lending from the resident's page ------------------------------------------------


def test_lend_a_device_from_the_resident_page(coordinator, org):
    resident = ResidentFactory(organisation=org, access_sight=True)
    phone = DeviceFactory(organisation=org, kind="smartphone")
    tablet = DeviceFactory(organisation=org, kind="tablet", serial="TAB-77")
    DeviceFactory(organisation=org, kind="laptop", status="awaiting_wipe", wiped=False)

    page = coordinator.get(f"/residents/{resident.reference}").get_data(as_text=True)
    assert f'href="/residents/{resident.reference}/lend"' in page

    page = coordinator.get(f"/residents/{resident.reference}/lend").get_data(as_text=True)
    assert f"Lend a device to {resident.full_name}" in page
    # ready devices only, the large screen first for a sight need, each lent to them
    assert page.index(tablet.asset_tag) < page.index(phone.asset_tag)
    assert f"/devices/{tablet.asset_tag}/lend?resident={resident.reference}" in page

    # a scanned serial goes straight to the lend form, the resident already chosen
    response = coordinator.get(f"/residents/{resident.reference}/lend?q=tab-77")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.endswith(f"/devices/{tablet.asset_tag}/lend?resident={resident.reference}")
    form = coordinator.get(location).get_data(as_text=True)
    assert 'id="chosen-resident"' in form and resident.full_name in form


def test_the_ready_devices_take_a_constant_number_of_queries(coordinator, org, count_queries):
    resident = ResidentFactory(organisation=org)
    DeviceFactory(organisation=org)
    url = f"/residents/{resident.reference}/lend"
    with count_queries() as few:
        assert coordinator.get(url).status_code == 200
    for kind in ("tablet", "laptop", "smartphone", "chromebook", "tablet"):
        DeviceFactory(organisation=org, kind=kind)
    with count_queries() as many:
        assert coordinator.get(url).status_code == 200
    assert many.count == few.count


def test_a_scan_that_names_no_lendable_device_says_why(coordinator, org):
    resident = ResidentFactory(organisation=org)
    dirty = DeviceFactory(organisation=org, status="awaiting_wipe", wiped=False)
    before = row_counts(Loan, DeviceStatusChange)
    for q, message in (
        ("IN-ZZZZ", "No device of yours has the tag, serial number or IMEI"),
        (dirty.asset_tag, "it needs a wipe recorded first"),
    ):
        response = coordinator.get(f"/residents/{resident.reference}/lend", query_string={"q": q})
        page = response.get_data(as_text=True)
        assert response.status_code == 422
        assert message in page and 'id="q-error"' in page and 'href="#q"' in page
    assert row_counts(Loan, DeviceStatusChange) == before


def test_nothing_is_lent_to_a_closed_case_from_its_page(coordinator, org):
    resident = ResidentFactory(organisation=org, status="closed", outcome="goals_met")
    device = DeviceFactory(organisation=org)
    page = coordinator.get(f"/residents/{resident.reference}").get_data(as_text=True)
    assert 'id="lend-to-resident"' not in page
    response = coordinator.get(f"/residents/{resident.reference}/lend?q={device.asset_tag}")
    assert response.status_code == 409
    assert "is closed: nothing can be lent" in response.get_data(as_text=True)
    assert db.session.get(Device, device.id).status == "ready"


# ---- signed on screen ----------------------------------------------------------------


def test_signed_on_screen_the_signature_is_kept_and_printed(coordinator, org):
    device = DeviceFactory(organisation=org)
    resident = ResidentFactory(organisation=org)
    response = coordinator.post(f"/devices/{device.asset_tag}/lend", data=_lend_data(resident))
    assert response.status_code == 302
    loan = db.session.scalars(select(Loan)).one()
    signature = db.session.scalars(select(LoanSignature)).one()
    assert signature.loan_id == loan.id and signature.png.startswith(b"\x89PNG")
    assert db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "loan.signed")
    ).actor_id == (loan.lent_by_id)

    pdf = coordinator.get(f"/loans/{loan.reference}/agreement.pdf").data
    assert len(_images(pdf)) == 1
    text = _text(pdf)
    assert re.search(
        r"Accepted on screen on \d{1,2} \w+ \d{4} at \d\d:\d\d, signed by the resident", text
    )
    assert "Signed (resident):" not in text


def test_the_acceptance_sentence_says_when_in_the_organisations_time(coordinator, org):
    loan = LoanFactory(
        organisation=org, agreement_method="screen", lent_at=datetime(2026, 12, 1, 10, 42)
    )
    db.session.add(
        LoanSignature(
            organisation_id=org.id,
            loan_id=loan.id,
            png=base64.b64decode(demo_signature().split(",", 1)[1]),
            signed_at=datetime(2026, 12, 1, 10, 42),  # UTC, and London in December
        )
    )
    db.session.flush()
    text = _text(coordinator.get(f"/loans/{loan.reference}/agreement.pdf").data)
    assert "Accepted on screen on 1 December 2026 at 10:42, signed by the resident." in text

    summer = LoanFactory(
        organisation=org, agreement_method="screen", lent_at=datetime(2026, 7, 1, 9, 5)
    )
    db.session.add(
        LoanSignature(
            organisation_id=org.id,
            loan_id=summer.id,
            png=base64.b64decode(demo_signature().split(",", 1)[1]),
            signed_at=datetime(2026, 7, 1, 9, 5),
        )
    )
    db.session.flush()
    text = _text(coordinator.get(f"/loans/{summer.reference}/agreement.pdf").data)
    assert "on 1 July 2026 at 10:05" in text  # British Summer Time


def test_signed_on_paper_the_agreement_says_so_and_has_lines_to_sign(coordinator, org):
    loan = LoanFactory(organisation=org, agreement_method="paper")
    pdf = coordinator.get(f"/loans/{loan.reference}/agreement.pdf").data
    text = _text(pdf)
    assert "Accepted on paper: signed by the resident below." in text
    assert "Signed (resident):" in text and not _images(pdf)


def _blank(mode="RGBA", colour=(0, 0, 0, 0)):
    return _png(Image.new(mode, (600, 200), colour))


def _noisy_png_over_the_limit() -> str:
    import os

    raw = os.urandom(640 * 400 * 3)
    return _png(Image.frombytes("RGB", (640, 400), raw))


@pytest.mark.parametrize(
    ("signature", "message"),
    [
        ("", "The resident has not signed yet."),
        (_blank(), "The signature box is empty."),
        (_blank("RGB", (255, 255, 255)), "The signature box is empty."),
        ("data:image/jpeg;base64,/9j/4AAQSkZJRg==", "The signature is not a PNG image."),
        (
            "data:image/png;base64," + base64.b64encode(b"GIF89a not a png at all").decode(),
            "The signature is not a PNG image.",
        ),
        (
            "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\nbroken").decode(),
            "The signature could not be read.",
        ),
        ("data:image/png;base64,@@@not base64@@@", "The signature could not be read."),
        (_noisy_png_over_the_limit(), "The signature is too large to keep."),
        (_png(Image.new("RGBA", (5000, 100), (0, 0, 0, 255))), "The signature is too large"),
    ],
)
def test_a_bad_signature_is_refused_and_nothing_changes(coordinator, org, signature, message):
    device = DeviceFactory(organisation=org)
    resident = ResidentFactory(organisation=org)
    before = row_counts(Loan, LoanSignature, DeviceStatusChange, AuditEvent)
    response = coordinator.post(
        f"/devices/{device.asset_tag}/lend", data=_lend_data(resident, signature=signature)
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in page and 'id="signature-error"' in page and 'href="#signature"' in page
    assert "or choose signed on paper" in page
    assert row_counts(Loan, LoanSignature, DeviceStatusChange, AuditEvent) == before
    assert db.session.get(Device, device.id).status == "ready"


def test_the_oversized_signature_really_is_over_the_limit():
    data = base64.b64decode(_noisy_png_over_the_limit().split(",", 1)[1])
    assert len(data) > SIGNATURE_MAX_BYTES


def test_the_schema_keeps_a_signature_within_its_size(db, org):
    loan = LoanFactory(organisation=org)
    db.session.add(
        LoanSignature(organisation_id=org.id, loan_id=loan.id, png=b"x" * (SIGNATURE_MAX_BYTES + 1))
    )
    with pytest.raises(Exception, match="(?i)check|constraint"):
        db.session.flush()
    db.session.rollback()


def test_a_signature_drawn_on_a_white_pad_counts(coordinator, org):
    image = Image.new("RGB", (600, 200), (255, 255, 255))
    ImageDraw.Draw(image).line([(40, 100), (300, 60), (560, 140)], fill=(0, 0, 0), width=5)
    device = DeviceFactory(organisation=org)
    response = coordinator.post(
        f"/devices/{device.asset_tag}/lend",
        data=_lend_data(ResidentFactory(organisation=org), signature=_png(image)),
    )
    assert response.status_code == 302


# ---- large print and languages -------------------------------------------------------


def test_large_print_is_16_pt_or_more_and_chosen_for_a_sight_need(coordinator, org):
    resident = ResidentFactory(organisation=org, access_sight=True)
    loan = LoanFactory(organisation=org, resident=resident)
    automatic = coordinator.get(f"/loans/{loan.reference}/agreement.pdf").data
    assert min(_font_sizes(automatic)) >= 16
    normal = coordinator.get(f"/loans/{loan.reference}/agreement.pdf?large=0").data
    assert min(_font_sizes(normal)) < 16
    # and on demand for anyone
    other = LoanFactory(organisation=org)
    assert (
        min(_font_sizes(coordinator.get(f"/loans/{other.reference}/agreement.pdf?large=1").data))
        >= 16
    )
    # the desk says which language and which print size
    page = coordinator.get(f"/loans/{loan.reference}?lent=1").get_data(as_text=True)
    assert "Agreement printed in English, large print." in page
    assert "Large print because the resident has a sight need." in page


def _signed_loan(org, resident):
    loan = LoanFactory(organisation=org, resident=resident, agreement_method="screen")
    db.session.add(
        LoanSignature(
            organisation_id=org.id,
            loan_id=loan.id,
            png=base64.b64decode(demo_signature().split(",", 1)[1]),
            signed_at=loan.lent_at,
        )
    )
    db.session.flush()
    return loan


def test_bengali_agreement_signed_on_screen_is_shaped_and_fits(coordinator, org):
    resident = ResidentFactory(organisation=org, preferred_language="Bengali")
    loan = _signed_loan(org, resident)
    pdf = coordinator.get(f"/loans/{loan.reference}/agreement.pdf").data
    pages = drawn(pdf)
    assert len(pages) == 1 and _margins_blank(pdf, 0)
    glyphs, spans = pages[0]
    heading = "ডিভাইস ধার চুক্তি"
    assert contains_sequence(glyphs, "NotoSansBengali-Bold", hb_glyphs(heading, "bengali", True))
    text = " ".join(spans)
    assert heading in text and loan.reference in text and resident.reference in text
    assert len(_images(pdf)) == 1


def test_arabic_large_print_agreement_signed_on_screen_fits_its_pages(coordinator, org):
    resident = ResidentFactory(organisation=org, preferred_language="Arabic", access_sight=True)
    loan = _signed_loan(org, resident)
    pdf = coordinator.get(f"/loans/{loan.reference}/agreement.pdf").data
    pages = drawn(pdf)
    assert 1 <= len(pages) <= 2
    for i in range(len(pages)):
        assert _margins_blank(pdf, i)
    heading = "اتفاقية إعارة جهاز"
    assert contains_sequence(
        pages[0][0], "NotoNaskhArabic-Bold", hb_glyphs(heading, "arabic", bold=True, rtl=True)
    )
    text = " ".join(s for _, spans in pages for s in spans)
    assert heading in text and loan.reference in text
    assert min(_font_sizes(pdf)) >= 16 and len(_images(pdf)) == 1


def test_a_signature_is_exported_for_the_resident_and_removed_on_erasure(db, org, coordinator_user):
    import json

    from inclusion.clock import now
    from inclusion.dataprotection import service as dataprotection

    resident = ResidentFactory(
        organisation=org, status="closed", outcome="goals_met", closed_at=now()
    )
    loan = _signed_loan(org, resident)
    loan.ended_at, loan.end_kind = now(), "returned"
    db.session.flush()

    tables = dataprotection.held_about(resident).tables()
    (row,) = tables["loan_signatures"]
    assert row["loan_id"] == loan.id and row["png"].startswith("data:image/png;base64,")
    json.dumps(tables, default=str)

    changed = dataprotection.erase_resident(resident, by=coordinator_user)
    assert "loan_signature.png" in changed
    signature = db.session.scalars(select(LoanSignature)).one()
    assert signature.png is None and signature.signed_at is not None
