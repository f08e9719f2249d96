"""Text in every script the scheme's residents read, for ReportLab documents.

ReportLab alone draws one glyph per character, which is wrong for Bengali and Gurmukhi
(conjuncts, vowel signs that move before their consonant) and for Arabic and Urdu (joined
letters, right to left). Here each run of text is shaped by HarfBuzz (``uharfbuzz``) with
the Noto font of its script, ordered by the Unicode bidirectional algorithm (``python-bidi``)
and drawn glyph by glyph; every run carries its original text as ``/ActualText`` so the
PDF's text layer copies and reads back as what was written, not as glyph codes.

The fonts are the Noto family (SIL Open Font License), shipped in ``inclusion/static/fonts`` (the pages use the same files as web fonts)
with their licences: nothing is fetched at run time.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import uharfbuzz as hb
from bidi import algorithm as bidi_algorithm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import ShapeData, ShapedStr, TTFont
from reportlab.platypus import Flowable

FONT_DIR = Path(__file__).resolve().parent / "static" / "fonts"

# script -> (family file stem); each has a Regular and a Bold weight.
FAMILIES = {
    "latin": "NotoSans",
    "bengali": "NotoSansBengali",
    "gurmukhi": "NotoSansGurmukhi",
    "arabic": "NotoNaskhArabic",
}
# The script each offered language is written in (Urdu is set in Naskh, which Noto
# covers with the Urdu letters; Nastaliq would be the more traditional choice).
SCRIPT_OF_LANGUAGE = {
    "en": "latin",
    "cy": "latin",
    "pl": "latin",
    "ro": "latin",
    "pa": "gurmukhi",
    "bn": "bengali",
    "ur": "arabic",
    "ar": "arabic",
}
RTL_LANGUAGES = frozenset({"ur", "ar"})


def font_name(script: str, bold: bool = False) -> str:
    return f"{FAMILIES[script]}-{'Bold' if bold else 'Regular'}"


def font_path(script: str, bold: bool = False) -> Path:
    return FONT_DIR / f"{font_name(script, bold)}.ttf"


@cache
def _hb_font(script: str, bold: bool) -> hb.Font:
    blob = hb.Blob.from_file_path(str(font_path(script, bold)))
    return hb.Font(hb.Face(blob))


@cache
def _cmap(script: str, bold: bool) -> frozenset[int]:
    return frozenset(_rl_font(script, bold).face.charToGlyph)


def _rl_font(script: str, bold: bool) -> TTFont:
    name = font_name(script, bold)
    try:
        return pdfmetrics.getFont(name)
    except KeyError:
        font = TTFont(name, str(font_path(script, bold)))
        pdfmetrics.registerFont(font)
        return font


def register_fonts() -> None:
    """Register every shipped font with ReportLab (idempotent)."""
    for script in FAMILIES:
        for bold in (False, True):
            _rl_font(script, bold)


def shape(text: str, script: str, bold: bool = False, direction: str | None = None):
    """HarfBuzz's glyphs for ``text`` in the font of ``script``: (infos, positions),
    in visual order (left to right), with HarfBuzz's default features."""
    buf = hb.Buffer()
    buf.add_str(text)
    buf.guess_segment_properties()
    if direction:
        buf.direction = direction
    buf.cluster_level = hb.BufferClusterLevel.MONOTONE_CHARACTERS
    hb.shape(_hb_font(script, bold), buf)
    return buf.glyph_infos, buf.glyph_positions


def _script_for_char(ch: str, script: str, bold: bool) -> str:
    """Which of the shipped fonts draws ``ch``: the document's script font when it has the
    character, except ASCII letters and digits (references, tags, phone numbers are set
    in Noto Sans)."""
    if script != "latin" and not (ch.isascii() and ch.isalnum()) and ord(ch) in _cmap(script, bold):
        return script
    if ord(ch) in _cmap("latin", bold):
        return "latin"
    # A letter of another shipped script (a Bengali name in an Urdu agreement).
    for other in FAMILIES:
        if other not in ("latin", script) and ord(ch) in _cmap(other, bold):
            if unicodedata.category(ch)[0] in "LM":
                return other
    return "latin"


@dataclass
class Run:
    """Characters in one font at one bidi level, shaped: what is drawn as one piece."""

    text: str
    script: str
    level: int
    bold: bool
    size: float
    glyphs: list  # [(gid, x_advance, y_advance, x_offset, y_offset, cluster)] in font units
    width: float  # points

    @property
    def rtl(self) -> bool:
        return self.level % 2 == 1


