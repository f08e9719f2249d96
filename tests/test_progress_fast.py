"""A resident's progress (the chart's series and the first/latest table) walks the
checkpoints once as plain tuples: for random histories it equals the straightforward
computation it replaced (every checkpoint replayed point by point)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from buddies.practice import queries, service
from buddies.practice.models import AREAS, Checkpoint, PracticeSession, SkillTask
from inclusion.extensions import db
from inclusion.tenancy import scoped_to
from tests.factories import CheckpointFactory, MatchFactory, PracticeSessionFactory


def _reference(resident_id: int):
    """The replay: points in session order, each task's latest level carried forward."""
    sessions = db.session.scalars(
        select(PracticeSession)
        .where(PracticeSession.resident_id == resident_id)
        .order_by(PracticeSession.held_on, PracticeSession.id)
    ).all()
    number = {s.id: i + 1 for i, s in enumerate(sessions)}
    cps = db.session.scalars(select(Checkpoint).where(Checkpoint.resident_id == resident_id)).all()
    cps.sort(key=lambda cp: (number.get(cp.session_id, 0), cp.id))
    baseline = any(cp.session_id is None for cp in cps)
    rows = {}
    for cp in cps:
        first = rows.get(cp.task_id, (cp.level, cp.recorded_on, None, None, 0))[:2]
        rows[cp.task_id] = (*first, cp.level, cp.recorded_on, rows.get(cp.task_id, (0,) * 5)[4] + 1)
    area = {t.id: t.area for t in db.session.scalars(select(SkillTask))}
    series = {a: [] for a in AREAS}
    for p in ([0] if baseline else []) + list(range(1, len(sessions) + 1)):
        current = {}
        for cp in cps:
            if number.get(cp.session_id, 0) <= p:
                current[cp.task_id] = cp.level
        for a in AREAS:
            levels = [lvl for t, lvl in current.items() if area[t] == a]
            if levels:
                series[a].append((p, round(sum(levels) / len(levels), 2)))
    return rows, {AREAS[a]: pts for a, pts in series.items() if pts}, baseline


@pytest.mark.usefixtures("db")
@settings(
    max_examples=5,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    baseline=st.lists(st.tuples(st.integers(0, 25), st.integers(0, 4)), max_size=4),
    sessions=st.lists(
        st.tuples(
            st.integers(0, 6),  # days ago (several sessions a day: in id order)
            st.lists(st.tuples(st.integers(0, 25), st.integers(0, 4)), max_size=5),
        ),
        max_size=6,
    ),
)
def test_progress_equals_a_replay_of_every_checkpoint(org, baseline, sessions):
    service.ensure_taxonomy(org.id)
    tasks = db.session.scalars(
        select(SkillTask).where(SkillTask.organisation_id == org.id).order_by(SkillTask.id)
    ).all()
    match = MatchFactory(organisation=org)
    resident = match.resident
    for task, level in dict(baseline).items():  # one baseline per task (a unique index)
        CheckpointFactory(session=None, resident=resident, task=tasks[task], level=level)
    for days_ago, practised in sessions:
        held = PracticeSessionFactory(match=match, held_on=date.today() - timedelta(days=days_ago))
        for task, level in dict(practised).items():  # one per task and session
            CheckpointFactory(session=held, task=tasks[task], level=level)
    db.session.flush()
    with scoped_to(org.id):
        progress = queries.resident_progress(resident.id)
        rows, series, has_baseline = _reference(resident.id)
    assert progress.has_baseline == has_baseline
    assert {s.label: s.points for s in progress.chart.series} == series
    assert {
        r.task.id: (r.first, r.first_on, r.latest, r.latest_on, r.times) for r in progress.rows
    } == rows
    assert [s.id for s in progress.sessions] == [
        s.id
        for s in db.session.scalars(
            select(PracticeSession)
            .where(PracticeSession.resident_id == resident.id)
            .order_by(PracticeSession.held_on, PracticeSession.id)
        )
    ]
