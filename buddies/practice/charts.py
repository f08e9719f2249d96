"""Server-rendered SVG line charts: coordinates are computed here, drawn by
``templates/practice/_chart.html`` with SVG attributes and CSS classes only (the
Content-Security-Policy forbids inline styles), so charts need no JavaScript."""

from __future__ import annotations

from dataclasses import dataclass, field

# Margins hold the axis labels at the largest size buddies.css gives them (24 units on
# a phone, where 640 units are about 340 px): no label is cut off at any width.
WIDTH, HEIGHT = 640, 300
LEFT, RIGHT, TOP, BOTTOM = 76, 28, 20, 68


@dataclass
class Series:
    label: str
    css: str  # a class from app.css, e.g. "series-1"
    points: list[tuple[float, float]]  # data coordinates (x, y); gaps are simply left out
    step: bool = False  # draw as a step function (survival curves)
    svg_points: str = ""
    markers: list[tuple[float, float, str]] = field(default_factory=list)


@dataclass
class Chart:
    title: str
    x_label: str
    y_label: str
    series: list[Series]
    x_ticks: list[tuple[float, str]]
    y_ticks: list[tuple[float, str]]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    top: int = TOP
    plot_right: int = WIDTH - RIGHT
    plot_bottom: int = HEIGHT - BOTTOM
    description: str = ""

    @property
    def empty(self) -> bool:
        return not any(s.points for s in self.series)


def _scale(value, low, high, out_low, out_high) -> float:
    if high == low:
        return out_low
    return round(out_low + (value - low) * (out_high - out_low) / (high - low), 1)


def line_chart(
    title: str,
    series: list[Series],
    *,
    x_max: float,
    y_max: float,
    y_ticks: list[tuple[float, str]],
    x_label: str,
    y_label: str,
    description: str = "",
) -> Chart:
    """Place every series in a WIDTH × HEIGHT viewBox with axes from 0 to the maxima."""
    x_max = max(x_max, 1)
    chart = Chart(title, x_label, y_label, series, [], [], description=description)

    def scaler(low, high, out_low, out_high):
        # _scale with the constant parts worked out once (the same arithmetic, so the
        # same coordinates): a chart of 500 sessions in 6 areas places 3,000 points.
        if high == low:
            return lambda value: out_low
        span, width = out_high - out_low, high - low
        return lambda value: round(out_low + (value - low) * span / width, 1)

    sx = scaler(0, x_max, chart.left, chart.plot_right)
    sy = scaler(0, y_max, chart.plot_bottom, chart.top)

    step = max(1, round(x_max / 10))
    chart.x_ticks = [(sx(x), str(x)) for x in range(0, int(x_max) + 1, step)]
    chart.y_ticks = [(sy(v), label) for v, label in y_ticks]
    for s in series:
        placed = [(sx(x), sy(y)) for x, y in s.points]
        if s.step:
            pts = []
            for i, (px, py) in enumerate(placed):
                if i:
                    pts.append((px, placed[i - 1][1]))
                pts.append((px, py))
        else:
            pts = placed
        s.svg_points = " ".join([f"{x},{y}" for x, y in pts])
        label = s.label
        s.markers = [
            (px, py, f"{label}: {y:g} at {x:g}")
            for (px, py), (x, y) in zip(placed, s.points, strict=True)
        ]
    return chart
