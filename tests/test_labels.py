"""QR labels: the PDF carries the device's public URL as a QR code, its tag and the organisation."""

from __future__ import annotations

from io import BytesIO

import pytest
from pypdf import PdfReader

from devices.labels import LAYOUTS, Label, qr_matrix, sheet_pdf, single_pdf
from tests.factories import DeviceFactory, DonationFactory


def _links(data: bytes) -> list[list[str]]:
    """Per page, the URLs of the QR codes' link annotations."""
    pages = []
    for page in PdfReader(BytesIO(data)).pages:
        annots = page.get("/Annots") or []
        pages.append([a.get_object()["/A"]["/URI"] for a in annots])
    return pages


def decode_qr_codes(data: bytes, page: int = 0, scale: float = 4.0) -> list[str]:
    """Render a PDF page and read every QR code on it (skips when the decoder is missing)."""
    pdfium = pytest.importorskip("pypdfium2")
    zxingcpp = pytest.importorskip("zxingcpp")
    image = pdfium.PdfDocument(data)[page].render(scale=scale).to_pil()
    return sorted(r.text for r in zxingcpp.read_barcodes(image))


LABELS = [Label(f"IN-7KQ{c}", f"https://inclusion.example.org/d/IN-7KQ{c}", "WDI") for c in "23456"]


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_sheet_has_tags_links_and_readable_qr(layout):
    pdf = sheet_pdf(LABELS, layout, start=2)
    reader = PdfReader(BytesIO(pdf))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert all(label.tag in text for label in LABELS) and "WDI" in text
    assert _links(pdf) == [[label.url for label in LABELS]]
    assert decode_qr_codes(pdf) == sorted(label.url for label in LABELS)


def test_start_position_and_page_breaks():
    many = LABELS * 5  # 25 labels
    assert len(PdfReader(BytesIO(sheet_pdf(many, "3x7", start=1))).pages) == 2
    assert len(PdfReader(BytesIO(sheet_pdf(many, "3x7", start=21))).pages) == 3
    assert len(PdfReader(BytesIO(sheet_pdf(many, "5x13", start=40))).pages) == 1
    with pytest.raises(ValueError):
        sheet_pdf(many, "3x7", start=22)


def test_single_labels_are_62_by_29_mm():
    pdf = single_pdf(LABELS[:2])
    reader = PdfReader(BytesIO(pdf))
    assert len(reader.pages) == 2
    box = reader.pages[0].mediabox
    assert round(float(box.width) / 72 * 25.4) == 62 and round(float(box.height) / 72 * 25.4) == 29
    assert decode_qr_codes(pdf, page=1, scale=8) == [LABELS[1].url]


def test_qr_matrix_is_a_real_qr_code():
    matrix = qr_matrix("https://inclusion.example.org/d/IN-7KQ4")
    assert len(matrix) in (25, 29, 33) and all(len(row) == len(matrix) for row in matrix)


def test_label_pages_for_devices(coordinator, db, org, app):
    donation = DonationFactory(organisation=org)
    devices = [DeviceFactory(organisation=org, donation=donation) for _ in range(3)]
    page = coordinator.get(f"/labels?donation={donation.reference}").get_data(as_text=True)
    assert all(d.asset_tag in page for d in devices) and "3 × 7" in page
    response = coordinator.get(f"/labels/pdf?donation={donation.reference}&layout=5x13&start=3")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    urls = _links(response.data)[0]
    assert sorted(urls) == sorted(f"http://localhost/d/{d.asset_tag}" for d in devices)
    tags = "&".join(f"tag={d.asset_tag}" for d in devices[:2])
    single = coordinator.get(f"/labels/pdf?{tags}&layout=single")
    assert len(PdfReader(BytesIO(single.data)).pages) == 2
    one = coordinator.get(f"/devices/{devices[0].asset_tag}/label.pdf")
    assert devices[0].asset_tag in PdfReader(BytesIO(one.data)).pages[0].extract_text()


