"""The report as a PDF to send to a commissioner (reportlab): key figures, progress
against targets, each chart drawn with reportlab graphics, and every table."""

from __future__ import annotations

from reportlab.graphics.shapes import Drawing, Group, Line, Rect, String
from reportlab.lib import colors
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import KeepTogether

from inclusion.clock import today
from inclusion.disclosure import SUPPRESSED
from inclusion.pdf import BOLD_FONT, FONT, FRAME_WIDTH, Document

from .charts import SUPPRESSED_REACH, BarChart
from .tables import ReportTable

BAR = colors.HexColor("#0072b2")
HATCH = colors.HexColor("#7fb8d8")  # the hatching of a hidden count: paler than a bar
INK = colors.HexColor("#0b0c0c")
MUTED = colors.HexColor("#505a5f")
PAGE_WIDTH = FRAME_WIDTH
TITLE_ROOM = 16  # points above the chart for its title
LEGEND_ROOM = 14  # points below it for the key to hatched bars
TEXT = 12  # the SVG's text size (px), scaled with the chart


def _hatch(x: float, y: float, w: float, h: float, step: float = 4.0) -> list[Line]:
    """Diagonal lines (45°) filling the rectangle, cut at its edges."""
    lines = []
    c = -h
    while c < w:
        # The line x' - x = (y' - y) + c, for y' from y to y + h, kept inside x..x + w.
        y0 = y + max(0.0, -c)
        y1 = y + min(h, w - c)
        if y1 > y0:
            lines.append(
                Line(x + c + (y0 - y), y0, x + c + (y1 - y), y1, strokeColor=HATCH, strokeWidth=0.8)
            )
        c += step
    return lines


def _string(x, y, text, size, *, anchor="start", font=FONT, colour=INK, width=None) -> String:
    """A line of chart text, shrunk (down to 5 pt) to fit ``width`` when given."""
    if width is not None and text:
        fits = width / max(stringWidth(text, font, 1), 0.01)
        size = max(5.0, min(size, fits))
    return String(x, y, text, fontName=font, fontSize=size, textAnchor=anchor, fillColor=colour)


def chart_drawing(chart: BarChart) -> Drawing:
    """A reportlab drawing of one ``charts.BarChart``: the same bars, at the same places, as
    the SVG on screen, scaled to the page. A hidden count (1 to 4) is a hatched, dashed
    outline labelled "fewer than 5", with a key under the chart."""
    scale = PAGE_WIDTH / chart.width
    legend = LEGEND_ROOM if chart.has_suppressed else 0
    height = chart.height * scale + TITLE_ROOM + legend
    drawing = Drawing(PAGE_WIDTH, height)
    text = TEXT * scale

    def X(v):  # noqa: N802 - x and y of the SVG (y downwards) on the page (y upwards)
        return v * scale

    def Y(v):  # noqa: N802
        return legend + (chart.height - v) * scale

    drawing.add(_string(0, height - 10, chart.title, 9, font=BOLD_FONT))
    for tx, ty, label in chart.ticks:
        drawing.add(_string(X(tx), Y(ty), label, text, anchor="end", colour=MUTED))
    horizontal = chart.orientation == "h"
    for bar in chart.bars:
        x, y, w, h = X(bar.x), Y(bar.y + bar.h), X(bar.w), bar.h * scale
        if bar.suppressed:
            for line in _hatch(x, y, w, h):
                drawing.add(line)
            drawing.add(
                Rect(
                    x,
                    y,
                    w,
                    h,
                    fillColor=None,
                    strokeColor=BAR,
                    strokeWidth=1,
                    strokeDashArray=[3, 2],
                )
            )
        elif w > 0 and h > 0:
            drawing.add(Rect(x, y, w, h, fillColor=BAR, strokeColor=None))
        if horizontal:
            drawing.add(
                _string(
                    X(bar.label_x),
                    Y(bar.label_y),
                    bar.tick,
                    text,
                    anchor="end",
                    width=X(bar.label_x),
                )
            )
            drawing.add(_string(X(bar.value_x), Y(bar.value_y), bar.shown, text, font=BOLD_FONT))
            continue
        for offset, tick in ((0, bar.tick), (14, bar.tick2)):
            if tick:
                drawing.add(
                    _string(
                        X(bar.label_x),
                        Y(bar.label_y + offset),
                        tick,
                        text,
                        anchor="middle",
                        colour=MUTED,
                    )
                )
        if bar.suppressed:
            upwards = Group(
                _string(0, 0, bar.shown, text, font=BOLD_FONT),
                transform=(0, 1, -1, 0, X(bar.value_x), Y(bar.value_y)),
            )
            drawing.add(upwards)
        elif len(chart.bars) <= 13 and bar.value:
            drawing.add(
                _string(
                    X(bar.value_x), Y(bar.value_y), bar.shown, text, anchor="middle", font=BOLD_FONT
                )
            )
    x1, y1, x2, y2 = chart.axis
    drawing.add(Line(X(x1), Y(y1), X(x2), Y(y2), strokeColor=INK, strokeWidth=1.2))
    if legend:
        for line in _hatch(0, 2, 16, 8):
            drawing.add(line)
        drawing.add(
            Rect(
                0, 2, 16, 8, fillColor=None, strokeColor=BAR, strokeWidth=1, strokeDashArray=[3, 2]
            )
        )
        drawing.add(
            _string(
                22,
                3,
                f"{SUPPRESSED}: a count from 1 to {SUPPRESSED_REACH}, not shown exactly so that "
                "no one can be recognised (the outline reaches the most it can be)",
                8,
                colour=MUTED,
            )
        )
    return drawing


