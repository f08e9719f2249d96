"""The readable summary of a subject access export (reportlab), in large plain type."""

from __future__ import annotations

from reportlab.lib.units import mm

from ..clock import now
from ..pdf import Document
from ..residents.models import CONSENT_METHODS


def _d(value, fmt="%d %b %Y") -> str:
    return value.strftime(fmt) if value else ""


def _dt(value) -> str:
    return _d(value, "%d %b %Y %H:%M")


def subject_access_summary(held) -> bytes:
    """Everything in ``held`` (``service.HeldData``) as a readable A4 document."""
    r = held.resident
    org = r.organisation
    doc = Document(f"Information held about {r.reference}", org, large_print=True)
    width = doc.width

    def pairs(rows):
        rows = [(a, b) for a, b in rows if b not in (None, "", [])]
        return doc.pairs(rows, 50 * mm) if rows else doc.p("Nothing recorded.")

    def grid(header, rows, widths=None):
        return doc.grid(header, rows, widths, style="small") if rows else doc.p("None.")

    consent = (
        f"Given {_dt(r.consent_at)} ({CONSENT_METHODS.get(r.consent_method or '', r.consent_method)})"
        if r.consent_given
        else "Not recorded"
    )
    story = [
        doc.p(org.name, "heading"),
        doc.title("Information we hold about you"),
        doc.p(
            f"Reference {r.reference}. Prepared on {_dt(now())} (UTC) "
            "in answer to a subject access request. The files that come with this summary hold "
            "every record in full.",
        ),
        doc.space(3),
        doc.p("Your details", "heading"),
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
        doc.p("Referral and consent", "heading"),
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
        doc.p("Progress of your case", "heading"),
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
        doc.p("Devices lent to you", "heading"),
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
        doc.p("Mobile data given to you", "heading"),
        grid(
            ["Data", "Issued", "Expires", "Status"],
            [
                (b.label, _d(b.issued_at), _d(b.expires_on), b.status_label)
                for b in held["data_bundles"]
            ],
            [width - 90 * mm, 30 * mm, 30 * mm, 30 * mm],
        ),
        doc.p("Device waiting list", "heading"),
        grid(
            ["Joined", "Priority", "Reason", "Status", "Note"],
            [
                (_d(w.joined_on), w.priority_label, w.reason_label, w.status, w.note)
                for w in held["waiting_list"]
            ],
        ),
        doc.p("Calls we made to you", "heading"),
        grid(
            ["When", "Outcome", "Note"],
            [(_dt(c.called_at), c.outcome_label, c.note) for c in held["reminder_calls"]],
            [35 * mm, 60 * mm, width - 95 * mm],
        ),
        doc.p("Your IT buddy", "heading"),
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
        doc.p("Practice sessions", "heading"),
        grid(
            ["Date", "Minutes", "How", "Notes", "Next steps"],
            [
                (_d(s.held_on), s.minutes, s.mode_label, s.notes, s.next_steps)
                for s in held["practice_sessions"]
            ],
            [25 * mm, 18 * mm, 30 * mm, (width - 73 * mm) / 2, (width - 73 * mm) / 2],
        ),
        doc.p("Your skills", "heading"),
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
        doc.p("Who looked at or changed your record", "heading"),
        doc.p(
            "The audit log records what was done to your records and when; it keeps no copy of the data.",
            "small",
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
    doc.add(*story)
    return doc.build()
