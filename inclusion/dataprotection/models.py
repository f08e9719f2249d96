"""The erasure register: which residents were erased, and when (no personal data).

A restore from a backup taken before an erasure would bring the person back; the
restore reads this register from the database it replaces and erases again everyone
recorded after the backup (``flask inclusion restore``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import now
from ..extensions import db


class ErasureRecord(db.Model):
    # Not OrgScoped on purpose: a restore reads every organisation's erasures.
    __tablename__ = "erasure_register"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="RESTRICT"), index=True
    )
    # The resident's reference (R-000123): kept on the anonymised record too.
    reference: Mapped[str] = mapped_column(String(12))
    erased_at: Mapped[datetime] = mapped_column(DateTime, default=now)

    __table_args__ = (
        UniqueConstraint("organisation_id", "reference", name="uq_erasure_register_org_reference"),
    )
