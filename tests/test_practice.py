"""Practice: the skill taxonomy, logging sessions and checkpoints, the baseline,
safeguarding alerts, progress and the sessions-to-level-3 estimate."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from buddies.practice import queries, service
from buddies.practice.models import AREAS, SEED_TASKS, Checkpoint, PracticeSession, SkillTask
from buddies.practice.survival import kaplan_meier
from inclusion.audit import AuditEvent
from inclusion.tenancy import scope_session
from tests.conftest import row_counts
from tests.factories import (
    BuddyProfileFactory,
    CheckpointFactory,
    DeviceFactory,
    LoanFactory,
    MatchFactory,
    PracticeSessionFactory,
    ResidentFactory,
    SkillTaskFactory,
)

# ---- the Kaplan–Meier estimator -------------------------------------------------------


def test_kaplan_meier_matches_a_hand_computed_example():
    # Six residents: reached at 1, 2, 3, 5 sessions; still learning after 2 and 4.
    est = kaplan_meier([(1, True), (2, True), (2, False), (3, True), (4, False), (5, True)])
    # t=1: 6 at risk, 1 event  -> S = 5/6
    # t=2: 5 at risk, 1 event (1 censored after) -> S = 5/6 * 4/5 = 2/3
    # t=3: 3 at risk, 1 event  -> S = 2/3 * 2/3 = 4/9
    # t=4: 2 at risk, 0 events (1 censored) -> S = 4/9
    # t=5: 1 at risk, 1 event  -> S = 0
    got = [(s.time, s.at_risk, s.events, s.censored, round(s.survival, 4)) for s in est.steps]
    assert got == [
        (1, 6, 1, 0, round(5 / 6, 4)),
        (2, 5, 1, 1, round(2 / 3, 4)),
        (3, 3, 1, 0, round(4 / 9, 4)),
        (4, 2, 0, 1, round(4 / 9, 4)),
        (5, 1, 1, 0, 0.0),
    ]
    assert est.median == 3
    assert (est.subjects, est.events) == (6, 4)
    assert [est.at_risk(t) for t in (1, 2, 3, 4, 5, 6)] == [6, 5, 3, 2, 1, 0]
    assert est.survival_at(0) == 1.0 and round(est.survival_at(4), 4) == round(4 / 9, 4)


def test_kaplan_meier_without_enough_follow_up_has_no_median():
    est = kaplan_meier([(2, True), (3, False), (3, False), (4, False)])
    assert round(est.steps[-1].survival, 4) == 0.75
    assert est.median is None
    assert kaplan_meier([]).median is None


def test_censoring_is_not_the_same_as_failure():
    # Naively averaging only those who reached it gives 1 session; KM keeps the censored in view.
    est = kaplan_meier([(1, True), (6, False), (6, False), (6, False)])
    assert est.median is None
    assert round(est.survival_at(6), 2) == 0.75


# ---- taxonomy ----------------------------------------------------------------------------


def test_taxonomy_is_seeded_per_organisation_once(db, org, other_org):
    service.ensure_taxonomy(org.id)
    service.ensure_taxonomy(org.id)
    service.ensure_taxonomy(other_org.id)
    count = db.session.scalar(
        select(func.count()).select_from(SkillTask).where(SkillTask.organisation_id == org.id)
    )
    assert count == len(SEED_TASKS)
    scope_session(db.session, org.id)
    try:
        grouped = service.tasks_by_area(service.tasks())
    finally:
        scope_session(db.session, None)
    assert list(grouped) == list(AREAS)
    assert all(4 <= len(tasks) <= 8 for tasks in grouped.values())
    names = {t.name for tasks in grouped.values() for t in tasks}
    for expected in (
        "Connect to Wi-Fi",
        "Make a video call",
        "Use the NHS App",
        "Spot a scam message",
        "Book a GP appointment or order a repeat prescription online",
    ):
        assert expected in names


def test_coordinator_adds_and_retires_a_task_and_history_stays(app, db, org, coordinator):
    response = coordinator.get("/practice/skills")
    assert response.status_code == 200 and b"Switch on and unlock a device" in response.data
    response = coordinator.post(
        "/practice/skills", data={"area": "transacting", "name": "Order a food shop online"}
    )
    assert response.status_code == 302
    task = db.session.scalar(select(SkillTask).where(SkillTask.name == "Order a food shop online"))
    assert task.organisation_id == org.id and task.area == "transacting"
    cp = CheckpointFactory(
        task=task, level=2, session=PracticeSessionFactory(match=MatchFactory(organisation=org))
    )
    assert coordinator.post(f"/practice/skills/{task.id}/retire").status_code == 302
    task = db.session.get(SkillTask, task.id)
    assert task.retired_at is not None
    assert db.session.get(Checkpoint, cp.id).task_id == task.id
    # Retired: off the session form, still in the resident's progress.
    scope_session(db.session, org.id)
    try:
        assert task.id not in {t.id for t in service.tasks()}
        assert any(r.task.id == task.id for r in queries.resident_progress(cp.resident_id).rows)
    finally:
        scope_session(db.session, None)
    assert coordinator.post(f"/practice/skills/{task.id}/restore").status_code == 302
    assert db.session.get(SkillTask, task.id).retired_at is None


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"area": "", "name": "Something"}, "area", "Choose one of the skill areas."),
        ({"area": "nonsense", "name": "Something"}, "area", "Choose one of the skill areas."),
        ({"area": "safety", "name": ""}, "name", "Enter what the task is."),
        (
            {"area": "safety", "name": "spot a SCAM message"},
            "name",
            "already a task with that name",
        ),
    ],
)
def test_bad_task_input_is_refused_next_to_the_field(db, org, coordinator, data, field, message):
    service.ensure_taxonomy(org.id)
    before = row_counts(SkillTask)
    response = coordinator.post("/practice/skills", data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="{field}-error"' in html and message in html
    assert row_counts(SkillTask) == before


# ---- a buddy and their residents ----------------------------------------------------------


@pytest.fixture
def my_match(db, org, buddy_user):
    profile = BuddyProfileFactory(organisation=org, user=buddy_user)
    resident = ResidentFactory(
        organisation=org,
        first_name="Edna",
        last_name="Matched",
        phone="+44 7911 000111",
        area="WV4",
        preferred_language="Punjabi",
        access_sight=True,
        notes="SECRET-NOTE about family",
        referral_reason="SECRET-REASON for referral",
        date_of_birth=date(1941, 3, 7),
        email="edna.secret@example.org",
        referrer_name="Dr SECRET-REFERRER",
    )
    return MatchFactory(organisation=org, buddy=profile, resident=resident)


@pytest.fixture
def tasks(db, org):
    service.ensure_taxonomy(org.id)
    return db.session.scalars(
        select(SkillTask).where(SkillTask.organisation_id == org.id).order_by(SkillTask.position)
    ).all()


FORBIDDEN = (
    "SECRET-NOTE",
    "SECRET-REASON",
    "SECRET-REFERRER",
    "edna.secret@example.org",
    "1941",
    "07 Mar",
    "Unmatched",
)


def test_buddy_sees_only_their_residents_and_only_what_the_work_needs(
    db, org, buddy, my_match, tasks
):
    ResidentFactory(organisation=org, first_name="Olive", last_name="Unmatched")
    MatchFactory(organisation=org)  # someone else's match
    ref = my_match.resident.reference
    pages = [
        "/practice/residents",
        f"/practice/residents/{ref}",
        f"/practice/residents/{ref}/sessions/new",
        f"/practice/residents/{ref}/baseline",
    ]
    for url in pages:
        response = buddy.get(url)
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        assert "Edna Matched" in html
        for secret in FORBIDDEN:
            assert secret not in html, f"{secret!r} shown on {url}"
    listing = buddy.get("/practice/residents").get_data(as_text=True)
    for shown in ("07911 000111", "WV4", "Punjabi", "Sight"):
        assert shown in listing
    assert listing.count('class="card"') == 1


def test_buddy_is_refused_other_residents_and_staff_pages(db, org, buddy, my_match):
    other = MatchFactory(organisation=org).resident
    ended = MatchFactory(
        organisation=org,
        buddy=my_match.buddy,
        status="ended",
        ended_at=my_match.started_at,
        end_reason="goals_met",
    ).resident
    for ref in (other.reference, ended.reference):
        for url in (
            f"/practice/residents/{ref}",
            f"/practice/residents/{ref}/sessions/new",
            f"/practice/residents/{ref}/baseline",
            f"/residents/{ref}",
        ):
            assert buddy.get(url).status_code == 403, url
    for url in ("/practice/skills", "/practice/alerts", "/practice/progress", "/residents"):
        assert buddy.get(url).status_code == 403, url


def test_my_residents_takes_a_constant_number_of_queries(
    db, org, buddy, buddy_user, my_match, tasks, count_queries
):
    with count_queries() as one:
        assert buddy.get("/practice/residents").status_code == 200
    for _ in range(3):
        m = MatchFactory(organisation=org, buddy=my_match.buddy)
        s = PracticeSessionFactory(match=m)
        CheckpointFactory(session=s, task=tasks[0], level=3)
        CheckpointFactory(session=s, task=tasks[1], level=1)
    with count_queries() as four:
        html = buddy.get("/practice/residents").get_data(as_text=True)
    assert html.count('class="card"') == 4
    assert four.count == one.count


# ---- logging a session -----------------------------------------------------------------


def _session_post(tasks, **overrides):
    data = {
        "token": "tok-0123456789abcdef",
        "held_on": date.today().isoformat(),
        "minutes": "45",
        "mode": "home",
        "place": "At home",
        "notes": "Went well; used the big-text setting.",
        "next_steps": "Video call the grandchildren.",
    }
    for task, level in zip(tasks[:3], (1, 2, 3), strict=True):
        data[f"practised_{task.id}"] = "y"
        data[f"level_{task.id}"] = str(level)
    data.update(overrides)
    return data


def test_buddy_logs_a_session_with_checkpoints_once(db, org, buddy, buddy_user, my_match, tasks):
    ref = my_match.resident.reference
    form = buddy.get(f"/practice/residents/{ref}/sessions/new").get_data(as_text=True)
    assert 'name="token"' in form and date.today().isoformat() in form
    before = row_counts(PracticeSession, Checkpoint)
    response = buddy.post(f"/practice/residents/{ref}/sessions/new", data=_session_post(tasks))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/practice/residents/{ref}")
    after = row_counts(PracticeSession, Checkpoint)
    assert after["practice_session"] == before["practice_session"] + 1
    assert after["skill_checkpoint"] == before["skill_checkpoint"] + 3
    session = db.session.scalar(
        select(PracticeSession).where(PracticeSession.idempotency_token == "tok-0123456789abcdef")
    )
    assert session.buddy_id == my_match.buddy_id and session.recorded_by_id == buddy_user.id
    assert sorted(cp.level for cp in session.checkpoints) == [1, 2, 3]
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(
                AuditEvent.action == "practice_session.logged", AuditEvent.entity_id == session.id
            )
        )
        == 1
    )

    # The same submit again (a retry on a poor connection): nothing new is saved.
    again = buddy.post(
        f"/practice/residents/{ref}/sessions/new", data=_session_post(tasks), follow_redirects=True
    )
    assert again.status_code == 200
    assert "saved already" in again.get_data(as_text=True)
    assert row_counts(PracticeSession, Checkpoint) == after

    # The next form is pre-filled with the last levels, and the chart shows the session.
    form = buddy.get(f"/practice/residents/{ref}/sessions/new").get_data(as_text=True)
    third = form.split(f'id="level_{tasks[2].id}"', 1)[1].split("</select>", 1)[0]
    assert '<option selected value="3">' in third
    page = buddy.get(f"/practice/residents/{ref}").get_data(as_text=True)
    assert "<svg" in page and "chart-line" in page and "style=" not in page


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"minutes": "0"}, "minutes", "from 5 to 480 minutes"),
        ({"minutes": "lots"}, "minutes", "in minutes"),
        ({"held_on": ""}, "held_on", "Enter the date of the session."),
        (
            {"held_on": (date.today() + timedelta(days=2)).isoformat()},
            "held_on",
            "cannot be in the future",
        ),
        ({"mode": "carrier-pigeon"}, "mode", "Choose how you met."),
        (
            {"safeguarding_concern": "y", "safeguarding_description": "  "},
            "safeguarding_description",
            "Describe the safeguarding concern",
        ),
        ("bad-level", "level", "Choose a level from 0 to 4."),
    ],
)
def test_bad_session_input_keeps_what_was_typed_and_saves_nothing(
    db, org, buddy, my_match, tasks, overrides, field, message
):
    ref = my_match.resident.reference
    data = _session_post(tasks, notes="Typed on the bus, please keep me")
    if overrides == "bad-level":
        data[f"level_{tasks[0].id}"] = "9"
        field = f"level_{tasks[0].id}"
    else:
        data.update(overrides)
    before = row_counts(PracticeSession, Checkpoint, AuditEvent)
    response = buddy.post(f"/practice/residents/{ref}/sessions/new", data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="{field}-error"' in html and message in html
    assert "Typed on the bus, please keep me" in html
    assert 'value="tok-0123456789abcdef"' in html  # the retry keeps its token
    assert row_counts(PracticeSession, Checkpoint, AuditEvent) == before


def test_safeguarding_concern_alerts_coordinators_until_action_is_recorded(
    db, org, buddy, coordinator, my_match, tasks
):
    ref = my_match.resident.reference
    data = _session_post(
        tasks,
        safeguarding_concern="y",
        safeguarding_description="Worried about a cold-calling 'bank'.",
    )
    assert buddy.post(f"/practice/residents/{ref}/sessions/new", data=data).status_code == 302
    session = db.session.scalar(select(PracticeSession).where(PracticeSession.safeguarding_concern))
    assert "cold-calling" in coordinator.get("/practice/alerts").get_data(as_text=True)
    assert "cold-calling" in coordinator.get("/dashboard").get_data(as_text=True)

    before = row_counts(AuditEvent)
    response = coordinator.post(f"/practice/sessions/{session.id}/action", data={"action": ""})
    assert response.status_code == 422 and 'id="action-error"' in response.get_data(as_text=True)
    assert row_counts(AuditEvent) == before
    assert db.session.get(PracticeSession, session.id).safeguarding_actioned_at is None

    response = coordinator.post(
        f"/practice/sessions/{session.id}/action",
        data={"action": "Called her; bank's fraud team informed."},
    )
    assert response.status_code == 302
    assert db.session.get(PracticeSession, session.id).safeguarding_actioned_at is not None
    assert "cold-calling" not in coordinator.get("/practice/alerts").get_data(as_text=True)
    assert "cold-calling" not in coordinator.get("/dashboard").get_data(as_text=True)


def test_concern_needs_a_description_in_the_schema_too(db, org, my_match):
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), db.session.begin_nested():
        PracticeSessionFactory(
            match=my_match, safeguarding_concern=True, safeguarding_description=""
        )


def test_idempotency_token_is_unique_in_the_schema(db, org, my_match):
    from sqlalchemy.exc import IntegrityError

    PracticeSessionFactory(match=my_match, idempotency_token="same-token-123")
    with pytest.raises(IntegrityError), db.session.begin_nested():
        PracticeSessionFactory(match=my_match, idempotency_token="same-token-123")


# ---- baseline ---------------------------------------------------------------------------


def test_baseline_before_any_session_once(db, org, buddy, coordinator, my_match, tasks):
    ref = my_match.resident.reference
    data = {f"level_{tasks[0].id}": "1", f"level_{tasks[1].id}": "0", f"level_{tasks[2].id}": ""}
    before = row_counts(Checkpoint)
    assert coordinator.post(f"/practice/residents/{ref}/baseline", data=data).status_code == 302
    baseline = db.session.scalars(
        select(Checkpoint).where(Checkpoint.resident_id == my_match.resident_id)
    ).all()
    assert len(baseline) == 2 and all(cp.session_id is None for cp in baseline)

    # Once only, by buddy or coordinator.
    response = buddy.post(f"/practice/residents/{ref}/baseline", data=data)
    assert response.status_code == 422
    assert "recorded already" in response.get_data(as_text=True)
    assert row_counts(Checkpoint)["skill_checkpoint"] == before["skill_checkpoint"] + 2


@pytest.mark.parametrize("case", ["nothing", "after-session", "bad-level"])
def test_bad_baseline_input_is_refused(db, org, coordinator, my_match, tasks, case):
    ref = my_match.resident.reference
    data = {f"level_{t.id}": "" for t in tasks}
    if case == "after-session":
        PracticeSessionFactory(match=my_match)
        data[f"level_{tasks[0].id}"] = "2"
    if case == "bad-level":
        data[f"level_{tasks[0].id}"] = "7"
    before = row_counts(Checkpoint, PracticeSession)
    response = coordinator.post(f"/practice/residents/{ref}/baseline", data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    expected = {
        "nothing": "at least one task",
        "after-session": "already has practice sessions",
        "bad-level": "Choose a level from 0 to 4.",
    }[case]
    assert expected in html
    if case == "bad-level":
        assert f'id="level_{tasks[0].id}-error"' in html
    assert row_counts(Checkpoint, PracticeSession) == before


# ---- progress ---------------------------------------------------------------------------


def test_resident_progress_carries_levels_forward_per_area(db, org, my_match, tasks):
    foundation = [t for t in tasks if t.area == "foundation"][:2]
    r = my_match.resident
    CheckpointFactory(session=None, resident=r, task=foundation[0], level=0)
    CheckpointFactory(session=None, resident=r, task=foundation[1], level=2)
    s1 = PracticeSessionFactory(match=my_match, held_on=date.today() - timedelta(days=14))
    CheckpointFactory(session=s1, task=foundation[0], level=2)
    s2 = PracticeSessionFactory(match=my_match, held_on=date.today() - timedelta(days=7))
    CheckpointFactory(session=s2, task=foundation[1], level=4)
    scope_session(db.session, org.id)
    try:
        progress = queries.resident_progress(r.id)
    finally:
        scope_session(db.session, None)
    series = {s.label: s.points for s in progress.chart.series}
    assert series["Foundation skills"] == [(0, 1.0), (1, 2.0), (2, 3.0)]
    first_latest = {row.task.id: (row.first, row.latest) for row in progress.rows}
    assert first_latest == {foundation[0].id: (0, 2), foundation[1].id: (2, 4)}


def test_the_progress_page_lists_sessions_newest_first_a_page_at_a_time(
    db, org, buddy, my_match, tasks
):
    for days_ago in range(30, 0, -1):  # 30 sessions, the newest yesterday
        PracticeSessionFactory(
            match=my_match,
            held_on=date.today() - timedelta(days=days_ago),
            place=f"Visit {31 - days_ago}",
        )
    url = f"/practice/residents/{my_match.resident.reference}"
    first = buddy.get(url).get_data(as_text=True)
    assert 'reversed start="30"' in first

    def visits(html):
        return [int(n) for n in re.findall(r"Visit (\d+)\b", html)]

    assert visits(first) == list(range(30, 5, -1))  # the newest 25, newest first
    assert "Page 1 of 2 · 30 in all" in first
    second = buddy.get(url + "?page=2").get_data(as_text=True)
    assert 'reversed start="5"' in second
    assert visits(second) == [5, 4, 3, 2, 1]
    # The chart still has every session.
    with_scope = queries.resident_progress
    scope_session(db.session, org.id)
    try:
        assert len(with_scope(my_match.resident.id).sessions) == 30
    finally:
        scope_session(db.session, None)


def test_programme_subjects_count_sessions_to_level_three(db, org, tasks, coordinator):
    task = tasks[0]
    # A: baseline 1, then 2, then 3 -> reached at session 2.
    a = MatchFactory(organisation=org)
    CheckpointFactory(session=None, resident=a.resident, task=task, level=1)
    for i, level in enumerate((2, 3)):
        s = PracticeSessionFactory(match=a, held_on=date.today() - timedelta(days=20 - i))
        CheckpointFactory(session=s, task=task, level=level)
    # B: three sessions, never reaches 3 -> censored at 3.
    b = MatchFactory(organisation=org)
    for i in range(3):
        s = PracticeSessionFactory(match=b, held_on=date.today() - timedelta(days=10 - i))
        if i == 1:
            CheckpointFactory(session=s, task=task, level=2)
    # C: could already do it at the baseline -> not learning it.
    c = MatchFactory(organisation=org)
    CheckpointFactory(session=None, resident=c.resident, task=task, level=3)
    PracticeSessionFactory(match=c)
    scope_session(db.session, org.id)
    try:
        subjects = {s.resident_id: (s.time, s.reached) for s in queries.programme_subjects(task.id)}
    finally:
        scope_session(db.session, None)
    assert subjects == {a.resident_id: (2, True), b.resident_id: (3, False)}

    html = coordinator.get(f"/practice/progress?task={task.id}&group=age").get_data(as_text=True)
    assert "Median sessions" in html and "<svg" in html and "Not known" in html


def test_programme_page_takes_a_constant_number_of_queries(
    db, org, tasks, coordinator, count_queries
):
    def add_resident():
        m = MatchFactory(organisation=org)
        for i, level in enumerate((1, 2, 3)):
            s = PracticeSessionFactory(match=m, held_on=date.today() - timedelta(days=9 - i))
            CheckpointFactory(session=s, task=tasks[i], level=level)

    add_resident()
    with count_queries() as one:
        assert coordinator.get("/practice/progress?group=access").status_code == 200
    for _ in range(4):
        add_resident()
    with count_queries() as five:
        assert coordinator.get("/practice/progress?group=access").status_code == 200
    assert five.count == one.count


def test_task_factory_is_usable(db, org):
    assert SkillTaskFactory(organisation=org).organisation_id == org.id


def test_session_records_the_lent_device_used(db, org, buddy, my_match, tasks):
    resident = my_match.resident
    lent = LoanFactory(organisation=org, resident=resident, device__asset_tag="TS-LENT")
    other = DeviceFactory(organisation=org, asset_tag="TS-OTHR")
    ref = resident.reference
    form = buddy.get(f"/practice/residents/{ref}/sessions/new").get_data(as_text=True)
    device_select = form.split('id="device_id"', 1)[1].split("</select>", 1)[0]
    assert "TS-LENT" in device_select and "on loan now" in device_select
    assert f'<option selected value="{lent.device_id}">' in device_select  # pre-selected
    assert "TS-OTHR" not in device_select  # never lent to this resident

    # A device that was never lent to the resident is refused next to the field.
    before = row_counts(PracticeSession, Checkpoint, AuditEvent)
    refused = buddy.post(
        f"/practice/residents/{ref}/sessions/new",
        data=_session_post(tasks, device_id=str(other.id)),
    )
    assert refused.status_code == 422
    assert 'id="device_id-error"' in refused.get_data(as_text=True)
    assert row_counts(PracticeSession, Checkpoint, AuditEvent) == before

    saved = buddy.post(
        f"/practice/residents/{ref}/sessions/new",
        data=_session_post(tasks, device_id=str(lent.device_id)),
    )
    assert saved.status_code == 302
    session = db.session.scalar(
        select(PracticeSession).where(PracticeSession.idempotency_token == "tok-0123456789abcdef")
    )
    assert session.device_id == lent.device_id
    # None (their own device) is allowed too.
    none = buddy.post(
        f"/practice/residents/{ref}/sessions/new",
        data=_session_post(tasks, token="tok-fedcba9876543210", device_id=""),
    )
    assert none.status_code == 302
    assert (
        db.session.scalar(
            select(PracticeSession.device_id).where(
                PracticeSession.idempotency_token == "tok-fedcba9876543210"
            )
        )
        is None
    )
