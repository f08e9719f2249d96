"""Yearly targets of an organisation. (The indexes the report queries rely on are declared
on the models they index, in the package that owns them.)

A target is one number for one measure in one financial year (named by the year it
starts in). Measures are a fixed vocabulary (``TARGET_MEASURES``): each names a figure
of ``queries.report_figures``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inclusion.clock import now
from inclusion.extensions import db
from inclusion.tenancy import OrgScoped

from ..schema import sql_list

# measure key -> (label, where the figure lives in report_figures: section, key)
TARGET_MEASURES: dict[str, tuple[str, tuple[str, str]]] = {
    "referrals": ("Referrals", ("referrals", "total")),
    "devices_lent": ("Devices lent", ("devices", "lent")),
    "bundles_issued": ("Data bundles issued", ("data", "bundles_issued")),
    "sessions": ("Practice sessions", ("practice", "sessions")),
    "residents_gaining_skills": ("Residents gaining skills", ("skills", "residents_moved_up")),
}
TARGET_MAX = 10_000_000


class ReportTarget(OrgScoped, db.Model):
    """How many of one measure the organisation aims for in one financial year."""

    __tablename__ = "report_target"

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    measure: Mapped[str] = mapped_column(String(30))
    value: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=now, onupdate=now)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    updated_by = relationship("User")

    __table_args__ = (
        UniqueConstraint(
            "organisation_id", "year", "measure", name="uq_report_target_org_year_measure"
        ),
        CheckConstraint(f"measure IN ({sql_list(TARGET_MEASURES)})", name="measure_known"),
        CheckConstraint(f"value BETWEEN 0 AND {TARGET_MAX}", name="value_range"),
        CheckConstraint("year BETWEEN 2000 AND 2100", name="year_range"),
    )

    @property
    def label(self) -> str:
        return TARGET_MEASURES[self.measure][0]
