"""The reports' fast figures (kept under the organisation's data version) always equal a
from-scratch computation: random sequences of lends, returns, sessions, checkpoints,
erasures and backdated edits, each committed, then both compared for two periods."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from buddies.practice.models import PracticeSession
from devices.loans import service as loans
from devices.loans.models import Loan
from inclusion.clock import today
from inclusion.dataprotection.service import erase_resident
from inclusion.extensions import db
from inclusion.reports.cache import figures_for, forget_all
from inclusion.reports.periods import financial_year, financial_year_of
from inclusion.reports.queries import report_figures
from tests.factories import (
    BuddyProfileFactory,
    CheckpointFactory,
    DeviceFactory,
    MatchFactory,
    PracticeSessionFactory,
    ResidentFactory,
)

ACTIONS = ("referral", "lend", "return", "session", "checkpoint", "erase", "backdate")


def _periods():
    now = financial_year_of(today())
    return [financial_year(now), financial_year(now - 1)]


def _day(offset: int) -> date:
    """A day within the last two financial years."""
    return today() - timedelta(days=offset % 700)


def _apply(action: str, offset: int, org, user) -> None:
    if action == "referral":
        ResidentFactory(organisation=org, referral_date=_day(offset), status="assessed")
    elif action == "lend":
        device = DeviceFactory(organisation=org)
        resident = ResidentFactory(organisation=org, status="assessed")
        loans.lend_device(
            device,
            resident,
            due_on=today() + timedelta(days=28),
            agreement_method="paper",
            by=user,
        )
    elif action == "return":
        loan = db.session.scalar(
            select(Loan).where(Loan.organisation_id == org.id, Loan.ended_at.is_(None)).limit(1)
        )
        if loan is not None:
            loans.return_device(
                loan, condition="B", accessories_back="", received_by="Desk", by=user
            )
    elif action in ("session", "checkpoint"):
        match = MatchFactory(
            organisation=org,
            resident=ResidentFactory(organisation=org, status="supported"),
            buddy=BuddyProfileFactory(organisation=org),
        )
        session = PracticeSessionFactory(match=match, held_on=_day(offset))
        if action == "checkpoint":
            CheckpointFactory(session=session, level=offset % 5)
    elif action == "erase":
        resident = ResidentFactory(organisation=org, referral_date=_day(offset), status="assessed")
        db.session.flush()
        erase_resident(resident, by=user, ignore_blockers=True)
    elif action == "backdate":
        session = db.session.scalar(
            select(PracticeSession).where(PracticeSession.organisation_id == org.id).limit(1)
        )
        if session is not None:
            session.held_on = _day(offset + 200)
    db.session.flush()


@pytest.mark.usefixtures("db")
@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(ACTIONS), st.integers(min_value=0, max_value=10_000)),
        min_size=1,
        max_size=6,
    )
)
def test_fast_figures_equal_a_computation_from_scratch(app, org, coordinator_user, steps):
    forget_all(app)
    with app.test_request_context():
        for period in _periods():  # fill the cache before the first change
            figures_for(org.id, period.start, period.end)
        for action, offset in steps:
            _apply(action, offset, org, coordinator_user)
            db.session.commit()
            for period in _periods():
                fast = figures_for(org.id, period.start, period.end)
                again = figures_for(org.id, period.start, period.end)  # from the cache
                assert fast == again == report_figures(org.id, period.start, period.end), (
                    action,
                    period,
                )


def test_a_commit_raises_the_version_and_a_read_does_not(app, db, org, coordinator_user):
    from inclusion.dataversion import data_version

    with app.test_request_context():
        db.session.commit()  # the fixtures' rows
        before = data_version(db.session, org.id)
        db.session.commit()
        assert data_version(db.session, org.id) == before
        ResidentFactory(organisation=org)
        db.session.commit()
        assert data_version(db.session, org.id) == before + 1
