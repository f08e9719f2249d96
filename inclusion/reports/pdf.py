"""The report as a PDF to send to a commissioner (reportlab): key figures, progress
against targets, each chart drawn with reportlab graphics, and every table."""

from __future__ import annotations

from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.platypus import KeepTogether

from inclusion.clock import today
from inclusion.disclosure import SUPPRESSED
from inclusion.pdf import BOLD_FONT, FRAME_WIDTH, Document

from .charts import nice_max
from .tables import ReportTable, progress_table

BAR = colors.HexColor("#0072b2")
PAGE_WIDTH = FRAME_WIDTH


def chart_drawing(chart) -> Drawing:
    """A reportlab drawing of one ``charts.BarChart`` (the same bars as on screen)."""
    values = [b.value for b in chart.bars]
    labels = [b.label for b in chart.bars]
    width = PAGE_WIDTH
    if chart.orientation == "h":
        height = 14 * len(values) + 30
        drawing = Drawing(width, height)
        bc = HorizontalBarChart()
        bc.x, bc.y = 150, 18
        bc.width, bc.height = width - 200, height - 26
        bc.categoryAxis.labels.fontSize = 8
        bc.categoryAxis.labels.dx = -4
        bc.categoryAxis.reverseDirection = True
    else:
        height = 170
        drawing = Drawing(width, height)
        bc = VerticalBarChart()
        bc.x, bc.y = 36, 40
        bc.width, bc.height = width - 50, height - 56
        bc.categoryAxis.labels.fontSize = 7
        bc.categoryAxis.labels.angle = 45
        bc.categoryAxis.labels.boxAnchor = "ne"
        labels = [" ".join(t for t in (b.tick, b.tick2) if t) for b in chart.bars]
    bc.data = [values or [0]]
    bc.categoryAxis.categoryNames = labels or [""]
    bc.valueAxis.valueMin = 0
    bc.valueAxis.valueMax = nice_max(max(values, default=0))
    # Whole-number steps: these are counts of people and things.
    bc.valueAxis.valueStep = max(1, bc.valueAxis.valueMax // 5)
    bc.valueAxis.labels.fontSize = 7
    bc.bars[0].fillColor = BAR
    bc.bars[0].strokeColor = None
    bc.barLabelFormat = lambda v: ""
    bc.barLabels.fontSize = 7
    drawing.add(bc)
    drawing.add(String(0, height - 8, chart.title, fontName=BOLD_FONT, fontSize=9))
    return drawing


def report_pdf(report, organisation) -> bytes:
    doc = Document(
        f"Report {report.period.label}", organisation, subject="Digital inclusion report"
    )

    def table_flowable(table):
        widths = [PAGE_WIDTH * 0.62] + [PAGE_WIDTH * 0.38 / (len(table.columns) - 1)] * (
            len(table.columns) - 1
        )
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
        doc.add(*table_flowable(progress_table(report.progress, report.year_label)))
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
