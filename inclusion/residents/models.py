from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import now
from ..extensions import db
from ..schema import sql_list
from ..tenancy import OrgScoped

# The referral workflow as data. Closing needs an outcome; a closed case can be
# re-opened as a new referral, never rewritten.
STATUSES = ("referred", "contacted", "assessed", "supported", "closed")
TRANSITIONS: dict[str, frozenset[str]] = {
    "referred": frozenset({"contacted", "closed"}),
    "contacted": frozenset({"assessed", "closed"}),
    "assessed": frozenset({"supported", "closed"}),
    "supported": frozenset({"closed"}),
    "closed": frozenset({"referred"}),
}
#: The steps that usually follow each other: the resident page records several at once,
#: each with its date (``service.record_steps``).
USUAL_PATH = ("referred", "contacted", "assessed", "supported")
OUTCOMES = {
    "goals_met": "Goals met: using their device with confidence",
    "partly_met": "Partly met",
    "declined": "Declined support",
    "no_contact": "Could not be contacted",
    "moved_away": "Moved away",
    "referred_on": "Referred to another service",
    "died": "Died",
    "duplicate": "Duplicate of another referral",
    "other": "Other",
}
SOURCES = {
    "gp": "GP practice",
    "social_care": "Social care",
    "housing": "Housing",
    "self": "Self-referral",
    "family": "Family or friend",
    "other": "Other",
}
#: What someone referring another person chooses from (everything but "self").
REFERRER_SOURCES = {k: v for k, v in SOURCES.items() if k != "self"}
CONSENT_METHODS = {
    "online_self": "Online form, by the person",
    "online_referrer": "Online form, by the referrer with the person's agreement",
    "written": "Signed on paper",
    "verbal": "Verbally, in person or by phone",
    "api": "Partner system, consent confirmed by referrer",
}
ACCESS_NEEDS = {
    "access_sight": "Sight",
    "access_hearing": "Hearing",
    "access_dexterity": "Dexterity",
    "access_memory": "Memory or cognition",
    "access_learning": "Learning disability",
    "access_other": "Other",
}
#: How a coordinator settled a referral flagged as a possible duplicate of an open case.
DUPLICATE_RESOLUTIONS = {
    "kept": "Kept both: a different person or a new need",
    "closed": "Closed as a duplicate",
}
DIGITAL_NEEDS = {
    "needs_device": "A device",
    "needs_data": "Data or internet access",
    "needs_skills": "Skills and confidence",
}


