"""Server-rendered SVG line charts: coordinates are computed here, drawn by
``templates/practice/_chart.html`` with SVG attributes and CSS classes only (the
Content-Security-Policy forbids inline styles), so charts need no JavaScript."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

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
    dots: Markup = Markup("")  # the points' circles and tooltips, as SVG (not step series)


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


MAX_DOTS = 60  # dots (with tooltips) drawn on one series at most


def _spread(n: int, most: int) -> list[int]:
    """Indices of ``n`` points: all of them, or ``most`` evenly spread, first and last kept."""
    if n <= most:
        return list(range(n))
    return sorted({round(i * (n - 1) / (most - 1)) for i in range(most)})


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

    x_low, x_span = chart.left, chart.plot_right - chart.left
    y_low, y_span = chart.plot_bottom, chart.top - chart.plot_bottom
    step = max(1, round(x_max / 10))
    chart.x_ticks = [(sx(x), str(x)) for x in range(0, int(x_max) + 1, step)]
    chart.y_ticks = [(sy(v), label) for v, label in y_ticks]
    for s in series:
        # sx and sy inline (the same arithmetic, so the same coordinates): no call a point.
        placed = (
            [
                (round(x_low + x * x_span / x_max, 1), round(y_low + y * y_span / y_max, 1))
                for x, y in s.points
            ]
            if y_max
            else [(sx(x), sy(y)) for x, y in s.points]
        )
        if s.step:
            pts = []
            for i, (px, py) in enumerate(placed):
                if i:
                    pts.append((px, placed[i - 1][1]))
                pts.append((px, py))
        else:
            pts = placed
        s.svg_points = " ".join([f"{x},{y}" for x, y in pts])
        if not s.step:
            # The dots with their tooltips as one string: the label escaped once, the
            # numbers need none; drawn as it is by _chart.html. A long series gets a dot at
            # MAX_DOTS evenly spread points (first and last included): at 640 units wide,
            # 500 dots of radius 4 would only cover one another (and made a long history's
            # page 180 KB heavier); the line still passes through every point.
            label = escape(s.label)
            s.dots = Markup(
                "".join(
                    [
                        f'<circle class="chart-dot" cx="{placed[i][0]}" cy="{placed[i][1]}" '
                        f'r="4"><title>{label}: {s.points[i][1]:g} at {s.points[i][0]:g}'
                        "</title></circle>"
                        for i in _spread(len(placed), MAX_DOTS)
                    ]
                )
            )
    return chart
