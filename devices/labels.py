"""QR labels as PDF: A4 sheets (Avery L7160, 3×7, and L7651, 5×13) and single labels for a
label printer (62×29 mm).

Each label carries a QR code of the device's public URL (``/d/<tag>``), the tag in large
text and the organisation's short name. Nothing about who holds the device.

Sheets use the published Avery pitches (the distance from one label's edge to the next
one's), with the grid centred on the page as the sheets are cut. Text never runs past the
label's edge: it shrinks to fit, down to a legible minimum; past that the organisation's
name wraps onto a second line, and what still does not fit is cut with an ellipsis.

Speed (``benchmarks/labels.py``): the QR matrices of a batch come from ``devices.qr`` (the
same codes as segno's, a few dozen segno calls for a thousand labels), each QR is one path
of run-length rectangles written as raw PDF operators in module units under a scaling
matrix, and everything that is the same on every label (sizes, positions, the fitted
organisation line) is worked out once per PDF.
"""

from __future__ import annotations

import io
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from reportlab import rl_config
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import getAscentDescent, stringWidth
from reportlab.pdfgen.canvas import Canvas

from .qr import Matrix, qr_matrices
from .qr import qr_matrix as _qr_matrix

TAG_FONT = "Helvetica-Bold"
ORG_FONT = "Helvetica"
ELLIPSIS = "…"
MIN_TAG_SIZE = 6.0  # points: the smallest type worth printing for a tag read across a room
MIN_ORG_SIZE = 5.0
QUIET_MODULES = 2  # quiet zone each side (labels are small; scanners cope with 2)


@dataclass(frozen=True)
class Layout:
    key: str
    label: str
    columns: int
    rows: int
    width: float  # label size in points
    height: float
    pitch_x: float  # from one label's left edge to the next one's
    pitch_y: float  # from one label's top edge to the one's below

    @property
    def per_sheet(self) -> int:
        return self.columns * self.rows

    @property
    def left(self) -> float:
        """Left edge of the first column: the grid is centred across the page."""
        return (A4[0] - (self.columns - 1) * self.pitch_x - self.width) / 2

    @property
    def top(self) -> float:
        """Top edge of the first row, from the top of the page: centred down the page."""
        return (A4[1] - (self.rows - 1) * self.pitch_y - self.height) / 2

    def position(self, index: int) -> tuple[float, float]:
        """Bottom-left corner (PDF points, from the bottom of the page) of label ``index``
        (0-based, across then down)."""
        row, col = divmod(index, self.columns)
        return self.left + col * self.pitch_x, A4[1] - self.top - row * self.pitch_y - self.height


LAYOUTS = {
    "3x7": Layout(
        "3x7",
        "A4, 3 × 7 = 21 labels of 63.5 × 38.1 mm (e.g. L7160)",
        3,
        7,
        63.5 * mm,
        38.1 * mm,
        66.04 * mm,
        38.1 * mm,
    ),
    "5x13": Layout(
        "5x13",
        "A4, 5 × 13 = 65 labels of 38.1 × 21.2 mm (e.g. L7651)",
        5,
        13,
        38.1 * mm,
        21.2 * mm,
        40.64 * mm,
        21.2 * mm,
    ),
}
SINGLE_SIZE = (62 * mm, 29 * mm)


@dataclass(frozen=True)
class Label:
    tag: str
    url: str
    organisation: str  # short code or name, printed small


def qr_matrix(data: str) -> list[list[int]]:
    """The QR modules of ``data`` as rows (1 = dark), without quiet zone."""
    return _qr_matrix(data).rows()


# ---- text that fits ---------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """One line of text on a label: ``x`` and the baseline ``y`` from its bottom-left corner."""

    text: str
    font: str
    size: float
    x: float
    y: float

    @property
    def width(self) -> float:
        return stringWidth(self.text, self.font, self.size)


