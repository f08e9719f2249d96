"""The audit log is written in the same transaction as the change, and is append-only."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError

from inclusion.accounts.models import User
from inclusion.audit import AuditEvent, AuditIsAppendOnly
from inclusion.extensions import db
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


# ---- every event names who acted ----------------------------------------------------


def _new_events(after_id):
    return db.session.scalars(
        select(AuditEvent).where(AuditEvent.id > after_id).order_by(AuditEvent.id)
    ).all()


def _last_event_id():
    return db.session.scalar(select(func.coalesce(func.max(AuditEvent.id), 0)))


def test_the_demo_load_names_an_actor_on_every_event(app, db):
    result = app.test_cli_runner().invoke(args=["inclusion", "demo"])
    assert result.exit_code == 0, result.output
    events = db.session.scalars(select(AuditEvent)).all()
    assert len(events) > 100
    nameless = sorted({e.action for e in events if e.actor_id is None and not e.system_actor})
    assert nameless == [], f"events with no actor: {nameless}"
    # What the demo's coordinators did names them; only what no person did names the loader.
    coordinator = db.session.scalar(
        select(User.id).where(User.email == "coordinator@wdi.example.org")
    )
    by_action = {}
    for e in events:
        by_action.setdefault(e.action, set()).add(e.actor_id or e.system_actor)
    for action in ("buddy.dbs_recorded", "match.proposed", "match.confirmed", "buddy.active"):
        assert coordinator in by_action[action], action
        assert "cli:demo" not in by_action[action], action
    assert by_action["organisation.created"] == {"cli:demo"}


def test_services_name_the_person_given_outside_a_request(db, org, admin_user, coordinator_user):
    """No one is signed in (a CLI command, a signal receiver): ``by`` is all there is."""
    from buddies import service as buddies
    from inclusion.accounts import service as accounts
    from inclusion.residents.service import PERSON_FIELDS
    from tests.factories import BuddyProfileFactory

    start = _last_event_id()
    new_org = accounts.create_organisation("Another Hub", "ANH", by=admin_user)
    user, _ = accounts.invite_user(
        org, email="new@example.org", name="New Person", role="coordinator", by=admin_user
    )
    accounts.change_role(user, "admin", by=admin_user)
    accounts.set_active(user, False, by=admin_user)
    accounts.update_organisation(org, {"contact_phone": "+44 1902 000000"}, by=admin_user)
    assert new_org.id and _new_events(start)
    for event in _new_events(start):
        assert event.actor_id == admin_user.id, event.action

    start = _last_event_id()
    resident = ResidentFactory(organisation=org)
    profile = BuddyProfileFactory(organisation=org, status="applicant", dbs_level=None)
    service.update_resident(
        resident,
        {**{f: getattr(resident, f) for f in PERSON_FIELDS}, "first_name": "Renamed"},
        consent_given=resident.consent_given,
        consent_method=resident.consent_method,
        by=coordinator_user,
    )
    buddies.update_profile(profile, {"phone": "07700 900123"}, by=coordinator_user)
    buddies.record_dbs(
        profile,
        level="enhanced",
        certificate="001234567890",
        issued_on=date.today(),
        by=coordinator_user,
    )
    for kind in ("safeguarding", "data_protection"):
        buddies.record_training(profile, kind=kind, completed_on=date.today(), by=coordinator_user)
    buddies.change_status(profile, "active", by=coordinator_user)
    buddies.save_matching_needs(resident, {"skills": ["video_call"]}, by=coordinator_user)
    match = buddies.propose_pair(resident, profile, by=coordinator_user)
    buddies.confirm_match(match, by=coordinator_user)
    # Closing the case ends the match through the resident_closed signal.
    service.change_status(resident, "closed", by=coordinator_user, outcome="goals_met")
    actions = {e.action: e.actor_id for e in _new_events(start)}
    assert {"buddy.dbs_recorded", "match.confirmed", "match.ended", "resident.updated"} <= set(
        actions
    )
    wrong = {action for action, actor in actions.items() if actor != coordinator_user.id}
    assert wrong == set(), f"events not naming the person who acted: {sorted(wrong)}"


def test_a_public_referral_names_the_public_not_nobody(client, db, org):
    from tests.test_referral_fuzz import valid_referral

    start = _last_event_id()
    response = client.post("/refer", data=valid_referral(org))
    assert response.status_code == 302, response.get_data(as_text=True)
    [event] = _new_events(start)
    assert (event.action, event.actor_id, event.system_actor) == (
        "resident.referred",
        None,
        "public",
    )


def _due_for_retention(org, by):
    from inclusion.clock import now

    resident = ResidentFactory(organisation=org)
    service.change_status(resident, "closed", by=by, outcome="declined")
    resident.closed_at = now() - timedelta(days=31 * (org.retention_months + 6))
    db.session.flush()
    return resident


@pytest.mark.parametrize("by", [None, "admin"])
def test_retention_names_the_person_given_with_by_or_the_command(
    app, db, org, admin_user, coordinator_user, by
):
    _due_for_retention(org, coordinator_user)
    start = _last_event_id()
    args = ["inclusion", "retention", "--apply"]
    if by:
        args += ["--by", admin_user.email]
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output
    events = _new_events(start)
    assert "resident.erased_by_retention" in {e.action for e in events}
    expected = (admin_user.id, None) if by else (None, "cli:retention")
    assert {(e.actor_id, e.system_actor) for e in events} == {expected}


def test_a_cli_command_refuses_an_unknown_by(app, db, org):
    result = app.test_cli_runner().invoke(
        args=["inclusion", "retention", "--apply", "--by", "nobody@example.org"]
    )
    assert result.exit_code != 0
    assert "No active account has the email nobody@example.org" in result.output


def test_a_system_job_names_itself(app, db, org, coordinator_user):
    from devices.loans import service as loans
    from inclusion.clock import today
    from tests.factories import DataBundleFactory

    bundle = DataBundleFactory(organisation=org, validity_days=5)
    loans.issue_bundle(bundle, ResidentFactory(organisation=org), by=coordinator_user)
    bundle.expires_on = today() - timedelta(days=1)
    db.session.flush()
    start = _last_event_id()
    result = app.test_cli_runner().invoke(args=["inclusion", "expire-bundles"])
    assert result.exit_code == 0, result.output
    events = _new_events(start)
    assert [(e.action, e.actor_id, e.system_actor) for e in events] == [
        ("data_bundle.expired", None, "cli:expire-bundles")
    ]
