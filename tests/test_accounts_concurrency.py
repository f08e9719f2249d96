"""Two admins changing one account at the same moment, on two real PostgreSQL connections
(``pg_two_sessions``; generated for PostgreSQL only)."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from inclusion.accounts import service
from inclusion.accounts.models import User
from inclusion.audit import AuditEvent
from inclusion.extensions import db
from tests.factories import OrganisationFactory, UserFactory


def test_two_admins_deactivating_one_account_at_once_record_it_once(pg_two_sessions):
    with pg_two_sessions.committed():
        org = OrganisationFactory()
        admins = [UserFactory(organisation=org, role="admin") for _ in range(2)]
        someone = UserFactory(organisation=org, role="coordinator")
        ids = [a.id for a in admins], someone.id
        generation = someone.session_generation

    def deactivate(admin_id, then):
        def desk(ready):
            user = db.session.get(User, ids[1])
            by = db.session.get(User, admin_id)
            assert user.active  # what the users page showed
            then(ready)
            service.set_active(user, False, by=by)
            time.sleep(0.3)

        return desk

    def second(ready):
        ready()
        time.sleep(0.2)

    outcomes = pg_two_sessions.race(
        deactivate(ids[0][0], lambda r: r()), deactivate(ids[0][1], second)
    )

    assert outcomes == ["done", "done"], outcomes  # the second finds nothing left to do
    with pg_two_sessions.reading() as session:
        user = session.get(User, ids[1])
        assert user.active is False and user.session_generation == generation + 1
        events = session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "user.deactivated", AuditEvent.entity_id == ids[1])
        )
        assert events == 1
