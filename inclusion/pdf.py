"""The one document set-up of every PDF inclusion prints (reportlab): A4, the margins, the
fonts and type sizes (normal, or large print for residents with sight needs), the
organisation's name at the top, and a footer on every page with the organisation, the
document's title and the page number. The receipt, the impact report, the loan agreement,
the subject access summary and the report to commissioners write only their content.

    doc = Document(f"Donation receipt {ref}", organisation)
    doc.add(doc.title(organisation.name), doc.p("Items", "heading"), doc.grid(header, rows))
    return doc.build()

Fonts are named here only (``FONT``, ``BOLD_FONT``), so a font with more scripts is one
change for every document.
"""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

PAGE_SIZE = A4
SIDE_MARGIN = 18 * mm
TOP_MARGIN = 16 * mm
BOTTOM_MARGIN = 20 * mm  # room for the footer
FRAME_WIDTH = PAGE_SIZE[0] - 2 * SIDE_MARGIN
FONT = "Helvetica"
BOLD_FONT = "Helvetica-Bold"
ITALIC_FONT = "Helvetica-Oblique"
HEADER_FILL = colors.HexColor("#e8eef4")  # the header row of a table
LABEL_FILL = colors.HexColor("#f0f0f0")  # the label column of a label/value table
RULE = colors.grey

# (size, leading) of each style: normal print, and large print (13 pt body or more).
SIZES = {
    False: {
        "body": (10, 13),
        "small": (9, 11.5),
        "title": (18, 22),
        "heading": (14, 18),
        "subheading": (12, 15),
    },
    True: {
        "body": (13, 18),
        "small": (11, 15),
        "title": (22, 26),
        "heading": (15, 19),
        "subheading": (14, 18),
    },
}


def _styles(large_print: bool) -> dict[str, ParagraphStyle]:
    base = getSampleStyleSheet()
    sizes = SIZES[large_print]
    parents = {
        "body": "BodyText",
        "small": "BodyText",
        "title": "Title",
        "heading": "Heading2",
        "subheading": "Heading3",
    }
    styles = {}
    for name, (size, leading) in sizes.items():
        bold = name in ("title", "heading", "subheading")
        styles[name] = ParagraphStyle(
            name,
            parent=base[parents[name]],
            fontName=BOLD_FONT if bold else FONT,
            fontSize=size,
            leading=leading,
            keepWithNext=1 if name in ("heading", "subheading") else 0,
        )
    styles["italic"] = ParagraphStyle("italic", parent=styles["body"], fontName=ITALIC_FONT)
    return styles


class Document:
    """One PDF being written: its styles, its story, and helpers for the flowables every
    document uses (paragraphs of escaped text, label/value tables, grids with a header)."""

    def __init__(self, title: str, organisation, *, subject: str = "", large_print=False):
        self.title_text = title
        self.organisation = organisation
        self.subject = subject
        self.styles = _styles(large_print)
        self.width = FRAME_WIDTH
        self.story: list = []

    # -- flowables --------------------------------------------------------------------

    def p(self, text, style: str = "body") -> Paragraph:
        """A paragraph of plain text (escaped; line breaks kept)."""
        value = "" if text is None else str(text)
        return Paragraph(escape(value).replace("\n", "<br/>"), self.styles[style])

    def title(self, text) -> Paragraph:
        return self.p(text, "title")

    def space(self, millimetres: float) -> Spacer:
        return Spacer(1, millimetres * mm)

    def pairs(self, rows, label_width: float = 40 * mm, *, style: str = "body") -> Table:
        """A label/value table (labels shaded), the width of the page."""
        table = Table(
            [[self.p(a, style), self.p(b, style)] for a, b in rows],
            colWidths=[label_width, self.width - label_width],
        )
        table.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.5, RULE),
                    ("BACKGROUND", (0, 0), (0, -1), LABEL_FILL),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ]
            )
        )
        return table

    def grid(self, header, rows, widths=None, *, style: str = "body") -> Table:
        """A table with a shaded header row repeated on every page; equal columns unless
        ``widths`` are given."""
        data = [[self.p(h, style) for h in header]] + [
            [self.p(c, style) for c in row] for row in rows
        ]
        table = Table(
            data,
            colWidths=widths or [self.width / len(header)] * len(header),
            repeatRows=1,
        )
        table.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.4, RULE),
                    ("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ]
            )
        )
        return table

    def contact_line(self) -> Paragraph | None:
        """ "Questions: phone, email" of the organisation, when it has either."""
        org = self.organisation
        contact = ", ".join(x for x in (org.contact_phone, org.contact_email) if x)
        return self.p(f"Questions: {contact}") if contact else None

    def add(self, *flowables) -> None:
        self.story += [f for f in flowables if f is not None]

    # -- the page ---------------------------------------------------------------------

    def _footer(self, canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 8)
        canvas.setFillColor(colors.HexColor("#505a5f"))
        canvas.drawString(
            SIDE_MARGIN, 10 * mm, f"{self.organisation.name} · {self.title_text}"[:110]
        )
        canvas.drawRightString(PAGE_SIZE[0] - SIDE_MARGIN, 10 * mm, f"Page {doc.page}")
        canvas.restoreState()

    def build(self) -> bytes:
        buffer = io.BytesIO()
        template = SimpleDocTemplate(
            buffer,
            pagesize=PAGE_SIZE,
            leftMargin=SIDE_MARGIN,
            rightMargin=SIDE_MARGIN,
            topMargin=TOP_MARGIN,
            bottomMargin=BOTTOM_MARGIN,
            title=self.title_text,
            author=self.organisation.name,
            subject=self.subject,
        )
        template.build(self.story, onFirstPage=self._footer, onLaterPages=self._footer)
        return buffer.getvalue()