def test_label_url_uses_public_base_url(coordinator, db, org, app):
    device = DeviceFactory(organisation=org)
    app.config["PUBLIC_BASE_URL"] = "https://devices.example.org/"
    try:
        response = coordinator.get(f"/labels/pdf?tag={device.asset_tag}&layout=3x7")
    finally:
        app.config["PUBLIC_BASE_URL"] = ""
    assert _links(response.data) == [[f"https://devices.example.org/d/{device.asset_tag}"]]


@pytest.mark.parametrize(
    "query, message",
    [
        ("layout=3x7", "Choose at least one device"),
        ("tag={tag}&layout=3x7&start=22", "This layout has 21 labels per sheet."),
        ("tag={tag}&layout=3x7&start=0", "Enter a position from 1 to 65."),
        ("tag={tag}&layout=a3", "Not a valid choice"),
    ],
)
def test_bad_label_request_shows_the_problem(coordinator, db, org, query, message):
    device = DeviceFactory(organisation=org)
    response = coordinator.get("/labels/pdf?" + query.format(tag=device.asset_tag))
    assert response.status_code == 422 and message in response.get_data(as_text=True)


def test_other_organisation_cannot_print_my_devices(other_coordinator, db, org):
    device = DeviceFactory(organisation=org)
    response = other_coordinator.get(f"/labels/pdf?tag={device.asset_tag}&layout=3x7")
    assert response.status_code == 422  # nothing of another organisation is found to print


@pytest.mark.parametrize(
    "base, env, warning",
    [
        ("http://localhost:5000", "development", "which only this computer can open"),
        ("http://127.0.0.1:5000", "development", "which only this computer can open"),
        ("http://192.168.1.20", "development", "a private network address"),
        ("http://10.0.0.5:8000", "development", "a private network address"),
        ("http://inclusion.example.org", "production", "does not start with https://"),
    ],
)
def test_labels_page_warns_before_printing_a_bad_address(
    coordinator, db, org, app, base, env, warning
):
    device = DeviceFactory(organisation=org)
    old = app.config["PUBLIC_BASE_URL"], app.config["INCLUSION_ENV"]
    app.config["PUBLIC_BASE_URL"], app.config["INCLUSION_ENV"] = base, env
    try:
        page = coordinator.get(f"/labels?tag={device.asset_tag}").get_data(as_text=True)
    finally:
        app.config["PUBLIC_BASE_URL"], app.config["INCLUSION_ENV"] = old
    box = page.split('id="address-warning"')[1].split("</div>")[0]
    assert warning in box and base in box and "INCLUSION_PUBLIC_BASE_URL" in box
    assert page.index('id="address-warning"') < page.index("Make the label PDF")


def test_labels_page_warns_when_no_address_is_set_and_it_was_opened_on_localhost(
    coordinator, db, org
):
    device = DeviceFactory(organisation=org)
    page = coordinator.get(f"/labels?tag={device.asset_tag}").get_data(as_text=True)
    # The test client opens the app as http://localhost/: a phone could not reach that.
    assert 'id="address-warning"' in page and "which only this computer can open" in page


def test_labels_page_is_quiet_for_a_public_https_address(coordinator, db, org, app):
    device = DeviceFactory(organisation=org)
    old = app.config["PUBLIC_BASE_URL"], app.config["INCLUSION_ENV"]
    app.config["PUBLIC_BASE_URL"], app.config["INCLUSION_ENV"] = (
        "https://inclusion.example.org",
        "production",
    )
    try:
        page = coordinator.get(f"/labels?tag={device.asset_tag}").get_data(as_text=True)
    finally:
        app.config["PUBLIC_BASE_URL"], app.config["INCLUSION_ENV"] = old
    assert 'id="address-warning"' not in page
    assert "https://inclusion.example.org/d/" in page
