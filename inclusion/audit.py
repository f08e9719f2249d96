"""Append-only audit log: who did what to which record, when.

Events name records by type and id and list the *names* of changed fields,
never their values, so the log holds no personal data and survives erasure.
There is no update or delete path: a flush that would change or delete an
event raises, and the database refuses it too (triggers in the migration).

Every event names who acted: ``actor_id`` when a person did it (the ``actor``
passed by the service, else the signed-in user, else the person a CLI command
acts for), or ``system_actor`` when no person did (a named job such as
``retention`` or ``demo``, or ``public`` for an anonymous public form).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime

from flask_login import current_user
from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, event
from sqlalchemy.orm import Mapped, Session, mapped_column

from .clock import now
from .extensions import db


class AuditEvent(db.Model):
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=now, index=True)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="RESTRICT"), index=True
    )
    # Not OrgScoped on purpose: admins and erasure must find events by entity
    # across scopes; every reader filters by organisation explicitly.
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="RESTRICT"), index=True
    )
    #: Who acted when no person did: a named system job (``retention``, ``demo``…).
    system_actor: Mapped[str | None] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(80))
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int] = mapped_column(Integer)
    changed: Mapped[list | None] = mapped_column(JSON)

    __table_args__ = (db.Index("ix_audit_event_entity", "entity_type", "entity_id"),)


#: Names of the actors that are not people (``system_actor`` of an event).
PUBLIC = "public"  # someone not signed in, on a public form
API = "api"  # a partner system with an API key (the event lists which key)

# Who acts for the code running now when no one is signed in: a User (a CLI command
# run ``--by`` someone) or the name of a system actor.
_acting: ContextVar = ContextVar("inclusion_audit_acting", default=None)


@contextmanager
def acting_as(actor) -> Iterator[None]:
    """Events recorded inside name ``actor`` (a User, or a system actor's name) when
    the service is given no actor and no one is signed in (CLI commands, jobs)."""
    token = _acting.set(actor)
    try:
        yield
    finally:
        _acting.reset(token)


def _signed_in_user():
    try:
        if current_user and current_user.is_authenticated:
            return current_user
    except RuntimeError:  # outside a request (CLI)
        return None
    return None


def _who(actor) -> tuple[int | None, str | None]:
    """``(actor_id, system_actor)`` for an event: the person given, else the signed-in
    user, else whoever the running code acts for (``acting_as``), else the system
    actor given (e.g. ``PUBLIC`` on a public form nobody signed in to)."""
    person = None if isinstance(actor, str) else actor
    fallback = actor if isinstance(actor, str) else None
    for candidate in (person, _signed_in_user(), _acting.get(), fallback):
        if candidate is None:
            continue
        if isinstance(candidate, str):
            return None, candidate
        return candidate.id, None
    return None, None


def record(
    action: str,
    entity,
    *,
    changed: list[str] | tuple[str, ...] | None = None,
    actor=None,
    organisation_id: int | None = None,
) -> AuditEvent:
    """Add an audit event to the current transaction (flushes ``entity`` for its id).

    ``actor`` is the person who acted (a User); without one, the signed-in user or
    whoever ``acting_as`` names. A system actor's name as ``actor`` is used only when
    none of those is known."""
    if getattr(entity, "id", None) is None:
        db.session.flush()
    org = organisation_id or getattr(entity, "organisation_id", None)
    if org is None and entity.__class__.__name__ == "Organisation":
        org = entity.id
    actor_id, system_actor = _who(actor)
    event_ = AuditEvent(
        actor_id=actor_id,
        system_actor=system_actor,
        organisation_id=org,
        action=action,
        entity_type=entity.__class__.__name__,
        entity_id=entity.id,
        changed=sorted(set(changed)) if changed else None,
    )
    db.session.add(event_)
    return event_


def changed_fields(obj, fields) -> list[str]:
    """Names of ``fields`` whose value on ``obj`` differs from the database's."""
    from sqlalchemy import inspect

    state = inspect(obj)
    return [f for f in fields if state.attrs[f].history.has_changes()]


def events_for(entity_type: str, entity_id: int, organisation_id: int):
    return db.session.scalars(
        db.select(AuditEvent)
        .where(
            AuditEvent.entity_type == entity_type,
            AuditEvent.entity_id == entity_id,
            AuditEvent.organisation_id == organisation_id,
        )
        .order_by(AuditEvent.at, AuditEvent.id)
    ).all()


class AuditIsAppendOnly(RuntimeError):
    pass


@event.listens_for(Session, "before_flush")
def _refuse_audit_rewrites(session, flush_context, instances):
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEvent) and (obj in session.deleted or session.is_modified(obj)):
            raise AuditIsAppendOnly("audit events are append-only")
