"""SQLAlchemy models of buddies/practice: the skill taxonomy, practice sessions and
skill checkpoints.

The six areas of the UK Essential Digital Skills framework are a fixed vocabulary
(``AREAS``, keys shared with ``buddies.models.SKILL_AREAS``). Tasks under them belong
to an organisation: the framework's everyday tasks are seeded when the organisation is
created (``service.ensure_taxonomy``, on the ``organisation_created`` signal), and coordinators
add their own. Tasks are retired, never deleted, so their checkpoints keep meaning.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inclusion.clock import now
from inclusion.extensions import db
from inclusion.schema import sql_list
from inclusion.tenancy import OrgScoped

# The Essential Digital Skills framework's areas, in the framework's order.
AREAS = {
    "foundation": "Foundation skills",
    "communicating": "Communicating",
    "information": "Handling information and content",
    "transacting": "Transacting",
    "problem_solving": "Problem solving",
    "safety": "Being safe and legal online",
}

# key -> (area, name): everyday tasks seeded for every organisation. Keys never change.
SEED_TASKS = {
    "unlock": ("foundation", "Switch on and unlock a device"),
    "wifi": ("foundation", "Connect to Wi-Fi"),
    "apps": ("foundation", "Open, close and update an app"),
    "settings": ("foundation", "Make text bigger and change the volume"),
    "passwords": ("foundation", "Keep passwords safe and change a password"),
    "message_photo": ("communicating", "Send a message with a photo"),
    "video_call": ("communicating", "Make a video call"),
    "email": ("communicating", "Read and send an email"),
    "group_chat": ("communicating", "Join a group chat with family or friends"),
    "search": ("information", "Search and judge a result"),
    "bookmark": ("information", "Save a web page or bookmark"),
    "photos": ("information", "Take, find and delete photos"),
    "cloud": ("information", "Back up photos and files"),
    "gp": ("transacting", "Book a GP appointment or order a repeat prescription online"),
    "nhs_app": ("transacting", "Use the NHS App"),
    "pay_bill": ("transacting", "Pay a bill online"),
    "online_form": ("transacting", "Fill in an online form"),
    "shop": ("transacting", "Buy something online safely"),
    "find_help": ("problem_solving", "Find help online to solve a problem"),
    "bus_times": ("problem_solving", "Check bus times or plan a journey"),
    "troubleshoot": ("problem_solving", "Fix a simple problem (restart, no sound, no internet)"),
    "appointment_reminder": ("problem_solving", "Set a reminder or alarm"),
    "scam": ("safety", "Spot a scam message"),
    "privacy": ("safety", "Check privacy settings"),
    "updates": ("safety", "Keep the device updated and locked"),
    "report": ("safety", "Block and report a contact"),
}

LEVELS = {
    0: "Not tried yet",
    1: "Needs a lot of help",
    2: "Needs some help",
    3: "Can do it alone",
    4: "Confident, could show someone else",
}
CAN_DO_ALONE = 3

# The same keys as buddies.models.VISIT_MODES.
SESSION_MODES = {
    "home": "Home visit",
    "venue": "Community venue",
    "phone": "Phone",
    "video": "Video call",
}


class SkillTask(OrgScoped, db.Model):
    """One everyday task under an area; retired tasks stay for their history."""

    __tablename__ = "skill_task"

    id: Mapped[int] = mapped_column(primary_key=True)
    area: Mapped[str] = mapped_column(String(20))
    # The seed key for framework tasks (how seeding stays idempotent); NULL for added ones.
    key: Mapped[str | None] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=100)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    retired_at: Mapped[datetime | None] = mapped_column(DateTime)
    retired_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    __table_args__ = (
        CheckConstraint(f"area IN ({sql_list(AREAS)})", name="area_known"),
        UniqueConstraint("organisation_id", "key", name="uq_skill_task_org_key"),
        UniqueConstraint("organisation_id", "name", name="uq_skill_task_org_name"),
    )

    @property
    def area_label(self) -> str:
        return AREAS.get(self.area, self.area)

    @property
    def retired(self) -> bool:
        return self.retired_at is not None

    def __repr__(self) -> str:
        return f"<SkillTask {self.id} {self.area}>"


class PracticeSession(OrgScoped, db.Model):
    """A buddy's practice session with a resident, logged just after it happened."""

    __tablename__ = "practice_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(
        ForeignKey("resident.id", ondelete="RESTRICT"), index=True
    )
    buddy_id: Mapped[int | None] = mapped_column(
        ForeignKey("buddy_profile.id", ondelete="RESTRICT"), index=True
    )
    held_on: Mapped[date] = mapped_column(Date)
    minutes: Mapped[int] = mapped_column(Integer)
    mode: Mapped[str] = mapped_column(String(10))
    place: Mapped[str] = mapped_column(String(200), default="")
    # The lent device the session used, if any (from the resident's loans); kept when the
    # loan ends so donors can see what their devices were used for.
    # Indexed by ix_practice_session_device_use below (device_id first).
    device_id: Mapped[int | None] = mapped_column(ForeignKey("device.id", ondelete="SET NULL"))
    notes: Mapped[str] = mapped_column(Text, default="")
    next_steps: Mapped[str] = mapped_column(Text, default="")
    safeguarding_concern: Mapped[bool] = mapped_column(Boolean, default=False)
    safeguarding_description: Mapped[str] = mapped_column(Text, default="")
    safeguarding_action: Mapped[str] = mapped_column(Text, default="")
    safeguarding_actioned_at: Mapped[datetime | None] = mapped_column(DateTime)
    safeguarding_actioned_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL")
    )
    # A fresh token per form: a retried submit finds the session it already saved.
    idempotency_token: Mapped[str] = mapped_column(String(64), unique=True)
    recorded_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    resident = relationship("Resident")
    buddy = relationship("BuddyProfile")
    device = relationship("Device")
    recorded_by = relationship("User", foreign_keys=[recorded_by_id])
    safeguarding_actioned_by = relationship("User", foreign_keys=[safeguarding_actioned_by_id])
    checkpoints: Mapped[list[Checkpoint]] = relationship(
        back_populates="session", order_by="Checkpoint.id"
    )

    __table_args__ = (
        CheckConstraint(f"mode IN ({sql_list(SESSION_MODES)})", name="mode_known"),
        CheckConstraint("minutes BETWEEN 5 AND 480", name="minutes_range"),
        CheckConstraint(
            "safeguarding_concern = false OR safeguarding_description <> ''",
            name="concern_described",
        ),
        CheckConstraint(
            "safeguarding_actioned_at IS NULL OR (safeguarding_concern = true"
            " AND safeguarding_action <> '')",
            name="action_recorded",
        ),
        # The coordinators' alert list: concerns without a recorded action.
        # (oldest first from the index: without the order SQLite's planner prefers the
        # organisation's whole index and sorts it)
        Index(
            "ix_practice_session_open_alerts",
            "organisation_id",
            "recorded_at",
            "id",
            sqlite_where=text("safeguarding_concern = 1 AND safeguarding_actioned_at IS NULL"),
            postgresql_where=text(
                "safeguarding_concern = true AND safeguarding_actioned_at IS NULL"
            ),
        ),
        Index("ix_practice_session_resident_held", "resident_id", "held_on", "id"),
        # Donor impact: sessions held on a donation's devices, and their minutes, from the
        # index alone; organisation_id in it so the tenancy filter never tempts SQLite's
        # planner (no statistics without ANALYZE) into reading the whole organisation.
        Index("ix_practice_session_device_use", "device_id", "organisation_id", "minutes"),
        # Reports: sessions of one organisation in a period, with the columns they count.
        Index("ix_report_session_held", "organisation_id", "held_on", "resident_id", "minutes"),
        # A buddy's residents: sessions counted and the last one found per resident.
        Index("ix_practice_session_org_resident", "organisation_id", "resident_id", "held_on"),
    )

    @property
    def mode_label(self) -> str:
        return SESSION_MODES.get(self.mode, self.mode)

    @property
    def alert_open(self) -> bool:
        return self.safeguarding_concern and self.safeguarding_actioned_at is None

    def __repr__(self) -> str:
        return f"<PracticeSession {self.id}>"


