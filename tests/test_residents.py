"""Referrals: the public form, intake, the workflow, search and the resident page."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from inclusion.audit import AuditEvent
from inclusion.errors import RuleBroken
from inclusion.residents import service
from inclusion.residents.models import Resident, StatusChange
from tests.conftest import row_counts
from tests.factories import ResidentFactory

PUBLIC = {
    "on_behalf": "self",
    "first_name": "Edna",
    "last_name": "Hughes",
    "phone": "07911 123456",
    "postcode": "wv3 0aa",
    "preferred_language": "English",
    "needs_device": "y",
    "needs_skills": "y",
    "referral_reason": "Wants to order prescriptions online.",
    "consent": "y",
}


def _public(org, **changes):
    data = dict(PUBLIC, organisation=str(org.id))
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_public_referral_gets_a_reference_and_is_referred(client, db, org):
    response = client.post("/refer", data=_public(org), follow_redirects=True)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    resident = db.session.scalar(select(Resident).where(Resident.last_name == "Hughes"))
    assert resident.reference in page and "Referral received" in page
    assert resident.reference == "R-000001"
    assert (resident.status, resident.postcode, resident.area, resident.phone) == (
        "referred",
        "WV3 0AA",
        "WV3",
        "+44 7911 123456",
    )
    assert resident.referral_source == "self" and resident.consent_given
    assert resident.consent_method == "online_self"
    assert [h.to_status for h in resident.history] == ["referred"]
    event = db.session.scalar(
        select(AuditEvent).where(
            AuditEvent.entity_type == "Resident", AuditEvent.entity_id == resident.id
        )
    )
    assert event.action == "resident.referred" and event.actor_id is None
    assert "Hughes" not in str(event.changed) and "first_name" in event.changed


def test_referral_on_behalf_needs_the_referrers_details(client, db, org):
    before = row_counts(Resident, StatusChange, AuditEvent)
    response = client.post("/refer", data=_public(org, on_behalf="other"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="referrer_name-error"' in page and 'id="referrer_contact-error"' in page
    assert row_counts(Resident, StatusChange, AuditEvent) == before
    ok = client.post(
        "/refer",
        data=_public(
            org,
            on_behalf="other",
            referrer_name="Sam Link",
            referrer_organisation="Whitmore Reans PCN",
            referrer_contact="07911 222333",
            referral_source="gp",
        ),
    )
    assert ok.status_code == 302
    resident = db.session.scalar(select(Resident).where(Resident.last_name == "Hughes"))
    assert resident.referrer_name == "Sam Link" and resident.consent_method == "online_referrer"
    assert resident.referral_source == "gp"


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("first_name", "", "Enter their first name."),
        ("phone", "12345", "Enter a phone number"),
        ("postcode", "NOT A POSTCODE", "Enter a UK postcode"),
        ("consent", None, "only take the referral with the person"),
        ("email", "nope", "Enter an email address"),
        ("referral_reason", "", "Tell us briefly"),
    ],
)
def test_public_referral_bad_input_changes_nothing(client, db, org, field, value, message):
    before = row_counts(Resident, StatusChange, AuditEvent)
    response = client.post("/refer", data=_public(org, **{field: value}))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page and message in page
    assert 'aria-invalid="true"' in page or field == "consent"
    assert row_counts(Resident, StatusChange, AuditEvent) == before


def test_public_referral_needs_some_kind_of_help(client, db, org):
    before = row_counts(Resident)
    response = client.post("/refer", data=_public(org, needs_device=None, needs_skills=None))
    assert response.status_code == 422
    assert "Choose at least one kind of help." in response.get_data(as_text=True)
    assert row_counts(Resident) == before


def test_references_are_per_organisation_and_gap_free(db, org, other_org, coordinator_user):
    data = dict(
        first_name="A",
        last_name="B",
        phone="01902 555123",
        postcode="WV1 1AA",
        referral_source="gp",
        needs_skills=True,
    )
    refs = [
        service.create_referral(org, data, consent_given=False, consent_method=None).reference
        for _ in range(3)
    ]
    assert refs == ["R-000001", "R-000002", "R-000003"]
    with pytest.raises(RuleBroken):
        service.create_referral(
            org, dict(data, phone="bad"), consent_given=False, consent_method=None
        )
    assert (
        service.create_referral(other_org, data, consent_given=False, consent_method=None).reference
        == "R-000001"
    )
    assert (
        service.create_referral(org, data, consent_given=False, consent_method=None).reference
        == "R-000004"
    )


def test_coordinator_intake_and_edit(coordinator, db, coordinator_user):
    response = coordinator.post(
        "/residents/new",
        data={
            "referral_source": "gp",
            "referral_date": "2026-11-01",
            "referrer_name": "Dr Shah",
            "first_name": "Harjit",
            "last_name": "Kaur",
            "phone": "01902 555 321",
            "postcode": "WV10 9RU",
            "preferred_language": "Punjabi",
            "interpreter_needed": "y",
            "access_sight": "y",
            "needs_device": "y",
            "referral_reason": "Video calls with family.",
            "consent_given": "y",
            "consent_method": "verbal",
        },
    )
    assert response.status_code == 302
    resident = db.session.scalar(select(Resident).where(Resident.last_name == "Kaur"))
    assert resident.consent_recorded_by_id == coordinator_user.id
    assert resident.access_sight and resident.interpreter_needed
    assert resident.referral_date == date(2026, 11, 1)

    edit = coordinator.post(
        f"/residents/{resident.reference}/edit",
        data={
            "referral_source": "gp",
            "referral_date": "2026-11-01",
            "first_name": "Harjit",
            "last_name": "Kaur",
            "phone": "01902 555 321",
            "postcode": "WV10 9RU",
            "preferred_language": "Punjabi",
            "needs_device": "y",
            "referral_reason": "Video calls with family.",
            "notes": "Prefers mornings.",
            "consent_given": "y",
            "consent_method": "verbal",
        },
    )
    assert edit.status_code == 302
    db.session.refresh(resident)
    assert resident.notes == "Prefers mornings." and not resident.access_sight
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "resident.updated")
    ).one()
    assert set(event.changed) >= {"notes", "access_sight", "interpreter_needed"}


def test_intake_bad_input_changes_nothing(coordinator, db):
    before = row_counts(Resident, StatusChange, AuditEvent)
    response = coordinator.post(
        "/residents/new",
        data={
            "referral_source": "",
            "referral_date": "2999-01-01",
            "first_name": "X",
            "last_name": "Y",
            "phone": "0",
            "postcode": "WV3",
            "needs_skills": "y",
            "referral_reason": "r",
            "consent_given": "y",
            "consent_method": "",
        },
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    for field in ("referral_source", "referral_date", "phone", "postcode", "consent_method"):
        assert f'id="{field}-error"' in page, field
    assert row_counts(Resident, StatusChange, AuditEvent) == before


def test_workflow_moves_only_along_allowed_transitions(coordinator, db, org):
    resident = ResidentFactory(organisation=org)
    ref = resident.reference
    assert (
        coordinator.post(f"/residents/{ref}/status", data={"status": "supported"}).status_code
        == 422
    )
    assert (
        coordinator.post(
            f"/residents/{ref}/status", data={"status": "contacted", "note": "Phoned"}
        ).status_code
        == 302
    )
    assert (
        coordinator.post(f"/residents/{ref}/status", data={"status": "assessed"}).status_code == 302
    )
    no_outcome = coordinator.post(f"/residents/{ref}/status", data={"status": "closed"})
    assert no_outcome.status_code == 422
    assert "Choose an outcome" in no_outcome.get_data(as_text=True)
    assert (
        coordinator.post(
            f"/residents/{ref}/status", data={"status": "closed", "outcome": "declined"}
        ).status_code
        == 302
    )
    db.session.refresh(resident)
    assert resident.status == "closed" and resident.outcome == "declined" and resident.closed_at
    assert [h.to_status for h in resident.history] == [
        "referred",
        "contacted",
        "assessed",
        "closed",
    ]
    page = coordinator.get(f"/residents/{ref}").get_data(as_text=True)
    timeline = page.split('<ol class="timeline">', 1)[1].split("</ol>", 1)[0]
    entries = [" ".join(re.sub(r"<[^>]+>", " ", li).split()) for li in timeline.split("<li>")[1:]]
    assert len(entries) == 4  # newest first
    assert entries[0].endswith("Assessed → Closed (Declined support) by Cleo Coordinator")
    assert entries[1].endswith("Contacted → Assessed by Cleo Coordinator")
    assert entries[2].endswith("Referred → Contacted by Cleo Coordinator Phoned")


def test_workflow_service_refuses_a_skip(db, org, coordinator_user):
    resident = ResidentFactory(organisation=org)
    with pytest.raises(RuleBroken, match="Cannot move from referred to supported"):
        service.change_status(resident, "supported", by=coordinator_user)


def test_database_refuses_unknown_status(db, org):
    from sqlalchemy.exc import IntegrityError

    resident = ResidentFactory(organisation=org)
    resident.status = "vanished"
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_list_search_filters_and_pagination(coordinator, db, org, other_org):
    ResidentFactory(
        organisation=org,
        first_name="Margaret",
        last_name="Bennett",
        postcode="WV1 1AA",
        status="contacted",
    )
    ResidentFactory(
        organisation=org,
        first_name="Olu",
        last_name="Adeyemi",
        postcode="WV6 0QJ",
        referral_source="housing",
        needs_device=False,
        needs_data=True,
    )
    ResidentFactory(organisation=other_org, first_name="Margaret", last_name="Elsewhere")
    page = coordinator.get("/residents?q=margaret").get_data(as_text=True)
    assert "Bennett" in page and "Elsewhere" not in page and "Adeyemi" not in page
    assert "Adeyemi" in coordinator.get("/residents?q=wv60qj").get_data(as_text=True)
    assert "Adeyemi" in coordinator.get("/residents?source=housing").get_data(as_text=True)
    assert "Bennett" not in coordinator.get("/residents?need=data").get_data(as_text=True)
    assert "Adeyemi" not in coordinator.get("/residents?status=contacted").get_data(as_text=True)


def test_resident_list_takes_constant_queries(app, coordinator, db, org, count_queries):
    ResidentFactory.create_batch(3, organisation=org)
    with count_queries() as few:
        assert coordinator.get("/residents").status_code == 200
    ResidentFactory.create_batch(40, organisation=org)
    with count_queries() as many:
        page = coordinator.get("/residents").get_data(as_text=True)
    assert "Page 1 of 2" in page
    assert many.count == few.count


def test_other_organisation_cannot_see_the_resident(other_coordinator, db, org):
    resident = ResidentFactory(organisation=org, last_name="Private")
    assert other_coordinator.get(f"/residents/{resident.reference}").status_code == 404
    listing = other_coordinator.get("/residents?q=Private").get_data(as_text=True)
    assert resident.reference not in listing and "No residents match." in listing


def test_closing_a_case_ends_the_buddys_match(coordinator, db, org):
    from buddies.models import Match
    from tests.factories import MatchFactory

    match = MatchFactory(
        organisation=org, resident=ResidentFactory(organisation=org, status="supported")
    )
    ref = match.resident.reference
    response = coordinator.post(
        f"/residents/{ref}/status", data={"status": "closed", "outcome": "goals_met"}
    )
    assert response.status_code == 302
    match = db.session.get(Match, match.id)
    assert (match.status, match.end_reason) == ("ended", "resident_closed")


def _close(coordinator, resident, outcome="goals_met"):
    return coordinator.post(
        f"/residents/{resident.reference}/status", data={"status": "closed", "outcome": outcome}
    )


def _events(action, entity_type, entity_id):
    from inclusion.extensions import db

    return db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == action,
            AuditEvent.entity_type == entity_type,
            AuditEvent.entity_id == entity_id,
        )
    ).all()


def test_closing_a_case_takes_the_resident_off_the_device_waiting_list(
    coordinator, coordinator_user, db, org
):
    from devices.loans.models import WaitingListEntry
    from tests.factories import WaitingListEntryFactory

    entry = WaitingListEntryFactory(
        organisation=org,
        resident=ResidentFactory(organisation=org, status="assessed", last_name="Waitsforatablet"),
    )
    assert "Waitsforatablet" in coordinator.get("/waiting-list").get_data(as_text=True)
    assert _close(coordinator, entry.resident).status_code == 302
    entry = db.session.get(WaitingListEntry, entry.id)
    assert entry.status == "removed"
    [event] = _events("waiting_list.removed_case_closed", "WaitingListEntry", entry.id)
    assert event.actor_id == coordinator_user.id
    assert "Waitsforatablet" not in coordinator.get("/waiting-list").get_data(as_text=True)


def test_closing_a_case_withdraws_its_proposed_match_audited_with_the_actor(db, org):
    from buddies.models import Match
    from tests.factories import MatchFactory, UserFactory

    closer = UserFactory(organisation=org, role="coordinator")
    match = MatchFactory(
        organisation=org,
        resident=ResidentFactory(organisation=org, status="assessed"),
        status="proposed",
        started_at=None,
    )
    # As a CLI command or a signal would: no signed-in user to fall back on.
    service.change_status(match.resident, "closed", outcome="moved_away", by=closer)
    match = db.session.get(Match, match.id)
    assert (match.status, match.end_reason, match.ended_by_id) == (
        "ended",
        "resident_closed",
        closer.id,
    )
    [event] = _events("match.ended", "Match", match.id)
    assert event.actor_id == closer.id


def test_closing_a_waiting_case_takes_it_off_the_buddy_waiting_list(
    coordinator, coordinator_user, db, org
):
    from buddies import service as buddies

    resident = ResidentFactory(organisation=org, status="contacted", last_name="Waitsforabuddy")
    assert "Waitsforabuddy" in coordinator.get("/matching").get_data(as_text=True)
    assert _close(coordinator, resident, "declined").status_code == 302
    assert not buddies.is_waiting(resident)
    assert "Waitsforabuddy" not in coordinator.get("/matching").get_data(as_text=True)
    [event] = _events(buddies.LEFT_WAITING_CASE_CLOSED, "Resident", resident.id)
    assert event.actor_id == coordinator_user.id


def test_closing_a_case_runs_only_the_receivers_of_the_apps_own_features(make_database):
    """Signals are process-wide; an app without devices leaves waiting lists alone."""
    import flask_migrate

    from devices.loans.models import WaitingListEntry
    from inclusion import create_app
    from inclusion.extensions import db
    from tests.factories import UserFactory, WaitingListEntryFactory

    create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://"})  # devices and buddies
    app = create_app(
        {
            "ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": make_database("sqlite"),
            "FEATURES": ("buddies",),
        }
    )
    with app.app_context():
        flask_migrate.upgrade(revision="heads")
        entry = WaitingListEntryFactory()
        closer = UserFactory(organisation=entry.organisation)
        service.change_status(entry.resident, "closed", outcome="goals_met", by=closer)
        assert db.session.get(WaitingListEntry, entry.id).status == "waiting"
        assert _events("buddies.waiting_left_case_closed", "Resident", entry.resident.id)
        db.session.rollback()
        db.engine.dispose()


INTAKE = {
    "referral_source": "gp",
    "referral_date": "2026-11-01",
    "first_name": "Ada",
    "last_name": "Typed",
    "phone": "01902 555 322",
    "postcode": "WV10 9RU",
    "preferred_language": "English",
    "needs_device": "y",
    "referral_reason": "Video calls with family.",
    "consent_given": "y",
    "consent_method": "verbal",
}


def test_date_of_birth_is_typed_as_day_month_and_year(coordinator, db):
    page = coordinator.get("/residents/new").get_data(as_text=True)
    for part in ("day", "month", "year"):
        assert f'name="date_of_birth-{part}"' in page and f'autocomplete="bday-{part}"' in page
    response = coordinator.post(
        "/residents/new",
        data={
            **INTAKE,
            "date_of_birth-day": "7",
            "date_of_birth-month": "3",
            "date_of_birth-year": "1958",
        },
    )
    assert response.status_code == 302
    resident = db.session.scalar(select(Resident).where(Resident.last_name == "Typed"))
    assert resident.date_of_birth == date(1958, 3, 7)
    # Shown again in its three boxes on the edit page.
    edit = coordinator.get(f"/residents/{resident.reference}/edit").get_data(as_text=True)
    assert 'name="date_of_birth-year" type="text" inputmode="numeric" value="1958"' in edit


@pytest.mark.parametrize(
    "day, month, year",
    [("31", "2", "1958"), ("7", "3", "58"), ("x", "3", "1958"), ("7", "", "1958")],
)
def test_a_date_of_birth_that_is_not_a_date_changes_nothing(coordinator, db, day, month, year):
    before = row_counts(Resident, StatusChange, AuditEvent)
    response = coordinator.post(
        "/residents/new",
        data={
            **INTAKE,
            "date_of_birth-day": day,
            "date_of_birth-month": month,
            "date_of_birth-year": year,
        },
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="date_of_birth-error"' in page
    assert "Enter a real date with the day, month and year, for example 27 3 1958." in page
    assert 'href="#date_of_birth-day"' in page  # the error summary links to the first box
    assert f'name="date_of_birth-day" type="text" inputmode="numeric" value="{day}"' in page
    assert row_counts(Resident, StatusChange, AuditEvent) == before
