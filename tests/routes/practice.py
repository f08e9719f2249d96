"""Practice routes: the buddy's residents and session log, the first assessment,
progress, the skill taxonomy, safeguarding alerts and programme progress."""

from __future__ import annotations

from buddies.practice import service
from tests.factories import (
    BuddyProfileFactory,
    MatchFactory,
    PracticeSessionFactory,
    ResidentFactory,
)

from . import DENY, LOGIN, MISSING, OK, Route, staff


def arrange(world) -> None:
    # The matrix's buddy user is the active buddy of this resident.
    profile = BuddyProfileFactory(organisation=world.org, user=world.users["buddy"])
    resident = ResidentFactory(organisation=world.org)
    match = MatchFactory(organisation=world.org, buddy=profile, resident=resident)
    world.practice_ref = resident.reference
    service.ensure_taxonomy(world.org.id)
    world.task_id = _first_task_id(world.org.id)
    world.alert_session_id = PracticeSessionFactory(
        match=match, safeguarding_concern=True, safeguarding_description="Worried about a caller."
    ).id


def _first_task_id(org_id):
    from sqlalchemy import select

    from buddies.practice.models import SkillTask
    from inclusion.extensions import db

    return db.session.scalar(
        select(SkillTask.id).where(SkillTask.organisation_id == org_id).order_by(SkillTask.id)
    )


def buddy_only(endpoint, url, method="GET") -> Route:
    """Only a buddy logs sessions; staff hold no ``sessions.log``."""
    return Route(
        endpoint,
        url,
        method,
        anon=LOGIN,
        admin=DENY,
        coordinator=DENY,
        buddy=OK,
        donor=DENY,
        other=DENY,
    )


def progress(endpoint, url, method="GET") -> Route:
    """Staff of the organisation, and the resident's own buddy."""
    return Route(
        endpoint,
        url,
        method,
        anon=LOGIN,
        admin=OK,
        coordinator=OK,
        buddy=OK,
        donor=DENY,
        other=MISSING,
    )


ROUTES = [
    buddy_only("practice.my_residents", "/practice/residents"),
    progress("practice.resident", "/practice/residents/{practice_ref}"),
    buddy_only("practice.log_session", "/practice/residents/{practice_ref}/sessions/new"),
    buddy_only("practice.log_session", "/practice/residents/{practice_ref}/sessions/new", "POST"),
    progress("practice.next_visit", "/practice/residents/{practice_ref}/next-visit"),
    progress("practice.next_visit", "/practice/residents/{practice_ref}/next-visit", "POST"),
    progress("practice.baseline", "/practice/residents/{practice_ref}/baseline"),
    progress("practice.baseline", "/practice/residents/{practice_ref}/baseline", "POST"),
    staff("practice.skills", "/practice/skills"),
    staff("practice.add_task", "/practice/skills", "POST"),
    staff("practice.retire_task", "/practice/skills/{task_id}/retire", "POST", record=True),
    staff("practice.restore_task", "/practice/skills/{task_id}/restore", "POST", record=True),
    staff("practice.alerts", "/practice/alerts"),
    staff("practice.alert_action", "/practice/sessions/{alert_session_id}/action", record=True),
    staff(
        "practice.alert_action", "/practice/sessions/{alert_session_id}/action", "POST", record=True
    ),
    staff("practice.programme", "/practice/progress"),
]
