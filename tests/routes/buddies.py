"""Buddies routes: volunteer applications, coordinator review, matching."""

from __future__ import annotations

from tests.factories import BuddyProfileFactory, MatchFactory, ResidentFactory

from . import public, staff


def arrange(world) -> None:
    world.buddy_profile_id = BuddyProfileFactory(organisation=world.org).id
    world.waiting_ref = ResidentFactory(organisation=world.org).reference
    world.match_id = MatchFactory(organisation=world.org, status="proposed", started_at=None).id


ROUTES = [
    public("buddies.apply", "/volunteer"),
    public("buddies.apply", "/volunteer", "POST"),
    public("buddies.apply", "/o/{org_code}/volunteer"),
    public("buddies.apply", "/o/{org_code}/volunteer", "POST"),
    # with no application in the session it sends you to the form
    public("buddies.applied", "/volunteer/thanks"),
    staff("buddies.index", "/buddies"),
    staff("buddies.detail", "/buddies/{buddy_profile_id}", record=True),
    staff("buddies.edit", "/buddies/{buddy_profile_id}/edit", record=True),
    staff("buddies.edit", "/buddies/{buddy_profile_id}/edit", "POST", record=True),
    staff("buddies.record_dbs", "/buddies/{buddy_profile_id}/dbs", "POST", record=True),
    staff("buddies.record_training", "/buddies/{buddy_profile_id}/trainings", "POST", record=True),
    staff("buddies.change_status", "/buddies/{buddy_profile_id}/status", "POST", record=True),
    staff("buddies.invite", "/buddies/{buddy_profile_id}/invite", "POST", record=True),
    staff("buddies.matching", "/matching"),
    staff("buddies.assignment", "/matching/assignment"),
    staff("buddies.assignment", "/matching/assignment", "POST"),
    staff("buddies.rank", "/matching/residents/{waiting_ref}", record=True),
    staff("buddies.propose", "/matching/residents/{waiting_ref}/propose", "POST", record=True),
    staff("buddies.needs", "/matching/residents/{waiting_ref}/needs", record=True),
    staff("buddies.needs", "/matching/residents/{waiting_ref}/needs", "POST", record=True),
    staff("buddies.confirm", "/matches/{match_id}/confirm", "POST", record=True),
    staff("buddies.end", "/matches/{match_id}/end", record=True),
    staff("buddies.end", "/matches/{match_id}/end", "POST", record=True),
]
