"""The worker behind ``flask inclusion send-messages``: claims due messages, sends each,
records what happened.

Each step is its own unit of work and commits (unlike a request, which commits once):
the claim is committed before anything is sent, so no database lock or transaction is
held while a provider thinks, and the outcome of each message is committed on its own,
so a crash loses at most the one message in flight, which a later run finds claimed
too long ago and, before sending it again, asks the provider about.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field

from flask import current_app

from .. import audit
from ..extensions import db
from . import service
from .channels import PermanentFailure, TemporaryFailure, sender_for

log = logging.getLogger(__name__)

#: The audit log's name for the worker.
WORKER = "cli:send-messages"


@dataclass
class RunResult:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    cancelled: int = 0
    held: int = 0
    skipped: int = 0
    statuses: int = 0
    ids: list[int] = field(default_factory=list)

    @property
    def handled(self) -> int:
        return self.sent + self.retrying + self.failed + self.cancelled + self.held


def claim(limit: int = 100) -> tuple[str, list[int]]:
    """Claim due messages (committed), after giving back those of dead workers."""
    token = secrets.token_hex(16)
    with audit.acting_as(WORKER):
        service.release_stale_claims()
        ids = service.claim_due(token, limit)
    db.session.commit()
    return token, ids


def deliver(message_id: int, token: str, result: RunResult) -> None:
    """Send one claimed message and commit its outcome."""
    with audit.acting_as(WORKER):
        try:
            _deliver(message_id, token, result)
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise


def _deliver(message_id: int, token: str, result: RunResult) -> None:
    message = service.claimed(message_id, token)
    if message is None:  # another run took it back; not ours to send
        result.skipped += 1
        return
    reason = service.why_not_send(message)
    if reason:
        service.record_cancelled(message, reason)
        result.cancelled += 1
        return
    if service.hold_for_quiet_hours(message):
        db.session.flush()
        result.held += 1
        return
    sender = sender_for(message.channel)
    if sender is None:
        service.record_failure(
            message, f"{message.channel_label} is switched off here (no settings).", permanent=True
        )
        result.failed += 1
        return
    outgoing = service.Outgoing.of(message)
    # Nothing is locked, no transaction open, while the provider answers: the claim
    # (status "sending" with this run's token) keeps the message ours alone.
    db.session.commit()
    try:
        delivery = None
        if outgoing.uncertain:
            delivery = sender.find_sent(outgoing)
        if delivery is None:
            delivery = sender.send(outgoing)
    except TemporaryFailure as err:
        message = service.claimed(message_id, token)
        if message is None:
            result.skipped += 1
            return
        service.record_failure(message, err.reason, permanent=False, uncertain=err.uncertain)
        if message.status == "failed":
            result.failed += 1
        else:
            result.retrying += 1
        log.info("message %s: attempt %s failed, %s", message.id, message.attempts, message.status)
        return
    except PermanentFailure as err:
        message = service.claimed(message_id, token)
        if message is None:
            result.skipped += 1
            return
        service.record_failure(message, err.reason, permanent=True)
        result.failed += 1
        log.info("message %s failed", message.id)
        return
    message = service.claimed(message_id, token)
    if message is None:  # taken back as stale meanwhile: the next attempt asks first
        result.skipped += 1
        return
    service.record_sent(message, delivery)
    result.sent += 1
    result.ids.append(message.id)
    log.info("message %s sent (%s)", message.id, message.channel)


def refresh_delivery_statuses(result: RunResult, limit: int = 200) -> None:
    """Read back from Notify what became of the texts it took."""
    sender = sender_for("sms")
    if sender is None or not hasattr(sender, "status_of"):
        return
    waiting = [(m.id, m.provider_id) for m in service.awaiting_delivery_status(limit)]
    db.session.commit()  # no transaction stays open while Notify answers
    for message_id, provider_id in waiting:
        try:
            status = sender.status_of(provider_id)
        except Exception:  # noqa: BLE001 - a status we cannot read now is read next time
            log.info("message %s: delivery status not available yet", message_id)
            continue
        with audit.acting_as(WORKER):
            # locked: Notify's callback may be recording the same receipt right now
            message = service.locked_message(message_id)
            if message is not None and status and service.record_delivery_status(message, status):
                result.statuses += 1
        db.session.commit()


def run_once(limit: int = 100, progress=None) -> RunResult:
    """One pass: claim what is due, send it, then read back delivery statuses.
    ``progress(ids)`` wraps the iteration (a progress bar)."""
    result = RunResult()
    token, ids = claim(limit)
    items = progress(ids) if progress is not None else _plain(ids)
    with items as bar:
        for message_id in bar:
            deliver(message_id, token, result)
    if current_app.config["NOTIFY_API_KEY"]:
        refresh_delivery_statuses(result)
    return result


class _plain:
    def __init__(self, ids):
        self.ids = ids

    def __enter__(self):
        return self.ids

    def __exit__(self, *exc):
        return False