def _cut(text: str, font: str, size: float, width: float) -> str:
    """``text`` cut with an ellipsis to fit ``width`` (the whole text when it fits)."""
    if stringWidth(text, font, size) <= width:
        return text
    for end in range(len(text) - 1, 0, -1):
        cut = text[:end].rstrip() + ELLIPSIS
        if stringWidth(cut, font, size) <= width:
            return cut
    return ELLIPSIS if stringWidth(ELLIPSIS, font, size) <= width else ""


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Greedy lines of ``text`` within ``width``: at spaces, and inside a word too long for
    a line (an organisation code has no spaces)."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if stringWidth(candidate, font, size) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = ""
        for char in word:
            if current and stringWidth(current + char, font, size) > width:
                lines.append(current)
                current = ""
            current += char
    if current:
        lines.append(current)
    return lines


def fit_text(
    text: str, font: str, max_size: float, min_size: float, width: float, max_lines: int = 1
) -> tuple[float, list[str]]:
    """(size, lines) of ``text`` within ``width``: the largest size up to ``max_size`` at
    which it fits on one line; below ``min_size`` it wraps onto up to ``max_lines`` lines
    at ``min_size``, and the last line is cut with an ellipsis if the rest still does not fit."""
    text = " ".join(text.split())
    at_one = stringWidth(text, font, 1)
    if at_one * max_size <= width:
        return max_size, [text]
    if at_one * min_size <= width:
        return max(min_size, int(2 * width / at_one) / 2), [text]  # down to a half point
    lines = (_wrap(text, font, min_size, width) if max_lines > 1 else []) or [text]
    if len(lines) > max_lines:
        rest = " ".join(lines[max_lines - 1 :]) if " " in text else "".join(lines[max_lines - 1 :])
        lines = lines[: max_lines - 1] + [rest]
    lines[-1] = _cut(lines[-1], font, min_size, width)
    return min_size, lines


