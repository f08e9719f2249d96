"""The day's letters as one PDF to print: one letter a page (A4), the address where the
window of a DL envelope shows it when the page is folded in three, large print (18 pt)
for residents whose access needs say so."""

from __future__ import annotations

import io

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas

from ..clock import today

#: DL window envelopes (110 x 220 mm, window 90 x 45 mm, 20 mm from the left, 15 mm from
#: the bottom): with A4 folded in three, the address block sits here on the page.
ADDRESS_LEFT = 20 * mm
ADDRESS_TOP = 52 * mm
ADDRESS_WIDTH = 85 * mm
ADDRESS_HEIGHT = 38 * mm
MARGIN = 20 * mm
REGULAR, LARGE = 12, 18


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    lines = []
    for paragraph in text.split("\n"):
        words, line = paragraph.split(" "), ""
        for word in words:
            candidate = f"{line} {word}".strip()
            if stringWidth(candidate, font, size) <= width or not line:
                line = candidate
            else:
                lines.append(line)
                line = word
        lines.append(line)
    return lines


def _letter(pdf: canvas.Canvas, message, organisation) -> None:
    width, height = A4
    size = LARGE if message.large_print else REGULAR
    leading = size * 1.4
    # Who it is from, top right, clear of the window.
    pdf.setFont("Helvetica-Bold", 11)
    y = height - MARGIN
    for line in [organisation.name, *(organisation.return_address or "").split(", ")][:6]:
        pdf.drawRightString(width - MARGIN, y, line.strip())
        pdf.setFont("Helvetica", 10)
        y -= 13
    if organisation.contact_phone:
        pdf.drawRightString(width - MARGIN, y, f"Phone {organisation.contact_phone}")
    # The address block, inside the envelope's window.
    address_size = min(size, 14)
    pdf.setFont("Helvetica", address_size)
    y = height - ADDRESS_TOP - address_size
    for line in (message.address or "").splitlines()[:7]:
        pdf.drawString(ADDRESS_LEFT, y, line[:60])
        y -= address_size * 1.25
    # The date, then the letter.
    y = height - ADDRESS_TOP - ADDRESS_HEIGHT - 14 * mm
    pdf.setFont("Helvetica", size)
    pdf.drawString(MARGIN, y, today().strftime("%-d %B %Y"))
    y -= leading * 2
    if message.subject:
        pdf.setFont("Helvetica-Bold", size)
        pdf.drawString(MARGIN, y, message.subject)
        y -= leading * 1.5
    pdf.setFont("Helvetica", size)
    for line in _wrap(message.body, "Helvetica", size, width - 2 * MARGIN):
        if y < MARGIN:
            pdf.showPage()
            pdf.setFont("Helvetica", size)
            y = height - MARGIN
        pdf.drawString(MARGIN, y, line)
        y -= leading
    pdf.setFont("Helvetica", 8)
    pdf.drawString(MARGIN, MARGIN / 2, f"Ref. M{message.id}")
    pdf.showPage()


def letters_pdf(messages, organisation) -> bytes:
    """One PDF with a page per letter, in the order given."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, pageCompression=1)
    pdf.setTitle(f"Letters {today().isoformat()}")
    pdf.setAuthor(organisation.name)
    for message in messages:
        _letter(pdf, message, organisation)
    pdf.save()
    return buffer.getvalue()
