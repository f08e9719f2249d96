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

from sqlalchemy import case, event, func, inspect, or_, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from .. import audit, personal_data
from ..accounts.models import Organisation
from ..audit import AuditEvent
from ..clock import now, today
from ..errors import RuleBroken
from ..extensions import db
from ..residents.models import Resident
from ..tenancy import unscoped
from ..transactions import run_outside_transaction
from .mentions import ERASED, Mentions
from .models import ErasureRecord

#: What replaces a piece of free text about the erased person that had something in it.
REMOVED = "[removed]"
__all__ = ["ERASED", "REMOVED"]


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
    """Everything held about one resident: ORM objects per exported kind of record
    (``held["loans"]``, named by the declarations), and the audit events about them."""

    resident: Resident
    records: dict[str, tuple[personal_data.Declaration, list]] = field(default_factory=dict)
    events: list = field(default_factory=list)

    def __getitem__(self, name: str) -> list:
        return self.records[name][1] if name in self.records else []

    def tables(self) -> dict[str, list[dict]]:
        tables = {}
        for name, (declaration, rows) in self.records.items():
            extra = declaration.export_extra or (lambda obj: {})
            tables[name] = [_row(obj, **extra(obj)) for obj in rows]
        tables["audit_events"] = [_row(e) for e in self.events]
        return tables


def _all(stmt):
    return list(db.session.scalars(stmt))


def held_about(resident: Resident) -> HeldData:
    """Collect every declared record about ``resident`` (one query per kind of record)."""
    held = HeldData(resident=resident)
    for declaration in personal_data.declarations():
        if not declaration.export or not declaration.about_residents:
            continue
        model = declaration.model
        rows = _all(
            select(model)
            .where(personal_data.resident_condition(declaration, resident.id))
            .order_by(*(getattr(model, c) for c in declaration.order_by))
        )
        held.records[declaration.export] = (declaration, rows)
    held.events = events_about(held)
    return held


def events_about(held: HeldData) -> list[AuditEvent]:
    """Audit events naming the resident or any record about them."""
    entities: dict[str, list[int]] = {}
    for declaration, rows in held.records.values():
        ids = [inspect(obj).identity[0] for obj in rows]
        if ids:
            entities.setdefault(declaration.model.__name__, []).extend(ids)
    conditions = [
        (AuditEvent.entity_type == kind) & AuditEvent.entity_id.in_(ids)
        for kind, ids in entities.items()
    ]
    if not conditions:
        return []
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
    """What must be finished before ``resident`` can be anonymised (empty: nothing):
    every declaration's ``blocks_erasure`` conditions, in declaration order."""
    if resident.anonymised_at is not None:
        return ["This record is already anonymised."]
    blockers = []
    for declaration in personal_data.declarations():
        for condition, message in declaration.blocks_erasure:
            found = db.session.scalar(
                select(func.count())
                .select_from(declaration.table)
                .where(personal_data.resident_condition(declaration, resident.id), condition())
            )
            if found:
                blockers.append(message)
    return blockers


def mentions_of(resident: Resident) -> Mentions:
    """How the person can be mentioned elsewhere: names, phone, email, date of birth."""
    return Mentions(
        names=[resident.first_name, resident.last_name, resident.full_name],
        phones=[resident.phone],
        emails=[resident.email],
        dates=[resident.date_of_birth] if resident.date_of_birth else [],
    )


@dataclass
class _Erasing:
    resident: Resident
    mentions: Mentions
    changed: list[str]


def erase_resident(
    resident: Resident,
    *,
    by=None,
    action: str = "resident.erased",
    erased_at: datetime | None = None,
    ignore_blockers: bool = False,
) -> list[str]:
    """Anonymise ``resident`` irreversibly, keeping every row, status, date and number.

    Every declaration is applied: the resident's own identifying fields are anonymised
    (``anonymise``), every non-empty free-text field of their rows becomes "[removed]",
    and every mention of them (names as whole words in any case, their phone number in
    any written form, email, date of birth) in any declared free text of the
    organisation becomes "[erased]", each changed record audited by table, id and field
    names. The reference is kept, ``anonymised_at`` stamped and the erasure written in
    the erasure register (so a restore from an older backup erases them again). The
    audit event lists field names only. Returns those names. Refused (RuleBroken) while
    something is open or when already anonymised.

    ``ignore_blockers`` is for re-applying an erasure already done (a restore): what was
    open in the backup does not bring the person back.
    """
    erased = erase_residents(
        [resident],
        by=by,
        action=action,
        erased_at=erased_at,
        ignore_blockers=ignore_blockers,
        refuse=True,
    )
    return erased[resident.id]


