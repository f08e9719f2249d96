"""The rules of the outbox: who gets a message, on which channel, when, and what happens
to it afterwards.

``queue()`` is the one way to send anything: called inside the transaction of the change
that causes the message (an invitation, a lend, a pledge), it renders the text, picks
the channel the recipient agreed to, and adds a queued ``Message`` with an idempotency
key that is unique per organisation, so queuing the same message again is a no-op. The
worker (``inclusion.messages.worker``) sends it later; no request ever waits for a
provider. Functions change objects, audit (ids and field names only) and flush.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import phonenumbers
from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..clock import now
from ..errors import RuleBroken
from ..extensions import db
from ..workflow import transition
from . import texts
from .channels import FINAL_SMS_STATUSES, Delivery, channel_available
from .models import (
    CANCELLED,
    CHANNELS,
    DELIVERY_REASONS,
    EMAIL,
    FAILED,
    LETTER,
    QUEUED,
    SENDING,
    SENT,
    SMS,
    TRANSITIONS,
    ContactPreference,
    Message,
)

#: No texts to residents before 09:00 or after 20:00 (local time): they wait until 09:00.
QUIET_UNTIL = time(9, 0)
QUIET_FROM = time(20, 0)
#: A claim older than this belongs to a worker that died mid-send.
STALE_CLAIM = timedelta(minutes=15)
#: Delivery statuses of a sent text that mean it never arrived: a to-do like a failure.
UNDELIVERED = tuple(status for status in DELIVERY_REASONS if status != "delivered")
#: The audit log's name for GOV.UK Notify calling back with a delivery status.
NOTIFY_CALLBACK = "notify:callback"


@dataclass(frozen=True)
class Outgoing:
    """What a channel needs to send one message, read before the provider is called so
    that no transaction stays open while it answers."""

    id: int
    channel: str
    address: str
    recipient_name: str
    subject: str
    body: str
    organisation_name: str
    organisation_email: str
    uncertain: bool
    language: str = "English"

    @classmethod
    def of(cls, message) -> Outgoing:
        return cls(
            id=message.id,
            channel=message.channel,
            address=message.address,
            recipient_name=message.recipient_name,
            subject=message.subject,
            body=message.body,
            organisation_name=message.organisation.name,
            organisation_email=message.organisation.contact_email or "",
            uncertain=message.uncertain,
            language=message.language or "English",
        )


@dataclass(frozen=True)
class Recipient:
    """Who a message is for, and how to reach them, as ``queue()`` needs it."""

    kind: str  # resident, user, donor, buddy
    id: int
    name: str
    email: str = ""
    phone: str = ""
    language: str = "English"
    resident: object | None = None


def to_resident(resident) -> Recipient:
    return Recipient(
        "resident",
        resident.id,
        resident.full_name,
        email=resident.email or "",
        phone=resident.phone or "",
        language=resident.preferred_language or "English",
        resident=resident,
    )


def to_user(user) -> Recipient:
    return Recipient("user", user.id, user.name, email=user.email)


def to_contact(kind: str, id_: int, name: str, email: str) -> Recipient:
    """A donor's contact or a buddy's profile (features' records the core does not know)."""
    return Recipient(kind, id_, name, email=email or "")


# ---- addresses and quiet hours -------------------------------------------------------


def mobile_e164(phone: str) -> str | None:
    """The number in E.164 (+447911123456) when it can take a text, else ``None``."""
    try:
        number = phonenumbers.parse(phone or "", "GB")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    kind = phonenumbers.number_type(number)
    if kind not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def local_time(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC).astimezone(_zone())


def outside_quiet_hours(at: datetime) -> datetime:
    """``at`` (naive UTC) or, when that falls between 20:00 and 09:00 local time, the next
    09:00 local time (as naive UTC)."""
    local = local_time(at)
    if QUIET_UNTIL <= local.time() < QUIET_FROM:
        return at
    day = local.date() if local.time() < QUIET_UNTIL else local.date() + timedelta(days=1)
    morning = datetime.combine(day, QUIET_UNTIL, tzinfo=_zone())
    return morning.astimezone(UTC).replace(tzinfo=None)


# ---- contact preferences -------------------------------------------------------------


def preference_of(resident) -> ContactPreference | None:
    return db.session.scalar(
        select(ContactPreference).where(ContactPreference.resident_id == resident.id)
    )


def save_contact_preference(resident, data: dict, *, by) -> ContactPreference:
    """Record how a resident agreed to be contacted. A channel needs what it uses (a
    mobile number for texts, an e-mail address, a postal address for letters); the
    preferred channel must be one they agreed to; "no messages" cancels what is queued."""
    from ..residents.service import refuse_if_anonymised

    refuse_if_anonymised(resident)
    by_sms, by_email, by_letter = (bool(data.get(f"by_{c}")) for c in CHANNELS)
    no_messages = bool(data.get("no_messages"))
    preferred = data.get("preferred") or None
    address = "\n".join(
        line.strip() for line in (data.get("postal_address") or "").splitlines() if line.strip()
    )
    if preferred is not None and preferred not in CHANNELS:
        raise RuleBroken("Choose one of the channels.", "preferred")
    if by_sms and mobile_e164(resident.phone) is None:
        raise RuleBroken(
            "Their phone number on the record is not a mobile, so it cannot take texts.",
            "by_sms",
        )
    if by_email and not resident.email:
        raise RuleBroken("Add their e-mail address to the record first.", "by_email")
    if by_letter and not address:
        raise RuleBroken("Enter the postal address letters go to.", "postal_address")
    if len(address) > 500 or len(address.splitlines()) > 7:
        raise RuleBroken("Keep the address to 7 lines.", "postal_address")
    if preferred and not data.get(f"by_{preferred}"):
        raise RuleBroken("The preferred channel must be one they agreed to.", "preferred")
    pref = preference_of(resident)
    if pref is None:
        pref = ContactPreference(organisation_id=resident.organisation_id, resident_id=resident.id)
        db.session.add(pref)
    pref.by_sms, pref.by_email, pref.by_letter = by_sms, by_email, by_letter
    pref.preferred, pref.no_messages, pref.postal_address = preferred, no_messages, address
    fields = ["by_sms", "by_email", "by_letter", "preferred", "no_messages", "postal_address"]
    changed = audit.changed_fields(pref, fields) if pref.id else fields
    pref.updated_at, pref.updated_by_id = now(), by.id if by else None
    db.session.flush()
    if changed:
        audit.record("contact_preference.saved", pref, changed=changed, actor=by)
    if no_messages:
        cancel_for_resident(resident, by=by)
    db.session.flush()
    return pref


def cancel_for_resident(resident, *, by=None) -> int:
    """Everything still queued for ``resident`` is cancelled ("no messages")."""
    queued = db.session.scalars(
        select(Message).where(Message.resident_id == resident.id, Message.status == QUEUED)
    ).all()
    for message in queued:
        cancel(message, by=by)
    return len(queued)


# ---- queuing ------------------------------------------------------------------------


def _candidate_channels(purpose, recipient: Recipient, pref) -> list[str]:
    if recipient.kind != "resident":
        return [EMAIL] if EMAIL in purpose.texts else []
    if pref is None or pref.no_messages:
        return []
    order = [c for c in (pref.preferred, SMS, EMAIL, LETTER) if c]
    return [c for c in dict.fromkeys(order) if pref.agrees_to(c) and c in purpose.texts]


def _address(channel: str, recipient: Recipient, pref) -> str:
    if channel == SMS:
        return mobile_e164(recipient.phone) or ""
    if channel == EMAIL:
        return (recipient.email or "").strip()
    return (pref.postal_address if pref else "") or ""


def _language_for(to: Recipient, organisation) -> str:
    """The language a message to ``to`` is written in: for a resident, their recorded
    preferred language (the organisation's own text in it if an admin wrote one, else
    inclusion's translation when the organisation offers that language, else English);
    staff, buddies and donors get English."""
    from ..i18n import language_for_preference, offered_codes

    if to.kind != "resident":
        return "English"
    code = language_for_preference(to.language)
    if code is not None and code not in offered_codes(organisation):
        return "English"
    return to.language or "English"


def existing(organisation_id: int, key: str) -> Message | None:
    return db.session.scalar(
        select(Message)
        .where(Message.organisation_id == organisation_id, Message.idempotency_key == key)
        .execution_options(all_organisations=True)
    )


def queue(
    organisation,
    *,
    purpose: str,
    key: str,
    to: Recipient,
    values: dict | None = None,
    send_at: datetime | None = None,
    secret: str | None = None,
    by=None,
) -> Message | None:
    """Queue one message in the current transaction; ``None`` when it cannot or must
    not go (a resident with no agreed channel, "no messages", an erased record, no
    address, a text too long for two segments and no other channel).

    ``key`` (e.g. ``loan:L-00007:due:2027-01-26``) is unique per organisation: when a
    message with it exists already, that one is returned and nothing new is queued.
    Texts to residents wait for 09:00 when queued in quiet hours. ``secret`` is a
    one-time token in the text: never shown, and removed from it once it has gone.
    """
    found = existing(organisation.id, key)
    if found is not None:
        return found
    spec = texts.purpose_of(purpose)
    resident = to.resident
    if resident is not None and resident.anonymised_at is not None:
        return None
    pref = preference_of(resident) if resident is not None else None
    values = {
        "organisation": organisation.name,
        "organisation_phone": organisation.contact_phone,
        **(values or {}),
    }
    language = _language_for(to, organisation)
    chosen = None
    for channel in _candidate_channels(spec, to, pref):
        address = _address(channel, to, pref)
        if not address or not channel_available(channel):
            continue
        wording = texts.wording(spec, channel, organisation.id, language)
        text = texts.rendered(wording, values)
        if channel == SMS and texts.sms_segments(text.body).count > texts.MAX_SMS_SEGMENTS:
            continue
        chosen = (channel, address, wording, text)
        break
    if chosen is None:
        return None
    channel, address, wording, text = chosen
    at = send_at or now()
    if channel == SMS and to.kind == "resident":
        at = outside_quiet_hours(at)
    message = Message(
        organisation_id=organisation.id,
        recipient_kind=to.kind,
        recipient_id=to.id,
        resident_id=to.id if to.kind == "resident" else None,
        channel=channel,
        purpose=purpose,
        language=wording.language[:60],
        recipient_name=to.name[:200],
        address=address[:500],
        subject=text.subject[:200],
        body=text.body,
        large_print=bool(resident is not None and resident.access_sight),
        secret=secret,
        status=QUEUED,
        attempts=0,
        next_attempt_at=at,
        idempotency_key=key[:120],
        created_at=now(),
    )
    try:
        with db.session.begin_nested():
            db.session.add(message)
            db.session.flush()
    except IntegrityError:
        # Queued by someone else a moment ago (two runs of the scheduler): that one stands.
        return existing(organisation.id, key)
    audit.record(
        "message.queued",
        message,
        changed=["purpose", "channel", "status"],
        actor=by if by is not None else audit.PUBLIC,
    )
    return message


def count_queued_keys(organisation_id: int, key_prefix: str) -> int:
    """How many messages (in any state) have a key starting with ``key_prefix``: a
    reminder source counts what it added."""
    from sqlalchemy import func

    return db.session.scalar(
        select(func.count())
        .select_from(Message)
        .where(
            Message.organisation_id == organisation_id,
            Message.idempotency_key.startswith(key_prefix, autoescape=True),
        )
        .execution_options(all_organisations=True)
    )


def invitation_message(user) -> Message | None:
    """The newest invitation e-mail queued for ``user``."""
    return db.session.scalar(
        select(Message)
        .where(
            Message.recipient_kind == "user",
            Message.recipient_id == user.id,
            Message.purpose == "account.invitation",
        )
        .order_by(Message.id.desc())
        .limit(1)
        .execution_options(all_organisations=True)
    )


def cancel_queued(organisation_id: int, key_prefix: str, *, by=None) -> int:
    """Cancel the queued messages whose key starts with ``key_prefix`` (a loan returned:
    its reminders must not go). Returns how many."""
    queued = db.session.scalars(
        select(Message).where(
            Message.organisation_id == organisation_id,
            Message.status == QUEUED,
            Message.idempotency_key.startswith(key_prefix, autoescape=True),
        )
    ).all()
    for message in queued:
        cancel(message, by=by)
    return len(queued)


# ---- what coordinators do ----------------------------------------------------------


def cancel(message: Message, *, by=None) -> None:
    """A queued message that should no longer go."""
    if message.status != QUEUED:
        raise RuleBroken("Only a queued message can be cancelled.")
    transition(message, CANCELLED, TRANSITIONS, action="message.cancelled", actor=by)
    _forget_secret(message)
    db.session.flush()


def retry(message: Message, *, by) -> None:
    """A failed message goes back in the queue with a fresh count of attempts."""
    if message.status != FAILED:
        raise RuleBroken("Only a failed message can be tried again.")
    if message.secret is None and message.purpose.startswith("account."):
        raise RuleBroken("Its one-time link has been removed: send a new link instead.")
    transition(
        message,
        QUEUED,
        TRANSITIONS,
        action="message.retried",
        extra_changed=["attempts", "next_attempt_at"],
        actor=by,
    )
    message.attempts, message.next_attempt_at, message.failure_reason = 0, now(), ""
    message.uncertain = False
    db.session.flush()


def resolve(message: Message, *, by) -> None:
    """The to-do of a failed (or undelivered) message is done: someone phoned them."""
    if not is_to_do(message):
        raise RuleBroken("This message needs nothing doing.")
    message.resolved_at, message.resolved_by_id = now(), by.id
    audit.record("message.resolved", message, changed=["resolved_at"], actor=by)
    db.session.flush()


def is_to_do(message: Message) -> bool:
    if message.resolved_at is not None:
        return False
    return message.status == FAILED or (
        message.status == SENT and message.provider_status in UNDELIVERED
    )


def to_do():
    """Messages that did not reach someone: phone them instead (scoped by the tenancy)."""
    return (
        select(Message)
        .where(
            Message.resolved_at.is_(None),
            (Message.status == FAILED)
            | ((Message.status == SENT) & Message.provider_status.in_(UNDELIVERED)),
        )
        .order_by(Message.created_at, Message.id)
    )


# ---- letters ---------------------------------------------------------------------------


def letters_due(as_of: datetime | None = None):
    """The day's letters: queued and due, oldest first."""
    return (
        select(Message)
        .where(
            Message.channel == LETTER,
            Message.status == QUEUED,
            Message.next_attempt_at <= (as_of or now()),
        )
        .order_by(Message.next_attempt_at, Message.id)
    )


def confirm_posted(message_ids: list[int], *, by) -> int:
    """The coordinator posted these printed letters: each still queued becomes sent."""
    letters = db.session.scalars(
        select(Message)
        .where(
            Message.id.in_(message_ids or [-1]),
            Message.channel == LETTER,
            Message.status == QUEUED,
        )
        .with_for_update()
    ).all()
    if not letters:
        raise RuleBroken("None of these letters is waiting to be posted any more.")
    for letter in letters:
        transition(
            letter,
            SENT,
            TRANSITIONS,
            action="message.posted",
            extra_changed=["sent_at", "provider"],
            actor=by,
        )
        letter.sent_at, letter.provider, letter.provider_status = now(), "post", "posted"
    db.session.flush()
    return len(letters)


# ---- the worker's steps (each its own unit of work: see worker.py) --------------------


def release_stale_claims(as_of: datetime | None = None) -> int:
    """Messages claimed by a worker that died mid-send go back to the queue, marked
    uncertain: the provider may have taken them, so the next attempt asks first."""
    result = db.session.execute(
        update(Message)
        .where(Message.status == SENDING, Message.claimed_at < (as_of or now()) - STALE_CLAIM)
        .values(status=QUEUED, claim_token=None, uncertain=True)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def claim_due(token: str, limit: int, as_of: datetime | None = None) -> list[int]:
    """Claim up to ``limit`` due texts and e-mails for the worker run ``token``.

    On PostgreSQL the rows are picked ``FOR UPDATE SKIP LOCKED``, so workers on several
    machines each take different messages; the conditional UPDATE (only rows still
    queued) makes the claim safe on SQLite too. Each claim counts as an attempt.
    """
    as_of = as_of or now()
    ids = db.session.scalars(
        select(Message.id)
        .where(
            Message.status == QUEUED,
            Message.channel.in_((SMS, EMAIL)),
            Message.next_attempt_at <= as_of,
        )
        .order_by(Message.next_attempt_at, Message.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if not ids:
        return []
    db.session.execute(
        update(Message)
        .where(Message.id.in_(ids), Message.status == QUEUED)
        .values(
            status=SENDING,
            claim_token=token,
            claimed_at=as_of,
            attempts=Message.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    return list(
        db.session.scalars(
            select(Message.id).where(Message.claim_token == token, Message.status == SENDING)
        )
    )


def claimed(message_id: int, token: str) -> Message | None:
    """The message (its row locked) if this worker run still holds it."""
    message = db.session.scalar(
        select(Message)
        .where(Message.id == message_id)
        .with_for_update()
        .execution_options(populate_existing=True, all_organisations=True)
    )
    if message is None or message.status != SENDING or message.claim_token != token:
        return None
    return message


def why_not_send(message: Message) -> str | None:
    """A last look before sending: a resident erased, or who wants no messages now."""
    if message.resident_id is None:
        return None
    resident = message.resident
    if resident.anonymised_at is not None or not message.address:
        return "The resident's record was erased."
    pref = preference_of(resident)
    if pref is None or not pref.agrees_to(message.channel):
        return "The resident no longer agrees to messages on this channel."
    return None


def hold_for_quiet_hours(message: Message) -> bool:
    """A retry of a text to a resident that would land in quiet hours waits for 09:00
    (not counted as an attempt). True when it was put back."""
    if message.channel != SMS or message.recipient_kind != "resident":
        return False
    at = outside_quiet_hours(now())
    if at == now():
        return False
    _back_to_queue(message, at, count_attempt=False)
    return True


def _back_to_queue(message: Message, at: datetime, *, count_attempt: bool = True) -> None:
    message.status, message.claim_token, message.next_attempt_at = QUEUED, None, at
    if not count_attempt:
        message.attempts = max(message.attempts - 1, 0)


def _forget_secret(message: Message) -> None:
    if message.secret:
        message.body = message.body.replace(message.secret, "[one-time link, removed]")
        message.secret = None


def record_sent(message: Message, delivery: Delivery) -> None:
    message.status, message.claim_token = SENT, None
    message.sent_at, message.uncertain = now(), False
    message.provider, message.provider_id = delivery.provider, delivery.provider_id
    message.provider_status, message.failure_reason = delivery.provider_status, ""
    _forget_secret(message)
    audit.record("message.sent", message, changed=["status", "sent_at", "provider_id"])
    db.session.flush()


def record_failure(message: Message, reason: str, *, permanent: bool, uncertain=False) -> None:
    """A temporary failure is retried with backoff (60 s, 2 min, 4 min… by default)
    until the last attempt; a permanent one, or the last attempt, fails the message:
    a to-do for a coordinator."""
    config = current_app.config
    message.uncertain = bool(uncertain)
    if not permanent and message.attempts < config["MESSAGE_ATTEMPTS"]:
        wait = config["MESSAGE_RETRY_SECONDS"] * 2 ** max(message.attempts - 1, 0)
        message.failure_reason = reason[:300]
        _back_to_queue(message, now() + timedelta(seconds=wait))
        audit.record("message.retrying", message, changed=["status", "next_attempt_at"])
    else:
        if not permanent:
            reason = f"Gave up after {message.attempts} attempts: {reason}"
        message.status, message.claim_token = FAILED, None
        message.failure_reason = reason[:300]
        _forget_secret(message)
        audit.record("message.failed", message, changed=["status", "failure_reason"])
    db.session.flush()


def record_cancelled(message: Message, reason: str) -> None:
    message.status, message.claim_token, message.failure_reason = CANCELLED, None, reason[:300]
    _forget_secret(message)
    audit.record("message.cancelled", message, changed=["status"])
    db.session.flush()


def record_delivery_status(message: Message, status: str) -> bool:
    """What the provider says became of a sent text: the status is kept on the message
    (``provider_status``); a text that never arrived fails with the provider's reason, a
    to-do for a coordinator. Idempotent: the same status again changes nothing; a status
    for a message already sent again (a retry) or not sent is ignored. True when it changed.
    """
    status = (status or "")[:40]
    if message.status not in (SENT, FAILED) or status == message.provider_status:
        return False
    if message.status == FAILED and status not in UNDELIVERED:
        return False  # a failed text stays failed (final statuses do not change back)
    message.provider_status = status
    if status in UNDELIVERED:
        message.failure_reason = DELIVERY_REASONS[status][:300]
        if message.status == SENT:
            transition(
                message,
                FAILED,
                TRANSITIONS,
                action="message.undelivered",
                extra_changed=["provider_status", "failure_reason"],
            )
        else:
            audit.record(
                "message.delivery_status", message, changed=["provider_status", "failure_reason"]
            )
    else:
        audit.record("message.delivery_status", message, changed=["provider_status"])
    db.session.flush()
    return True


def locked_message(message_id: int) -> Message | None:
    """The message, its row locked and read afresh (any organisation: the worker's)."""
    return db.session.scalar(
        select(Message)
        .where(Message.id == message_id)
        .with_for_update()
        .execution_options(all_organisations=True, populate_existing=True)
    )


def message_for_notification(notification_id: str, reference: str = "") -> Message | None:
    """The text GOV.UK Notify knows as ``notification_id`` (any organisation: Notify calls
    back without one), its row locked for the update; the reference we gave Notify
    (``inclusion-message-<id>``) must agree when it is given."""
    if not notification_id:
        return None
    message = db.session.scalar(
        select(Message)
        .where(
            Message.provider == "notify",
            Message.provider_id == str(notification_id)[:64],
            Message.channel == SMS,
        )
        .with_for_update()
        .execution_options(all_organisations=True, populate_existing=True)
    )
    if message is None:
        return None
    if reference and reference != f"inclusion-message-{message.id}":
        return None
    return message


def awaiting_delivery_status(limit: int = 200) -> list[Message]:
    """Texts Notify took in the last week whose delivery is not known yet."""
    return list(
        db.session.scalars(
            select(Message)
            .where(
                Message.status == SENT,
                Message.channel == SMS,
                Message.provider == "notify",
                Message.provider_status.not_in(FINAL_SMS_STATUSES),
                Message.sent_at >= now() - timedelta(days=7),
            )
            .order_by(Message.sent_at, Message.id)
            .limit(limit)
        )
    )


# ---- an organisation's own texts ------------------------------------------------------


def save_text(
    organisation_id: int, purpose: str, channel: str, *, language: str, subject: str, body, by
):
    """An admin's own wording for one purpose and channel: its placeholders must be the
    purpose's, a link it needs kept, an SMS within two segments with the longest values."""
    from ..residents.forms import LANGUAGES
    from .models import MessageText

    spec = texts.purpose_of(purpose)
    if channel not in spec.texts:
        raise RuleBroken("This message is not sent on that channel.")
    if language not in LANGUAGES:
        raise RuleBroken("Choose a language from the list.", "language")
    subject = (subject or "").strip() if channel == EMAIL else ""
    body = (body or "").replace("\r\n", "\n").strip()
    found = texts.problems(spec, channel, subject, body)
    if found:
        field, problem = next(iter(found.items()))
        raise RuleBroken(problem, field)
    row = db.session.scalar(
        select(MessageText).where(
            MessageText.organisation_id == organisation_id,
            MessageText.purpose == purpose,
            MessageText.channel == channel,
            MessageText.language == language,
        )
    )
    if row is None:
        row = MessageText(
            organisation_id=organisation_id, purpose=purpose, channel=channel, language=language
        )
        db.session.add(row)
    row.subject, row.body, row.updated_at, row.updated_by_id = subject, body, now(), by.id
    db.session.flush()
    audit.record("message_text.saved", row, changed=["subject", "body"], actor=by)
    db.session.flush()
    return row