@dataclass(frozen=True)
class Plan:
    """Where everything goes on a label of one size: worked out once per PDF."""

    width: float
    height: float
    pad: float
    qr_size: float
    text_x: float
    text_width: float
    tag_size: float  # the largest tag type
    tag_baseline: float
    org_size: float

    @classmethod
    def of(cls, width: float, height: float) -> Plan:
        pad = min(2 * mm, height * 0.08)
        qr_size = height - 2 * pad
        text_x = 2 * pad + qr_size
        return cls(
            width=width,
            height=height,
            pad=pad,
            qr_size=qr_size,
            text_x=text_x,
            text_width=width - text_x - pad,
            tag_size=height * 0.32,
            tag_baseline=height * 0.48,
            org_size=max(MIN_ORG_SIZE, height * 0.14),
        )

    def tag_line(self, tag: str) -> Line:
        size, lines = fit_text(tag, TAG_FONT, self.tag_size, MIN_TAG_SIZE, self.text_width)
        return Line(lines[0], TAG_FONT, size, self.text_x, self.tag_baseline)

    @lru_cache(maxsize=64)  # noqa: B019 - a plan lives for one PDF; the organisation repeats
    def organisation_lines(self, organisation: str) -> tuple[Line, ...]:
        """The organisation under the tag: as many lines as fit above the bottom edge."""
        # A second line is only ever needed at the smallest size: how many fit above the
        # padding at the bottom (the descent is negative).
        _, descent = getAscentDescent(ORG_FONT, MIN_ORG_SIZE)
        first = self.tag_baseline - MIN_ORG_SIZE - 2
        room = 1 + int((first + descent - self.pad) // (MIN_ORG_SIZE * 1.15))
        size, lines = fit_text(
            organisation, ORG_FONT, self.org_size, MIN_ORG_SIZE, self.text_width, max(1, room)
        )
        step = size * 1.15
        top = self.tag_baseline - size - 2
        return tuple(
            Line(text, ORG_FONT, size, self.text_x, top - i * step) for i, text in enumerate(lines)
        )

    def lines(self, label: Label) -> list[Line]:
        return [self.tag_line(label.tag), *self.organisation_lines(label.organisation)]


# ---- the QR codes as paths ------------------------------------------------------------


@lru_cache(maxsize=8)
def _run_operators(n: int) -> np.ndarray:
    """``re`` operators of every possible run of a code ``n`` modules across, indexed by
    (column · n + row) · (n + 1) + length, in module units with the origin at the bottom."""
    return np.array(
        [
            f"{c} {n - 1 - r} {length} 1 re" if length else ""
            for c in range(n)
            for r in range(n)
            for length in range(n + 1)
        ],
        dtype=object,
    )


def qr_paths(matrices: list[Matrix]) -> list[str]:
    """Each matrix's dark modules as PDF path operators (``x y w h re``), rows merged into
    runs; codes of one size are done together with numpy."""
    out: list[str] = [""] * len(matrices)
    by_size: dict[int, list[int]] = {}
    for i, m in enumerate(matrices):
        by_size.setdefault(m.size, []).append(i)
    for n, indexes in by_size.items():
        stride = n + 1
        nbits = n * stride
        nbytes = (nbits + 7) // 8
        packed = b"".join(matrices[i].bits.to_bytes(nbytes, "little") for i in indexes)
        modules = np.unpackbits(np.frombuffer(packed, dtype=np.uint8), bitorder="little")
        modules = modules.reshape(len(indexes), nbytes * 8)[:, :nbits].reshape(-1, n, stride)
        edges = np.diff(modules.astype(np.int8), axis=2, prepend=0)
        code, row, first = np.nonzero(edges == 1)
        *_, after = np.nonzero(edges == -1)  # every run ends: the spare column is always 0
        operators = _run_operators(n)[(first * n + row) * stride + (after - first)].tolist()
        bounds = np.searchsorted(code, np.arange(len(indexes) + 1)).tolist()
        for k, i in enumerate(indexes):
            out[i] = "\n".join(operators[bounds[k] : bounds[k + 1]])
    return out


# ---- drawing ----------------------------------------------------------------------------


def _draw_label(
    canvas: Canvas, plan: Plan, label: Label, size: int, path: str, x: float, y: float
) -> None:
    module = plan.qr_size / (size + 2 * QUIET_MODULES)
    qx, qy = x + plan.pad, y + plan.pad
    ox, oy = qx + QUIET_MODULES * module, qy + QUIET_MODULES * module
    canvas.addLiteral(f"q {module:.4f} 0 0 {module:.4f} {ox:.3f} {oy:.3f} cm\n{path}\nf Q")
    canvas.linkURL(label.url, (qx, qy, qx + plan.qr_size, qy + plan.qr_size), relative=0)
    for line in plan.lines(label):
        canvas.setFont(line.font, line.size)
        canvas.drawString(x + line.x, y + line.y, line.text)


@contextmanager
def _binary_streams():
    """Compressed page streams without the ASCII85 layer on top (reportlab's default, done in
    pure Python when its C accelerator is not installed: a third of a large sheet's time)."""
    before = rl_config.useA85
    rl_config.useA85 = 0
    try:
        yield
    finally:
        rl_config.useA85 = before


def _save(canvas: Canvas) -> None:
    with _binary_streams():
        canvas.save()


def _prepared(labels: list[Label]) -> list[tuple[Label, int, str]]:
    matrices = qr_matrices([label.url for label in labels])
    return list(zip(labels, (m.size for m in matrices), qr_paths(matrices), strict=True))


def sheet_pdf(
    labels: list[Label], layout: str = "3x7", start: int = 1, title: str = "Labels"
) -> bytes:
    """A4 sheets of labels; ``start`` (1-based) skips used positions on the first sheet."""
    spec = LAYOUTS[layout]
    if not 1 <= start <= spec.per_sheet:
        raise ValueError(f"start must be between 1 and {spec.per_sheet}")
    plan = Plan.of(spec.width, spec.height)
    positions = [spec.position(i) for i in range(spec.per_sheet)]
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1)
    canvas.setTitle(title)
    position = start - 1
    for label, size, path in _prepared(labels):
        if position == spec.per_sheet:
            canvas.showPage()
            position = 0
        _draw_label(canvas, plan, label, size, path, *positions[position])
        position += 1
    canvas.showPage()
    _save(canvas)
    return buffer.getvalue()


def single_pdf(labels: list[Label], title: str = "Labels") -> bytes:
    """One 62 × 29 mm page per label, for a label printer."""
    buffer = io.BytesIO()
    plan = Plan.of(*SINGLE_SIZE)
    canvas = Canvas(buffer, pagesize=SINGLE_SIZE, pageCompression=1)
    canvas.setTitle(title)
    for label, size, path in _prepared(labels):
        _draw_label(canvas, plan, label, size, path, 0, 0)
        canvas.showPage()
    if not labels:
        canvas.showPage()
    _save(canvas)
    return buffer.getvalue()
