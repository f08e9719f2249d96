"""Two desks at once on residents and buddies: every check-then-write holds (PostgreSQL).

Each test runs two real connections. The first desk acts and keeps its transaction
open; the second desk then acts in another connection, and only once it has done its
work, or is waiting for a lock the first holds, does the first commit. Without a lock
(or a conditional update) the second desk decides on what it read before the first
committed, which is exactly the race; with one it waits and sees the first's work.
So each test is deterministic, and fails on code that checks without locking.

These records are committed for real (each desk must see the other's commit), so a
test makes its own organisation and removes everything of it afterwards. Generated
for PostgreSQL only: on SQLite there is one writer and nothing to race, so nothing is
collected there at all.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, text

from buddies import service as buddies
from buddies.models import BuddyProfile, Match, MatchingNeeds
from inclusion.audit import AuditEvent
from inclusion.clock import today
from inclusion.errors import RuleBroken
from inclusion.extensions import db
from inclusion.residents import service as residents
from inclusion.residents.models import Resident, StatusChange
from tests.factories import (
    BuddyProfileFactory,
    MatchFactory,
    OrganisationFactory,
    ResidentFactory,
    UserFactory,
)

# Never collected without PostgreSQL (see the module docstring).
__test__ = bool(os.environ.get("INCLUSION_TEST_DATABASE_URL", "").strip())


# The session's PostgreSQL app only, never its SQLite one.
pytestmark = pytest.mark.parametrize("app", ["postgresql"], indirect=True, scope="session")


OK = "ok"


@dataclass
class Desks:
    first: str
    second: str

    @property
    def outcomes(self) -> list[str]:
        return [self.first, self.second]


def _waiting_for_locks() -> int:
    with db.engine.connect() as conn:
        return conn.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )


def _run(action: Callable[[], object]) -> str:
    try:
        action()
        db.session.flush()
    except RuleBroken as err:
        db.session.rollback()
        return err.message
    except Exception as err:  # noqa: BLE001 - a 500 at a desk; the assertion shows it
        db.session.rollback()
        return f"error: {err!r}"
    return OK


def two_desks(app, first: Callable[[], object], second: Callable[[], object]) -> Desks:
    """``first`` at one desk, then ``second`` at another before the first commits."""
    worked, finished, go_on = threading.Event(), threading.Event(), threading.Event()
    result: dict[str, str] = {}

    def second_desk():
        with app.app_context():
            try:
                outcome = _run(second)
                worked.set()
                go_on.wait(30)
                if outcome == OK:
                    try:
                        db.session.commit()
                    except Exception as err:  # noqa: BLE001
                        db.session.rollback()
                        outcome = f"error on commit: {err!r}"
                result["second"] = outcome
            finally:
                db.session.remove()
                finished.set()

    with app.app_context():
        try:
            first_outcome = _run(first)
            thread = threading.Thread(target=second_desk)
            thread.start()
            deadline = time.monotonic() + 20
            while not (worked.is_set() or finished.is_set()) and time.monotonic() < deadline:
                if _waiting_for_locks():
                    break
                time.sleep(0.02)
            if first_outcome == OK:
                db.session.commit()
            else:
                db.session.rollback()
        finally:
            db.session.remove()
            go_on.set()
    thread.join(30)
    assert not thread.is_alive(), "the second desk never finished"
    return Desks(first_outcome, result["second"])


# ---- records of one test ------------------------------------------------------------------


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
def committed(app):
    """``committed(build)``: run ``build(org, user)`` with factories, commit it, and
    return its result as ids; everything of the organisation is removed after."""
    orgs = []

    def make(build):
        with app.app_context():
            org = OrganisationFactory()
            user = UserFactory(organisation=org, role="coordinator")
            orgs.append(org.id)
            ids = build(org, user)
            ids = dict(ids or {}, org=org.id, user=user.id)
            db.session.commit()
            db.session.remove()
        return ids

    yield make
    for org_id in orgs:
        _cleanup(app, org_id)


def _look(app, query):
    with app.app_context():
        try:
            return query()
        finally:
            db.session.remove()


def _get(model, id_):
    return db.session.get(model, id_)


def _user(ids):
    from inclusion.accounts.models import User

    return db.session.get(User, ids["user"])


def _propose(ids, resident_key, buddy_key):
    def act():
        buddies.propose_pair(
            _get(Resident, ids[resident_key]), _get(BuddyProfile, ids[buddy_key]), by=_user(ids)
        )

    return act


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


# ---- matches ------------------------------------------------------------------------------


def test_two_proposals_for_one_resident_at_once_make_one_and_refuse_the_other(app, committed):
    ids = committed(
        lambda org, user: dict(
            resident=ResidentFactory(organisation=org, first_name="Irene").id,
            buddy_a=BuddyProfileFactory(organisation=org).id,
            buddy_b=BuddyProfileFactory(organisation=org).id,
        )
    )
    desks = two_desks(
        app, _propose(ids, "resident", "buddy_a"), _propose(ids, "resident", "buddy_b")
    )
    name = _look(app, lambda: _get(Resident, ids["resident"]).full_name)
    assert desks.outcomes == [OK, f"{name} already has a proposed or active match."]
    matches = _look(
        app,
        lambda: [
            (m.buddy_id, m.status)
            for m in db.session.scalars(select(Match).where(Match.resident_id == ids["resident"]))
        ],
    )
    assert matches == [(ids["buddy_a"], "proposed")]


def test_two_proposals_for_a_buddys_last_place_at_once_make_one(app, committed):
    ids = committed(
        lambda org, user: dict(
            first=ResidentFactory(organisation=org).id,
            second=ResidentFactory(organisation=org).id,
            buddy=BuddyProfileFactory(organisation=org, caseload_limit=1, name="Sam Last").id,
        )
    )
    desks = two_desks(app, _propose(ids, "first", "buddy"), _propose(ids, "second", "buddy"))
    assert desks.outcomes == [
        OK,
        "Sam Last cannot be matched: no capacity (1 of 1 places taken).",
    ]
    assert _look(app, lambda: _count(Match, Match.buddy_id == ids["buddy"])) == 1


def _two_proposals_for_one_place(org, user):
    buddy = BuddyProfileFactory(organisation=org, caseload_limit=2, name="Pat Full")
    matches = [
        MatchFactory(organisation=org, buddy=buddy, status="proposed", started_at=None)
        for _ in range(2)
    ]
    buddy.caseload_limit = 1  # lowered after both were proposed
    return dict(buddy=buddy.id, a=matches[0].id, b=matches[1].id)


def _confirm(ids, key):
    return lambda: buddies.confirm_match(_get(Match, ids[key]), by=_user(ids))


def _end(ids, key, reason="declined"):
    return lambda: buddies.end_match(_get(Match, ids[key]), reason=reason, by=_user(ids))


def test_two_confirmations_for_one_buddy_at_once_keep_the_caseload_limit(app, committed):
    ids = committed(_two_proposals_for_one_place)
    desks = two_desks(app, _confirm(ids, "a"), _confirm(ids, "b"))
    assert desks.outcomes == [OK, "Pat Full has no free places: 1 of 1 taken."]
    statuses = _look(
        app,
        lambda: sorted(
            (m.id, m.status)
            for m in db.session.scalars(select(Match).where(Match.buddy_id == ids["buddy"]))
        ),
    )
    assert statuses == [(ids["a"], "active"), (ids["b"], "proposed")]


def _one_proposal(org, user):
    match = MatchFactory(organisation=org, status="proposed", started_at=None)
    return dict(match=match.id)


def test_a_proposal_confirmed_twice_at_once_is_confirmed_once(app, committed):
    ids = committed(_one_proposal)
    desks = two_desks(app, _confirm(ids, "match"), _confirm(ids, "match"))
    assert desks.outcomes == [OK, "This proposal has already been confirmed."]
    confirmed = _look(
        app,
        lambda: _count(
            AuditEvent, AuditEvent.action == "match.confirmed", AuditEvent.entity_id == ids["match"]
        ),
    )
    assert confirmed == 1


def test_a_proposal_declined_while_confirmed_stays_declined(app, committed):
    ids = committed(_one_proposal)
    desks = two_desks(app, _end(ids, "match"), _confirm(ids, "match"))
    assert desks.outcomes == [OK, "This proposal has already been ended."]
    match = _look(app, lambda: _get(Match, ids["match"]))
    assert (match.status, match.end_reason, match.started_at) == ("ended", "declined", None)


def test_a_match_ended_twice_at_once_ends_once(app, committed):
    ids = committed(lambda org, user: dict(match=MatchFactory(organisation=org).id))
    desks = two_desks(app, _end(ids, "match", "goals_met"), _end(ids, "match", "other"))
    assert desks.outcomes == [OK, "This match has already ended."]
    match = _look(app, lambda: _get(Match, ids["match"]))
    assert (match.status, match.end_reason) == ("ended", "goals_met")
    ended = _look(
        app,
        lambda: _count(
            AuditEvent, AuditEvent.action == "match.ended", AuditEvent.entity_id == ids["match"]
        ),
    )
    assert ended == 1


def test_a_buddy_never_leaves_while_being_proposed(app, committed):
    ids = committed(
        lambda org, user: dict(
            resident=ResidentFactory(organisation=org).id,
            buddy=BuddyProfileFactory(organisation=org).id,
        )
    )

    def leave():
        buddies.change_status(_get(BuddyProfile, ids["buddy"]), "left", by=_user(ids))

    desks = two_desks(app, _propose(ids, "resident", "buddy"), leave)
    assert desks.outcomes == [OK, "End this buddy's open match before they leave."]
    assert _look(app, lambda: _get(BuddyProfile, ids["buddy"]).status) == "active"


# ---- residents ----------------------------------------------------------------------------


def _close(ids, key="resident"):
    return lambda: residents.change_status(
        _get(Resident, ids[key]), "closed", outcome="goals_met", by=_user(ids)
    )


def test_a_case_closed_while_a_buddy_is_proposed_is_not_proposed(app, committed):
    ids = committed(
        lambda org, user: dict(
            resident=ResidentFactory(organisation=org, status="assessed").id,
            buddy=BuddyProfileFactory(organisation=org).id,
        )
    )
    desks = two_desks(app, _close(ids), _propose(ids, "resident", "buddy"))
    reference = _look(app, lambda: _get(Resident, ids["resident"]).reference)
    assert desks.first == OK
    assert reference in desks.second and "is closed" in desks.second, desks.second
    assert _look(app, lambda: _count(Match, Match.resident_id == ids["resident"])) == 0


def test_a_proposal_made_while_the_case_closes_is_ended_with_it(app, committed):
    ids = committed(
        lambda org, user: dict(
            resident=ResidentFactory(organisation=org, status="assessed").id,
            buddy=BuddyProfileFactory(organisation=org).id,
        )
    )
    desks = two_desks(app, _propose(ids, "resident", "buddy"), _close(ids))
    assert desks.outcomes == [OK, OK]
    match = _look(
        app,
        lambda: db.session.scalars(select(Match).where(Match.resident_id == ids["resident"])).one(),
    )
    assert (match.status, match.end_reason) == ("ended", "resident_closed")


def test_two_status_changes_of_one_resident_at_once_are_checked_in_turn(app, committed):
    ids = committed(lambda org, user: dict(resident=ResidentFactory(organisation=org).id))

    def contacted():
        residents.change_status(_get(Resident, ids["resident"]), "contacted", by=_user(ids))

    desks = two_desks(app, _close(ids), contacted)
    assert desks.outcomes == [OK, "Cannot move from closed to contacted."]
    resident = _look(app, lambda: _get(Resident, ids["resident"]))
    assert (resident.status, resident.outcome) == ("closed", "goals_met")
    steps = _look(
        app,
        lambda: [
            (c.from_status, c.to_status)
            for c in db.session.scalars(
                select(StatusChange)
                .where(StatusChange.resident_id == ids["resident"])
                .order_by(StatusChange.id)
            )
        ],
    )
    assert steps == [(None, "referred"), ("referred", "closed")]


def test_the_first_two_references_of_an_organisation_at_once_are_both_issued(app, committed):
    ids = committed(lambda org, user: {})
    data = dict(
        first_name="Ada",
        last_name="Lovelace",
        phone="01902 555123",
        postcode="WV1 1AA",
        referral_source="gp",
        needs_skills=True,
    )

    def refer():
        from inclusion.accounts.models import Organisation

        residents.create_referral(
            db.session.get(Organisation, ids["org"]), data, consent_given=False, consent_method=None
        )

    desks = two_desks(app, refer, refer)
    assert desks.outcomes == [OK, OK]
    references = _look(
        app,
        lambda: sorted(
            db.session.scalars(
                select(Resident.reference).where(Resident.organisation_id == ids["org"])
            )
        ),
    )
    assert references == ["R-000001", "R-000002"]


def test_matching_needs_saved_twice_at_once_are_one_record(app, committed):
    ids = committed(lambda org, user: dict(resident=ResidentFactory(organisation=org).id))

    def save(slots):
        return lambda: buddies.save_matching_needs(
            _get(Resident, ids["resident"]), {"availability": slots}, by=_user(ids)
        )

    desks = two_desks(app, save(["mon_morning"]), save(["tue_evening"]))
    assert desks.outcomes == [OK, OK]
    needs = _look(
        app,
        lambda: [
            n.availability
            for n in db.session.scalars(
                select(MatchingNeeds).where(MatchingNeeds.resident_id == ids["resident"])
            )
        ],
    )
    assert needs == [["tue_evening"]]


# ---- DBS renewals -------------------------------------------------------------------------


def test_an_older_dbs_recorded_at_the_same_time_as_a_renewal_does_not_replace_it(app, committed):
    issued_before = today() - timedelta(days=800)
    ids = committed(
        lambda org, user: dict(
            buddy=BuddyProfileFactory(
                organisation=org, dbs_issued_on=issued_before, dbs_certificate="000000000001"
            ).id
        )
    )

    def record(certificate: str, issued_on: date):
        return lambda: buddies.record_dbs(
            _get(BuddyProfile, ids["buddy"]),
            level="enhanced",
            certificate=certificate,
            issued_on=issued_on,
            by=_user(ids),
        )

    renewed_on = today() - timedelta(days=3)
    desks = two_desks(
        app,
        record("000000000003", renewed_on),
        record("000000000002", today() - timedelta(days=400)),
    )
    assert desks.outcomes == [
        OK,
        f"A newer DBS check (issued {renewed_on:%d %b %Y}) is already recorded.",
    ]
    profile = _look(app, lambda: _get(BuddyProfile, ids["buddy"]))
    assert (profile.dbs_certificate, profile.dbs_issued_on) == ("000000000003", renewed_on)


# ---- buddies' accounts and applications ---------------------------------------------------


def test_a_buddy_invited_twice_at_once_gets_one_account(app, committed):
    from inclusion.accounts.models import User

    ids = committed(
        lambda org, user: dict(
            buddy=BuddyProfileFactory(organisation=org, email="twice@volunteers.example.org").id
        )
    )

    def invite():
        buddies.invite_buddy(_get(BuddyProfile, ids["buddy"]), by=_user(ids))

    desks = two_desks(app, invite, invite)
    assert desks.outcomes == [OK, "This buddy already has an account."]
    accounts = _look(app, lambda: _count(User, User.email == "twice@volunteers.example.org"))
    assert accounts == 1


def test_the_same_application_sent_twice_at_once_is_kept_once(app, committed):
    from inclusion.accounts.models import Organisation

    ids = committed(lambda org, user: {})
    data = dict(name="Harpreet Gill", email="harpreet@example.org", languages=["English"])

    def apply():
        buddies.apply_to_volunteer(db.session.get(Organisation, ids["org"]), dict(data))

    desks = two_desks(app, apply, apply)
    assert desks.first == OK and not desks.second.startswith("error"), desks.outcomes
    applications = _look(
        app,
        lambda: _count(
            BuddyProfile,
            BuddyProfile.organisation_id == ids["org"],
            BuddyProfile.email == "harpreet@example.org",
        ),
    )
    assert applications == 1


# ---- practice -----------------------------------------------------------------------------


def test_a_baseline_recorded_twice_at_once_is_recorded_once(app, committed):
    from buddies.practice import service as practice
    from buddies.practice.models import Checkpoint
    from tests.factories import SkillTaskFactory

    ids = committed(
        lambda org, user: dict(
            resident=ResidentFactory(organisation=org).id,
            task=SkillTaskFactory(organisation=org).id,
        )
    )

    def baseline():
        practice.record_baseline(_get(Resident, ids["resident"]), {ids["task"]: 1}, by=_user(ids))

    desks = two_desks(app, baseline, baseline)
    assert desks.outcomes == [OK, "The baseline for this resident has been recorded already."]
    assert _look(app, lambda: _count(Checkpoint, Checkpoint.resident_id == ids["resident"])) == 1


def test_a_safeguarding_action_recorded_twice_at_once_is_recorded_once(app, committed):
    from buddies.practice import service as practice
    from buddies.practice.models import PracticeSession
    from tests.factories import PracticeSessionFactory

    ids = committed(
        lambda org, user: dict(
            session=PracticeSessionFactory(
                match=MatchFactory(organisation=org),
                safeguarding_concern=True,
                safeguarding_description="Worried about a caller asking for bank details.",
            ).id
        )
    )

    def act(action):
        return lambda: practice.record_safeguarding_action(
            _get(PracticeSession, ids["session"]), action, by=_user(ids)
        )

    desks = two_desks(app, act("Told the safeguarding lead."), act("Phoned the family."))
    assert desks.outcomes == [OK, "The action taken has been recorded already."]
    action = _look(app, lambda: _get(PracticeSession, ids["session"]).safeguarding_action)
    assert action == "Told the safeguarding lead."


def test_a_session_logged_as_the_match_ends_is_refused(app, committed):
    from buddies.practice import service as practice
    from buddies.practice.models import PracticeSession
    from inclusion.accounts.models import User

    def build(org, user):
        account = UserFactory(organisation=org, role="buddy")
        match = MatchFactory(
            organisation=org, buddy=BuddyProfileFactory(organisation=org, user=account)
        )
        return dict(match=match.id, resident=match.resident_id, account=account.id)

    ids = committed(build)

    def log():
        practice.log_session(
            _get(Resident, ids["resident"]),
            {"held_on": today(), "minutes": 45, "mode": "home"},
            {},
            token="race-token-0001",
            by=db.session.get(User, ids["account"]),
        )

    desks = two_desks(app, _end(ids, "match", "goals_met"), log)
    assert desks.outcomes == [OK, "Only this resident's buddy can log their sessions."]
    sessions = _look(
        app, lambda: _count(PracticeSession, PracticeSession.resident_id == ids["resident"])
    )
    assert sessions == 0


# ---- the next planned visit ------------------------------------------------------------------


def _plan_visit(ids, days=7):
    return lambda: buddies.plan_next_visit(
        _get(Match, ids["match"]), today() + timedelta(days=days), by=_user(ids)
    )


def test_a_visit_planned_as_the_match_ends_is_refused(app, committed):
    ids = committed(lambda org, user: dict(match=MatchFactory(organisation=org).id))
    desks = two_desks(app, _end(ids, "match", "goals_met"), _plan_visit(ids))
    assert desks.outcomes == [OK, "This match is not active any more."]
    status, planned = _look(
        app, lambda: (_get(Match, ids["match"]).status, _get(Match, ids["match"]).next_visit_on)
    )
    assert (status, planned) == ("ended", None)


def test_a_match_ended_as_a_visit_is_planned_keeps_no_visit(app, committed):
    ids = committed(lambda org, user: dict(match=MatchFactory(organisation=org).id))
    desks = two_desks(app, _plan_visit(ids), _end(ids, "match", "goals_met"))
    assert desks.outcomes == [OK, OK]
    status, planned = _look(
        app, lambda: (_get(Match, ids["match"]).status, _get(Match, ids["match"]).next_visit_on)
    )
    assert (status, planned) == ("ended", None)