def _levels(text: str, rtl: bool) -> list[int]:
    """The resolved embedding level of each character (Unicode bidi, rules up to I2)."""
    if not text:
        return []
    storage = bidi_algorithm.get_empty_storage()
    storage["base_level"] = 1 if rtl else 0
    storage["base_dir"] = "R" if rtl else "L"
    bidi_algorithm.get_embedding_levels(text, storage, False, False)
    bidi_algorithm.explicit_embed_and_overrides(storage, False)
    bidi_algorithm.resolve_weak_types(storage, False)
    bidi_algorithm.resolve_neutral_types(storage, False)
    bidi_algorithm.resolve_implicit_levels(storage, False)
    return [c["level"] for c in storage["chars"]]


def _make_run(text, script, level, bold, size) -> Run:
    infos, positions = shape(text, script, bold, "rtl" if level % 2 else "ltr")
    upem = _hb_font(script, bold).face.upem
    glyphs = [
        (i.codepoint, p.x_advance, p.y_advance, p.x_offset, p.y_offset, i.cluster)
        for i, p in zip(infos, positions, strict=True)
    ]
    width = sum(g[1] for g in glyphs) * size / upem
    return Run(text, script, level, bold, size, glyphs, width)


# Explicit embedding marks (LRE, RLE, PDF, LRO, RLO): they set levels and are not drawn.
EMBEDDING_MARKS = frozenset("\u202a\u202b\u202c\u202d\u202e")
LRE, PDF_MARK = "\u202a", "\u202c"


def isolate(value, *, unbreakable: bool = False) -> str:
    """``value`` kept left to right as one piece inside right-to-left text (a reference,
    a tag, a phone number, a name in Latin letters), unless it holds right-to-left letters;
    ``unbreakable``: never split across two lines (a phone number)."""
    text = str(value)
    if unbreakable:
        text = text.replace(" ", "\u00a0")
    if any(unicodedata.bidirectional(ch) in ("R", "AL") for ch in text):
        return text
    return f"{LRE}{text}{PDF_MARK}"


def runs_of(text: str, script: str, *, rtl: bool, bold: bool, size: float) -> list[Run]:
    """``text`` cut into runs of one font and one bidi level, each shaped, logical order."""
    levels = _levels(text, rtl)
    text = "".join(ch for ch in text if ch not in EMBEDDING_MARKS)
    runs: list[Run] = []
    start = 0
    keys = [(_script_for_char(ch, script, bold), lvl) for ch, lvl in zip(text, levels, strict=True)]
    for i in range(1, len(text) + 1):
        if i == len(text) or keys[i] != keys[start]:
            runs.append(_make_run(text[start:i], keys[start][0], keys[start][1], bold, size))
            start = i
    return runs


def visual_order(runs: list[Run]) -> list[Run]:
    """Rule L2 of the bidi algorithm on whole runs: from the highest level down to the
    lowest odd one, reverse every stretch of runs at that level or higher."""
    if not runs:
        return []
    order = list(runs)
    highest = max(r.level for r in order)
    lowest_odd = min((r.level for r in order if r.level % 2), default=highest + 1)
    for level in range(highest, lowest_odd - 1, -1):
        i = 0
        while i < len(order):
            if order[i].level >= level:
                j = i
                while j < len(order) and order[j].level >= level:
                    j += 1
                order[i:j] = reversed(order[i:j])
                i = j
            else:
                i += 1
    return order


def _actual_text(text: str) -> str:
    return "<FEFF" + text.encode("utf-16-be").hex().upper() + ">"


def _glyph_string(run: Run):
    """``run``'s HarfBuzz glyphs as the characters and shape data ReportLab draws."""
    font = _rl_font(run.script, run.bold)
    font.hbFont(run.size)  # sets up ReportLab's private codes for glyphs without a character
    chars = []
    data = []
    for gid, x_adv, y_adv, x_off, y_off, cluster in run.glyphs:
        code = font.face.glyphToChar.get(gid)
        if code:
            code = code[0]
        else:
            code = font.hbAddPrivate(
                _hb_font(run.script, run.bold).glyph_to_string(gid), gid, x_adv
            )
        chars.append(chr(code))
        data.append(
            ShapeData(
                cluster,
                font.pdfScale(x_adv),
                font.pdfScale(y_adv),
                font.pdfScale(x_off),
                font.pdfScale(y_off),
                font.face.charWidths[code],
            )
        )
    return font, chars, data


def draw_run(canvas, run: Run, x: float, y: float) -> None:
    """Draw ``run``'s HarfBuzz glyphs at (x, y) through ReportLab's shaped-string path."""
    draw_runs(canvas, [run], x, y)


def draw_runs(canvas, runs: list[Run], x: float, y: float) -> None:
    """Runs in one font, side by side from x, drawn as one string (so a PDF reader sees the
    words of a line together)."""
    font, chars, data = None, [], []
    for run in runs:
        font, more_chars, more_data = _glyph_string(run)
        chars += more_chars
        data += more_data
    canvas.setFont(font.fontName, runs[0].size)
    canvas.drawString(x, y, ShapedStr("".join(chars), shapeData=data))


