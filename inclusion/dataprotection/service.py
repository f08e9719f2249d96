"""Data protection: what is held about a resident (subject access), erasure by
anonymisation, and retention.

Erasure never deletes a row and never changes a status, a date or a number: it
replaces what identifies the person (names, contact details, the detail of the
postcode, the exact date of birth) and every piece of free text written about
them, so every count in the reports is the same before and after. It is
refused while something is still open (the case, a loan, a place on the
waiting list, a safeguarding concern without an action), because anonymising
then would lose what the open work needs or change a count.

Functions change objects, audit (field names only) and flush; the request or
the CLI command commits.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Text, case, func, inspect, or_, select, update

from buddies.models import Match, MatchingNeeds
from buddies.practice.models import Checkpoint, PracticeSession
from devices.loans.models import DataBundle, Loan, LoanExtension, ReminderCall, WaitingListEntry

from .. import audit
from ..accounts.models import Organisation
from ..audit import AuditEvent
from ..clock import now, today
from ..errors import RuleBroken
from ..extensions import db
from ..residents.models import Resident, StatusChange

#: What replaces a piece of free text that had something in it.
REMOVED = "[removed]"
ANONYMOUS_FIRST_NAME = "Anonymised"
ANONYMOUS_LAST_NAME = "resident"

# Free text about the resident in the records linked to them: (model, link column, fields).
# Non-empty values become REMOVED, empty ones stay empty (check constraints that
# ask for a description when a concern is raised stay satisfied).
LINKED_FREE_TEXT = (
    (StatusChange, StatusChange.resident_id, ("note",)),
    (Loan, Loan.resident_id, ("notes", "end_note")),
    (DataBundle, DataBundle.resident_id, ("notes",)),
    (ReminderCall, ReminderCall.resident_id, ("note",)),
    (WaitingListEntry, WaitingListEntry.resident_id, ("note",)),
    (Match, Match.resident_id, ("end_note",)),
    (
        PracticeSession,
        PracticeSession.resident_id,
        ("place", "notes", "next_steps", "safeguarding_description", "safeguarding_action"),
    ),
)
# Free text on the resident's own record.
RESIDENT_FREE_TEXT = ("access_notes", "referral_reason", "notes")
# Contact and referrer details: emptied.
RESIDENT_CLEARED = ("phone", "email", "referrer_name", "referrer_contact")
# Tables whose free text is never swept for mentions: the audit log is append-only and
# holds no personal data; the resident row and linked rows are handled above.
_NOT_SWEPT = {"audit_event", "resident"}


# ---- subject access ----------------------------------------------------------------


def _value(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def _row(obj, **extra) -> dict:
    """Every column of ``obj`` as JSON-ready values, plus ``extra``."""
    data = {c.key: _value(getattr(obj, c.key)) for c in inspect(obj).mapper.column_attrs}
    data.update(extra)
    return data


@dataclass
class HeldData:
    """Everything held about one resident, as ORM objects (``tables`` as JSON rows)."""

    resident: Resident
    status_changes: list = field(default_factory=list)
    loans: list = field(default_factory=list)
    extensions: list = field(default_factory=list)
    bundles: list = field(default_factory=list)
    waiting: list = field(default_factory=list)
    calls: list = field(default_factory=list)
    matches: list = field(default_factory=list)
    matching_needs: list = field(default_factory=list)
    sessions: list = field(default_factory=list)
    checkpoints: list = field(default_factory=list)
    events: list = field(default_factory=list)

    def tables(self) -> dict[str, list[dict]]:
        r = self.resident
        return {
            "resident": [_row(r, consent_recorded_by=_name(r.consent_recorded_by))],
            "status_changes": [_row(s, by=_name(s.by)) for s in self.status_changes],
            "loans": [
                _row(
                    loan,
                    device_asset_tag=loan.device.asset_tag,
                    device=loan.device.name,
                    lent_by=_name(loan.lent_by),
                    ended_by=_name(loan.ended_by),
                )
                for loan in self.loans
            ],
            "loan_extensions": [_row(e, by=_name(e.by)) for e in self.extensions],
            "data_bundles": [_row(b, issued_by=_name(b.issued_by)) for b in self.bundles],
            "waiting_list": [_row(w, added_by=_name(w.added_by)) for w in self.waiting],
            "reminder_calls": [_row(c, called_by=_name(c.called_by)) for c in self.calls],
            # The buddy's first name only: their contact details are not the resident's data.
            "buddy_matches": [_row(m, buddy=m.buddy.first_name) for m in self.matches],
            "matching_needs": [_row(n) for n in self.matching_needs],
            "practice_sessions": [
                _row(
                    s,
                    buddy=s.buddy.first_name if s.buddy else None,
                    recorded_by=_name(s.recorded_by),
                )
                for s in self.sessions
            ],
            "checkpoints": [
                _row(c, task=c.task.name, area=c.task.area_label, level_label=c.level_label)
                for c in self.checkpoints
            ],
            "audit_events": [_row(e) for e in self.events],
        }


def _name(user) -> str | None:
    return user.name if user is not None else None


def _all(stmt):
    return list(db.session.scalars(stmt))


def held_about(resident: Resident) -> HeldData:
    """Collect every record about ``resident`` (one query per kind of record)."""
    rid = resident.id
    held = HeldData(resident=resident)
    held.status_changes = _all(
        select(StatusChange)
        .where(StatusChange.resident_id == rid)
        .order_by(StatusChange.at, StatusChange.id)
    )
    held.loans = _all(select(Loan).where(Loan.resident_id == rid).order_by(Loan.lent_at, Loan.id))
    loan_ids = [loan.id for loan in held.loans]
    held.extensions = (
        _all(
            select(LoanExtension)
            .where(LoanExtension.loan_id.in_(loan_ids))
            .order_by(LoanExtension.at)
        )
        if loan_ids
        else []
    )
    held.bundles = _all(
        select(DataBundle).where(DataBundle.resident_id == rid).order_by(DataBundle.id)
    )
    held.waiting = _all(
        select(WaitingListEntry)
        .where(WaitingListEntry.resident_id == rid)
        .order_by(WaitingListEntry.id)
    )
    held.calls = _all(
        select(ReminderCall).where(ReminderCall.resident_id == rid).order_by(ReminderCall.called_at)
    )
    held.matches = _all(
        select(Match).where(Match.resident_id == rid).order_by(Match.proposed_at, Match.id)
    )
    held.matching_needs = _all(select(MatchingNeeds).where(MatchingNeeds.resident_id == rid))
    held.sessions = _all(
        select(PracticeSession)
        .where(PracticeSession.resident_id == rid)
        .order_by(PracticeSession.held_on, PracticeSession.id)
    )
    held.checkpoints = _all(
        select(Checkpoint)
        .where(Checkpoint.resident_id == rid)
        .order_by(Checkpoint.recorded_on, Checkpoint.id)
    )
    held.events = events_about(held)
    return held


def events_about(held: HeldData) -> list[AuditEvent]:
    """Audit events naming the resident or any record about them."""
    entities = {
        "Resident": [held.resident.id],
        "Loan": [x.id for x in held.loans],
        "DataBundle": [x.id for x in held.bundles],
        "WaitingListEntry": [x.id for x in held.waiting],
        "ReminderCall": [x.id for x in held.calls],
        "Match": [x.id for x in held.matches],
        "MatchingNeeds": [x.id for x in held.matching_needs],
        "PracticeSession": [x.id for x in held.sessions],
        "Checkpoint": [x.id for x in held.checkpoints],
    }
    conditions = [
        (AuditEvent.entity_type == kind) & AuditEvent.entity_id.in_(ids)
        for kind, ids in entities.items()
        if ids
    ]
    return _all(
        select(AuditEvent)
        .where(AuditEvent.organisation_id == held.resident.organisation_id, or_(*conditions))
        .order_by(AuditEvent.at, AuditEvent.id)
    )


README = """Everything {org} holds about the person with reference {reference}.
Exported on {on} for a subject access request.

