"""PDFs of outcomes: the outcome letter back to the referrer and the outcomes report (the
large-print questionnaire for paper answers is ``questionnaire.py``)."""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from inclusion.clock import today

from .measures import scores

PAGE_WIDTH = A4[0] - 36 * mm


def _doc(buffer, title: str, author: str):
    return SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=title,
        author=author,
    )


def _grid(rows, widths, font_size=10):
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.6, colors.black),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("FONTSIZE", (0, 0), (-1, -1), font_size),
                ("LEADING", (0, 0), (-1, -1), font_size + 4),
            ]
        )
    )
    return table


def _score_text(value) -> str:
    return "prefers not to say" if value is None else str(value)


def letter_pdf(summary, organisation) -> bytes:
    """The outcome summary back to the referrer (shaped by the PRSB Social Prescribing
    Information Standard's message back to the referrer)."""
    styles = getSampleStyleSheet()
    body = styles["BodyText"]
    r = summary.resident
    buffer = io.BytesIO()
    doc = _doc(buffer, f"Outcome summary {r.reference}", organisation.name)

    def p(text, style=body):
        return Paragraph(escape(str(text)), style)

    story = [
        p(organisation.name, styles["Title"]),
        p("Social prescribing: outcome summary for the referrer", styles["Heading2"]),
        p(f"Date: {today().strftime('%d %B %Y')}"),
        p(
            f"To: {r.referrer_name or 'the referrer'} {('(' + r.referrer_organisation + ')') if r.referrer_organisation else ''}"
        ),
        Spacer(1, 3 * mm),
        p("Person referred", styles["Heading3"]),
    ]
    person = [
        ["Name", r.full_name],
        [
            "Date of birth",
            r.date_of_birth.strftime("%d %B %Y") if r.date_of_birth else "Not recorded",
        ],
        ["NHS number", getattr(r, "nhs_number", "") or "Not recorded"],
        ["Our reference", r.reference],
    ]
    story.append(_grid([[p(a), p(b)] for a, b in person], [PAGE_WIDTH * 0.35, PAGE_WIDTH * 0.65]))
    story.append(p("Referral", styles["Heading3"]))
    concept = summary.referral_concept
    referral = [
        ["Referral date", r.referral_date.strftime("%d %B %Y")],
        ["Reason", r.referral_reason or "Not given"],
        [
            "Referral type (SNOMED CT)",
            f"{concept['display']} ({concept['code']})" if concept else "",
        ],
    ]
    story.append(_grid([[p(a), p(b)] for a, b in referral], [PAGE_WIDTH * 0.35, PAGE_WIDTH * 0.65]))
    story.append(p("Support given", styles["Heading3"]))
    support = [
        ["Devices lent", ", ".join(summary.devices) or "None"],
        [
            "IT buddy practice sessions",
            "Not recorded" if summary.sessions is None else str(summary.sessions),
        ],
    ]
    story.append(_grid([[p(a), p(b)] for a, b in support], [PAGE_WIDTH * 0.35, PAGE_WIDTH * 0.65]))
    story.append(p("Outcome measures", styles["Heading3"]))
    labels = {
        "life_satisfaction": "Life satisfaction (0-10)",
        "worthwhile": "Things done are worthwhile (0-10)",
        "happy": "Happy yesterday (0-10)",
        "anxious": "Anxious yesterday (0-10, lower is better)",
        "ucla_total": "Loneliness, UCLA 3-item (3-9, lower is better)",
        "independent_tasks": "Digital tasks done alone",
    }
    before = scores(summary.baseline) if summary.baseline else {}
    after = scores(summary.latest) if summary.latest else {}
    start = summary.baseline.asked_on.strftime("%d %b %Y") if summary.baseline else "not asked"
    end = summary.latest.asked_on.strftime("%d %b %Y") if summary.latest else "not asked"
    rows = [[p("Measure"), p(f"At the start ({start})"), p(f"Latest ({end})")]]
    for key, label in labels.items():
        rows.append(
            [
                p(label),
                p(_score_text(before.get(key)) if summary.baseline else "-"),
                p(_score_text(after.get(key)) if summary.latest else "-"),
            ]
        )
    story.append(_grid(rows, [PAGE_WIDTH * 0.5, PAGE_WIDTH * 0.25, PAGE_WIDTH * 0.25]))
    story.append(p("Case outcome", styles["Heading3"]))
    outcome = r.outcome_label or f"Case still open ({r.status})"
    if summary.outcome_concept and summary.outcome_concept["code"]:
        outcome += f" (SNOMED CT {summary.outcome_concept['code']})"
    story.append(p(outcome))
    story.append(Spacer(1, 4 * mm))
    story.append(
        p(
            "Measures: ONS personal well-being (ONS4) and loneliness questions (Open Government "
            "Licence v3.0); three-item UCLA loneliness scale (Hughes et al. 2004)."
        )
    )
    doc.build(story)
    return buffer.getvalue()


def report_pdf(built, title: str) -> bytes:
    styles = getSampleStyleSheet()
    body = styles["BodyText"]
    buffer = io.BytesIO()
    doc = _doc(buffer, title, title)

    def p(text, style=body):
        return Paragraph(escape(str(text)), style)

    story = [
        p(title, styles["Title"]),
        p(
            'Counts from 1 to 4 are shown as "fewer than 5".'
            if built.suppressed
            else "For internal use: exact figures. Counts below 5 must not be published."
        ),
    ]
    story += [p(s) for s in built.sentences]
    for table in built.tables:
        story.append(p(table.title, styles["Heading3"]))
        n = len(table.columns)
        widths = [PAGE_WIDTH * 0.3] + [PAGE_WIDTH * 0.7 / (n - 1)] * (n - 1)
        rows = [[p(c) for c in table.columns]] + [[p(c) for c in row] for row in table.rows]
        story.append(_grid(rows, widths, font_size=8))
        if table.note:
            story.append(p(table.note, styles["Italic"]))
    doc.build(story)
    return buffer.getvalue()
