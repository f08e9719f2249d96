"""The printable questionnaire a resident answers on paper: large print (16 point and up),
one question a block, boxes to tick, in a language the organisation offers (shaped for its
script, right to left for Urdu and Arabic, as the loan agreement is). Every string here and
the questions' wording in ``measures`` are resident-facing: marked for translation."""

from __future__ import annotations

import io

from flask_babel import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import SimpleDocTemplate, Spacer, Table, TableStyle

from inclusion.i18n import DEFAULT, LANGUAGES, in_language, offered_codes
from inclusion.typesetting import (
    SCRIPT_OF_LANGUAGE,
    ShapedParagraph,
    TextStyle,
    font_name,
    register_fonts,
)

from .measures import DIRECT, DIRECT_ANSWERS, UCLA, UCLA_ANSWERS, WELLBEING, WELLBEING_INTRO

PAGE_WIDTH = A4[0] - 36 * mm
BIG = TextStyle(size=16, leading=22, space_after=6)
QUESTION = TextStyle(size=16, leading=22, bold=True, space_before=10, space_after=6)
HEAD = TextStyle(size=22, leading=28, bold=True, space_after=8)
SMALL = TextStyle(size=12, leading=16)


def questionnaire_language(organisation, asked: str | None) -> str:
    """``asked`` when the organisation offers it (its catalogue complete), else English."""
    return asked if asked in offered_codes(organisation) else DEFAULT


def questionnaire_pdf(organisation, language: str = DEFAULT) -> bytes:
    with in_language(language):
        return _build(organisation, language)


def _build(organisation, language: str) -> bytes:
    register_fonts()
    script = SCRIPT_OF_LANGUAGE[language]
    rtl = LANGUAGES[language].rtl

    def para(text, style=BIG):
        return ShapedParagraph(str(text), script, style, rtl=rtl)

    declined = _("Prefer not to say")
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=_("How are you feeling?"),
        author=organisation.name,
        lang=language,
    )
    story = [
        para(organisation.name, HEAD),
        para(_("How are you feeling? A few questions"), HEAD),
        para(_("Name: ______________________    Date: ____________")),
        para(WELLBEING_INTRO),
        para(_("Circle one number for each question, or tick '%(declined)s'.", declined=declined)),
    ]
    numbers = Table([[str(v) for v in range(11)]], colWidths=[PAGE_WIDTH / 11] * 11)
    numbers.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.6, colors.black),
                ("FONTNAME", (0, 0), (-1, -1), font_name("latin")),
                ("FONTSIZE", (0, 0), (-1, -1), 16),
                ("LEADING", (0, 0), (-1, -1), 20),
                ("ALIGN", (0, 0), (-1, -1), "CENTER"),
            ]
        )
    )
    for item in WELLBEING:
        story.append(para(item.question, QUESTION))
        story.append(numbers)
        story.append(
            para(_("0 = not at all    10 = completely    [ ] %(declined)s", declined=declined))
        )
    story.append(para(_("Tick one box for each question."), QUESTION))
    for item in UCLA:
        story.append(para(item.question, QUESTION))
        for label in [*UCLA_ANSWERS.values(), declined]:
            story.append(para(f"[ ] {label}"))
    story.append(para(DIRECT.question, QUESTION))
    for label in [*DIRECT_ANSWERS.values(), declined]:
        story.append(para(f"[ ] {label}"))
    story.append(Spacer(1, 6 * mm))
    story.append(
        para(
            _(
                "Questions: Office for National Statistics personal well-being and loneliness "
                "measures (Open Government Licence v3.0); three-item UCLA loneliness scale "
                "(Hughes et al. 2004)."
            ),
            SMALL,
        )
    )
    doc.build(story)
    return buffer.getvalue()
