"""QR labels: the PDF carries the device's public URL as a QR code, its tag and the organisation."""

from __future__ import annotations

import re
from io import BytesIO
from itertools import pairwise

import pytest
import segno
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import getAscentDescent, stringWidth

from devices.labels import (
    LAYOUTS,
    SINGLE_SIZE,
    Label,
    Plan,
    fit_text,
    qr_matrix,
    sheet_pdf,
    single_pdf,
)
from devices.qr import BATCH_FROM, QR_OPTIONS, qr_matrices
from devices.service import TAG_ALPHABET
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
WIDE = "WWWWWWWWWWWW"  # the longest organisation code (12 letters), in the widest letter


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
    assert matrix == [
        list(row)
        for row in segno.make_qr(
            "https://inclusion.example.org/d/IN-7KQ4", error="m", mask=2, boost_error=False
        ).matrix
    ]


# ---- the fast QR codes are segno's ------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(
    base=st.sampled_from(["https://inclusion.example.org", "http://localhost:5000", "https://a.b"]),
    tags=st.lists(
        st.text(alphabet=TAG_ALPHABET + "-_.~ab", min_size=1, max_size=12), min_size=1, max_size=80
    ),
)
def test_a_batch_of_qr_codes_equals_segno_code_by_code(base, tags):
    urls = [f"{base}/d/IN-{tag}" for tag in tags] + [f"{base}/d/IN-2345"] * BATCH_FROM
    fast = qr_matrices(urls)
    for url, matrix in zip(urls, fast, strict=True):
        expected = segno.make_qr(url.encode(), **QR_OPTIONS).matrix
        assert matrix.rows() == [list(row) for row in expected], url


def _drawn_qr_codes(pdf: bytes) -> list[list[list[int]]]:
    """Every QR code as drawn in the PDF: the dark modules of each ``q … cm … re … f Q``
    block, read back from the page streams into rows (top row first)."""
    codes = []
    for page in PdfReader(BytesIO(pdf)).pages:
        stream = page.get_contents().get_data().decode("latin-1")
        for block in re.findall(r"q [\d.]+ 0 0 [\d.]+ [\d.]+ [\d.]+ cm\n(.*?)\nf Q", stream, re.S):
            runs = [tuple(map(int, line.split()[:3])) for line in block.splitlines()]
            n = max(y for _, y, _ in runs) + 1
            rows = [[0] * n for _ in range(n)]
            for x, y, length in runs:
                for c in range(x, x + length):
                    rows[n - 1 - y][c] = 1
            codes.append(rows)
    return codes


def test_every_qr_drawn_on_a_big_sheet_is_segnos_and_scans():
    labels = [
        Label(f"IN-{a}{b}", f"https://inclusion.example.org/d/IN-{a}{b}", "WDI")
        for a in TAG_ALPHABET[:5]
        for b in TAG_ALPHABET[:20]
    ]  # 100 labels: the batch path of devices.qr
    pdf = sheet_pdf(labels, "5x13")
    drawn = _drawn_qr_codes(pdf)
    assert drawn == [qr_matrix(label.url) for label in labels]
    assert decode_qr_codes(pdf, page=1) == sorted(label.url for label in labels[65:])


# ---- Avery pitches, the grid centred, text inside every label ---------------------------


@pytest.mark.parametrize(
    "layout, across, down, width, height",
    [("3x7", 66.04, 38.1, 63.5, 38.1), ("5x13", 40.64, 21.2, 38.1, 21.2)],
)
def test_sheets_use_the_avery_pitches_centred_on_the_page(layout, across, down, width, height):
    spec = LAYOUTS[layout]
    pdf = sheet_pdf([LABELS[0]] * spec.per_sheet, layout)
    # The QR's link covers the QR, at the same place on every label: its corners give the grid.
    rects = [
        [float(v) for v in a.get_object()["/Rect"]]
        for a in PdfReader(BytesIO(pdf)).pages[0]["/Annots"]
    ]
    xs = sorted({round(r[0], 3) for r in rects})
    ys = sorted({round(r[1], 3) for r in rects}, reverse=True)
    assert (len(xs), len(ys)) == (spec.columns, spec.rows)
    assert all(abs((b - a) / mm - across) < 0.001 for a, b in pairwise(xs))
    assert all(abs((a - b) / mm - down) < 0.001 for a, b in pairwise(ys))
    pad = rects[0][0] - spec.left
    left = xs[0] - pad
    right = A4[0] - (xs[-1] - pad + width * mm)
    top = A4[1] - (ys[0] - pad + height * mm)
    bottom = ys[-1] - pad
    assert abs(left - right) < 0.001 and abs(top - bottom) < 0.001  # centred both ways
    assert round(left / mm, 2) == {"3x7": 7.21, "5x13": 4.67}[layout]
    assert round(top / mm, 2) == {"3x7": 15.15, "5x13": 10.7}[layout]


