"""The outbox: one ``Message`` per text, e-mail or letter, the organisation's own message
texts, and residents' contact preferences.

A message is queued in the transaction of the change that causes it and sent afterwards
by the worker (``flask inclusion send-messages``); its status only moves along
``TRANSITIONS``, backed by a check constraint. ``(organisation_id, idempotency_key)`` is
unique, so a reminder is never queued twice however often the scheduler runs.
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
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import now
from ..extensions import db
from ..schema import sql_list
from ..tenancy import OrgScoped

SMS, EMAIL, LETTER = "sms", "email", "letter"
CHANNELS = {SMS: "Text message", EMAIL: "E-mail", LETTER: "Letter"}
RECIPIENT_KINDS = ("resident", "user", "donor", "buddy")

QUEUED, SENDING, SENT, FAILED, CANCELLED = "queued", "sending", "sent", "failed", "cancelled"
STATUSES = (QUEUED, SENDING, SENT, FAILED, CANCELLED)
STATUS_LABELS = {
    QUEUED: "Queued",
    SENDING: "Sending",
    SENT: "Sent",
    FAILED: "Failed",
    CANCELLED: "Cancelled",
}
# queued -> sending (claimed by a worker) -> sent, failed, or queued again to retry.
# A letter goes queued -> sent when the coordinator confirms it was posted. A sent text
# fails when the provider reports it never arrived (its delivery status).
TRANSITIONS: dict[str, frozenset[str]] = {
    QUEUED: frozenset({SENDING, SENT, CANCELLED}),
    SENDING: frozenset({SENT, FAILED, QUEUED}),
    SENT: frozenset({FAILED}),
    FAILED: frozenset({QUEUED}),
    CANCELLED: frozenset(),
}

#: What GOV.UK Notify's final delivery statuses mean, as the message page says it (a text
#: that never arrived fails, with this as its reason: a coordinator phones instead).
DELIVERY_REASONS = {
    "delivered": "Delivered to the phone.",
    "permanent-failure": (
        "The network says the number does not exist or cannot take texts (GOV.UK Notify: "
        "permanent-failure). Check the number with them."
    ),
    "temporary-failure": (
        "The phone was switched off or out of reach for 72 hours (GOV.UK Notify: "
        "temporary-failure). It may work if tried again."
    ),
    "technical-failure": (
        "GOV.UK Notify could not send it because of a problem on its side (technical-failure)."
        " It may work if tried again."
    ),
}
#: What the development outbox writes as the provider: nothing left the building.
DEVELOPMENT = "development"


class Message(OrgScoped, db.Model):
    __tablename__ = "message"

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_kind: Mapped[str] = mapped_column(String(10))
    recipient_id: Mapped[int] = mapped_column(Integer)
    # Also set for residents, so their messages are found (and erased) with their record.
    resident_id: Mapped[int | None] = mapped_column(
        ForeignKey("resident.id", ondelete="RESTRICT"), index=True
    )
    channel: Mapped[str] = mapped_column(String(8))
    purpose: Mapped[str] = mapped_column(String(40), index=True)
    language: Mapped[str] = mapped_column(String(60), default="English")
    # Who and where, as they were when it was queued (a phone in E.164, an e-mail
    # address, or the lines of a postal address).
    recipient_name: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(String(500), default="")
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    large_print: Mapped[bool] = mapped_column(Boolean, default=False)
    # A one-time link in the body (an invitation or password reset token): taken out of
    # the stored text once the message has left, never shown on a page.
    secret: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(10), default=QUEUED, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    # The worker's claim: which run holds it while sending.
    claim_token: Mapped[str | None] = mapped_column(String(32))
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The last attempt did not say whether the provider took it (a timeout): before
    # sending again, the worker asks the provider.
    uncertain: Mapped[bool] = mapped_column(Boolean, default=False)
    provider: Mapped[str] = mapped_column(String(20), default="")
    provider_id: Mapped[str] = mapped_column(String(64), default="")
    provider_status: Mapped[str] = mapped_column(String(40), default="")
    failure_reason: Mapped[str] = mapped_column(String(300), default="")
    idempotency_key: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    # A failed message is a to-do for a coordinator (phone them) until resolved.
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    resolved_by = relationship("User", foreign_keys=[resolved_by_id])
    resident = relationship("Resident")

    __table_args__ = (
        UniqueConstraint("organisation_id", "idempotency_key", name="uq_message_org_key"),
        CheckConstraint(f"status IN ({sql_list(STATUSES)})", name="status_known"),
        CheckConstraint(f"channel IN ({sql_list(CHANNELS)})", name="channel_known"),
        CheckConstraint(f"recipient_kind IN ({sql_list(RECIPIENT_KINDS)})", name="kind_known"),
        CheckConstraint(
            "(recipient_kind = 'resident' AND resident_id = recipient_id)"
            " OR (recipient_kind <> 'resident' AND resident_id IS NULL)",
            name="resident_matches",
        ),
        CheckConstraint("status <> 'sent' OR sent_at IS NOT NULL", name="sent_has_time"),
        CheckConstraint("status <> 'failed' OR failure_reason <> ''", name="failed_has_reason"),
        CheckConstraint("attempts >= 0", name="attempts_positive"),
        # What the worker looks for: queued and due.
        Index("ix_message_due", "status", "next_attempt_at"),
    )

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def channel_label(self) -> str:
        return CHANNELS.get(self.channel, self.channel)

    @property
    def delivery(self) -> str:
        """What the provider last said became of it, in words (a text's delivery status)."""
        if not self.provider_status or self.in_development:
            return ""
        return DELIVERY_REASONS.get(self.provider_status, self.provider_status)

    @property
    def in_development(self) -> bool:
        return self.provider == DEVELOPMENT

    @property
    def shown_body(self) -> str:
        """The text as a page may show it: a one-time link never appears."""
        if self.secret:
            return self.body.replace(self.secret, "[one-time link]")
        return self.body

    def __repr__(self) -> str:
        return f"<Message {self.id} {self.purpose} {self.channel} {self.status}>"


class MessageText(OrgScoped, db.Model):
    """An organisation's own wording of one purpose on one channel (in one language);
    without one, the purpose's default text is used."""

    __tablename__ = "message_text"

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(8))
    language: Mapped[str] = mapped_column(String(60), default="English")
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    updated_by = relationship("User")

    __table_args__ = (
        UniqueConstraint(
            "organisation_id", "purpose", "channel", "language", name="uq_message_text"
        ),
        CheckConstraint(f"channel IN ({sql_list(CHANNELS)})", name="channel_known"),
    )


class ContactPreference(OrgScoped, db.Model):
    """How a resident agreed to be contacted: the channels, the one they prefer, a postal
    address for letters, or no messages at all."""

    __tablename__ = "contact_preference"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(
        ForeignKey("resident.id", ondelete="CASCADE"), unique=True
    )
    by_sms: Mapped[bool] = mapped_column(Boolean, default=False)
    by_email: Mapped[bool] = mapped_column(Boolean, default=False)
    by_letter: Mapped[bool] = mapped_column(Boolean, default=False)
    preferred: Mapped[str | None] = mapped_column(String(8))
    no_messages: Mapped[bool] = mapped_column(Boolean, default=False)
    postal_address: Mapped[str] = mapped_column(String(500), default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    resident = relationship("Resident")
    updated_by = relationship("User")

    __table_args__ = (
        CheckConstraint(
            f"preferred IS NULL OR preferred IN ({sql_list(CHANNELS)})", name="preferred_known"
        ),
    )

    def agrees_to(self, channel: str) -> bool:
        return not self.no_messages and bool(getattr(self, f"by_{channel}"))

    @property
    def channel_labels(self) -> list[str]:
        return [label for key, label in CHANNELS.items() if getattr(self, f"by_{key}")]
