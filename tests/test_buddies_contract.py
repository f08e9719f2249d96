"""What other packages rely on: who a buddy's residents are, and the permission hook."""

from __future__ import annotations

from buddies import service
from inclusion.extensions import db
from inclusion.permissions import can_view_resident
from tests.factories import BuddyProfileFactory, MatchFactory, ResidentFactory


def test_buddy_sees_only_residents_of_active_matches(app, org, buddy_user):
    profile = BuddyProfileFactory(organisation=org, user=buddy_user)
    mine = MatchFactory(organisation=org, buddy=profile).resident
    proposed = MatchFactory(organisation=org, buddy=profile, status="proposed", started_at=None)
    stranger = ResidentFactory(organisation=org)

    assert service.buddy_profile_of(buddy_user) == profile
    assert db.session.scalars(service.residents_of_buddy(buddy_user)).all() == [mine]
    assert service.buddy_matched(buddy_user, mine)
    assert not service.buddy_matched(buddy_user, proposed.resident)
    with app.test_request_context():
        assert can_view_resident(buddy_user, mine)
        assert not can_view_resident(buddy_user, stranger)


def test_waiting_means_needs_skills_open_and_unmatched(org):
    waiting = ResidentFactory(organisation=org)
    ResidentFactory(organisation=org, needs_skills=False)
    ResidentFactory(organisation=org, status="closed", outcome="goals_met")
    MatchFactory(organisation=org)
    assert db.session.scalars(service.waiting_residents()).all() == [waiting]
    assert service.is_waiting(waiting)