class Checkpoint(OrgScoped, db.Model):
    """One resident's confidence in one task, at a session or at the baseline
    (the first assessment: ``session_id`` is NULL)."""

    __tablename__ = "skill_checkpoint"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(
        ForeignKey("resident.id", ondelete="RESTRICT"), index=True
    )
    task_id: Mapped[int] = mapped_column(
        ForeignKey("skill_task.id", ondelete="RESTRICT"), index=True
    )
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("practice_session.id", ondelete="RESTRICT"), index=True
    )
    level: Mapped[int] = mapped_column(Integer)
    recorded_on: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    task: Mapped[SkillTask] = relationship()
    resident = relationship("Resident")
    session: Mapped[PracticeSession | None] = relationship(back_populates="checkpoints")

    __table_args__ = (
        CheckConstraint("level BETWEEN 0 AND 4", name="level_range"),
        UniqueConstraint("session_id", "task_id", name="uq_skill_checkpoint_session_task"),
        # One baseline level per resident and task.
        Index(
            "uq_skill_checkpoint_baseline",
            "resident_id",
            "task_id",
            unique=True,
            sqlite_where=text("session_id IS NULL"),
            postgresql_where=text("session_id IS NULL"),
        ),
        # Reports: skill gains read every column they need from this index, in its order,
        # so no sort is needed (buddies/practice/report.py); a resident's progress reads
        # their checkpoints (with the session) from it alone too (speed_0004).
        Index(
            "ix_report_checkpoint_progress",
            "organisation_id",
            "resident_id",
            "task_id",
            "recorded_on",
            "id",
            "level",
            "session_id",
        ),
    )

    @property
    def level_label(self) -> str:
        return LEVELS.get(self.level, str(self.level))
