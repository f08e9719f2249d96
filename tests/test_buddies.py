"""IT buddies: the public application, coordinator review, DBS and training,
activation rules and the account invitation."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from buddies import service
from buddies.models import BuddyProfile, BuddyTraining
from inclusion.accounts.models import Invitation, User
from inclusion.errors import RuleBroken
from inclusion.extensions import db
from tests.conftest import row_counts
from tests.factories import BuddyProfileFactory


def _application(org, **overrides):
    data = {
        "organisation": org.id,
        "name": "Harpreet Gill",
        "email": "Harpreet@Example.org",
        "phone": "07911 123456",
        "areas": "wv3, WV4 wv3",
        "languages": ["English", "Punjabi"],
        "skills": ["foundation", "transacting"],
        "access_experience": ["bsl"],
        "availability": ["tue_morning", "thu_evening"],
        "visit_modes": ["home", "video"],
        "caseload_limit": "3",
        "about": "Retired teacher.",
        "agree": "y",
    }
    data.update(overrides)
    return data


def test_a_volunteer_applies_signed_out(client, org):
    assert "Volunteer" in client.get("/").get_data(as_text=True)
    response = client.post("/volunteer", data=_application(org))
    assert response.status_code == 302 and response.headers["Location"].endswith(
        "/volunteer/thanks"
    )
    assert "will phone you" in client.get("/volunteer/thanks").get_data(as_text=True)
    profile = db.session.scalars(db.select(BuddyProfile)).one()
    assert profile.status == "applicant" and profile.organisation_id == org.id
    assert profile.email == "harpreet@example.org"
    assert profile.areas == ["WV3", "WV4"]
    assert profile.languages == ["English", "Punjabi"]
    assert profile.availability == ["tue_morning", "thu_evening"]
    assert profile.caseload_limit == 3 and profile.user_id is None


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("name", "", "Enter your name."),
        ("email", "not-an-email", "Enter an email address like name@example.org."),
        ("phone", "12", "Enter a phone number, like"),
        ("areas", "Wolverhampton", "Enter postcode districts like WV3"),
        ("languages", [], "Choose at least one language you speak."),
        ("availability", [], "Tick at least one time you are usually free."),
        ("visit_modes", [], "Choose at least one way of meeting."),
        ("caseload_limit", "99", "Enter a number from 1 to 20."),
        ("agree", "", "Tick to agree"),
    ],
)
def test_bad_application_is_refused_next_to_the_field(client, org, field, value, message):
    before = row_counts(BuddyProfile)
    data = _application(org, **{field: value})
    if value in ("", []):
        data.pop(field)
    response = client.post("/volunteer", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert f'id="{field}-error"' in page
    assert row_counts(BuddyProfile) == before


def test_a_second_application_with_the_same_email_gets_the_same_answer(client, org):
    """/volunteer never tells a stranger whether an email address has already applied."""
    first = client.post("/volunteer", data=_application(org, email="someone@example.org"))
    first_page = client.get("/volunteer/thanks").get_data(as_text=True)
    BuddyProfileFactory(
        organisation=org, email="harpreet@example.org", status="applicant", about="Original"
    )
    before = row_counts(BuddyProfile)
    again = client.post("/volunteer", data=_application(org, about="Overwritten?"))
    assert (again.status_code, again.headers["Location"]) == (
        first.status_code,
        first.headers["Location"],
    )
    assert client.get("/volunteer/thanks").get_data(as_text=True) == first_page
    assert "already" not in first_page
    assert row_counts(BuddyProfile) == before
    kept = db.session.scalar(
        db.select(BuddyProfile).where(BuddyProfile.email == "harpreet@example.org")
    )
    assert kept.about == "Original"


def test_renewal_due_follows_the_configured_years(app, org):
    profile = BuddyProfileFactory(
        organisation=org,
        status="applicant",
        dbs_level=None,
        dbs_certificate=None,
        dbs_issued_on=None,
        trained=False,
    )
    service.record_dbs(
        profile, level="enhanced", certificate="001234567890", issued_on=date(2024, 2, 29)
    )
    assert profile.dbs_renewal_due == date(2027, 2, 28)
    app.config["DBS_RENEWAL_YEARS"] = 1
    try:
        assert service.renewal_due(date(2025, 3, 1)) == date(2026, 3, 1)
    finally:
        app.config["DBS_RENEWAL_YEARS"] = 3


def test_activation_needs_a_current_dbs_and_both_trainings(coordinator, org):
    profile = BuddyProfileFactory(
        organisation=org,
        status="applicant",
        dbs_level=None,
        dbs_certificate=None,
        dbs_issued_on=None,
        trained=False,
    )
    url = f"/buddies/{profile.id}"
    response = coordinator.post(f"{url}/status", data={"status": "active"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Record a DBS check first." in page and "Record safeguarding training first." in page
    assert db.session.get(BuddyProfile, profile.id).status == "applicant"

    assert (
        coordinator.post(
            f"{url}/dbs",
            data={"level": "enhanced", "certificate": "0012 3456 7890", "issued_on": "2025-01-10"},
        ).status_code
        == 302
    )
    assert (
        coordinator.post(
            f"{url}/trainings",
            data={"kind": "safeguarding", "completed_on": "2025-02-01", "provider": "CVS"},
        ).status_code
        == 302
    )
    response = coordinator.post(f"{url}/status", data={"status": "active"})
    assert response.status_code == 422
    assert "Record data protection training first." in response.get_data(as_text=True)

    coordinator.post(
        f"{url}/trainings", data={"kind": "data_protection", "completed_on": "2025-02-02"}
    )
    assert coordinator.post(f"{url}/status", data={"status": "active"}).status_code == 302
    profile = db.session.get(BuddyProfile, profile.id)
    assert profile.status == "active" and profile.dbs_renewal_due == date(2028, 1, 10)


def test_an_expired_dbs_blocks_activation(org):
    issued = date.today() - timedelta(days=365 * 3 + 5)
    profile = BuddyProfileFactory(organisation=org, status="paused", dbs_issued_on=issued)
    with pytest.raises(RuleBroken, match="due for renewal"):
        service.change_status(profile, "active")
    assert profile.status == "paused"


def test_left_is_final_and_needs_matches_ended(org):
    from tests.factories import MatchFactory

    match = MatchFactory(organisation=org)
    with pytest.raises(RuleBroken, match="open match"):
        service.change_status(match.buddy, "left")
    service.end_match(match, reason="buddy_unavailable")
    service.change_status(match.buddy, "left")
    with pytest.raises(RuleBroken):
        service.change_status(match.buddy, "active")


@pytest.mark.parametrize(
    "path, data, message",
    [
        (
            "dbs",
            {"level": "", "certificate": "001234567890", "issued_on": "2025-01-01"},
            "Choose the level of the check.",
        ),
        (
            "dbs",
            {"level": "basic", "certificate": "12AB", "issued_on": "2025-01-01"},
            "A DBS certificate number has 12 digits.",
        ),
        (
            "dbs",
            {"level": "basic", "certificate": "001234567890", "issued_on": "2999-01-01"},
            "This date cannot be in the future.",
        ),
        ("trainings", {"kind": "", "completed_on": "2025-01-01"}, "Choose the training."),
        (
            "trainings",
            {"kind": "safeguarding", "completed_on": ""},
            "Enter the date it was completed.",
        ),
        ("status", {"status": "paused"}, "Not a valid choice"),
    ],
)
def test_bad_review_input_changes_nothing(coordinator, org, path, data, message):
    profile = BuddyProfileFactory(
        organisation=org,
        status="applicant",
        dbs_level=None,
        dbs_certificate=None,
        dbs_issued_on=None,
        trained=False,
    )
    before = row_counts(BuddyProfile, BuddyTraining)
    response = coordinator.post(f"/buddies/{profile.id}/{path}", data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert row_counts(BuddyProfile, BuddyTraining) == before
    profile = db.session.get(BuddyProfile, profile.id)
    assert profile.dbs_level is None and profile.status == "applicant"


def test_an_active_buddy_is_invited_to_a_buddy_account(coordinator, org):
    profile = BuddyProfileFactory(organisation=org, email="newbuddy@example.org")
    response = coordinator.post(f"/buddies/{profile.id}/invite")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "/invitations/" in page and "shown only now" in page
    profile = db.session.get(BuddyProfile, profile.id)
    user = db.session.get(User, profile.user_id)
    assert user.role == "buddy" and user.email == "newbuddy@example.org"
    assert user.password_hash is None
    assert db.session.scalars(db.select(Invitation).where(Invitation.user_id == user.id)).one()
    # a second invitation is refused
    before = row_counts(User)
    assert coordinator.post(f"/buddies/{profile.id}/invite").status_code == 422
    assert row_counts(User) == before


def test_an_applicant_cannot_be_invited(coordinator, org):
    profile = BuddyProfileFactory(organisation=org, status="applicant")
    before = row_counts(User)
    response = coordinator.post(f"/buddies/{profile.id}/invite")
    assert response.status_code == 422
    assert "Only an active buddy" in response.get_data(as_text=True)
    assert row_counts(User) == before


def test_buddy_list_takes_constant_queries(coordinator, org, count_queries):
    BuddyProfileFactory(organisation=org)
    with count_queries() as few:
        coordinator.get("/buddies")
    for _ in range(6):
        BuddyProfileFactory(organisation=org)
    with count_queries() as more:
        response = coordinator.get("/buddies?status=active")
    assert response.status_code == 200
    assert more.count == few.count


def test_other_organisations_buddies_are_not_found(other_coordinator, org):
    profile = BuddyProfileFactory(organisation=org, name="Hidden Person")
    assert other_coordinator.get(f"/buddies/{profile.id}").status_code == 404
    assert "Hidden Person" not in other_coordinator.get("/buddies").get_data(as_text=True)


def test_a_coordinator_edits_a_profile(coordinator, org):
    profile = BuddyProfileFactory(organisation=org, areas=["WV3"])
    page = coordinator.get(f"/buddies/{profile.id}/edit").get_data(as_text=True)
    assert 'value="WV3"' in page
    data = _application(org, areas="WV5, wv6", caseload_limit="4")
    data.pop("organisation")
    data.pop("agree")
    assert coordinator.post(f"/buddies/{profile.id}/edit", data=data).status_code == 302
    profile = db.session.get(BuddyProfile, profile.id)
    assert profile.areas == ["WV5", "WV6"] and profile.caseload_limit == 4
    assert profile.languages == ["English", "Punjabi"]


def test_a_bad_edit_changes_nothing(coordinator, org):
    profile = BuddyProfileFactory(organisation=org, areas=["WV3"])
    data = _application(org, areas="nowhere")
    response = coordinator.post(f"/buddies/{profile.id}/edit", data=data)
    assert response.status_code == 422
    assert 'id="areas-error"' in response.get_data(as_text=True)
    assert db.session.get(BuddyProfile, profile.id).areas == ["WV3"]


def test_dashboard_lists_waiting_applicants_and_dbs_renewals(coordinator, buddy, org):
    from tests.factories import ResidentFactory

    ResidentFactory(organisation=org)
    BuddyProfileFactory(organisation=org, status="applicant")
    due = BuddyProfileFactory(
        organisation=org,
        name="Renata Renew",
        dbs_issued_on=date.today() - timedelta(days=3 * 365 - 10),
    )
    page = coordinator.get("/dashboard").get_data(as_text=True)
    assert "1</span> waiting for a buddy" in page
    assert "1</span> applications to review" in page
    assert "Renata Renew" in page and f"{due.dbs_renewal_due:%d %b %Y}" in page
    assert "waiting for a buddy" not in buddy.get("/dashboard").get_data(as_text=True)


def test_leaving_deactivates_the_buddys_account(org, buddy_user):
    profile = BuddyProfileFactory(organisation=org, user=buddy_user)
    service.change_status(profile, "left")
    assert profile.status == "left"
    assert db.session.get(User, buddy_user.id).active is False
