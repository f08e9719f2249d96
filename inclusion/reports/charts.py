"""Bar charts of the report, laid out once here and drawn twice: as SVG on screen
(``templates/reports/_report_parts.html``, attributes and CSS classes only, no script) and
with reportlab graphics in the PDF (``pdf.py``). Every chart has a table with the same
numbers next to it: the table is the accessible version.

A count hidden by the small-number rule (1 to 4, printed "fewer than 5") is not drawn as an
empty bar, which would read as none: it is drawn as a hatched outline as tall as the
largest count it could be (4), labelled "fewer than 5".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from inclusion.disclosure import SMALL_NUMBER_THRESHOLD, SUPPRESSED

# How far a hidden count's outline reaches: the most it can be.
SUPPRESSED_REACH = SMALL_NUMBER_THRESHOLD - 1

WIDTH = 600
H_LABEL = 210  # horizontal bars: room for the category labels on the left
H_ROW, H_BAR = 30, 20
V_HEIGHT, V_LEFT, V_BOTTOM, V_TOP = 260, 44, 40, 14


@dataclass
class Bar:
    label: str
    value: float
    shown: str  # the value as printed next to the bar (or "fewer than 5")
    suppressed: bool = False  # hidden by the small-number rule: drawn as a hatched outline
    tick: str = ""  # the label printed on the axis (every label, or every n-th month)
    tick2: str = ""  # a second line under a column's tick (the year, at its first month)
    x: float = 0
    y: float = 0
    w: float = 0
    h: float = 0
    label_x: float = 0
    label_y: float = 0
    value_x: float = 0
    value_y: float = 0


@dataclass
class BarChart:
    id: str
    title: str
    description: str
    orientation: str  # "h": one row per category; "v": columns (months)
    bars: list[Bar]
    table: str = ""  # id of the table with the same numbers
    width: int = WIDTH
    height: int = 0
    axis: tuple[float, float, float, float] = (0, 0, 0, 0)  # x1, y1, x2, y2 of the base line
    ticks: list[tuple[float, float, str]] = field(default_factory=list)  # x, y, label

    @property
    def empty(self) -> bool:
        return not any(b.value or b.suppressed for b in self.bars)

    @property
    def has_suppressed(self) -> bool:
        return any(b.suppressed for b in self.bars)

    @property
    def maximum(self) -> float:
        return nice_max(max((_reach(b) for b in self.bars), default=0))


def _reach(bar: Bar) -> float:
    """How long the bar is drawn: its value, or for a hidden count the most it can be."""
    return SUPPRESSED_REACH if bar.suppressed else bar.value


def nice_max(value: float) -> float:
    """The smallest 1, 2 or 5 × 10^k at or above ``value`` (at least 1)."""
    if value <= 1:
        return 1
    step = 1
    while True:
        for m in (1, 2, 5):
            if m * step >= value:
                return m * step
        step *= 10


def bar_chart(
    id: str,
    title: str,
    description: str,
    items: list[tuple[str, float, str]],
    orientation: str = "h",
    table: str = "",
) -> BarChart:
    """``items`` are (label, value, shown) — value draws the bar, shown is printed by it."""
    bars = [
        Bar(label, float(value or 0), str(shown), suppressed=str(shown) == SUPPRESSED)
        for label, value, shown in items
    ]
    chart = BarChart(id, title, description, orientation, bars, table=table)
    top = chart.maximum
    if orientation == "h":
        plot = WIDTH - H_LABEL - 60
        chart.height = 8 + H_ROW * len(bars) + 8
        for i, bar in enumerate(bars):
            bar.x, bar.y = H_LABEL, 8 + i * H_ROW + (H_ROW - H_BAR) / 2
            bar.w, bar.h = round(plot * _reach(bar) / top, 1), H_BAR
            bar.tick = bar.label
            bar.label_x, bar.label_y = H_LABEL - 8, bar.y + H_BAR / 2 + 5
            bar.value_x, bar.value_y = bar.x + bar.w + 6, bar.label_y
        chart.axis = (H_LABEL, 4, H_LABEL, chart.height - 4)
    else:
        chart.height = V_HEIGHT
        base = V_HEIGHT - V_BOTTOM
        plot_h = base - V_TOP
        slot = (WIDTH - V_LEFT - 8) / max(len(bars), 1)
        every = max(1, round(len(bars) / 12))
        for i, bar in enumerate(bars):
            bar.w = round(slot * 0.7, 1)
            bar.h = round(plot_h * _reach(bar) / top, 1)
            bar.x = round(V_LEFT + i * slot + (slot - bar.w) / 2, 1)
            bar.y = base - bar.h
            bar.value_x, bar.value_y = bar.x + bar.w / 2, bar.y - 3
            bar.label_x, bar.label_y = bar.value_x, base + 16
            if bar.suppressed:  # "fewer than 5" reads upwards from the base, across the column
                bar.value_x, bar.value_y = bar.x + bar.w / 2 + 4, base - 6
            # "Apr 2026" -> "Apr" with "2026" beneath at the first column and each January.
            words = bar.label.split(" ", 1)
            if not i % every:
                bar.tick = words[0]
                if len(words) == 2 and (i == 0 or words[0] == "Jan"):
                    bar.tick2 = words[1]
        chart.axis = (V_LEFT, base, WIDTH - 8, base)
        chart.ticks = [
            (V_LEFT - 6, round(base - plot_h * f, 1) + 4, _fmt(top * f)) for f in (0, 0.5, 1)
        ]
    return chart


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"


def chart_items(shown, rows, label_of, value_key="count") -> list[tuple[str, float, str]]:
    """(label, value, shown) of each row for ``bar_chart``: a suppressed count has no value
    (it is drawn as a hatched outline) and is printed as in the table."""
    out = []
    for r in rows:
        printed = shown.count(r[value_key])
        out.append((label_of(r), 0 if isinstance(printed, str) else r[value_key], printed))
    return out
