"""SQLAlchemy models of the buddies package: volunteer IT buddies and their matches.

Multi-valued answers on a profile (areas, languages, skills, access experience,
availability slots, visit modes) are stored as JSON lists of short keys from the
vocabularies below. Matching never filters on them in SQL: it loads the active
buddies of one organisation once (hundreds, not millions) and turns each list
into a bitmask / one-hot row for numpy (``buddies.matching``), so the lists are
both simple to edit and efficient to score. Keys, not labels, are stored, so a
relabelled option never orphans data.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inclusion.clock import now
from inclusion.extensions import db
from inclusion.schema import sql_list
from inclusion.tenancy import OrgScoped

# ---- vocabularies (key -> label) ---------------------------------------------------

DAYS = {
    "mon": "Monday",
    "tue": "Tuesday",
    "wed": "Wednesday",
    "thu": "Thursday",
    "fri": "Friday",
    "sat": "Saturday",
    "sun": "Sunday",
}
PARTS = {"morning": "morning", "afternoon": "afternoon", "evening": "evening"}
# Availability slots are "<day>_<part>", e.g. "tue_morning": 21 slots a week.
SLOTS = [f"{d}_{p}" for d in DAYS for p in PARTS]

ACCESS_EXPERIENCE = {
    "bsl": "British Sign Language (BSL)",
    "screen_reader": "Screen readers",
    "large_print": "Large print and magnification",
    "hearing_loop": "Hearing loops",
    "dementia": "Dementia-friendly support",
    "learning_disability": "Learning disability",
}
# Short phrases for matching reasons ("has BSL").
ACCESS_PHRASES = {
    "bsl": "has BSL",
    "screen_reader": "knows screen readers",
    "large_print": "knows large print and magnification",
    "hearing_loop": "knows hearing loops",
    "dementia": "is dementia-friendly",
    "learning_disability": "has learning disability experience",
}
VISIT_MODES = {
    "home": "Home visit",
    "venue": "Community venue",
    "phone": "Phone",
    "video": "Video call",
}
# The UK Essential Digital Skills framework's areas: what a buddy can teach.
SKILL_AREAS = {
    "foundation": "Foundation skills (switch on, Wi-Fi, passwords)",
    "communicating": "Communicating (messages, video calls)",
    "information": "Handling information and content (search, judge a result)",
    "transacting": "Transacting (NHS App, bills, online forms)",
    "problem_solving": "Problem solving",
    "safety": "Being safe and legal online (scams)",
}
DBS_LEVELS = {
    "basic": "Basic",
    "standard": "Standard",
    "enhanced": "Enhanced",
    "enhanced_barred": "Enhanced with barred list",
}
TRAINING_KINDS = {
    "safeguarding": "Safeguarding",
    "data_protection": "Data protection",
}

# ---- state machines ----------------------------------------------------------------

BUDDY_STATUSES = ("applicant", "active", "paused", "left")
BUDDY_TRANSITIONS: dict[str, frozenset[str]] = {
    "applicant": frozenset({"active", "left"}),
    "active": frozenset({"paused", "left"}),
    "paused": frozenset({"active", "left"}),
    "left": frozenset(),
}

MATCH_STATUSES = ("proposed", "active", "ended")
MATCH_TRANSITIONS: dict[str, frozenset[str]] = {
    "proposed": frozenset({"active", "ended"}),
    "active": frozenset({"ended"}),
    "ended": frozenset(),
}
OPEN_MATCH_STATUSES = ("proposed", "active")
END_REASONS = {
    "goals_met": "Goals met",
    "declined": "Proposal declined",
    "resident_withdrew": "Resident withdrew",
    "buddy_unavailable": "Buddy no longer available",
    "not_a_good_fit": "Not a good fit",
    "resident_closed": "Resident's case closed",
    "other": "Other",
}


class BuddyProfile(OrgScoped, db.Model):
    """A volunteer IT buddy, from application to leaving."""

    __tablename__ = "buddy_profile"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Set when the coordinator invites an active buddy to an account.
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), unique=True
    )
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    phone: Mapped[str] = mapped_column(String(32), default="")

    areas: Mapped[list] = mapped_column(JSON, default=list)  # ["WV3", "WV4"]
    languages: Mapped[list] = mapped_column(JSON, default=list)  # ["English", "Punjabi"]
    skills: Mapped[list] = mapped_column(JSON, default=list)  # SKILL_AREAS keys
    access_experience: Mapped[list] = mapped_column(JSON, default=list)  # ACCESS_EXPERIENCE keys
    availability: Mapped[list] = mapped_column(JSON, default=list)  # SLOTS
    visit_modes: Mapped[list] = mapped_column(JSON, default=list)  # VISIT_MODES keys
    caseload_limit: Mapped[int] = mapped_column(Integer, default=2)
    about: Mapped[str] = mapped_column(Text, default="")

    status: Mapped[str] = mapped_column(String(12), default="applicant", index=True)
    status_changed_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    applied_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    notes: Mapped[str] = mapped_column(Text, default="")

    dbs_level: Mapped[str | None] = mapped_column(String(20))
    dbs_certificate: Mapped[str | None] = mapped_column(String(20))
    dbs_issued_on: Mapped[date | None] = mapped_column(Date)
    # Computed from the issue date and DBS_RENEWAL_YEARS when the check is recorded,
    # and stored so reminders can list renewals with an indexed query.
    dbs_renewal_due: Mapped[date | None] = mapped_column(Date, index=True)

    user = relationship("User", foreign_keys=[user_id])
    trainings: Mapped[list[BuddyTraining]] = relationship(
        back_populates="buddy", order_by="BuddyTraining.completed_on.desc(), BuddyTraining.id"
    )

    __table_args__ = (
        CheckConstraint(f"status IN ({sql_list(BUDDY_STATUSES)})", name="status_known"),
        CheckConstraint("caseload_limit BETWEEN 1 AND 20", name="caseload_range"),
        CheckConstraint(
            f"dbs_level IS NULL OR dbs_level IN ({sql_list(DBS_LEVELS)})", name="dbs_level_known"
        ),
        CheckConstraint(
            "dbs_level IS NULL OR (dbs_certificate IS NOT NULL AND dbs_issued_on IS NOT NULL"
            " AND dbs_renewal_due IS NOT NULL)",
            name="dbs_complete",
        ),
    )

    def dbs_current(self, on: date) -> bool:
        return bool(self.dbs_renewal_due and self.dbs_issued_on and self.dbs_renewal_due > on)

    def latest_training(self, kind: str) -> BuddyTraining | None:
        dated = [t for t in self.trainings if t.kind == kind]
        return max(dated, key=lambda t: t.completed_on) if dated else None

    @property
    def first_name(self) -> str:
        return (self.name or "").split(" ")[0]

    def __repr__(self) -> str:
        return f"<BuddyProfile {self.id} {self.status}>"


class BuddyTraining(OrgScoped, db.Model):
    """A training a buddy completed (safeguarding, data protection), with its date."""

    __tablename__ = "buddy_training"

    id: Mapped[int] = mapped_column(primary_key=True)
    buddy_id: Mapped[int] = mapped_column(
        ForeignKey("buddy_profile.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    completed_on: Mapped[date] = mapped_column(Date)
    provider: Mapped[str] = mapped_column(String(200), default="")
    recorded_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    buddy: Mapped[BuddyProfile] = relationship(back_populates="trainings")

    __table_args__ = (CheckConstraint(f"kind IN ({sql_list(TRAINING_KINDS)})", name="kind_known"),)


class Match(OrgScoped, db.Model):
    """A resident paired with a buddy: proposed → active → ended.

    The score and reasons are kept as they were when the match was proposed, so
    the record explains the decision even after profiles change.
    """

    __tablename__ = "buddy_match"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(
        ForeignKey("resident.id", ondelete="RESTRICT"), index=True
    )
    buddy_id: Mapped[int] = mapped_column(
        ForeignKey("buddy_profile.id", ondelete="RESTRICT"), index=True
    )
    status: Mapped[str] = mapped_column(String(10), default="proposed")
    score: Mapped[float] = mapped_column(Float, default=0.0)
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    proposed_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)
    end_reason: Mapped[str | None] = mapped_column(String(20))
    end_note: Mapped[str] = mapped_column(Text, default="")
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # How well the pair fits, 0–100: the score as a share of the best this resident could
    # get (NULL for matches proposed before it was kept).
    fit: Mapped[int | None] = mapped_column(Integer)
    # The next visit the buddy (or a coordinator) has planned: only an active match has one.
    next_visit_on: Mapped[date | None] = mapped_column(Date)

    resident = relationship("Resident")
    buddy: Mapped[BuddyProfile] = relationship()
    proposed_by = relationship("User", foreign_keys=[proposed_by_id])
    confirmed_by = relationship("User", foreign_keys=[confirmed_by_id])
    ended_by = relationship("User", foreign_keys=[ended_by_id])

    __table_args__ = (
        CheckConstraint(f"status IN ({sql_list(MATCH_STATUSES)})", name="status_known"),
        CheckConstraint(
            f"end_reason IS NULL OR end_reason IN ({sql_list(END_REASONS)})",
            name="end_reason_known",
        ),
        CheckConstraint("status <> 'active' OR started_at IS NOT NULL", name="active_started"),
        CheckConstraint(
            "status <> 'ended' OR (ended_at IS NOT NULL AND end_reason IS NOT NULL)",
            name="ended_has_reason",
        ),
        CheckConstraint("fit IS NULL OR fit BETWEEN 0 AND 100", name="fit_range"),
        CheckConstraint(
            "status = 'active' OR next_visit_on IS NULL", name="next_visit_only_active"
        ),
        # A resident has at most one open (proposed or active) match at a time.
        Index(
            "uq_buddy_match_open_resident",
            "resident_id",
            unique=True,
            sqlite_where=text(f"status IN ({sql_list(OPEN_MATCH_STATUSES)})"),
            postgresql_where=text(f"status IN ({sql_list(OPEN_MATCH_STATUSES)})"),
        ),
        Index("ix_buddy_match_buddy_status", "buddy_id", "status"),
        Index("ix_buddy_match_org_resident", "organisation_id", "resident_id", "status"),
    )

    @property
    def end_reason_label(self) -> str:
        return END_REASONS.get(self.end_reason or "", "")

    def __repr__(self) -> str:
        return f"<Match {self.id} {self.status}>"


class MatchingNeeds(OrgScoped, db.Model):
    """What a resident wants from a buddy, beyond their resident record: when they
    are free, how they would like to meet, what they want to learn, and whether an
    interpreter can join sessions. Optional: matching works without it."""

    __tablename__ = "buddy_matching_needs"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(
        ForeignKey("resident.id", ondelete="CASCADE"), unique=True
    )
    availability: Mapped[list] = mapped_column(JSON, default=list)  # SLOTS
    visit_modes: Mapped[list] = mapped_column(JSON, default=list)  # VISIT_MODES keys
    skills: Mapped[list] = mapped_column(JSON, default=list)  # SKILL_AREAS keys
    interpreter_available: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=now, onupdate=now)

    resident = relationship("Resident")
