"""Two workers at once on PostgreSQL: ``FOR UPDATE SKIP LOCKED`` gives each different
messages without waiting, and two workers emptying one queue send every message exactly
once.

The messages are committed for real (each worker has its own connection and must see
the other's commits), so the test makes its own organisation and removes everything of
it afterwards. Generated for PostgreSQL only: on SQLite there is one writer and nothing
to race, so nothing is collected there at all.
"""

from __future__ import annotations

import os
import threading
from collections import Counter

import pytest
from sqlalchemy import text

from devices import messages as device_messages
from inclusion.clock import today
from inclusion.extensions import db
from inclusion.messages import service, worker
from tests.factories import LoanFactory, OrganisationFactory, ResidentFactory, UserFactory
from tests.message_servers import API_KEY, TEMPLATE_ID, NotifyServer
from tests.test_messages import _zone_at

__test__ = bool(os.environ.get("INCLUSION_TEST_DATABASE_URL", "").strip())
pytestmark = pytest.mark.parametrize("app", ["postgresql"], indirect=True, scope="session")

QUEUED = 12


def _cleanup(app, org_id: int) -> None:
    with app.app_context():
        with db.engine.begin() as conn:
            # Audit events are append-only by trigger; a test's own may go.
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            for table in reversed(db.metadata.sorted_tables):
                if "organisation_id" in table.c and table.name != "user":
                    conn.execute(table.delete().where(table.c.organisation_id == org_id))
            conn.execute(text('DELETE FROM "user" WHERE organisation_id = :org'), {"org": org_id})
            conn.execute(text("DELETE FROM organisation WHERE id = :org"), {"org": org_id})


@pytest.fixture
def queue_of_texts(app, monkeypatch):
    """``QUEUED`` texts, committed, due now, and a Notify server to send them to."""
    notify = NotifyServer().start()
    for key, value in {
        "NOTIFY_API_KEY": API_KEY,
        "NOTIFY_SMS_TEMPLATE_ID": TEMPLATE_ID,
        "NOTIFY_BASE_URL": notify.url,
        "TIMEZONE": _zone_at(13),
    }.items():
        monkeypatch.setitem(app.config, key, value)
    with app.app_context():
        org = OrganisationFactory()
        user = UserFactory(organisation=org, role="coordinator")
        for _ in range(QUEUED):
            resident = ResidentFactory(organisation=org)
            service.save_contact_preference(resident, {"by_sms": True}, by=user)
            device_messages.queue_due_soon(
                LoanFactory(organisation=org, resident=resident, due_on=today())
            )
        org_id = org.id
        db.session.commit()
        db.session.remove()
    yield notify
    notify.stop()
    _cleanup(app, org_id)


def test_two_workers_claiming_at_once_take_different_messages_without_waiting(app, queue_of_texts):
    claimed_first, go_on, first_done = threading.Event(), threading.Event(), threading.Event()
    first: list[int] = []

    def first_worker():
        with app.app_context():
            try:
                first.extend(service.claim_due("first-worker-token", QUEUED // 2))
                claimed_first.set()
                go_on.wait(20)  # keeps its transaction, and the row locks, open
                db.session.commit()
            finally:
                db.session.remove()
                first_done.set()

    thread = threading.Thread(target=first_worker)
    thread.start()
    assert claimed_first.wait(20)
    with app.app_context():
        try:
            # Would wait for the first worker's locks without SKIP LOCKED: fail instead.
            db.session.execute(text("SET LOCAL lock_timeout = '2s'"))
            second = service.claim_due("second-worker-token", QUEUED)
            db.session.commit()
        finally:
            db.session.remove()
            go_on.set()
    thread.join(30)
    assert len(first) == QUEUED // 2
    assert len(second) == QUEUED - QUEUED // 2
    assert not set(first) & set(second)


def test_two_workers_emptying_one_queue_send_each_message_exactly_once(app, queue_of_texts):
    notify = queue_of_texts
    start = threading.Barrier(2, timeout=20)
    results: list[worker.RunResult] = []

    def run():
        with app.app_context():
            try:
                start.wait()
                while True:
                    result = worker.run_once(limit=2)
                    results.append(result)
                    if not result.handled:
                        return
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    references = Counter(r.body["reference"] for r in notify.sends())
    assert len(references) == QUEUED
    assert set(references.values()) == {1}
    assert sum(r.sent for r in results) == QUEUED
