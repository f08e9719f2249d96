"""Gap-free, per-organisation references (R-000123, D-0042, …).

A counter row per (organisation, kind) is incremented with an UPDATE inside the
caller's transaction: the row lock serialises concurrent writers on PostgreSQL
(SQLite has one writer anyway), and a rollback gives the number back, so the
sequence never has gaps.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String, insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from .extensions import db

FORMATS = {"resident": "R-{:06d}", "donation": "D-{:04d}"}


class ReferenceCounter(db.Model):
    __tablename__ = "reference_counter"

    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer, default=0, nullable=False)


def next_reference(organisation_id: int, kind: str, fmt: str | None = None) -> str:
    """Take the next number for ``kind`` in this organisation, in the current transaction."""
    table = ReferenceCounter.__table__
    stmt = (
        update(table)
        .where(table.c.organisation_id == organisation_id, table.c.kind == kind)
        .values(last_value=table.c.last_value + 1)
        .returning(table.c.last_value)
    )
    value = db.session.execute(stmt).scalar()
    if value is None:
        # The organisation's first number of this kind: create the counter. Two
        # desks doing so at once both try; the primary key lets one insert, and the
        # other (inside a savepoint, so its transaction survives) takes the next
        # number from the row the first created, once that one commits.
        try:
            with db.session.begin_nested():
                db.session.execute(
                    insert(table).values(organisation_id=organisation_id, kind=kind, last_value=1)
                )
            value = 1
        except IntegrityError:
            value = db.session.execute(stmt).scalar()
    return (fmt or FORMATS.get(kind, kind.upper()[:1] + "-{:06d}")).format(value)
