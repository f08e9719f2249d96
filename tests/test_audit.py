"""The audit log is written in the same transaction as the change, and is append-only."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError

from inclusion.audit import AuditEvent, AuditIsAppendOnly
from inclusion.residents import service
from inclusion.residents.models import Resident
from tests.factories import ResidentFactory


def _events(db):
    return db.session.scalar(select(func.count()).select_from(AuditEvent))


def test_change_and_event_roll_back_together(db, org, coordinator_user):
    resident = ResidentFactory(organisation=org)
    db.session.commit()  # a savepoint inside the test transaction
    before = _events(db)
    service.change_status(resident, "contacted", by=coordinator_user)
    assert _events(db) == before + 1
    db.session.rollback()
    assert _events(db) == before
    assert db.session.get(Resident, resident.id).status == "referred"


def test_change_and_event_commit_together(db, org, coordinator_user):
    resident = ResidentFactory(organisation=org)
    before = _events(db)
    service.change_status(resident, "contacted", by=coordinator_user)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Resident, resident.id).status == "contacted"
    event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert _events(db) == before + 1
    assert (event.action, event.entity_type, event.entity_id, event.actor_id) == (
        "resident.status_changed",
        "Resident",
        resident.id,
        coordinator_user.id,
    )
    assert "status" in event.changed


def test_a_failed_request_leaves_no_event(coordinator, db, org):
    resident = ResidentFactory(organisation=org)
    before = _events(db)
    assert (
        coordinator.post(
            f"/residents/{resident.reference}/status", data={"status": "closed"}
        ).status_code
        == 422
    )
    assert _events(db) == before


def test_events_hold_no_personal_values(db, org, coordinator_user):
    resident = service.create_referral(
        org,
        dict(
            first_name="Zebedee",
            last_name="Quixote",
            phone="07911 123456",
            postcode="WV3 0AA",
            referral_source="gp",
            needs_skills=True,
            referral_reason="Secret reason",
        ),
        consent_given=False,
        consent_method=None,
    )
    rows = db.session.execute(select(AuditEvent.changed, AuditEvent.action)).all()
    dump = repr(rows)
    for value in ("Zebedee", "Quixote", "7911", "WV3", "Secret"):
        assert value not in dump
    assert resident.reference


def test_orm_refuses_to_change_or_delete_an_event(db, org, coordinator_user):
    resident = ResidentFactory(organisation=org)
    service.change_status(resident, "contacted", by=coordinator_user)
    db.session.commit()  # a savepoint inside the test transaction
    event = db.session.scalars(select(AuditEvent)).first()
    event.action = "rewritten"
    with pytest.raises(AuditIsAppendOnly):
        db.session.flush()
    db.session.rollback()
    event = db.session.scalars(select(AuditEvent)).first()
    db.session.delete(event)
    with pytest.raises(AuditIsAppendOnly):
        db.session.flush()
    db.session.rollback()


def test_database_refuses_to_change_or_delete_an_event(db, org, coordinator_user):
    resident = ResidentFactory(organisation=org)
    service.change_status(resident, "contacted", by=coordinator_user)
    db.session.commit()
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(update(AuditEvent).values(action="rewritten"))
    db.session.rollback()
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text("DELETE FROM audit_event"))
    db.session.rollback()