def erase_residents(
    residents,
    *,
    by=None,
    action: str = "resident.erased",
    erased_at: datetime | None = None,
    ignore_blockers: bool = False,
    refuse: bool = False,
) -> dict[int, list[str]]:
    """Erase each of ``residents`` as ``erase_resident`` does, sweeping the organisation's
    free text once for all of them (a retention run). Those with something open, or
    already anonymised, are skipped (``refuse``: refused). Returns, for each resident
    erased, the field names its audit event lists."""
    erasing = []
    for resident in residents:
        # Lock the row (PostgreSQL) and re-read it: a second erasure racing this one (a
        # retention run and a coordinator at once) waits, then finds it anonymised.
        db.session.refresh(resident, with_for_update=True)
        if resident.anonymised_at is not None:
            problems = ["This record is already anonymised."]
        else:
            problems = [] if ignore_blockers else erasure_blockers(resident)
        if problems:
            if refuse:
                raise RuleBroken(" ".join(problems))
            continue
        if not erasing:
            _secure_delete()
        erasing.append(_anonymise(resident, erased_at or now()))
    organisations = sorted({e.resident.organisation_id for e in erasing})
    for organisation_id in organisations:
        people = [e for e in erasing if e.resident.organisation_id == organisation_id]
        _sweep_mentions(organisation_id, people, by=by)
    for e in erasing:
        audit.record(action, e.resident, changed=e.changed, actor=by)
    if erasing:
        db.session.flush()
        db.session.info[_ERASED_KEY] = True
        # The bulk updates bypassed the identity map: reload what a page shows next.
        db.session.expire_all()
    return {e.resident.id: sorted(set(e.changed)) for e in erasing}


def _anonymise(resident: Resident, stamp: datetime) -> _Erasing:
    """Everything of the erasure but the sweep: identifying fields, the person's own
    free text, ``anonymised_at`` and the erasure register."""
    mentions = mentions_of(resident)
    declarations = personal_data.declarations()
    changed = []
    for declaration in declarations:
        if declaration.anonymise is None or not declaration.about_residents:
            continue
        model = declaration.model
        for obj in _all(
            select(model).where(personal_data.resident_condition(declaration, resident.id))
        ):
            changed += [f"{declaration.name}.{n}" for n in declaration.anonymise(obj)]
    db.session.flush()
    for declaration in declarations:
        if declaration.about_residents and declaration.free_text:
            changed += _remove_free_text(declaration, resident.id)
    db.session.execute(
        update(Resident.__table__)
        .where(Resident.__table__.c.id == resident.id)
        .values(anonymised_at=stamp)
    )
    changed.append("resident.anonymised_at")
    db.session.add(
        ErasureRecord(
            organisation_id=resident.organisation_id, reference=resident.reference, erased_at=stamp
        )
    )
    return _Erasing(resident, mentions, changed)


def _remove_free_text(declaration, resident_id: int) -> list[str]:
    """Non-empty free text on the person's rows becomes REMOVED; empty stays empty
    (check constraints that ask for a description when a concern is raised hold)."""
    table = declaration.table
    values = {
        name: case((table.c[name] != "", REMOVED), else_=table.c[name])
        for name in declaration.free_text
    }
    result = db.session.execute(
        update(table)
        .where(personal_data.resident_condition(declaration, resident_id))
        .values(**values)
    )
    if not result.rowcount:
        return []
    return [f"{declaration.name}.{name}" for name in declaration.free_text]


def _sweep_mentions(organisation_id: int, people: list[_Erasing], *, by=None) -> None:
    """Replace every mention of ``people`` in the declared free text of the organisation
    (other residents' notes, device notes, buddies' "about"...). Each changed record gets
    an audit event naming its table, id and fields; each person's ``changed`` gets the
    ``table.column`` names where they were mentioned."""
    people = [p for p in people if p.mentions]
    if not people:
        return
    anyone = Mentions.combined([p.mentions for p in people])
    dialect = db.session.get_bind().dialect.name
    for declaration in personal_data.declarations():
        table = declaration.table
        if not declaration.free_text or declaration.organisation_column is None:
            continue
        pk = list(table.primary_key.columns)[0]
        columns = [table.c[name] for name in declaration.free_text]
        if len(people) == 1:
            # The database finds the few rows that may mention the person; Python decides.
            maybe = anyone.candidates(_joined(columns), dialect)
        else:  # many people at once: one pass in Python beats many LIKEs per row
            maybe = or_(*(func.length(c) > 0 for c in columns))
        rows = db.session.execute(
            select(pk, *columns).where(
                table.c[declaration.organisation_column] == organisation_id, maybe
            )
        )
        for row in rows.all():
            values = {}
            for column, value in zip(columns, row[1:], strict=True):
                if anyone.erase(value) is value:
                    continue
                text_ = value
                for person in people:
                    erased = person.mentions.erase(text_)
                    if erased is not text_:
                        person.changed.append(f"{declaration.name}.{column.name}")
                        text_ = erased
                values[column.name] = text_
            if not values:
                continue
            db.session.execute(update(table).where(pk == row[0]).values(**values))
            db.session.add(
                AuditEvent(
                    actor_id=by.id if by is not None else None,
                    organisation_id=organisation_id,
                    action="mentions.erased",
                    entity_type=declaration.model.__name__,
                    entity_id=row[0],
                    changed=sorted(values),
                )
            )


