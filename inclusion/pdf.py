"""The one document set-up of every PDF inclusion prints (reportlab): A4, the margins, the
fonts and type sizes (normal, or large print for residents with sight needs), the
organisation's name at the top, and a footer on every page with the organisation, the
document's title and the page number. The receipt, the impact report, the loan agreement,
the subject access summary and the report to commissioners write only their content.

    doc = Document(f"Donation receipt {ref}", organisation)
    doc.add(doc.title(organisation.name), doc.p("Items", "heading"), doc.grid(header, rows))
    return doc.build()

Fonts are named here only (``FONT``, ``BOLD_FONT``), so a font with more scripts is one
change for every document. A document a resident reads in their own language names its
script (``Document(..., script="bengali", rtl=False, language="bn")``): its paragraphs,
tables and footer are then shaped by HarfBuzz in the Noto font of that script
(``inclusion.typesetting``), right to left for Urdu and Arabic.
"""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from .typesetting import ShapedParagraph, TextStyle, draw_line, register_fonts, runs_of

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

# (size, leading) of each style, for each print size: "normal"; "larger" (13 pt body, a
# document with dense tables that a resident reads, ``large_print=True``); and "large",
# large print for a resident with a sight need: 16 pt or more everywhere, the footer too
# (RNIB's clear print guidance asks 16 to 18 pt).
SIZES = {
    "normal": {
        "body": (10, 13),
        "small": (9, 11.5),
        "title": (18, 22),
        "heading": (14, 18),
        "subheading": (12, 15),
    },
    "larger": {
        "body": (13, 18),
        "small": (11, 15),
        "title": (22, 26),
        "heading": (15, 19),
        "subheading": (14, 18),
    },
    "large": {
        "body": (17, 23),
        "small": (16, 21),
        "title": (26, 31),
        "heading": (21, 26),
        "subheading": (19, 24),
    },
}
FOOTER_SIZE = {"normal": 8, "larger": 8, "large": 16}
BOLD_STYLES = ("title", "heading", "subheading")


def _styles(print_size: str) -> dict[str, ParagraphStyle]:
    base = getSampleStyleSheet()
    sizes = SIZES[print_size]
    parents = {
        "body": "BodyText",
        "small": "BodyText",
        "title": "Title",
        "heading": "Heading2",
        "subheading": "Heading3",
    }
    styles = {}
    for name, (size, leading) in sizes.items():
        bold = name in BOLD_STYLES
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

    def __init__(
        self,
        title: str,
        organisation,
        *,
        subject: str = "",
        large_print=False,
        print_size: str | None = None,
        script: str | None = None,
        rtl: bool = False,
        language: str = "en",
        page_label=None,
    ):
        self.title_text = title
        self.organisation = organisation
        self.subject = subject
        self.print_size = print_size or ("larger" if large_print else "normal")
        self.styles = _styles(self.print_size)
        self.width = FRAME_WIDTH
        self.story: list = []
        # Shaped text (a resident's language): the script's Noto font, HarfBuzz, bidi.
        self.script = script
        self.rtl = rtl
        self.language = language
        self.page_label = page_label or (lambda number: f"Page {number}")
        if script:
            register_fonts()

    # -- flowables --------------------------------------------------------------------

    def p(self, text, style: str = "body"):
        """A paragraph of plain text (escaped; line breaks kept), shaped in the
        document's script when it has one."""
        value = "" if text is None else str(text)
        if self.script:
            size, leading = SIZES[self.print_size][style]
            base = self.styles[style]
            text_style = TextStyle(
                size=size,
                leading=leading,
                bold=style in BOLD_STYLES,
                space_before=base.spaceBefore,
                space_after=base.spaceAfter,
            )
            return ShapedParagraph(value, self.script, text_style, rtl=self.rtl)
        return Paragraph(escape(value).replace("\n", "<br/>"), self.styles[style])

    def title(self, text) -> Paragraph:
        return self.p(text, "title")

    def space(self, millimetres: float) -> Spacer:
        return Spacer(1, millimetres * mm)

    def pairs(self, rows, label_width: float = 40 * mm, *, style: str = "body") -> Table:
        """A label/value table (labels shaded), the width of the page; right to left,
        the labels are on the right."""
        cells = [[self.p(a, style), self.p(b, style)] for a, b in rows]
        widths = [label_width, self.width - label_width]
        if self.rtl:
            cells = [list(reversed(r)) for r in cells]
            widths = list(reversed(widths))
        label_col = -1 if self.rtl else 0
        table = Table(cells, colWidths=widths)
        table.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.5, RULE),
                    ("BACKGROUND", (label_col, 0), (label_col, -1), LABEL_FILL),
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
        size = FOOTER_SIZE[self.print_size]
        page = self.page_label(doc.page)
        text = f"{self.organisation.name} · {self.title_text}"
        y = 10 * mm
        canvas.saveState()
        canvas.setFillColor(colors.HexColor("#505a5f"))
        if self.script:
            self._shaped_footer(canvas, text, page, size, y)
        else:
            canvas.setFont(FONT, size)
            room = FRAME_WIDTH - stringWidth(page, FONT, size) - 6 * mm
            while text and stringWidth(text, FONT, size) > room:
                text = text[:-2] + "…"
            canvas.drawString(SIDE_MARGIN, y, text)
            canvas.drawRightString(PAGE_SIZE[0] - SIDE_MARGIN, y, page)
        canvas.restoreState()

    def _shaped_footer(self, canvas, text, page, size, y) -> None:
        """The footer in the document's script: the title at the start of the line (the
        right, right to left), the page number at its end, each cut to fit."""

        def runs(value):
            return runs_of(value, self.script, rtl=self.rtl, bold=False, size=size)

        page_runs = runs(page)
        page_width = sum(r.width for r in page_runs)
        room = FRAME_WIDTH - page_width - 6 * mm
        title_runs = runs(text)
        while len(text) > 1 and sum(r.width for r in title_runs) > room:
            text = text[:-2] + "…"
            title_runs = runs(text)
        title_width = sum(r.width for r in title_runs)
        left, right = SIDE_MARGIN, PAGE_SIZE[0] - SIDE_MARGIN
        if self.rtl:
            draw_line(canvas, title_runs, right - title_width, y)
            draw_line(canvas, page_runs, left, y)
        else:
            draw_line(canvas, title_runs, left, y)
            draw_line(canvas, page_runs, right - page_width, y)

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
            lang=self.language,
        )
        template.build(self.story, onFirstPage=self._footer, onLaterPages=self._footer)
        return buffer.getvalue()
