"""The readable summary of a subject access export (reportlab), in large plain type."""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from ..clock import now
from ..residents.models import CONSENT_METHODS


def _p(text, style) -> Paragraph:
    return Paragraph(escape(str(text if text is not None else "")).replace("\n", "<br/>"), style)


def _d(value, fmt="%d %b %Y") -> str:
    return value.strftime(fmt) if value else ""


def _dt(value) -> str:
    return _d(value, "%d %b %Y %H:%M")


def subject_access_summary(held) -> bytes:
    """Everything in ``held`` (``service.HeldData``) as a readable A4 document."""
    r = held.resident
    org = r.organisation
    styles = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=styles["BodyText"], fontSize=11, leading=15)
    small = ParagraphStyle("small", parent=body, fontSize=10, leading=13)
    heading = ParagraphStyle("h", parent=styles["Heading1"], fontSize=20, leading=24)
    sub = ParagraphStyle(
        "h2", parent=styles["Heading2"], fontSize=14, leading=18, spaceBefore=8, keepWithNext=1
    )
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=f"Information held about {r.reference}",
        author=org.name,
    )
    width = A4[0] - 36 * mm

    def pairs(rows):
        rows = [(a, b) for a, b in rows if b not in (None, "", [])]
        if not rows:
            return _p("Nothing recorded.", body)
        table = Table(
            [[_p(a, body), _p(b, body)] for a, b in rows], colWidths=[50 * mm, width - 50 * mm]
        )
        table.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                    ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f0f0f0")),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ]
            )
        )
        return table

    def grid(header, rows, widths=None):
        if not rows:
            return _p("None.", body)
        data = [[_p(h, small) for h in header]] + [[_p(c, small) for c in row] for row in rows]
        cols = widths or [width / len(header)] * len(header)
        table = Table(data, colWidths=cols, repeatRows=1)
        table.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e6e6e6")),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ]
            )
        )
        return table

    consent = (
        f"Given {_dt(r.consent_at)} ({CONSENT_METHODS.get(r.consent_method or '', r.consent_method)})"
        if r.consent_given
        else "Not recorded"
    )
    story = [
        _p(org.name, sub),
        _p("Information we hold about you", heading),
        _p(
            f"Reference {r.reference}. Prepared on {_dt(now())} (UTC) "
            "in answer to a subject access request. The files that come with this summary hold "
            "every record in full.",
            body,
        ),
        Spacer(1, 3 * mm),
        _p("Your details", sub),
        pairs(
            [
                ("Name", r.full_name),
                ("Reference", r.reference),
                ("Phone", r.phone),
                ("Email", r.email),
                ("Date of birth", _d(r.date_of_birth)),
                ("Postcode", r.postcode),
                ("Area", r.area),
                (
                    "Preferred language",
                    r.preferred_language
                    + (" (interpreter needed)" if r.interpreter_needed else ""),
                ),
                ("Access needs", ", ".join(r.access_need_labels)),
                ("Access notes", r.access_notes),
                ("Help wanted", ", ".join(r.digital_need_labels)),
                ("Notes", r.notes),
                ("Anonymised", _dt(r.anonymised_at)),
            ]
        ),
        _p("Referral and consent", sub),
        pairs(
            [
                ("Referred by", r.source_label),
                ("Referrer", ", ".join(x for x in (r.referrer_name, r.referrer_organisation) if x)),
                ("Referrer contact", r.referrer_contact),
                ("Referral date", _d(r.referral_date)),
                ("Reason", r.referral_reason),
                ("Consent", consent),
                ("Status", r.status + (f" ({r.outcome_label})" if r.outcome else "")),
            ]
        ),
        _p("Progress of your case", sub),
        grid(
            ["When", "Change", "Note"],
            [
                (
                    _dt(s.at),
                    f"{s.from_status + ' → ' if s.from_status else ''}{s.to_status}",
                    s.note,
                )
                for s in held["status_changes"]
            ],
            [35 * mm, 50 * mm, width - 85 * mm],
        ),
        _p("Devices lent to you", sub),
        grid(
            ["Loan", "Device", "Lent", "Due", "Ended"],
            [
                (
                    loan.reference,
                    f"{loan.device.name} ({loan.device.asset_tag})",
                    _d(loan.lent_at),
                    _d(loan.due_on),
                    f"{loan.end_label} {_d(loan.ended_at)}".strip(),
                )
                for loan in held["loans"]
            ],
        ),
        _p("Mobile data given to you", sub),
        grid(
            ["Data", "Issued", "Expires", "Status"],
            [
                (b.label, _d(b.issued_at), _d(b.expires_on), b.status_label)
                for b in held["data_bundles"]
            ],
            [width - 90 * mm, 30 * mm, 30 * mm, 30 * mm],
        ),
        _p("Device waiting list", sub),
        grid(
            ["Joined", "Priority", "Reason", "Status", "Note"],
            [
                (_d(w.joined_on), w.priority_label, w.reason_label, w.status, w.note)
                for w in held["waiting_list"]
            ],
        ),
        _p("Calls we made to you", sub),
        grid(
            ["When", "Outcome", "Note"],
            [(_dt(c.called_at), c.outcome_label, c.note) for c in held["reminder_calls"]],
            [35 * mm, 60 * mm, width - 95 * mm],
        ),
        _p("Your IT buddy", sub),
        grid(
            ["Buddy", "Status", "From", "Until", "Why it ended"],
            [
                (
                    m.buddy.first_name,
                    m.status,
                    _d(m.started_at or m.proposed_at),
                    _d(m.ended_at),
                    m.end_reason_label,
                )
                for m in held["buddy_matches"]
            ],
        ),
        _p("Practice sessions", sub),
        grid(
            ["Date", "Minutes", "How", "Notes", "Next steps"],
            [
                (_d(s.held_on), s.minutes, s.mode_label, s.notes, s.next_steps)
                for s in held["practice_sessions"]
            ],
            [25 * mm, 18 * mm, 30 * mm, (width - 73 * mm) / 2, (width - 73 * mm) / 2],
        ),
        _p("Your skills", sub),
        grid(
            ["Date", "Skill", "Level"],
            [
                (
                    _d(c.recorded_on),
                    f"{c.task.name} ({c.task.area_label})",
                    f"{c.level}: {c.level_label}"
                    + (" (first assessment)" if c.session_id is None else ""),
                )
                for c in held["checkpoints"]
            ],
            [25 * mm, width - 95 * mm, 70 * mm],
        ),
        _p("Who looked at or changed your record", sub),
        _p(
            "The audit log records what was done to your records and when; it keeps no copy of the data.",
            small,
        ),
        grid(
            ["When", "What", "Record", "Fields"],
            [
                (_dt(e.at), e.action, f"{e.entity_type} {e.entity_id}", ", ".join(e.changed or []))
                for e in held.events
            ],
            [32 * mm, 45 * mm, 35 * mm, width - 112 * mm],
        ),
    ]
    doc.build(story)
    return buffer.getvalue()