# ---- the erasure register and restores ---------------------------------------------


@dataclass(frozen=True)
class Erasure:
    organisation_id: int
    reference: str
    erased_at: datetime


def erasure_register() -> list[Erasure]:
    """Every erasure recorded in this database, oldest first."""
    rows = db.session.execute(
        select(
            ErasureRecord.organisation_id, ErasureRecord.reference, ErasureRecord.erased_at
        ).order_by(ErasureRecord.erased_at, ErasureRecord.id)
    )
    return [Erasure(*row) for row in rows]


def reapply_erasures(erasures: list[Erasure]) -> list[str]:
    """After a restore: erase again everyone in ``erasures`` (the register of the database
    that was replaced) whom the restored database does not list as erased, keeping the
    original time. Nothing open in the backup stops it: the person was already erased.
    Residents not in the backup (referred after it was taken) need nothing. Returns the
    references erased again."""
    recorded = {(e.organisation_id, e.reference) for e in erasure_register()}
    again = []
    for erasure in erasures:
        if (erasure.organisation_id, erasure.reference) in recorded:
            continue
        with unscoped():  # a restore runs from the command line, for every organisation
            resident = db.session.scalar(
                select(Resident).where(
                    Resident.organisation_id == erasure.organisation_id,
                    Resident.reference == erasure.reference,
                )
            )
        if resident is None:
            continue
        if resident.anonymised_at is not None:
            db.session.add(
                ErasureRecord(
                    organisation_id=erasure.organisation_id,
                    reference=erasure.reference,
                    erased_at=erasure.erased_at,
                )
            )
            continue
        erase_resident(
            resident,
            action="resident.erased_again_after_restore",
            erased_at=erasure.erased_at,
            ignore_blockers=True,
        )
        again.append(erasure.reference)
    db.session.flush()
    return again


def _joined(columns):
    """All of a row's free text as one value, so the database looks at each row once."""
    joined = func.coalesce(columns[0], "")
    for column in columns[1:]:
        joined = joined.op("||")("\n").op("||")(func.coalesce(column, ""))
    return joined


# ---- leaving no copy in the SQLite file --------------------------------------------

_ERASED_KEY = "inclusion.erased"


def _secure_delete() -> None:
    """SQLite: overwrite deleted and replaced content with zeros on this connection, so
    an erased value does not linger in free pages of the file."""
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(text("PRAGMA secure_delete=ON"))


@event.listens_for(Session, "after_commit")
def _checkpoint_after_erasure(session) -> None:
    """After a commit that erased someone (SQLite): copy the WAL into the database and
    truncate it, so the old page versions holding the erased values are gone."""
    if not session.info.pop(_ERASED_KEY, False):
        return
    bind = session.get_bind()
    if bind.dialect.name != "sqlite":
        return
    if isinstance(bind, Engine):
        with bind.connect() as connection:
            run_outside_transaction(connection, "PRAGMA wal_checkpoint(TRUNCATE)")
    elif not bind.in_transaction():
        run_outside_transaction(bind, "PRAGMA wal_checkpoint(TRUNCATE)")
    # else: a test's outer transaction that will be rolled back, nothing was written.


@event.listens_for(Session, "after_rollback")
def _forget_erasure(session) -> None:
    session.info.pop(_ERASED_KEY, None)


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
    with unscoped():  # the organisation is named (the retention command runs for each)
        residents = db.session.scalars(
            select(Resident)
            .where(
                Resident.organisation_id == organisation.id,
                Resident.status == "closed",
                Resident.anonymised_at.is_(None),
                Resident.closed_at < datetime.combine(cutoff, datetime.min.time()),
            )
            .order_by(Resident.closed_at, Resident.id)
        ).all()
    return [RetentionItem(r, r.closed_at, erasure_blockers(r)) for r in residents]


def apply_retention(item: RetentionItem) -> bool:
    """Anonymise one due resident with the erasure rules; False when it was skipped
    (something still open, or already anonymised by an earlier or parallel run)."""
    return apply_retention_batch([item]) == 1


def apply_retention_batch(items: list[RetentionItem]) -> int:
    """Anonymise due residents with the erasure rules, sweeping each organisation's free
    text once for the batch; returns how many were anonymised (the others were skipped:
    something still open, or already anonymised by an earlier or parallel run)."""
    erased = erase_residents(
        [item.resident for item in items], by=None, action="resident.erased_by_retention"
    )
    return len(erased)
