"""SQLAlchemy models of the devices package: donors, donations, devices and wipes.

State machines are data (``DONATION_TRANSITIONS``, ``DEVICE_TRANSITIONS``) moved only by
``inclusion.workflow.transition`` in ``devices.service``; check constraints back them.
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

DEVICE_KINDS = {
    "tablet": "Tablet",
    "laptop": "Laptop",
    "smartphone": "Smartphone",
    "chromebook": "Chromebook",
    "hotspot": "Mobile hotspot",
}
CONDITION_GRADES = {
    "A": "A: like new",
    "B": "B: light wear",
    "C": "C: heavy wear, works",
    "parts": "For parts",
}
DEVICE_STATUSES = (
    "received",
    "awaiting_wipe",
    "ready",
    "on_loan",
    "returned",
    "in_repair",
    "gifted",
    "lost",
    "retired",
)
# The device life cycle. A device reaches *ready* only with a wipe recorded since it last
# entered *awaiting_wipe* (``Device.wiped``, backed by a check constraint); every return
# goes back through *awaiting_wipe*.
DEVICE_TRANSITIONS: dict[str, frozenset[str]] = {
    "received": frozenset({"awaiting_wipe", "in_repair", "retired"}),
    "awaiting_wipe": frozenset({"ready", "in_repair", "retired"}),
    "ready": frozenset({"on_loan", "awaiting_wipe", "in_repair", "gifted", "lost", "retired"}),
    "on_loan": frozenset({"returned", "gifted", "lost"}),
    "returned": frozenset({"awaiting_wipe"}),
    "in_repair": frozenset({"awaiting_wipe", "retired"}),
    "lost": frozenset({"returned", "retired"}),
    "gifted": frozenset(),
    "retired": frozenset(),
}
DEVICE_STATUS_LABELS = {s: s.replace("_", " ").capitalize() for s in DEVICE_STATUSES}

WIPE_METHODS = {
    "factory_reset_encrypted": "Factory reset with encryption on",
    "nist_clear": "NIST SP 800-88 Clear",
    "nist_purge": "NIST SP 800-88 Purge",
    "certified_software": "Certified erasure software",
}

DONATION_STATUSES = ("pledged", "scheduled", "received", "processed", "declined")
DONATION_TRANSITIONS: dict[str, frozenset[str]] = {
    "pledged": frozenset({"scheduled", "received", "declined"}),
    "scheduled": frozenset({"received", "declined"}),
    "received": frozenset({"processed"}),
    "processed": frozenset(),
    "declined": frozenset(),
}
HANDOVER = {"drop_off": "We will drop them off", "collection": "Please collect them"}
ITEM_AGES = {
    "under_1": "Under a year",
    "1_2": "1 to 2 years",
    "3_4": "3 to 4 years",
    "5_plus": "5 years or more",
    "unknown": "Not sure",
}
ITEM_CONDITIONS = {
    "good": "Working, good condition",
    "worn": "Working, worn",
    "faulty": "Faulty or damaged",
    "unknown": "Not sure",
}


class Donor(OrgScoped, db.Model):
    """A business that pledges devices; optionally followed by donor-role user accounts."""

    __tablename__ = "donor"

    id: Mapped[int] = mapped_column(primary_key=True)
    business_name: Mapped[str] = mapped_column(String(200))
    contact_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    phone: Mapped[str] = mapped_column(String(32), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)

    donations: Mapped[list[Donation]] = relationship(back_populates="donor")


class DonorAccount(OrgScoped, db.Model):
    """Links a donor-role user to the business whose donations they follow (one business per user)."""

    __tablename__ = "donor_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    donor_id: Mapped[int] = mapped_column(ForeignKey("donor.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), unique=True)

    donor: Mapped[Donor] = relationship()
    user = relationship("User")


class Donation(OrgScoped, db.Model):
    __tablename__ = "donation"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(12))
    donor_id: Mapped[int] = mapped_column(ForeignKey("donor.id", ondelete="RESTRICT"), index=True)
    # The receipt's download key: random, so a signed-out link cannot be guessed from D-0042.
    receipt_token: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(12), default="pledged", index=True)
    status_changed_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    donor_wiped: Mapped[bool] = mapped_column(Boolean, default=False)
    wipe_certificate: Mapped[str] = mapped_column(String(200), default="")
    handover: Mapped[str] = mapped_column(String(12), default="drop_off")
    preferred_from: Mapped[date | None] = mapped_column(Date)
    preferred_to: Mapped[date | None] = mapped_column(Date)
    collection_address: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    # The donor asked for an account to follow the donation (coordinators give it).
    wants_account: Mapped[bool] = mapped_column(Boolean, default=False)
    scheduled_for: Mapped[date | None] = mapped_column(Date)
    decline_reason: Mapped[str] = mapped_column(Text, default="")
    pledged_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    received_at: Mapped[datetime | None] = mapped_column(DateTime)
    processed_at: Mapped[datetime | None] = mapped_column(DateTime)

    donor: Mapped[Donor] = relationship(back_populates="donations")
    items: Mapped[list[DonationItem]] = relationship(
        back_populates="donation", order_by="DonationItem.position", cascade="all, delete-orphan"
    )
    devices: Mapped[list[Device]] = relationship(back_populates="donation", order_by="Device.id")

    __table_args__ = (
        UniqueConstraint("organisation_id", "reference", name="uq_donation_org_reference"),
        CheckConstraint(f"status IN ({sql_list(DONATION_STATUSES)})", name="status_known"),
        CheckConstraint(f"handover IN ({sql_list(HANDOVER)})", name="handover_known"),
        CheckConstraint("status <> 'declined' OR decline_reason <> ''", name="declined_has_reason"),
        CheckConstraint(
            "status <> 'scheduled' OR scheduled_for IS NOT NULL", name="scheduled_has_date"
        ),
        CheckConstraint(
            "status NOT IN ('received', 'processed') OR received_at IS NOT NULL",
            name="received_has_time",
        ),
        Index("ix_donation_org_donor", "organisation_id", "donor_id"),
    )

    @property
    def pledged_count(self) -> int:
        return sum(i.quantity for i in self.items)

    @property
    def received_count(self) -> int:
        return sum(i.quantity_received or 0 for i in self.items)

    def __repr__(self) -> str:
        return f"<Donation {self.reference}>"


class DonationItem(OrgScoped, db.Model):
    """One line of a pledge: so many devices of one kind."""

    __tablename__ = "donation_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    donation_id: Mapped[int] = mapped_column(
        ForeignKey("donation.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=1)
    kind: Mapped[str] = mapped_column(String(12))
    quantity: Mapped[int] = mapped_column(Integer)
    # Make and model as the donor typed them, apart: "iPad 9th gen" is a model, not a make.
    make: Mapped[str] = mapped_column(String(100), default="", server_default="")
    model: Mapped[str] = mapped_column(String(100), default="", server_default="")
    approx_age: Mapped[str] = mapped_column(String(10), default="unknown")
    condition: Mapped[str] = mapped_column(String(10), default="unknown")
    chargers_included: Mapped[bool] = mapped_column(Boolean, default=False)
    quantity_received: Mapped[int | None] = mapped_column(Integer)

    donation: Mapped[Donation] = relationship(back_populates="items")

    @property
    def make_model(self) -> str:
        """Make and model together, as a line of the pledge is shown."""
        return " ".join(part for part in (self.make, self.model) if part)

    __table_args__ = (
        CheckConstraint(f"kind IN ({sql_list(DEVICE_KINDS)})", name="kind_known"),
        CheckConstraint("quantity BETWEEN 1 AND 500", name="quantity_range"),
        CheckConstraint(
            "quantity_received IS NULL OR quantity_received BETWEEN 0 AND 500",
            name="received_range",
        ),
        CheckConstraint(f"approx_age IN ({sql_list(ITEM_AGES)})", name="age_known"),
        CheckConstraint(f"condition IN ({sql_list(ITEM_CONDITIONS)})", name="condition_known"),
    )

    @property
    def kind_label(self) -> str:
        return DEVICE_KINDS.get(self.kind, self.kind)


class Device(OrgScoped, db.Model):
    __tablename__ = "device"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Unique in the whole deployment: the public label URL /d/<tag> names no organisation.
    asset_tag: Mapped[str] = mapped_column(String(16), unique=True)
    kind: Mapped[str] = mapped_column(String(12))
    make: Mapped[str] = mapped_column(String(100), default="")
    model: Mapped[str] = mapped_column(String(100), default="")
    serial: Mapped[str | None] = mapped_column(String(64))
    condition_grade: Mapped[str] = mapped_column(String(6), default="B")
    accessories: Mapped[str] = mapped_column(Text, default="")
    storage_location: Mapped[str] = mapped_column(String(100), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    donation_id: Mapped[int | None] = mapped_column(
        ForeignKey("donation.id", ondelete="RESTRICT"), index=True
    )
    status: Mapped[str] = mapped_column(String(14), default="received", index=True)
    status_changed_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    # True once a wipe is recorded after the device last entered awaiting_wipe.
    wiped: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)

    donation: Mapped[Donation | None] = relationship(back_populates="devices")
    history: Mapped[list[DeviceStatusChange]] = relationship(
        back_populates="device", order_by="DeviceStatusChange.at, DeviceStatusChange.id"
    )
    wipes: Mapped[list[Wipe]] = relationship(
        back_populates="device", order_by="Wipe.wiped_at, Wipe.id"
    )

    __table_args__ = (
        CheckConstraint(f"status IN ({sql_list(DEVICE_STATUSES)})", name="status_known"),
        CheckConstraint(f"kind IN ({sql_list(DEVICE_KINDS)})", name="kind_known"),
        CheckConstraint(f"condition_grade IN ({sql_list(CONDITION_GRADES)})", name="grade_known"),
        CheckConstraint("status <> 'ready' OR wiped", name="ready_needs_wipe"),
        # Serial/IMEI unique within an organisation when given.
        Index(
            "uq_device_org_serial",
            "organisation_id",
            "serial",
            unique=True,
            sqlite_where=text("serial IS NOT NULL"),
            postgresql_where=text("serial IS NOT NULL"),
        ),
        # Pages: organisation_id first, then what the page filters and orders by, so
        # every scoped query finds its rows through one index (SQLite has no statistics
        # without ANALYZE, and would otherwise read the whole organisation).
        Index("ix_device_org_created", "organisation_id", "created_at", "id"),
        Index("ix_device_org_donation", "organisation_id", "donation_id", "status"),
    )

    @property
    def kind_label(self) -> str:
        return DEVICE_KINDS.get(self.kind, self.kind)

    @property
    def status_label(self) -> str:
        return DEVICE_STATUS_LABELS.get(self.status, self.status)

    @property
    def name(self) -> str:
        return " ".join(p for p in (self.make, self.model) if p) or self.kind_label

    def __repr__(self) -> str:
        return f"<Device {self.asset_tag}>"


class DeviceStatusChange(OrgScoped, db.Model):
    """One step of a device's life: the timeline on its page."""

    __tablename__ = "device_status_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("device.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(14))
    to_status: Mapped[str] = mapped_column(String(14))
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(DateTime, default=now)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    device: Mapped[Device] = relationship(back_populates="history")
    by = relationship("User")

    __table_args__ = (
        Index("ix_device_status_change_org_device", "organisation_id", "device_id", "at", "id"),
    )


class Wipe(OrgScoped, db.Model):
    """A data wipe of one device: method, who did it, when, and the certificate."""

    __tablename__ = "wipe"

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("device.id", ondelete="CASCADE"), index=True)
    method: Mapped[str] = mapped_column(String(30))
    wiped_by: Mapped[str] = mapped_column(String(200))
    wiped_at: Mapped[datetime] = mapped_column(DateTime)
    certificate_reference: Mapped[str] = mapped_column(String(100), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime, default=now)

    device: Mapped[Device] = relationship(back_populates="wipes")
    recorded_by = relationship("User")

    __table_args__ = (
        CheckConstraint(f"method IN ({sql_list(WIPE_METHODS)})", name="method_known"),
        Index("ix_wipe_org_device", "organisation_id", "device_id", "wiped_at", "id"),
    )

    @property
    def method_label(self) -> str:
        return WIPE_METHODS.get(self.method, self.method)
