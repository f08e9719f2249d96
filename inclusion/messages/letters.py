"""The day's letters as one PDF to print: one letter a page (A4), the address where the
window of a DL envelope shows it when the page is folded in three, large print (18 pt)
for residents whose access needs say so, each in the language it was written in (set in
the Noto font of its script and shaped by HarfBuzz: ``inclusion.typesetting``)."""

from __future__ import annotations

import io

from flask_babel import format_date
from flask_babel import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from ..clock import today
from ..i18n import in_language, language_for_preference
from ..typesetting import (
    RTL_LANGUAGES,
    SCRIPT_OF_LANGUAGE,
    ShapedParagraph,
    TextStyle,
    isolate,
    register_fonts,
)

#: DL window envelopes (110 x 220 mm, window 90 x 45 mm, 20 mm from the left, 15 mm from
#: the bottom): with A4 folded in three, the address block sits here on the page.
ADDRESS_LEFT = 20 * mm
ADDRESS_TOP = 52 * mm
ADDRESS_WIDTH = 85 * mm
ADDRESS_HEIGHT = 38 * mm
MARGIN = 20 * mm
REGULAR, LARGE = 12, 18


def _paragraph(text: str, code: str, size: float, *, bold=False, after=0.0):
    return ShapedParagraph(
        text,
        SCRIPT_OF_LANGUAGE.get(code, "latin"),
        TextStyle(size=size, leading=size * 1.4, bold=bold, space_after=after),
        rtl=code in RTL_LANGUAGES,
    )


def _flow(pdf: canvas.Canvas, paragraphs, y: float, top: float) -> float:
    """Draw ``paragraphs`` down the page from ``y``, onto a new page when one is full."""
    width = A4[0] - 2 * MARGIN
    for para in paragraphs:
        while True:
            _, height = para.wrap(width, y - MARGIN)
            if y - height >= MARGIN:
                para.drawOn(pdf, MARGIN, y - height)
                y -= height + para.spaceAfter
                break
            parts = para.split(width, y - MARGIN)
            if len(parts) == 2:
                first, para = parts
                _, first_height = first.wrap(width, y - MARGIN)
                first.drawOn(pdf, MARGIN, y - first_height)
            pdf.showPage()
            y = top
    return y


def _letter(pdf: canvas.Canvas, message, organisation) -> None:
    """One letter, in the language it was written in (shaped by HarfBuzz, right to left
    for Urdu and Arabic): who it is from, the address in the envelope's window, the
    date, the subject and the text."""
    width, height = A4
    code = language_for_preference(message.language) or "en"
    size = LARGE if message.large_print else REGULAR
    # Who it is from, top right, clear of the window.
    pdf.setFont("Helvetica-Bold", 11)
    y = height - MARGIN
    for line in [organisation.name, *(organisation.return_address or "").split(", ")][:6]:
        pdf.drawRightString(width - MARGIN, y, line.strip())
        pdf.setFont("Helvetica", 10)
        y -= 13
    # The address block, inside the envelope's window.
    address_size = min(size, 14)
    pdf.setFont("Helvetica", address_size)
    y = height - ADDRESS_TOP - address_size
    for line in (message.address or "").splitlines()[:7]:
        pdf.drawString(ADDRESS_LEFT, y, line[:60])
        y -= address_size * 1.25
    # The phone number, the date, then the letter, in the resident's language.
    with in_language(code):
        phone = (
            _("Phone %(number)s", number=isolate(organisation.contact_phone, unbreakable=True))
            if organisation.contact_phone
            else ""
        )
        dated = format_date(today(), "long")
        reference = _("Reference %(reference)s", reference=isolate(f"M{message.id}"))
    top = height - MARGIN
    y = height - ADDRESS_TOP - ADDRESS_HEIGHT - 6 * mm
    paragraphs = [p for p in (phone, dated) if p]
    flowed = [_paragraph(p, code, size, after=size * 0.4) for p in paragraphs]
    if message.subject:
        flowed.append(_paragraph(message.subject, code, size, bold=True, after=size * 0.8))
    for part in (message.body or "").split("\n\n"):
        lines = [_paragraph(line, code, size) for line in part.split("\n") if line.strip()]
        if lines:
            lines[-1].spaceAfter = size * 0.8
        flowed.extend(lines)
    _flow(pdf, flowed, y, top)
    # Small print at the foot: which message this is, for the coordinator.
    foot = _paragraph(reference, code, 8)
    foot.wrap(A4[0] - 2 * MARGIN, MARGIN)
    foot.drawOn(pdf, MARGIN, MARGIN / 2)
    pdf.showPage()


def letters_pdf(messages, organisation) -> bytes:
    """One PDF with a page per letter, in the order given."""
    register_fonts()
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, pageCompression=1)
    pdf.setTitle(f"Letters {today().isoformat()}")
    pdf.setAuthor(organisation.name)
    for message in messages:
        _letter(pdf, message, organisation)
    pdf.save()
    return buffer.getvalue()
