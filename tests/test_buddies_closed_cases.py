"""Nothing is offered to a closed case: matching, ranking, the assignment, proposals,
confirmations and what the resident is looking for; the case status is shown next to
the resident's name wherever a resident is chosen."""

from __future__ import annotations

from datetime import date, timedelta

from buddies import service
from buddies.models import BuddyProfile, Match, MatchingNeeds
from inclusion.audit import AuditEvent
from inclusion.errors import RuleBroken
from inclusion.extensions import db
from tests.conftest import row_counts
from tests.factories import BuddyProfileFactory, MatchFactory, ResidentFactory


def _closed(org, **kw):
    return ResidentFactory(organisation=org, status="closed", outcome="goals_met", **kw)


def test_a_closed_case_is_never_proposed_a_buddy(coordinator, org):
    resident = _closed(org, first_name="Irene", last_name="Closed")
    buddy = BuddyProfileFactory(organisation=org)
    before = row_counts(Match, AuditEvent)
    response = coordinator.post(
        f"/matching/residents/{resident.reference}/propose", data={"buddy_id": buddy.id}
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f"Irene Closed&#39;s case ({resident.reference}) is closed" in page
    assert row_counts(Match, AuditEvent) == before


def test_the_rank_page_of_a_closed_case_offers_no_buddy(coordinator, org):
    resident = _closed(org, first_name="Irene", last_name="Closed")
    BuddyProfileFactory(organisation=org, name="Harpreet Gill")
    page = coordinator.get(f"/matching/residents/{resident.reference}").get_data(as_text=True)
    assert "is closed: re-open it as a new referral first." in page
    assert "Harpreet Gill" not in page and "Propose" not in page
    assert 'tag tag-closed"' in page


def test_the_service_refuses_a_closed_case_whatever_the_caller(org):
    resident = _closed(org)
    buddy = BuddyProfileFactory(organisation=org)
    for propose in (
        lambda: service.propose_pair(resident, buddy),
        lambda: service.propose_match(resident, buddy, score=1.0, reasons=[]),
        lambda: service.accept_assignment([(resident.id, buddy.id)]),
    ):
        try:
            propose()
        except RuleBroken as err:
            assert f"({resident.reference}) is closed" in err.message
        else:
            raise AssertionError("a closed case was proposed a buddy")
    assert db.session.scalar(db.select(db.func.count()).select_from(Match)) == 0


def test_a_pair_of_a_case_closed_since_the_assignment_was_shown_is_refused(coordinator, org):
    resident = ResidentFactory(organisation=org, status="assessed")
    buddy = BuddyProfileFactory(organisation=org)
    assert f'value="{resident.id}-{buddy.id}"' in coordinator.get("/matching/assignment").get_data(
        as_text=True
    )
    resident.status, resident.outcome = "closed", "declined"  # closed at another desk
    db.session.flush()
    response = coordinator.post(
        "/matching/assignment", data={"pair": [f"{resident.id}-{buddy.id}"]}
    )
    assert response.status_code == 422
    assert f"({resident.reference}) is closed" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count()).select_from(Match)) == 0


def test_a_proposal_left_on_a_closed_case_cannot_be_confirmed(coordinator, org):
    # A proposal that outlived its case (made before closing ended proposals).
    match = MatchFactory(
        organisation=org,
        resident=_closed(org, first_name="Irene", last_name="Closed"),
        status="proposed",
        started_at=None,
    )
    response = coordinator.post(f"/matches/{match.id}/confirm")
    assert response.status_code == 422
    assert "is closed" in response.get_data(as_text=True)
    assert db.session.get(Match, match.id).status == "proposed"


def test_what_a_closed_case_is_looking_for_is_not_saved(coordinator, org):
    resident = _closed(org)
    before = row_counts(MatchingNeeds, AuditEvent)
    response = coordinator.post(
        f"/matching/residents/{resident.reference}/needs", data={"availability": ["mon_morning"]}
    )
    assert response.status_code == 422
    assert f"({resident.reference}) is closed" in response.get_data(as_text=True)
    assert row_counts(MatchingNeeds, AuditEvent) == before


def test_confirming_never_takes_more_places_than_the_caseload_limit(coordinator, org):
    buddy = BuddyProfileFactory(organisation=org, name="Pat Full", caseload_limit=2)
    first, second = (
        MatchFactory(organisation=org, buddy=buddy, status="proposed", started_at=None)
        for _ in range(2)
    )
    buddy.caseload_limit = 1  # lowered after both were proposed
    db.session.flush()
    assert coordinator.post(f"/matches/{first.id}/confirm").status_code == 302
    response = coordinator.post(f"/matches/{second.id}/confirm")
    assert response.status_code == 422
    assert "Pat Full has no free places: 1 of 1 taken." in response.get_data(as_text=True)
    assert db.session.get(Match, second.id).status == "proposed"


def test_the_case_status_is_shown_next_to_each_resident_chosen(coordinator, org):
    waiting = ResidentFactory(organisation=org, status="contacted", first_name="Olu")
    proposed = MatchFactory(
        organisation=org,
        resident=ResidentFactory(organisation=org, status="assessed"),
        status="proposed",
        started_at=None,
    )
    BuddyProfileFactory(organisation=org)

    def tag_after(page, text, status):
        after = page.split(text, 1)[1]
        return f'tag tag-{status}"' in after.split("</td>", 1)[0]

    matching = coordinator.get("/matching").get_data(as_text=True)
    assert tag_after(matching, waiting.reference, "contacted")
    assert tag_after(matching, proposed.resident.full_name, "assessed")
    assignment = coordinator.get("/matching/assignment").get_data(as_text=True)
    assert tag_after(assignment, waiting.reference, "contacted")
    rank = coordinator.get(f"/matching/residents/{waiting.reference}").get_data(as_text=True)
    assert 'tag tag-contacted"' in rank.split("</h1>", 1)[0]
    needs = coordinator.get(f"/matching/residents/{waiting.reference}/needs").get_data(as_text=True)
    assert 'tag tag-contacted"' in needs.split("</h1>", 1)[0]


def test_an_older_dbs_check_never_replaces_a_newer_one(coordinator, org):
    newer = date.today() - timedelta(days=10)
    buddy = BuddyProfileFactory(
        organisation=org, dbs_issued_on=newer, dbs_certificate="000000000009"
    )
    before = row_counts(AuditEvent)
    response = coordinator.post(
        f"/buddies/{buddy.id}/dbs",
        data={
            "level": "enhanced",
            "certificate": "000000000001",
            "issued_on": (newer - timedelta(days=400)).isoformat(),
        },
    )
    assert response.status_code == 422
    assert f"A newer DBS check (issued {newer:%d %b %Y}) is already recorded." in (
        response.get_data(as_text=True)
    )
    profile = db.session.get(BuddyProfile, buddy.id)
    assert (profile.dbs_certificate, profile.dbs_issued_on) == ("000000000009", newer)
    assert row_counts(AuditEvent) == before
    # Correcting the date of the same certificate is still possible.
    service.record_dbs(
        profile, level="enhanced", certificate="000000000009", issued_on=newer - timedelta(days=2)
    )
    assert profile.dbs_issued_on == newer - timedelta(days=2)


def test_the_page_of_a_closed_case_offers_no_buddy(coordinator, org):
    resident = _closed(org)
    page = coordinator.get(f"/residents/{resident.reference}").get_data(as_text=True)
    assert f"({resident.reference}) is closed: re-open it as a new referral first." in page
    assert f'href="/matching/residents/{resident.reference}"' not in page
