"""Stocktakes ("check the shelf"): one per storage location at a time, with a line per device.

While a stocktake is *open* its lines are what was scanned (``found``, ``misplaced`` or
``unknown``); saving adds a ``missing`` line for every device recorded at the location
and not scanned, and freezes the result. Check constraints and partial unique indexes
back the rules: one open stocktake per location, a device at most once per stocktake,
an unknown line names no device and every other line names one.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inclusion.clock import now
from inclusion.extensions import db
from inclusion.schema import sql_list
from inclusion.tenancy import OrgScoped

STOCKTAKE_STATUSES = ("open", "saved", "cancelled")
LINE_OUTCOMES = {
    "found": "Found",
    "misplaced": "Misplaced",
    "missing": "Missing",
    "unknown": "Never seen",
}
# Devices expected on a shelf: the ones not lent, given away, lost or retired.
ON_SHELF_STATUSES = ("received", "awaiting_wipe", "ready", "returned", "in_repair")


class Stocktake(OrgScoped, db.Model):
    """A check of one storage location: who started and saved it, and the counts it found."""

    __tablename__ = "stocktake"

    id: Mapped[int] = mapped_column(primary_key=True)
    location: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(10), default="open", index=True)
    started_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    saved_at: Mapped[datetime | None] = mapped_column(DateTime)
    saved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # Whether saving moved the misplaced devices to this location (asked, default no).
    moved_misplaced: Mapped[bool] = mapped_column(Boolean, default=False)
    found_count: Mapped[int] = mapped_column(Integer, default=0)
    missing_count: Mapped[int] = mapped_column(Integer, default=0)
    misplaced_count: Mapped[int] = mapped_column(Integer, default=0)
    unknown_count: Mapped[int] = mapped_column(Integer, default=0)

    started_by = relationship("User", foreign_keys=[started_by_id])
    saved_by = relationship("User", foreign_keys=[saved_by_id])
    lines: Mapped[list[StocktakeLine]] = relationship(
        back_populates="stocktake",
        order_by="StocktakeLine.scanned_at, StocktakeLine.id",
        cascade="all, delete-orphan",
    )

    __table_args__ = (
        CheckConstraint(f"status IN ({sql_list(STOCKTAKE_STATUSES)})", name="status_known"),
        CheckConstraint("location <> ''", name="location_given"),
        CheckConstraint("status <> 'saved' OR saved_at IS NOT NULL", name="saved_has_time"),
        CheckConstraint(
            "found_count >= 0 AND missing_count >= 0 AND misplaced_count >= 0 "
            "AND unknown_count >= 0",
            name="counts_not_negative",
        ),
        # Two desks cannot check the same shelf at once.
        Index(
            "uq_stocktake_open_location",
            "organisation_id",
            "location",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
    )

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    def __repr__(self) -> str:
        return f"<Stocktake {self.id} {self.location}>"


class StocktakeLine(OrgScoped, db.Model):
    """One device (or one code no device has) in a stocktake, and what was found."""

    __tablename__ = "stocktake_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    stocktake_id: Mapped[int] = mapped_column(
        ForeignKey("stocktake.id", ondelete="CASCADE"), index=True
    )
    device_id: Mapped[int | None] = mapped_column(
        ForeignKey("device.id", ondelete="CASCADE"), index=True
    )
    # What was scanned or typed (the tag, serial or IMEI); the tag for a missing device.
    code: Mapped[str] = mapped_column(String(100))
    outcome: Mapped[str] = mapped_column(String(10))
    # Where the device was recorded when it was checked (for a misplaced one: where it should be).
    recorded_location: Mapped[str] = mapped_column(String(100), default="")
    recorded_status: Mapped[str] = mapped_column(String(14), default="")
    scanned_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    moved: Mapped[bool] = mapped_column(Boolean, default=False)

    stocktake: Mapped[Stocktake] = relationship(back_populates="lines")
    device = relationship("Device")

    __table_args__ = (
        CheckConstraint(f"outcome IN ({sql_list(LINE_OUTCOMES)})", name="outcome_known"),
        CheckConstraint(
            "(outcome = 'unknown') = (device_id IS NULL)", name="unknown_has_no_device"
        ),
        CheckConstraint("code <> ''", name="code_given"),
        CheckConstraint("NOT moved OR outcome = 'misplaced'", name="only_misplaced_moved"),
        UniqueConstraint("stocktake_id", "code", name="uq_stocktake_line_code"),
        Index(
            "uq_stocktake_line_device",
            "stocktake_id",
            "device_id",
            unique=True,
            sqlite_where=text("device_id IS NOT NULL"),
            postgresql_where=text("device_id IS NOT NULL"),
        ),
    )

    @property
    def outcome_label(self) -> str:
        return LINE_OUTCOMES.get(self.outcome, self.outcome)

    @property
    def recorded_where(self) -> str:
        """Where the device was recorded, and its status when it is not on a shelf."""
        where = self.recorded_location or "no location"
        if self.recorded_status and self.recorded_status not in ON_SHELF_STATUSES:
            where += f" ({self.recorded_status.replace('_', ' ')})"
        return where