def report_pdf(report, organisation) -> bytes:
    doc = Document(
        f"Report {report.period.label}", organisation, subject="Digital inclusion report"
    )

    def table_flowable(table):
        # The first column names the row; the figures share the rest, each at least 15%
        # of the page so a heading like "Target for these 4 months" keeps to two lines, and
        # the first at least 20% however many figures there are (an outcome table has eight).
        figures = len(table.columns) - 1
        each = max(0.38 / figures, 0.15) if figures >= 4 else 0.38 / figures
        each = min(each, 0.8 / figures)
        widths = [PAGE_WIDTH * (1 - each * figures)] + [PAGE_WIDTH * each] * figures
        parts = [
            doc.p(table.title, "subheading"),
            doc.grid(table.columns, [[str(c) for c in row] for row in table.rows], widths),
        ]
        if table.note:
            parts.append(doc.p(table.note, "italic"))
        return parts

    figures = report.figures
    doc.add(
        doc.title(organisation.name),
        doc.p(f"Digital inclusion report: {report.period.label}", "heading"),
        doc.p(f"Produced on {today().strftime('%d %B %Y')}."),
        doc.p(
            f'For publication: counts from 1 to 4 are shown as "{SUPPRESSED}", and so is any '
            "figure worked out from so few people."
            if report.publication
            else "For internal use: exact figures. Counts below 5 must not be published."
        ),
        doc.space(4),
    )
    key = ReportTable("key_figures", "Key figures", ["Measure", "Number"], report.key_figures)
    doc.add(*table_flowable(key))
    if report.progress:
        doc.add(*table_flowable(report.progress_table))
    charts: dict[str, list] = {}
    for c in report.charts:  # a table may have more than one (before and after)
        charts.setdefault(c.table, []).append(c)
    for table in report.tables:
        parts = [chart_drawing(chart) for chart in charts.get(table.slug, [])]
        parts += table_flowable(table)
        doc.add(doc.space(3), KeepTogether(parts))
    doc.add(
        doc.space(5),
        doc.p(
            f"Period: {figures['period']['start']} to {figures['period']['end']}, both days "
            "included. Every figure is counted from the organisation's records by the inclusion "
            "system."
        ),
        doc.contact_line(),
    )
    return doc.build()