def draw_line(canvas, runs: list[Run], x: float, y: float) -> None:
    """One line: its runs in visual order from x, inside one ``/ActualText`` span that
    holds the line's characters in logical (reading) order, the PDF's text layer."""
    text = "".join(r.text for r in runs).replace("\u00a0", " ")
    canvas.addLiteral(f"/Span <</ActualText {_actual_text(text)}>> BDC")
    group: list[Run] = []
    start = x
    for run in visual_order(runs):
        if group and (run.script, run.bold, run.size) != (
            group[0].script,
            group[0].bold,
            group[0].size,
        ):
            draw_runs(canvas, group, start, y)
            start += sum(r.width for r in group)
            group = []
        group.append(run)
    if group:
        draw_runs(canvas, group, start, y)
    canvas.addLiteral("EMC")


@dataclass(frozen=True)
class TextStyle:
    size: float = 13
    leading: float = 18
    bold: bool = False
    space_before: float = 0
    space_after: float = 4


class ShapedParagraph(Flowable):
    """A paragraph of plain text in ``script``, wrapped to the frame, right-aligned and
    ordered right to left when ``rtl``; breaks between lines at spaces."""

    def __init__(self, text: str, script: str, style: TextStyle, rtl: bool = False):
        super().__init__()
        # Spaces and line breaks fold to one space; a no-break space stays (it joins words).
        self.text = re.sub(r"[ \t\r\n]+", " ", text or "").strip()
        self.script = script
        self.style = style
        self.rtl = rtl
        self.lines: list[list[Run]] = []
        self.spaceBefore = style.space_before
        self.spaceAfter = style.space_after

    def _words(self):
        size, bold = self.style.size, self.style.bold
        all_runs = runs_of(self.text, self.script, rtl=self.rtl, bold=bold, size=size)
        # split runs at spaces into words of runs (a space belongs to no word)
        words: list[list[Run]] = [[]]
        for run in all_runs:
            parts = run.text.split(" ")
            for k, part in enumerate(parts):
                if k:
                    words.append([])
                if part:
                    if len(parts) == 1:
                        words[-1].append(run)
                    else:
                        words[-1].append(_make_run(part, run.script, run.level, bold, size))
        return [w for w in words if w]

    def wrap(self, avail_width, avail_height):
        self.width = avail_width
        space = _make_run(" ", self.script, 1 if self.rtl else 0, self.style.bold, self.style.size)
        self._space = space
        lines: list[list[list[Run]]] = [[]]
        used = 0.0
        for word in self._words():
            width = sum(r.width for r in word)
            extra = width + (space.width if lines[-1] else 0)
            if lines[-1] and used + extra > avail_width:
                lines.append([])
                used, extra = 0.0, width
            lines[-1].append(word)
            used += extra
        self.lines = []
        for line in lines:
            runs: list[Run] = []
            for k, word in enumerate(line):
                if k:
                    # A space between two words of the same level takes that level (rule N1).
                    before, after = runs[-1].level, word[0].level
                    level = before if before == after else (1 if self.rtl else 0)
                    runs.append(
                        Run(
                            " ",
                            space.script,
                            level,
                            space.bold,
                            space.size,
                            space.glyphs,
                            space.width,
                        )
                    )
                runs.extend(word)
            self.lines.append(runs)
        self.height = self.style.leading * max(len(self.lines), 1)
        return self.width, self.height

    def draw(self):
        canvas = self.canv
        y = self.height - self.style.size
        for line in self.lines:
            width = sum(r.width for r in line)
            draw_line(canvas, line, self.width - width if self.rtl else 0.0, y)
            y -= self.style.leading

    def split(self, avail_width, avail_height):
        self.wrap(avail_width, avail_height)
        fit = int(avail_height // self.style.leading)
        if fit <= 0 or fit >= len(self.lines):
            return [] if fit <= 0 else [self]
        first = _Lines(self.lines[:fit], self)
        rest = _Lines(self.lines[fit:], self)
        return [first, rest]


class _Lines(ShapedParagraph):
    """Part of a ShapedParagraph that was split across pages: lines already laid out."""

    def __init__(self, lines, parent: ShapedParagraph):
        Flowable.__init__(self)
        self.text = parent.text
        self.script = parent.script
        self.style = parent.style
        self.rtl = parent.rtl
        self._fixed = lines
        self.lines = lines
        self.spaceBefore = 0
        self.spaceAfter = parent.spaceAfter

    def wrap(self, avail_width, avail_height):
        self.width = avail_width
        self.lines = self._fixed
        self.height = self.style.leading * len(self.lines)
        return self.width, self.height
