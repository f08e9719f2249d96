"""QR labels as PDF: A4 sheets (3×7 and 5×13) and single labels for a label printer (62×29 mm).

Each label carries a QR code of the device's public URL (``/d/<tag>``), the tag in large
text and the organisation's short name. Nothing about who holds the device.

Speed: segno and qrcode take about the same time (≈3.5 ms per code, most of it choosing
the best of 8 masks). Fixing the mask (any mask is valid QR; scanners read all of them)
brings segno to ≈0.7 ms, so a 1,000-label sheet renders well under the 3 s target
(see ``benchmarks/labels.py``). Dark modules are drawn as horizontal runs in one path.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import segno
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas


@dataclass(frozen=True)
class Layout:
    key: str
    label: str
    columns: int
    rows: int
    width: float  # label size in points
    height: float
    left: float  # page margins
    top: float
    gap_x: float
    gap_y: float

    @property
    def per_sheet(self) -> int:
        return self.columns * self.rows


LAYOUTS = {
    "3x7": Layout(
        "3x7",
        "A4, 3 × 7 = 21 labels of 63.5 × 38.1 mm (e.g. L7160)",
        3,
        7,
        63.5 * mm,
        38.1 * mm,
        7.2 * mm,
        15.15 * mm,
        2.5 * mm,
        0,
    ),
    "5x13": Layout(
        "5x13",
        "A4, 5 × 13 = 65 labels of 38.1 × 21.2 mm (e.g. L7651)",
        5,
        13,
        38.1 * mm,
        21.2 * mm,
        4.75 * mm,
        10.7 * mm,
        2.5 * mm,
        0,
    ),
}
SINGLE_SIZE = (62 * mm, 29 * mm)
QR_MASK = 2


@dataclass(frozen=True)
class Label:
    tag: str
    url: str
    organisation: str  # short code or name, printed small


def qr_matrix(data: str) -> tuple[bytearray, ...]:
    """The QR modules (1 = dark), without quiet zone; a fixed mask keeps it fast."""
    return segno.make_qr(data, error="m", mask=QR_MASK, boost_error=False).matrix


def _qr_operators(data: str) -> tuple[int, str]:
    """PDF path operators for the dark modules in module units, rows merged into runs."""
    matrix = qr_matrix(data)
    n = len(matrix)
    parts = []
    for r, row in enumerate(matrix):
        y = n - 1 - r
        c = 0
        while c < n:
            if row[c]:
                start = c
                while c < n and row[c]:
                    c += 1
                parts.append(f"{start} {y} {c - start} 1 re")
            else:
                c += 1
    return n, "\n".join(parts)


def _draw_qr(canvas: Canvas, data: str, x: float, y: float, size: float) -> None:
    """Draw the QR code with its bottom-left corner at (x, y), ``size`` wide incl. quiet zone.

    The path is written as raw operators in module units under a scaling matrix: reportlab's
    per-rectangle number formatting was most of the time of a 1,000-label sheet.
    """
    n, ops = _qr_operators(data)
    quiet = 2  # modules of quiet zone each side (labels are small; scanners cope with 2)
    module = size / (n + 2 * quiet)
    ox, oy = x + quiet * module, y + quiet * module
    canvas.addLiteral(f"q {module:.4f} 0 0 {module:.4f} {ox:.3f} {oy:.3f} cm\n{ops}\nf Q")


def _fit_font(canvas: Canvas, text: str, font: str, max_size: float, width: float) -> float:
    size = max_size
    while size > 5 and canvas.stringWidth(text, font, size) > width:
        size -= 0.5
    return size


def _draw_label(canvas: Canvas, label: Label, x: float, y: float, w: float, h: float) -> None:
    pad = min(2 * mm, h * 0.08)
    qr_size = h - 2 * pad
    _draw_qr(canvas, label.url, x + pad, y + pad, qr_size)
    canvas.linkURL(label.url, (x + pad, y + pad, x + pad + qr_size, y + pad + qr_size), relative=0)
    text_x = x + 2 * pad + qr_size
    text_w = w - (text_x - x) - pad
    tag_size = _fit_font(canvas, label.tag, "Helvetica-Bold", h * 0.32, text_w)
    canvas.setFont("Helvetica-Bold", tag_size)
    canvas.drawString(text_x, y + h * 0.48, label.tag)
    org = label.organisation
    org_size = _fit_font(canvas, org, "Helvetica", max(5.0, h * 0.14), text_w)
    canvas.setFont("Helvetica", org_size)
    canvas.drawString(text_x, y + h * 0.48 - org_size - 2, org)


def sheet_pdf(
    labels: list[Label], layout: str = "3x7", start: int = 1, title: str = "Labels"
) -> bytes:
    """A4 sheets of labels; ``start`` (1-based) skips used positions on the first sheet."""
    spec = LAYOUTS[layout]
    if not 1 <= start <= spec.per_sheet:
        raise ValueError(f"start must be between 1 and {spec.per_sheet}")
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1)
    canvas.setTitle(title)
    page_w, page_h = A4
    position = start - 1
    for label in labels:
        if position == spec.per_sheet:
            canvas.showPage()
            position = 0
        row, col = divmod(position, spec.columns)
        x = spec.left + col * (spec.width + spec.gap_x)
        y = page_h - spec.top - (row + 1) * spec.height - row * spec.gap_y
        _draw_label(canvas, label, x, y, spec.width, spec.height)
        position += 1
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def single_pdf(labels: list[Label], title: str = "Labels") -> bytes:
    """One 62 × 29 mm page per label, for a label printer."""
    buffer = io.BytesIO()
    w, h = SINGLE_SIZE
    canvas = Canvas(buffer, pagesize=SINGLE_SIZE, pageCompression=1)
    canvas.setTitle(title)
    for label in labels:
        _draw_label(canvas, label, 0, 0, w, h)
        canvas.showPage()
    if not labels:
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()
