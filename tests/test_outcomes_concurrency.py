"""Two operators taking the same organisation out of a programme at the same moment, on two
real PostgreSQL connections (``pg_two_sessions``; generated for PostgreSQL only): the member
row is locked, so one removal is done and audited and the other is told it is already out."""

from __future__ import annotations

import time
import uuid

from sqlalchemy import delete, select

from inclusion.audit import AuditEvent
from outcomes import service
from outcomes.models import Programme, ProgrammeMember
from tests.factories import OrganisationFactory


def test_two_removals_of_one_member_at_once_remove_it_once(pg_two_sessions):
    name = f"Race programme {uuid.uuid4().hex[:8]}"
    with pg_two_sessions.committed() as session:
        home, member = OrganisationFactory(), OrganisationFactory()
        programme = Programme(name=name)
        session.add(programme)
        session.flush()
        for org in (home, member):
            session.add(ProgrammeMember(programme_id=programme.id, organisation_id=org.id))
        session.flush()
        code, member_id, programme_id = member.code, member.id, programme.id
        member_name, home_id = member.name, home.id

    def remove(ready):
        ready()
        service.remove_member(programme_name=name, code=code)

    def remove_later(ready):
        ready()
        time.sleep(0.3)  # the other desk takes the lock first
        service.remove_member(programme_name=name, code=code)

    try:
        outcomes = pg_two_sessions.race(remove, remove_later)
        assert sorted(outcomes) == sorted(
            ["done", f"{member_name} is not in the programme {name}."]
        ), outcomes
        with pg_two_sessions.reading() as session:
            members = session.scalars(
                select(ProgrammeMember.organisation_id).where(
                    ProgrammeMember.programme_id == programme_id
                )
            ).all()
            assert members == [home_id]
            events = session.scalars(
                select(AuditEvent).where(
                    AuditEvent.action == "programme.member_removed",
                    AuditEvent.organisation_id == member_id,
                )
            ).all()
            assert len(events) == 1
    finally:
        with pg_two_sessions.reading() as session:
            session.execute(delete(Programme).where(Programme.id == programme_id))
            session.commit()


def test_two_first_follow_up_schedules_at_once_leave_one_schedule(pg_two_sessions):
    """Two admins save the organisation's first schedule at once: the organisation row is
    locked, so the second waits, finds the first one's schedule and changes it (before, it
    added a second row and met the unique constraint: an error page)."""
    from inclusion.accounts.models import User
    from inclusion.extensions import db
    from outcomes.models import FollowUpSchedule
    from tests.factories import UserFactory

    with pg_two_sessions.committed():
        org = OrganisationFactory()
        admin = UserFactory(organisation=org, role="admin")
        org_id, admin_id = org.id, admin.id

    def first(ready):
        by = db.session.get(User, admin_id)
        ready()
        service.set_schedule(org_id, [3, 6], True, by=by)
        time.sleep(0.5)  # still in its transaction while the other desk saves

    def second(ready):
        by = db.session.get(User, admin_id)
        ready()
        time.sleep(0.1)
        service.set_schedule(org_id, [12], False, by=by)

    assert pg_two_sessions.race(first, second) == ["done", "done"]
    with pg_two_sessions.reading() as session:
        rows = session.scalars(
            select(FollowUpSchedule).where(FollowUpSchedule.organisation_id == org_id)
        ).all()
        assert [(r.months, r.at_closure) for r in rows] == [([12], False)]
        events = session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "outcome.schedule_set", AuditEvent.organisation_id == org_id
            )
        ).all()
        assert len(events) == 2 and {e.actor_id for e in events} == {admin_id}
