"""SQLAlchemy models of devices/loans: data bundles, loans and their extensions,
reminder calls, and the device waiting list.

State machines are data (``BUNDLE_TRANSITIONS``, ``WAITING_TRANSITIONS``) moved only by
``inclusion.workflow.transition`` in ``devices.loans.service``; check constraints back them.
A device has at most one open loan: the partial unique index ``uq_loan_open_device``.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inclusion.clock import now, today
from inclusion.extensions import db
from inclusion.schema import sql_list
from inclusion.tenancy import OrgScoped

BUNDLE_KINDS = {
    "sim": "SIM card",
    "esim": "eSIM",
    "voucher": "Voucher code",
    "hotspot_topup": "Hotspot top-up",
}
BUNDLE_SOURCES = {
    "donation": "Donation",
    "purchase": "Purchase",
    "national_scheme": "National data scheme",
}
BUNDLE_STATUSES = ("in_stock", "issued", "expired", "cancelled")
# An issued bundle goes back to stock only when it comes back unused at the end of its loan.
BUNDLE_TRANSITIONS: dict[str, frozenset[str]] = {
    "in_stock": frozenset({"issued", "expired"}),
    "issued": frozenset({"expired", "in_stock", "cancelled"}),
    "expired": frozenset(),
    "cancelled": frozenset(),
}
BUNDLE_STATUS_LABELS = {
    "in_stock": "In stock",
    "issued": "Issued",
    "expired": "Expired",
    "cancelled": "Lost or cancelled",
}
# What a bundle may hold, checked by the form, the service and the schema alike.
MAX_ALLOWANCE_GB = 10_000
VALIDITY_DAYS = (1, 3660)  # from a day to ten years, once issued
# Which bundles fit which device, the one rule the lend form offers and lend_device enforces:
# a SIM or eSIM goes into a phone or a tablet with a SIM slot, a hotspot takes a top-up or a
# SIM, and a laptop or Chromebook (no SIM slot) takes only a voucher code for Wi-Fi data.
BUNDLES_FOR_DEVICE: dict[str, tuple[str, ...]] = {
    "tablet": ("sim", "esim", "voucher"),
    "smartphone": ("sim", "esim", "voucher"),
    "hotspot": ("hotspot_topup", "sim"),
    "laptop": ("voucher",),
    "chromebook": ("voucher",),
}
# What became of the data bundles issued with a loan when the loan ended: the decision the
# return (or end) form asks for, and the status each decision gives the bundle.
BUNDLE_OUTCOMES = {
    "kept": "The resident keeps it until it expires",
    "returned_unused": "Returned unused: back into stock",
    "cancelled": "Lost or cancelled",
}
BUNDLE_OUTCOME_STATUS = {"kept": "issued", "returned_unused": "in_stock", "cancelled": "cancelled"}

AGREEMENT_METHODS = {
    "paper": "Signed on paper",
    "phone": "Read aloud and agreed by phone",
    "screen": "Signed on screen",
}
# A signature drawn on screen is kept as a PNG of at most this many bytes (a signature pad
# at 600 x 200 px draws 5 to 30 kB), and at most this wide and high in pixels.
SIGNATURE_MAX_BYTES = 200_000
SIGNATURE_MAX_PIXELS = (2400, 1200)
END_KINDS = {
    "returned": "Returned",
    "gifted": "Gifted to the resident",
    "lost": "Lost",
    "not_returned": "Not returned",
}
DUE_SOON_DAYS = 7  # a loan due within this many days is on the call list
RETURNED = "returned"
# Ends without a return (recorded on the end-loan form), and of those the ones where the
# device did not come back (a note is required; reports count them as lost).
ENDS_WITHOUT_RETURN = tuple(kind for kind in END_KINDS if kind != RETURNED)
LOST_END_KINDS = ("lost", "not_returned")
# The device status each end of a loan leads to (a return continues to awaiting wipe).
END_DEVICE_STATUS = {
    "returned": "returned",
    "gifted": "gifted",
    "lost": "lost",
    "not_returned": "lost",
}

CALL_OUTCOMES = {
    "spoke_returning": "Spoke to them: bringing it back",
    "spoke_extend": "Spoke to them: needs longer",
    "spoke_other": "Spoke to them: other",
    "left_message": "Left a message",
    "no_answer": "No answer",
    "wrong_number": "Wrong number",
}

WAITING_PRIORITIES = {1: "High", 2: "Medium", 3: "Normal"}
WAITING_REASONS = {
    "isolated": "Isolated",
    "health": "Health condition",
    "no_other_access": "No other access",
    "job_seeking": "Looking for work",
    "other": "Other",
}
WAITING_STATUSES = ("waiting", "lent", "removed")
WAITING_TRANSITIONS: dict[str, frozenset[str]] = {
    "waiting": frozenset({"lent", "removed"}),
    "lent": frozenset(),
    "removed": frozenset(),
}
# Device kinds with a large screen, for residents with sight or dexterity needs.
LARGE_SCREEN_KINDS = frozenset({"tablet", "laptop", "chromebook"})


class DataBundle(OrgScoped, db.Model):
    """Mobile data: a SIM, eSIM, voucher code or hotspot top-up, in stock or issued to a resident."""

    __tablename__ = "data_bundle"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(14))
    network: Mapped[str] = mapped_column(String(60))
    allowance_gb: Mapped[float] = mapped_column(Numeric(8, 2, asdecimal=False))
    validity_days: Mapped[int] = mapped_column(Integer)
    # ICCID or voucher code: unique within the organisation.
    reference: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(10), default="in_stock", index=True)
    status_changed_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    resident_id: Mapped[int | None] = mapped_column(
        ForeignKey("resident.id", ondelete="RESTRICT"), index=True
    )
    loan_id: Mapped[int | None] = mapped_column(
        ForeignKey("loan.id", ondelete="SET NULL"), index=True
    )
    issued_at: Mapped[datetime | None] = mapped_column(DateTime)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    expires_on: Mapped[date | None] = mapped_column(Date, index=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    added_at: Mapped[datetime] = mapped_column(DateTime, default=now)

    resident = relationship("Resident")
    issued_by = relationship("User")
    loan: Mapped[Loan | None] = relationship(back_populates="bundles")

    __table_args__ = (
        UniqueConstraint("organisation_id", "reference", name="uq_data_bundle_org_reference"),
        CheckConstraint(f"status IN ({sql_list(BUNDLE_STATUSES)})", name="status_known"),
        CheckConstraint(f"kind IN ({sql_list(BUNDLE_KINDS)})", name="kind_known"),
        CheckConstraint(f"source IN ({sql_list(BUNDLE_SOURCES)})", name="source_known"),
        CheckConstraint(
            f"allowance_gb > 0 AND allowance_gb <= {MAX_ALLOWANCE_GB}", name="allowance_range"
        ),
        CheckConstraint(
            f"validity_days BETWEEN {VALIDITY_DAYS[0]} AND {VALIDITY_DAYS[1]}",
            name="validity_range",
        ),
        CheckConstraint(
            "status <> 'issued' OR (resident_id IS NOT NULL AND issued_at IS NOT NULL "
            "AND expires_on IS NOT NULL)",
            name="issued_has_resident",
        ),
        # Reports: bundles of one organisation issued in a period.
        Index("ix_report_bundle_issued", "organisation_id", "issued_at"),
        # Pages: organisation_id first, then what the page filters and orders by, so
        # every scoped query finds its rows through one index (SQLite has no statistics
        # without ANALYZE, and would otherwise read the whole organisation).
        Index("ix_data_bundle_org_resident", "organisation_id", "resident_id", "issued_at", "id"),
        Index("ix_data_bundle_org_loan", "organisation_id", "loan_id", "issued_at"),
        Index("ix_data_bundle_org_status", "organisation_id", "status", "expires_on", "id"),
    )

    @property
    def kind_label(self) -> str:
        return BUNDLE_KINDS.get(self.kind, self.kind)

    @property
    def source_label(self) -> str:
        return BUNDLE_SOURCES.get(self.source, self.source)

    @property
    def status_label(self) -> str:
        return BUNDLE_STATUS_LABELS.get(self.status, self.status)

    @property
    def allowance_label(self) -> str:
        value = float(self.allowance_gb or 0)
        return f"{value:g} GB"

    @property
    def label(self) -> str:
        return f"{self.network} {self.allowance_label}, {self.validity_days} days ({self.kind_label} {self.reference})"

    def __repr__(self) -> str:
        return f"<DataBundle {self.reference}>"


class Loan(OrgScoped, db.Model):
    """A device lent to a resident. Open while ``ended_at`` is null; at most one open per device."""

    __tablename__ = "loan"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(12))
    device_id: Mapped[int] = mapped_column(ForeignKey("device.id", ondelete="RESTRICT"), index=True)
    resident_id: Mapped[int] = mapped_column(
        ForeignKey("resident.id", ondelete="RESTRICT"), index=True
    )
    lent_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    lent_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    due_on: Mapped[date] = mapped_column(Date, index=True)
    agreement_method: Mapped[str] = mapped_column(String(10))
    accessories: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)
    end_kind: Mapped[str | None] = mapped_column(String(14))
    received_by: Mapped[str] = mapped_column(String(200), default="")
    return_condition: Mapped[str | None] = mapped_column(String(6))
    accessories_back: Mapped[str] = mapped_column(Text, default="")
    end_note: Mapped[str] = mapped_column(Text, default="")
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # What became of the loan's issued data bundles when it ended (BUNDLE_OUTCOMES).
    bundle_outcome: Mapped[str | None] = mapped_column(String(16))

    device = relationship("Device")
    resident = relationship("Resident")
    lent_by = relationship("User", foreign_keys=[lent_by_id])
    ended_by = relationship("User", foreign_keys=[ended_by_id])
    bundles: Mapped[list[DataBundle]] = relationship(
        back_populates="loan", order_by="DataBundle.id"
    )
    extensions: Mapped[list[LoanExtension]] = relationship(
        back_populates="loan", order_by="LoanExtension.at, LoanExtension.id"
    )
    signature: Mapped[LoanSignature | None] = relationship(back_populates="loan", uselist=False)

    __table_args__ = (
        UniqueConstraint("organisation_id", "reference", name="uq_loan_org_reference"),
        # The rule that protects the stock: one open loan per device, whatever the code does.
        Index(
            "uq_loan_open_device",
            "device_id",
            unique=True,
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
        CheckConstraint(
            f"agreement_method IN ({sql_list(AGREEMENT_METHODS)})", name="agreement_known"
        ),
        CheckConstraint(
            f"end_kind IS NULL OR end_kind IN ({sql_list(END_KINDS)})", name="end_known"
        ),
        CheckConstraint(
            "(ended_at IS NULL AND end_kind IS NULL) OR (ended_at IS NOT NULL AND end_kind IS NOT NULL)",
            name="ended_has_kind",
        ),
        CheckConstraint(
            f"bundle_outcome IS NULL OR (ended_at IS NOT NULL "
            f"AND bundle_outcome IN ({sql_list(BUNDLE_OUTCOMES)}))",
            name="bundle_outcome_known",
        ),
        # Reports: loans of one organisation started before the end of a period.
        Index("ix_report_loan_lent", "organisation_id", "lent_at"),
        # Pages: organisation_id first, then what the page filters and orders by, so
        # every scoped query finds its rows through one index (SQLite has no statistics
        # without ANALYZE, and would otherwise read the whole organisation).
        Index(
            "ix_loan_org_open_due",
            "organisation_id",
            "due_on",
            "id",
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
        Index("ix_loan_org_device", "organisation_id", "device_id", "lent_at", "id"),
        Index("ix_loan_org_resident", "organisation_id", "resident_id", "lent_at", "id"),
    )

    @hybrid_property
    def is_open(self) -> bool:
        """A loan is open until it ends (a return, a gift, a loss); in queries too:
        ``select(Loan).where(Loan.is_open)``."""
        return self.ended_at is None

    @is_open.inplace.expression
    @classmethod
    def _is_open_expression(cls):
        return cls.ended_at.is_(None)

    @property
    def is_overdue(self) -> bool:
        return self.is_open and self.due_on < today()

    @property
    def agreement_label(self) -> str:
        return AGREEMENT_METHODS.get(self.agreement_method, self.agreement_method)

    @property
    def end_label(self) -> str:
        return END_KINDS.get(self.end_kind or "", "")

    @property
    def bundle_outcome_label(self) -> str:
        return BUNDLE_OUTCOMES.get(self.bundle_outcome or "", "")

    def __repr__(self) -> str:
        return f"<Loan {self.reference}>"


class LoanSignature(OrgScoped, db.Model):
    """The resident's signature drawn on screen when they accepted the loan agreement
    there: a PNG, printed on the agreement. Removed (``png`` null) if the resident is
    erased; when it was signed stays."""

    __tablename__ = "loan_signature"

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loan.id", ondelete="CASCADE"), unique=True)
    png: Mapped[bytes | None] = mapped_column(LargeBinary)
    signed_at: Mapped[datetime] = mapped_column(DateTime, default=now)

    loan: Mapped[Loan] = relationship(back_populates="signature")

    __table_args__ = (
        CheckConstraint(
            f"png IS NULL OR length(png) BETWEEN 1 AND {SIGNATURE_MAX_BYTES}", name="png_size"
        ),
    )


class LoanExtension(OrgScoped, db.Model):
    """A later due date agreed for an open loan."""

    __tablename__ = "loan_extension"

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loan.id", ondelete="CASCADE"), index=True)
    previous_due_on: Mapped[date] = mapped_column(Date)
    new_due_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(DateTime, default=now)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    loan: Mapped[Loan] = relationship(back_populates="extensions")
    by = relationship("User")

    __table_args__ = (CheckConstraint("new_due_on > previous_due_on", name="later_due"),)


class ReminderCall(OrgScoped, db.Model):
    """A coordinator phoned a resident from the call list: who, when, what came of it."""

    __tablename__ = "reminder_call"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(
        ForeignKey("resident.id", ondelete="CASCADE"), index=True
    )
    outcome: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    called_at: Mapped[datetime] = mapped_column(DateTime, default=now, index=True)
    called_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    resident = relationship("Resident")
    called_by = relationship("User")

    __table_args__ = (
        CheckConstraint(f"outcome IN ({sql_list(CALL_OUTCOMES)})", name="outcome_known"),
        Index("ix_reminder_call_org_resident", "organisation_id", "resident_id", "called_at"),
    )

    @property
    def outcome_label(self) -> str:
        return CALL_OUTCOMES.get(self.outcome, self.outcome)


class WaitingListEntry(OrgScoped, db.Model):
    """A resident waiting for a device, with a priority (1 high … 3 normal) and since when."""

    __tablename__ = "waiting_list_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(
        ForeignKey("resident.id", ondelete="CASCADE"), index=True
    )
    priority: Mapped[int] = mapped_column(Integer, default=3)
    reason: Mapped[str] = mapped_column(String(16))
    joined_on: Mapped[date] = mapped_column(Date, default=today)
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(8), default="waiting", index=True)
    status_changed_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    loan_id: Mapped[int | None] = mapped_column(ForeignKey("loan.id", ondelete="SET NULL"))
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    resident = relationship("Resident")
    added_by = relationship("User")

    __table_args__ = (
        # A resident waits once at a time.
        Index(
            "uq_waiting_list_resident",
            "resident_id",
            unique=True,
            sqlite_where=text("status = 'waiting'"),
            postgresql_where=text("status = 'waiting'"),
        ),
        CheckConstraint(f"status IN ({sql_list(WAITING_STATUSES)})", name="status_known"),
        CheckConstraint(f"reason IN ({sql_list(WAITING_REASONS)})", name="reason_known"),
        CheckConstraint("priority BETWEEN 1 AND 3", name="priority_range"),
        # The waiting list in the order devices are offered, from the index.
        Index(
            "ix_waiting_list_org_queue",
            "organisation_id",
            "status",
            "priority",
            "joined_on",
            "id",
        ),
    )

    @property
    def priority_label(self) -> str:
        return WAITING_PRIORITIES.get(self.priority, str(self.priority))

    @property
    def reason_label(self) -> str:
        return WAITING_REASONS.get(self.reason, self.reason)
