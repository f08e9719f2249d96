"""PDFs in every script: the glyphs drawn are HarfBuzz's, and the text layer reads back.

HarfBuzz shapes a sentence of each script directly (uharfbuzz, the shipped Noto font); the
PDF is read back with pypdf: the glyph codes of its content stream are mapped through the
embedded font subset to the original font's glyph ids (by outline), and must be the same
sequence. The ActualText spans (the text layer) must give the sentence back."""

from __future__ import annotations

import io
from functools import cache

import pypdfium2
import pytest
import uharfbuzz as hb
from fontTools.ttLib import TTFont
from pypdf import PdfReader
from pypdf.generic import ContentStream
from reportlab.lib.pagesizes import A4
from reportlab.platypus import SimpleDocTemplate

from inclusion.typesetting import ShapedParagraph, TextStyle, font_path, register_fonts
from tests.factories import LoanFactory, ResidentFactory

SENTENCES = {
    # script: (sentence, right to left)
    "latin": ("Dychwelwch y ddyfais erbyn dydd Llun; dziękujemy, mulțumim.", False),
    "bengali": ("অনুগ্রহ করে ডিভাইসটি ফেরত দিন, ক্ষমা চাই।", False),
    "gurmukhi": ("ਕਿਰਪਾ ਕਰਕੇ ਡਿਵਾਈਸ ਵਾਪਸ ਕਰੋ ਜੀ।", False),
    "arabic": ("يرجى إعادة الجهاز بحلول التاريخ.", True),
    "urdu": ("براہ کرم آلہ واپس کریں۔", True),
}
SCRIPT = {"urdu": "arabic"}


def hb_glyphs(text: str, script: str, bold: bool = False, rtl: bool = False) -> list[int]:
    """HarfBuzz's glyph ids for ``text`` in the shipped font, in visual order."""
    blob = hb.Blob.from_file_path(str(font_path(script, bold)))
    font = hb.Font(hb.Face(blob))
    buf = hb.Buffer()
    buf.add_str(text)
    buf.guess_segment_properties()
    buf.direction = "rtl" if rtl else "ltr"
    hb.shape(font, buf)
    return [info.codepoint for info in buf.glyph_infos]


def _key(font: TTFont, name: str):
    glyph = font["glyf"][name]
    advance = font["hmtx"][name][0]
    if glyph.isComposite():
        parts = tuple(
            (_key(font, c.glyphName), c.x, c.y, repr(getattr(c, "transform", None)))
            for c in glyph.components
        )
        return ("composite", advance, parts)
    if glyph.numberOfContours == 0:
        return ("empty", advance)
    return (
        "simple",
        advance,
        tuple(glyph.endPtsOfContours),
        tuple(tuple(p) for p in glyph.coordinates),
    )


@cache
def _original(stem: str):
    """Outline key -> glyph ids of a shipped font (several glyphs may share an outline)."""
    font = TTFont(str(font_path_by_stem(stem)))
    index: dict = {}
    for gid, name in enumerate(font.getGlyphOrder()):
        index.setdefault(_key(font, name), set()).add(gid)
    return index


def font_path_by_stem(stem: str):
    from inclusion.typesetting import FONT_DIR

    return FONT_DIR / f"{stem}.ttf"


def drawn(pdf: bytes):
    """Per page: the glyphs drawn as (font stem, {candidate original glyph ids}) in content
    order, and the ActualText spans in order."""
    reader = PdfReader(io.BytesIO(pdf))
    pages = []
    for page in reader.pages:
        fonts = {}
        for res_name, ref in page["/Resources"]["/Font"].items():
            fdict = ref.get_object()
            if "/FontDescriptor" not in fdict:
                continue
            stem = str(fdict["/BaseFont"]).split("+", 1)[1]
            data = fdict["/FontDescriptor"].get_object()["/FontFile2"].get_object().get_data()
            subset = TTFont(io.BytesIO(data))
            cmap = subset["cmap"].tables[0].cmap
            index = _original(stem)
            fonts[res_name] = (
                stem,
                {code: index.get(_key(subset, name), set()) for code, name in cmap.items()},
            )
        glyphs, spans, current = [], [], None
        for operands, op in ContentStream(page.get_contents(), reader).operations:
            if op == b"Tf":
                current = fonts.get(operands[0])
            elif op == b"BDC" and hasattr(operands[1], "get") and "/ActualText" in operands[1]:
                spans.append(str(operands[1]["/ActualText"]))
            elif op in (b"Tj", b"TJ") and current:
                items = operands[0] if op == b"TJ" else [operands[0]]
                for item in items:
                    if isinstance(item, str | bytes):
                        raw = getattr(item, "original_bytes", None) or (
                            item if isinstance(item, bytes) else item.encode("latin-1")
                        )
                        glyphs.extend((current[0], current[1].get(b, set())) for b in raw)
        pages.append((glyphs, spans))
    return pages


