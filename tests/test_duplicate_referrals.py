"""Duplicate referrals: a referral matching an open case by name and phone, or by name,
date of birth and postcode, is shown to the coordinator, never to the public."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from inclusion.api import service as api_service
from inclusion.audit import AuditEvent
from inclusion.references import ReferenceCounter
from inclusion.residents.models import Resident, StatusChange
from tests.conftest import row_counts
from tests.factories import ResidentFactory
from tests.test_residents import _public

INTAKE = {
    "referral_source": "gp",
    "referral_date": "2026-11-01",
    "referrer_name": "Dr Shah",
    "first_name": "Edna",
    "last_name": "Hughes",
    "phone": "07911 123456",
    "postcode": "WV3 0AA",
    "preferred_language": "English",
    "needs_device": "y",
    "referral_reason": "Video calls with family.",
    "consent_given": "y",
    "consent_method": "verbal",
}


def _intake(**changes):
    data = dict(INTAKE, **changes)
    return {k: v for k, v in data.items() if v is not None}


def _existing(org, **kw):
    values = dict(
        organisation=org,
        first_name="Edna",
        last_name="Hughes",
        phone="+44 7911 123456",
        postcode="WV3 0AA",
        date_of_birth=date(1948, 5, 2),
    )
    values.update(kw)
    return ResidentFactory(**values)


def _counts():
    return row_counts(Resident, StatusChange, AuditEvent, ReferenceCounter)


def _new(db, existing):
    return db.session.scalar(
        select(Resident).where(Resident.last_name == "Hughes", Resident.id != existing.id)
    )


# ---- staff intake ------------------------------------------------------------------------


def test_intake_matching_an_open_case_by_name_and_phone_asks_the_coordinator(coordinator, org):
    existing = _existing(org)
    before = _counts()
    response = coordinator.post("/residents/new", data=_intake(first_name=" edna "))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    box = page.split('id="possible-duplicate"')[1].split("</div>")[0]
    assert (
        f'This may be <a class="govuk-link" href="/residents/{existing.reference}">{existing.reference}</a>'
        in box
    )
    assert "same name and phone number" in box
    assert f'href="/residents/{existing.reference}">Open {existing.reference}</a>' in box
    assert f'name="create_anyway" value="{existing.reference}"' in box
    assert 'value="Video calls with family."' in page or "Video calls with family." in page
    assert _counts() == before


def test_intake_matching_by_name_date_of_birth_and_postcode_asks_too(coordinator, org):
    existing = _existing(org, phone="+44 1902 555000")
    before = _counts()
    response = coordinator.post(
        "/residents/new", data=_intake(date_of_birth="1948-05-02", postcode="wv30aa")
    )
    assert response.status_code == 422
    assert (
        f'This may be <a class="govuk-link" href="/residents/{existing.reference}"' in response.text
    )
    assert "same name, date of birth and postcode" in response.text
    assert _counts() == before


@pytest.mark.parametrize(
    "existing_kw",
    [
        dict(status="closed", outcome="goals_met"),  # not an open case
        dict(first_name="Ada"),  # another name
        dict(phone="+44 1902 555000", date_of_birth=None),  # name only
    ],
)
def test_no_question_without_a_real_match(coordinator, db, org, existing_kw):
    existing = _existing(org, **existing_kw)
    response = coordinator.post("/residents/new", data=_intake())
    assert response.status_code == 302
    assert _new(db, existing).possible_duplicate_of_id is None


def test_another_organisations_case_is_never_a_match(coordinator, db, org, other_org):
    theirs = _existing(other_org)
    response = coordinator.post("/residents/new", data=_intake())
    assert response.status_code == 302
    assert _new(db, theirs).possible_duplicate_of_id is None


def test_the_coordinator_can_create_a_new_referral_anyway_and_it_is_recorded(
    coordinator, db, org, coordinator_user
):
    existing = _existing(org)
    response = coordinator.post("/residents/new", data=_intake(create_anyway=existing.reference))
    assert response.status_code == 302
    new = _new(db, existing)
    assert new.possible_duplicate_of_id == existing.id and new.duplicate_resolution == "kept"
    event = db.session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "resident.duplicate_kept", AuditEvent.entity_id == new.id
        )
    )
    assert event.actor_id == coordinator_user.id
    page = coordinator.get(f"/residents/{new.reference}").get_data(as_text=True)
    assert f"Kept alongside {existing.reference}" in page
    assert 'id="possible-duplicate"' not in page


def test_create_anyway_for_another_case_asks_again(coordinator, org):
    existing = _existing(org)
    before = _counts()
    response = coordinator.post("/residents/new", data=_intake(create_anyway="R-999999"))
    assert response.status_code == 422
    assert (
        f'This may be <a class="govuk-link" href="/residents/{existing.reference}"' in response.text
    )
    assert _counts() == before


# ---- public form and API -----------------------------------------------------------------


def test_a_public_referral_that_may_be_a_duplicate_is_flagged_and_the_answer_is_the_same(
    app, db, org
):
    def send():
        client = app.test_client()
        response = client.post("/refer", data=_public(org))
        received = client.get("/refer/received").get_data(as_text=True)
        resident = db.session.scalars(
            select(Resident).where(Resident.last_name == "Hughes").order_by(Resident.id.desc())
        ).first()
        return response, received.replace(resident.reference, "R-??????"), resident

    first_response, first_page, first = send()
    assert first.possible_duplicate_of_id is None
    second_response, second_page, second = send()
    assert second.possible_duplicate_of_id == first.id and second.duplicate_resolution is None
    assert (second_response.status_code, second_response.headers["Location"]) == (
        first_response.status_code,
        first_response.headers["Location"],
    )
    assert second_page == first_page
    assert first.reference not in second_page and "duplicate" not in second_page.lower()
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "resident.possible_duplicate")
    )
    assert event.entity_id == second.id and "Hughes" not in str(event.changed)


def test_an_api_referral_that_may_be_a_duplicate_is_flagged(client, db, org):
    existing = _existing(org, first_name="Margaret", last_name="Okafor", phone="+44 1902 555123")
    _key, secret = api_service.create_key(org, "Surgery", by=None)
    from tests.test_api import referral

    response = client.post(
        "/api/referrals", json=referral(), headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.status_code == 201 and "duplicate" not in response.text
    new = db.session.scalar(
        select(Resident).where(Resident.reference == response.json["reference"])
    )
    assert new.possible_duplicate_of_id == existing.id


# ---- resolving on the resident page ----------------------------------------------------------


def _flagged(db, org):
    existing = _existing(org)
    flagged = _existing(org, possible_duplicate_of_id=existing.id)
    db.session.flush()
    return existing, flagged


def test_the_resident_page_shows_the_flag_with_a_link(coordinator, db, org):
    existing, flagged = _flagged(db, org)
    page = coordinator.get(f"/residents/{flagged.reference}").get_data(as_text=True)
    box = page.split('id="possible-duplicate"')[1].split("</section>")[0]
    assert (
        f'Possible duplicate of <a class="govuk-link" href="/residents/{existing.reference}">'
        in box
    )
    assert 'value="kept"' in box and 'value="closed"' in box
    listing = coordinator.get("/residents").get_data(as_text=True)
    assert "possible duplicate" in listing


def test_keep_both(coordinator, db, org, coordinator_user):
    existing, flagged = _flagged(db, org)
    response = coordinator.post(
        f"/residents/{flagged.reference}/duplicate", data={"resolution": "kept"}
    )
    assert response.status_code == 302
    db.session.refresh(flagged)
    assert flagged.duplicate_resolution == "kept" and flagged.status == "referred"
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "resident.duplicate_resolved")
    )
    assert event.entity_id == flagged.id and event.actor_id == coordinator_user.id
    page = coordinator.get(f"/residents/{flagged.reference}").get_data(as_text=True)
    assert 'id="possible-duplicate"' not in page


def test_close_this_one_as_duplicate(coordinator, db, org):
    existing, flagged = _flagged(db, org)
    response = coordinator.post(
        f"/residents/{flagged.reference}/duplicate", data={"resolution": "closed"}
    )
    assert response.status_code == 302
    db.session.refresh(flagged)
    assert (flagged.status, flagged.outcome, flagged.duplicate_resolution) == (
        "closed",
        "duplicate",
        "closed",
    )
    assert flagged.history[-1].note == f"Duplicate of {existing.reference}"
    db.session.refresh(existing)
    assert existing.status == "referred"


@pytest.mark.parametrize("resolution, message", [("", "Choose whether to keep both")])
def test_a_decision_needs_a_choice_and_changes_nothing(coordinator, db, org, resolution, message):
    existing, flagged = _flagged(db, org)
    before = _counts()
    response = coordinator.post(
        f"/residents/{flagged.reference}/duplicate", data={"resolution": resolution}
    )
    assert response.status_code == 422
    assert 'id="resolution-error"' in response.text and message in response.text
    assert _counts() == before


def test_a_decision_is_made_once(coordinator, db, org):
    existing, flagged = _flagged(db, org)
    coordinator.post(f"/residents/{flagged.reference}/duplicate", data={"resolution": "kept"})
    before = _counts()
    response = coordinator.post(
        f"/residents/{flagged.reference}/duplicate", data={"resolution": "closed"}
    )
    assert response.status_code == 422
    assert "already decided" in response.text
    db.session.refresh(flagged)
    assert flagged.status == "referred" and flagged.duplicate_resolution == "kept"
    assert _counts() == before