def _texts(pdf: bytes) -> list[list[tuple[str, str, float, float, float]]]:
    """Per page, every line of text: (text, font, size, x, baseline y)."""
    pages = []
    for page in PdfReader(BytesIO(pdf)).pages:
        found = []

        def visit(text, cm, tm, font, size, found=found):
            if text.strip():
                found.append((text.strip(), font["/BaseFont"][1:], size, tm[4], tm[5]))

        page.extract_text(visitor_text=visit)
        pages.append(found)
    return pages


def _boxes(layout: str) -> list[tuple[float, float, float, float]]:
    if layout == "single":
        return [(0, 0, *SINGLE_SIZE)]
    spec = LAYOUTS[layout]
    return [(*spec.position(i), spec.width, spec.height) for i in range(spec.per_sheet)]


@pytest.mark.parametrize("layout", ["3x7", "5x13", "single"])
@pytest.mark.parametrize("organisation", [WIDE, "WDI", "West Dudley Digital Inclusion Partnership"])
@pytest.mark.parametrize("tag", ["IN-7KQ2", "IN-WWWWWWWWWWWW"])
def test_text_never_runs_past_the_edge_of_a_label(layout, organisation, tag):
    labels = [Label(tag, f"https://inclusion.example.org/d/{tag}", organisation)] * 3
    pdf = single_pdf(labels[:1]) if layout == "single" else sheet_pdf(labels, layout)
    lines = _texts(pdf)[0]
    assert lines
    boxes = _boxes(layout)
    for text, font, size, x, y in lines:
        box = next(b for b in boxes if b[0] <= x < b[0] + b[2] and b[1] <= y < b[1] + b[3])
        ascent, descent = getAscentDescent(font, size)
        assert x + stringWidth(text, font, size) <= box[0] + box[2], (text, size)
        assert y + descent >= box[1] and y + ascent <= box[1] + box[3], (text, size)
        assert size >= 5
    printed = " ".join(t for t, *_ in lines)
    if organisation == "WDI":
        assert "WDI" in printed
    if tag == "IN-7KQ2":
        assert "IN-7KQ2" in printed  # a real tag is never cut


def test_a_wide_organisation_code_on_a_small_label_wraps_rather_than_runs_off():
    spec = LAYOUTS["5x13"]
    plan = Plan.of(spec.width, spec.height)
    lines = plan.lines(Label("IN-7KQ2", "https://inclusion.example.org/d/IN-7KQ2", WIDE))
    assert [line.text for line in lines][0] == "IN-7KQ2"
    assert "".join(line.text for line in lines[1:]) == WIDE  # all 12 letters, on two lines
    assert all(line.x + line.width <= spec.width - plan.pad for line in lines)


def test_text_that_cannot_fit_is_cut_with_an_ellipsis():
    size, lines = fit_text("WWWWWWWWWWWWWWWWWWWWWWWW", "Helvetica", 8, 5, 40, max_lines=2)
    assert size == 5 and len(lines) == 2 and lines[-1].endswith("…")
    assert all(stringWidth(line, "Helvetica", 5) <= 40 for line in lines)
    size, lines = fit_text("IN-7KQ2", "Helvetica-Bold", 20, 6, 200)
    assert (size, lines) == (20, ["IN-7KQ2"])
    size, lines = fit_text("IN-7KQ2", "Helvetica-Bold", 20, 6, 40)
    assert 6 <= size < 20 and lines == ["IN-7KQ2"]
    assert stringWidth("IN-7KQ2", "Helvetica-Bold", size) <= 40


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