def contains_sequence(glyphs, stem: str, expected: list[int]) -> bool:
    mine = [g for s, g in glyphs if s == stem]
    for start in range(len(mine) - len(expected) + 1):
        if all(expected[i] in mine[start + i] for i in range(len(expected))):
            return True
    return False


def _one_paragraph_pdf(text: str, script: str, rtl: bool) -> bytes:
    register_fonts()
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=A4).build(
        [ShapedParagraph(text, script, TextStyle(size=14, leading=20), rtl=rtl)]
    )
    return buffer.getvalue()


@pytest.mark.parametrize("name", SENTENCES)
def test_pdf_draws_harfbuzz_glyphs_and_text_reads_back(name):
    sentence, rtl = SENTENCES[name]
    script = SCRIPT.get(name, name)
    pdf = _one_paragraph_pdf(sentence, script, rtl)
    (glyphs, spans), *_ = drawn(pdf)
    expected = hb_glyphs(sentence, script, rtl=rtl)
    stem = font_path(script).stem
    drawn_ids = [ids for s, ids in glyphs if s == stem]
    assert len(drawn_ids) == len(expected)
    assert all(gid in ids for gid, ids in zip(expected, drawn_ids, strict=True))
    # shaping did something for the complex scripts: not one glyph per character
    if script in ("bengali", "gurmukhi", "arabic"):
        cmap = TTFont(str(font_path(script)))["cmap"].getBestCmap()
        naive = [TTFont(str(font_path(script))).getGlyphID(cmap[ord(c)]) for c in sentence]
        assert expected != (naive[::-1] if rtl else naive)
    assert " ".join(spans) == sentence


def test_a_reference_stays_left_to_right_inside_arabic():
    text = "المرجع R-000123 شكرا"
    pdf = _one_paragraph_pdf(text, "arabic", True)
    (glyphs, spans), *_ = drawn(pdf)
    assert contains_sequence(glyphs, "NotoSans-Regular", hb_glyphs("R-000123", "latin")[:1])
    latin = [ids for s, ids in glyphs if s == "NotoSans-Regular"]
    assert [next(iter(ids)) for ids in latin] == hb_glyphs("R000123", "latin")
    assert spans == [text]


def _margins_blank(pdf: bytes, page_index: int, margin_mm: float = 12) -> bool:
    doc = pypdfium2.PdfDocument(pdf)
    try:
        image = doc[page_index].render(scale=1).to_pil().convert("L")
    finally:
        doc.close()
    width, height = image.size
    strip = int(width * margin_mm / 210)
    for box in ((0, 0, strip, height), (width - strip, 0, width, height)):
        if image.crop(box).getextrema()[0] < 250:
            return False
    return True


def _agreement(coordinator, loan, **params):
    response = coordinator.get(f"/loans/{loan.reference}/agreement.pdf", query_string=params)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    return response.data


def test_agreement_for_a_bengali_speaker_is_in_shaped_bengali_and_fits(coordinator, org):
    resident = ResidentFactory(organisation=org, preferred_language="Bengali")
    loan = LoanFactory(organisation=org, resident=resident)
    pdf = _agreement(coordinator, loan)
    pages = drawn(pdf)
    assert len(pages) == 1
    glyphs, spans = pages[0]
    heading = "ডিভাইস ধার চুক্তি"
    assert contains_sequence(glyphs, "NotoSansBengali-Bold", hb_glyphs(heading, "bengali", True))
    text = " ".join(spans)
    assert heading in text and loan.reference in text and resident.reference in text
    assert "ফেরত দেওয়ার তারিখ" in text  # "Due back"
    assert _margins_blank(pdf, 0)


def test_large_print_agreement_in_arabic_is_right_to_left_and_fits(coordinator, org):
    resident = ResidentFactory(organisation=org, preferred_language="Arabic")
    loan = LoanFactory(organisation=org, resident=resident)
    pdf = _agreement(coordinator, loan, large=1)
    pages = drawn(pdf)
    assert 1 <= len(pages) <= 2
    glyphs, spans = pages[0]
    heading = "اتفاقية إعارة جهاز"
    expected = hb_glyphs(heading, "arabic", bold=True, rtl=True)
    assert contains_sequence(glyphs, "NotoNaskhArabic-Bold", expected)
    text = " ".join(s for _, page_spans in pages for s in page_spans)
    assert heading in text and loan.reference in text
    for i in range(len(pages)):
        assert _margins_blank(pdf, i)
    # large print really is larger than the normal agreement
    normal = PdfReader(io.BytesIO(_agreement(coordinator, loan, large=0)))
    assert len(normal.pages) <= len(pages)


def test_agreement_in_english_when_the_language_is_not_offered(coordinator, org, db):
    org.languages = "cy"
    db.session.flush()
    loan = LoanFactory(
        organisation=org, resident=ResidentFactory(organisation=org, preferred_language="Urdu")
    )
    (_, spans), *_ = drawn(_agreement(coordinator, loan))
    assert "Device loan agreement" in " ".join(spans)