class Resident(OrgScoped, db.Model):
    __tablename__ = "resident"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(12))
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str] = mapped_column(String(32), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    # Optional; 10 digits, checked with its Modulus 11 check digit (validators.nhs_number).
    nhs_number: Mapped[str] = mapped_column(String(10), default="", server_default="")
    postcode: Mapped[str] = mapped_column(String(8), default="")
    area: Mapped[str] = mapped_column(String(100), default="")
    preferred_language: Mapped[str] = mapped_column(String(60), default="English")
    interpreter_needed: Mapped[bool] = mapped_column(Boolean, default=False)

    access_sight: Mapped[bool] = mapped_column(Boolean, default=False)
    access_hearing: Mapped[bool] = mapped_column(Boolean, default=False)
    access_dexterity: Mapped[bool] = mapped_column(Boolean, default=False)
    access_memory: Mapped[bool] = mapped_column(Boolean, default=False)
    access_learning: Mapped[bool] = mapped_column(Boolean, default=False)
    access_other: Mapped[bool] = mapped_column(Boolean, default=False)
    access_notes: Mapped[str] = mapped_column(Text, default="")

    needs_device: Mapped[bool] = mapped_column(Boolean, default=False)
    needs_data: Mapped[bool] = mapped_column(Boolean, default=False)
    needs_skills: Mapped[bool] = mapped_column(Boolean, default=False)

    referral_source: Mapped[str] = mapped_column(String(20))
    referrer_name: Mapped[str] = mapped_column(String(200), default="")
    referrer_organisation: Mapped[str] = mapped_column(String(200), default="")
    referrer_contact: Mapped[str] = mapped_column(String(254), default="")
    referral_date: Mapped[date] = mapped_column(Date)
    referral_reason: Mapped[str] = mapped_column(Text, default="")

    consent_given: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_at: Mapped[datetime | None] = mapped_column(DateTime)
    consent_method: Mapped[str | None] = mapped_column(String(20))
    consent_recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL")
    )

    status: Mapped[str] = mapped_column(String(12), default="referred", index=True)
    status_changed_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    outcome: Mapped[str | None] = mapped_column(String(20))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    anonymised_at: Mapped[datetime | None] = mapped_column(DateTime)
    # An open case with the same name and phone (or name, date of birth and postcode)
    # when this referral came in; the coordinator resolves it (DUPLICATE_RESOLUTIONS).
    possible_duplicate_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("resident.id", ondelete="SET NULL"), index=True
    )
    duplicate_resolution: Mapped[str | None] = mapped_column(String(12))

    consent_recorded_by = relationship("User", foreign_keys=[consent_recorded_by_id])
    possible_duplicate_of: Mapped[Resident | None] = relationship(
        remote_side="Resident.id", foreign_keys=[possible_duplicate_of_id]
    )
    history: Mapped[list[StatusChange]] = relationship(
        back_populates="resident", order_by="StatusChange.at, StatusChange.id"
    )

    __table_args__ = (
        UniqueConstraint("organisation_id", "reference", name="uq_resident_org_reference"),
        CheckConstraint(f"status IN ({sql_list(STATUSES)})", name="status_known"),
        CheckConstraint(f"referral_source IN ({sql_list(SOURCES)})", name="source_known"),
        CheckConstraint(
            f"outcome IS NULL OR outcome IN ({sql_list(OUTCOMES)})", name="outcome_known"
        ),
        CheckConstraint("status <> 'closed' OR outcome IS NOT NULL", name="closed_has_outcome"),
        CheckConstraint("consent_given = false OR consent_at IS NOT NULL", name="consent_has_time"),
        CheckConstraint("nhs_number = '' OR length(nhs_number) = 10", name="nhs_number_length"),
        CheckConstraint(
            "duplicate_resolution IS NULL OR duplicate_resolution IN "
            f"({sql_list(DUPLICATE_RESOLUTIONS)})",
            name="duplicate_resolution_known",
        ),
        # Reports: referrals of one organisation in a period.
        Index("ix_report_resident_referral", "organisation_id", "referral_date"),
        # Pages: organisation_id first, then what the page filters and orders by, so
        # every scoped query finds its rows through one index (SQLite has no statistics
        # without ANALYZE, and would otherwise read the whole organisation).
        Index("ix_resident_org_status", "organisation_id", "status"),
        # The residents list in its order, with what a search matches: counting a page
        # and searching read the index, not the residents' wide rows.
        Index(
            "ix_resident_org_search",
            "organisation_id",
            "referral_date",
            "id",
            "first_name",
            "last_name",
            "reference",
            "postcode",
        ),
    )

    @property
    def duplicate_unresolved(self) -> bool:
        """Flagged as a possible duplicate and nobody has decided yet."""
        return (
            self.possible_duplicate_of_id is not None
            and self.duplicate_resolution is None
            and self.status != "closed"
        )

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def access_need_labels(self) -> list[str]:
        return [label for field, label in ACCESS_NEEDS.items() if getattr(self, field)]

    @property
    def digital_need_labels(self) -> list[str]:
        return [label for field, label in DIGITAL_NEEDS.items() if getattr(self, field)]

    @property
    def source_label(self) -> str:
        return SOURCES.get(self.referral_source, self.referral_source)

    @property
    def outcome_label(self) -> str:
        return OUTCOMES.get(self.outcome or "", "")

    def __repr__(self) -> str:
        return f"<Resident {self.reference}>"


class StatusChange(OrgScoped, db.Model):
    """One step of a resident's referral workflow: the timeline on their page."""

    __tablename__ = "resident_status_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(
        ForeignKey("resident.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[str | None] = mapped_column(String(12))
    to_status: Mapped[str] = mapped_column(String(12))
    outcome: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(DateTime, default=now)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    resident: Mapped[Resident] = relationship(back_populates="history")
    by = relationship("User")

    @property
    def outcome_label(self) -> str:
        return OUTCOMES.get(self.outcome or "", self.outcome or "")

    __table_args__ = (
        Index(
            "ix_resident_status_change_org_resident", "organisation_id", "resident_id", "at", "id"
        ),
    )
