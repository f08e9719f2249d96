"""Outcome answer sets, each organisation's follow-up schedule, and programmes.

An answer set is one sitting of the outcome questions with one resident: the baseline at the
first assessment, or one of the follow-ups the organisation sets. ``person_key`` (random, not
derived from anything about the person) pairs a resident's answer sets; erasure clears
``resident_id`` but keeps the scores and the key, so the before/after pairs still count and
nothing links them to anyone.

A programme is a named group of organisations one commissioner funds; a commissioner account
belongs to one programme and sees aggregates over its organisations only.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inclusion.clock import now
from inclusion.extensions import db
from inclusion.schema import sql_list
from inclusion.tenancy import OrgScoped

from .measures import DIRECT_ANSWERS, HOW_ASKED, UCLA, WELLBEING

BASELINE = "baseline"
CLOSURE = "closure"


def months_occasion(months: int) -> str:
    return f"months_{months}"


def occasion_label(occasion: str) -> str:
    if occasion == BASELINE:
        return "Baseline (first assessment)"
    if occasion == CLOSURE:
        return "At case closure"
    if occasion.startswith("months_"):
        return f"{occasion.removeprefix('months_')}-month follow-up"
    return occasion


def _range(column: str, low: int, high: int) -> CheckConstraint:
    return CheckConstraint(
        f"{column} IS NULL OR {column} BETWEEN {low} AND {high}", name=f"{column}_range"
    )


class AnswerSet(OrgScoped, db.Model):
    __tablename__ = "outcome_answer_set"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int | None] = mapped_column(
        ForeignKey("resident.id", ondelete="SET NULL"), index=True
    )
    person_key: Mapped[str] = mapped_column(String(32), index=True)
    occasion: Mapped[str] = mapped_column(String(20))
    asked_on: Mapped[date] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String(12))
    asked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # NULL: "prefers not to say" (an answer, never a zero).
    life_satisfaction: Mapped[int | None] = mapped_column(Integer)
    worthwhile: Mapped[int | None] = mapped_column(Integer)
    happy: Mapped[int | None] = mapped_column(Integer)
    anxious: Mapped[int | None] = mapped_column(Integer)
    ucla_companionship: Mapped[int | None] = mapped_column(Integer)
    ucla_left_out: Mapped[int | None] = mapped_column(Integer)
    ucla_isolated: Mapped[int | None] = mapped_column(Integer)
    lonely_direct: Mapped[int | None] = mapped_column(Integer)
    # Tasks at "can do it alone" or above when asked (from the skill checkpoints).
    independent_tasks: Mapped[int | None] = mapped_column(Integer)
    recorded_at: Mapped[datetime] = mapped_column(DateTime, default=now)

    asked_by = relationship("User", foreign_keys=[asked_by_id])
    resident = relationship("Resident")

    __table_args__ = (
        UniqueConstraint("resident_id", "occasion", name="uq_outcome_resident_occasion"),
        CheckConstraint(f"method IN ({sql_list(HOW_ASKED)})", name="outcome_method_known"),
        *[_range(i.key, 0, 10) for i in WELLBEING],
        *[_range(i.key, 1, 3) for i in UCLA],
        _range("lonely_direct", 1, 5),
        CheckConstraint(
            "independent_tasks IS NULL OR independent_tasks >= 0", name="independent_tasks_range"
        ),
    )

    @property
    def occasion_label(self) -> str:
        return occasion_label(self.occasion)

    @property
    def method_label(self) -> str:
        return HOW_ASKED.get(self.method, self.method)

    @property
    def lonely_direct_label(self) -> str | None:
        """The answer to "How often do you feel lonely?" in words (None: declined)."""
        return None if self.lonely_direct is None else DIRECT_ANSWERS.get(self.lonely_direct)


class FollowUpSchedule(OrgScoped, db.Model):
    """When an organisation asks again: months after support starts, and at closure."""

    __tablename__ = "outcome_follow_up_schedule"

    id: Mapped[int] = mapped_column(primary_key=True)
    months: Mapped[list] = mapped_column(JSON, default=lambda: [3, 6])
    at_closure: Mapped[bool] = mapped_column(Boolean, default=True)

    __table_args__ = (UniqueConstraint("organisation_id", name="uq_follow_up_schedule_org"),)


class Programme(db.Model):
    """A named group of organisations one commissioner funds (not owned by any of them)."""

    __tablename__ = "programme"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)

    members: Mapped[list[ProgrammeMember]] = relationship(
        back_populates="programme", cascade="all, delete-orphan"
    )


class ProgrammeMember(db.Model):
    __tablename__ = "programme_member"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("programme.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )

    programme: Mapped[Programme] = relationship(back_populates="members")
    organisation = relationship("Organisation")

    __table_args__ = (
        UniqueConstraint("programme_id", "organisation_id", name="uq_programme_member"),
    )


class ProgrammeCommissioner(db.Model):
    """The programme a commissioner account reads (one each)."""

    __tablename__ = "programme_commissioner"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("programme.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), unique=True)

    programme: Mapped[Programme] = relationship()