summary.pdf   a readable summary of all of it
*.json        every record, one file per kind of record, every field as stored:
{files}

Dates are ISO 8601 (YYYY-MM-DD, times in UTC). Names of staff are the people who
recorded things. Audit events list which fields changed, never their values.
"""


def export_resident(resident: Resident, *, by) -> bytes:
    """The subject access export: a zip of JSON files, one per kind of record, and a
    readable PDF summary. Audited as ``resident.exported`` (no content in the log)."""
    from .pdf import subject_access_summary

    held = held_about(resident)
    tables = held.tables()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, rows in tables.items():
            archive.writestr(
                f"{name}.json", json.dumps(rows, indent=2, ensure_ascii=False, default=str)
            )
        archive.writestr("summary.pdf", subject_access_summary(held))
        archive.writestr(
            "README.txt",
            README.format(
                org=resident.organisation.name,
                reference=resident.reference,
                on=now().isoformat(" "),
                files="\n".join(f"  {name}.json ({len(rows)})" for name, rows in tables.items()),
            ),
        )
    audit.record("resident.exported", resident, actor=by)
    db.session.flush()
    return buffer.getvalue()


# ---- erasure -----------------------------------------------------------------------


def erasure_blockers(resident: Resident) -> list[str]:
    """What must be finished before ``resident`` can be anonymised (empty: nothing)."""
    if resident.anonymised_at is not None:
        return ["This record is already anonymised."]
    rid = resident.id
    blockers = []
    if resident.status != "closed":
        blockers.append("Close the case first (with an outcome).")
    if db.session.scalar(
        select(func.count()).where(Loan.resident_id == rid, Loan.ended_at.is_(None))
    ):
        blockers.append("A device is still on loan: record its return or end the loan first.")
    if db.session.scalar(
        select(func.count()).where(
            WaitingListEntry.resident_id == rid, WaitingListEntry.status == "waiting"
        )
    ):
        blockers.append("They are on the device waiting list: remove them from it first.")
    if db.session.scalar(
        select(func.count()).where(
            Match.resident_id == rid, Match.status.in_(("proposed", "active"))
        )
    ):
        blockers.append("They have an open buddy match: end it first.")
    if db.session.scalar(
        select(func.count()).where(
            PracticeSession.resident_id == rid,
            PracticeSession.safeguarding_concern.is_(True),
            PracticeSession.safeguarding_actioned_at.is_(None),
        )
    ):
        blockers.append("A safeguarding concern has no recorded action yet: action it first.")
    return blockers


def _district(resident: Resident) -> str:
    """The postcode district (WV3): what matching and area counts use, and no more."""
    return (resident.area or (resident.postcode or "").split(" ")[0]).upper()[:8]


def erase_resident(resident: Resident, *, by=None, action: str = "resident.erased") -> list[str]:
    """Anonymise ``resident`` irreversibly, keeping every row, status, date and number.

    Names become "Anonymised resident"; phone, email, referrer name and contact are
    emptied; the postcode keeps only its district; the date of birth only its month
    (age bands stay as they were); every non-empty piece of free text about them (their
    notes, access notes, referral reason, timeline notes, loan and call notes, practice
    session places, notes, next steps and safeguarding text) becomes "[removed]"; and
    mentions of their full name, phone or email in other free text of the organisation
    are removed too. The reference is kept; ``anonymised_at`` is stamped. The audit
    event lists field names only. Returns those names.
    """
    # Lock the row (PostgreSQL) and re-read it: a second erasure racing this one (a
    # retention run and a coordinator at once) waits, then finds it anonymised.
    db.session.refresh(resident, with_for_update=True)
    blockers = erasure_blockers(resident)
    if blockers:
        raise RuleBroken(" ".join(blockers))
    needles = [
        n for n in (resident.full_name, resident.phone, resident.email) if n and len(n.strip()) >= 5
    ]
    changed = [f"resident.{name}" for name in _anonymise_record(resident)]
    for model, link, fields in LINKED_FREE_TEXT:
        values = {name: case((getattr(model, name) != "", REMOVED), else_="") for name in fields}
        result = db.session.execute(
            update(model).where(link == resident.id).values(**values),
            execution_options={"synchronize_session": False},
        )
        if result.rowcount:
            changed += [f"{model.__tablename__}.{name}" for name in fields]
    loan_ids = select(Loan.id).where(Loan.resident_id == resident.id).scalar_subquery()
    result = db.session.execute(
        update(LoanExtension)
        .where(LoanExtension.loan_id.in_(loan_ids))
        .values(reason=case((LoanExtension.reason != "", REMOVED), else_="")),
        execution_options={"synchronize_session": False},
    )
    if result.rowcount:
        changed.append("loan_extension.reason")
    changed += _sweep_mentions(resident.organisation_id, needles)
    resident.anonymised_at = now()
    changed.append("resident.anonymised_at")
    audit.record(action, resident, changed=changed, actor=by)
    db.session.flush()
    # The bulk updates bypassed the identity map: reload what a page shows next.
    db.session.expire_all()
    return sorted(set(changed))


def _anonymise_record(resident: Resident) -> list[str]:
    resident.first_name = ANONYMOUS_FIRST_NAME
    resident.last_name = ANONYMOUS_LAST_NAME
    for name in RESIDENT_CLEARED:
        setattr(resident, name, "")
    for name in RESIDENT_FREE_TEXT:
        if getattr(resident, name):
            setattr(resident, name, REMOVED)
    resident.postcode = _district(resident)
    if resident.date_of_birth is not None:
        resident.date_of_birth = resident.date_of_birth.replace(day=1)
    return [
        "first_name",
        "last_name",
        *RESIDENT_CLEARED,
        *RESIDENT_FREE_TEXT,
        "postcode",
        "date_of_birth",
    ]


def _sweep_mentions(organisation_id: int, needles: list[str]) -> list[str]:
    """Remove the person's full name, phone and email wherever the organisation's free
    text (Text columns of its tables) mentions them; returns ``table.column`` names."""
    if not needles:
        return []
    position = func.instr if _sqlite() else func.strpos
    changed = []
    for table in db.metadata.sorted_tables:
        if table.name in _NOT_SWEPT or "organisation_id" not in table.c:
            continue
        columns = [c for c in table.c if isinstance(c.type, Text)]
        if not columns:
            continue
        mentions = {c.name: or_(*(position(c, n) > 0 for n in needles)) for c in columns}
        # One scan per table finds which columns mention the person (almost always
        # none); only those are updated.
        found = db.session.execute(
            select(
                *(func.max(case((m, 1), else_=0)).label(name) for name, m in mentions.items())
            ).where(table.c.organisation_id == organisation_id)
        ).one()
        for column in columns:
            if not found._mapping[column.name]:
                continue
            replaced = column
            for needle in needles:
                replaced = func.replace(replaced, needle, REMOVED)
            db.session.execute(
                update(table)
                .where(table.c.organisation_id == organisation_id, mentions[column.name])
                .values({column.name: replaced})
            )
            changed.append(f"{table.name}.{column.name}")
    return changed


def _sqlite() -> bool:
    return db.session.get_bind().dialect.name == "sqlite"


# ---- retention ---------------------------------------------------------------------


def months_before(day: date, months: int) -> date:
    """The same day ``months`` earlier (the last day of the month when it has no such day)."""
    import calendar

    total = day.year * 12 + (day.month - 1) - months
    year, month = divmod(total, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass
class RetentionItem:
    resident: Resident
    closed_at: datetime
    blockers: list[str]


def due_for_retention(organisation: Organisation, on: date | None = None) -> list[RetentionItem]:
    """Closed cases of ``organisation`` closed more than its retention period ago and
    not yet anonymised, each with what (if anything) stops its anonymisation."""
    cutoff = months_before(on or today(), organisation.retention_months)
    residents = db.session.scalars(
        select(Resident)
        .where(
            Resident.organisation_id == organisation.id,
            Resident.status == "closed",
            Resident.anonymised_at.is_(None),
            Resident.closed_at < datetime.combine(cutoff, datetime.min.time()),
        )
        .order_by(Resident.closed_at, Resident.id)
        .execution_options(all_organisations=True)
    ).all()
    return [RetentionItem(r, r.closed_at, erasure_blockers(r)) for r in residents]


def apply_retention(item: RetentionItem) -> bool:
    """Anonymise one due resident with the erasure rules; False when it was skipped
    (something still open, or already anonymised by an earlier or parallel run)."""
    try:
        erase_resident(item.resident, by=None, action="resident.erased_by_retention")
    except RuleBroken:
        return False
    return True
