"""Read-side queries of practice: the buddy's view of a resident, a resident's
progress, and the programme's sessions-to-"can do it alone" survival data.

Each gathers what its page needs in a fixed number of statements, whatever the
number of residents, sessions or checkpoints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import case, func, select

from inclusion.clock import today
from inclusion.extensions import db
from inclusion.residents.models import ACCESS_NEEDS, Resident

from .charts import Series, line_chart
from .models import AREAS, CAN_DO_ALONE, LEVELS, Checkpoint, PracticeSession, SkillTask
from .survival import kaplan_meier

# ---- what a buddy may see of a resident ---------------------------------------------------


@dataclass(frozen=True)
class ResidentCard:
    """Only what a buddy's work needs: never notes, referral, date of birth or email."""

    id: int
    reference: str
    name: str
    phone: str
    area: str
    language: str
    interpreter_needed: bool
    access_needs: tuple[str, ...]
    access_notes: str
    tasks_alone: int = 0  # tasks at "can do it alone" or above, latest level
    tasks_assessed: int = 0
    sessions: int = 0
    last_session: date | None = None
    last_minutes: int | None = None
    last_next_steps: str = ""  # what the last session said to do next
    next_visit_on: date | None = None  # the match's next planned visit

    @property
    def visit_in_days(self) -> int | None:
        """Days from today to the next planned visit (negative: it was planned for a
        day that has passed and no session has been logged since)."""
        return None if self.next_visit_on is None else (self.next_visit_on - today()).days


CARD_COLUMNS = (
    Resident.id,
    Resident.reference,
    Resident.first_name,
    Resident.last_name,
    Resident.phone,
    Resident.area,
    Resident.preferred_language,
    Resident.interpreter_needed,
    Resident.access_notes,
    *(getattr(Resident, f) for f in ACCESS_NEEDS),
)


def _card(row, **extra) -> ResidentCard:
    m = row._mapping
    return ResidentCard(
        id=m["id"],
        reference=m["reference"],
        name=f"{m['first_name']} {m['last_name']}".strip(),
        phone=m["phone"] or "",
        area=m["area"] or "",
        language=m["preferred_language"] or "",
        interpreter_needed=bool(m["interpreter_needed"]),
        access_needs=tuple(label for f, label in ACCESS_NEEDS.items() if m[f]),
        access_notes=m["access_notes"] or "",
        **extra,
    )


def _last_sessions_of(ids) -> dict[int, tuple]:
    """resident id -> (sessions, last date, last minutes, last next steps): one statement
    (the sessions are ranked per resident, newest first, with a window function)."""
    ranked = (
        select(
            PracticeSession.resident_id.label("resident_id"),
            PracticeSession.held_on.label("held_on"),
            PracticeSession.minutes.label("minutes"),
            PracticeSession.next_steps.label("next_steps"),
            func.row_number()
            .over(
                partition_by=PracticeSession.resident_id,
                order_by=(PracticeSession.held_on.desc(), PracticeSession.id.desc()),
            )
            .label("newest"),
            func.count().over(partition_by=PracticeSession.resident_id).label("sessions"),
        )
        .where(PracticeSession.resident_id.in_(list(ids)))
        .subquery("ranked")
    )
    rows = db.session.execute(
        select(
            ranked.c.resident_id,
            ranked.c.sessions,
            ranked.c.held_on,
            ranked.c.minutes,
            ranked.c.next_steps,
        ).where(ranked.c.newest == 1)
    )
    return {rid: (n, held_on, minutes, steps or "") for rid, n, held_on, minutes, steps in rows}


def resident_cards(residents_stmt, next_visits: dict[int, date | None] | None = None):
    """Cards for the residents of ``residents_stmt`` (a select of Resident), with their
    progress summary and last session (and their next planned visit, from
    ``next_visits``): three statements for any number of residents."""
    rows = db.session.execute(residents_stmt.with_only_columns(*CARD_COLUMNS)).all()
    ids = [r.id for r in rows]
    if not ids:
        return []
    latest = _latest_levels_of(ids)
    sessions = _last_sessions_of(ids)
    cards = []
    for row in rows:
        levels = latest.get(row.id, {})
        n, last, minutes, steps = sessions.get(row.id, (0, None, None, ""))
        cards.append(
            _card(
                row,
                tasks_alone=sum(1 for v in levels.values() if v >= CAN_DO_ALONE),
                tasks_assessed=len(levels),
                sessions=n,
                last_session=last,
                last_minutes=minutes,
                last_next_steps=steps,
                next_visit_on=(next_visits or {}).get(row.id),
            )
        )
    return cards


def buddy_home_cards(matches) -> list[ResidentCard]:
    """The cards of a page of the buddy's active ``matches``, in the page's order (next
    planned visit first): three statements whatever the page size."""
    order = {m.resident_id: i for i, m in enumerate(matches)}
    if not order:
        return []
    cards = resident_cards(
        select(Resident).where(Resident.id.in_(list(order))),
        {m.resident_id: m.next_visit_on for m in matches},
    )
    return sorted(cards, key=lambda c: order[c.id])


def resident_card(resident_id: int) -> ResidentCard | None:
    row = db.session.execute(select(*CARD_COLUMNS).where(Resident.id == resident_id)).first()
    return _card(row) if row else None


def _latest_levels_of(resident_ids) -> dict[int, dict[int, int]]:
    rows = db.session.execute(
        select(Checkpoint.resident_id, Checkpoint.task_id, Checkpoint.level)
        .outerjoin(PracticeSession, PracticeSession.id == Checkpoint.session_id)
        .where(Checkpoint.resident_id.in_(list(resident_ids)))
        .order_by(
            Checkpoint.session_id.is_not(None),
            PracticeSession.held_on,
            PracticeSession.id,
            Checkpoint.id,
        )
    ).all()
    out: dict[int, dict[int, int]] = {}
    for rid, task_id, level in rows:
        out.setdefault(rid, {})[task_id] = level
    return out


# ---- one resident's progress ---------------------------------------------------------------


@dataclass
class TaskProgress:
    task: SkillTask
    first: int
    first_on: date
    latest: int
    latest_on: date
    times: int

    @property
    def gain(self) -> int:
        return self.latest - self.first


@dataclass(frozen=True, slots=True)
class SessionLine:
    """One session as the progress page lists it."""

    id: int
    held_on: date
    minutes: int
    mode: str
    place: str
    next_steps: str
    safeguarding_concern: bool
    safeguarding_actioned_at: datetime | None

    mode_label = PracticeSession.mode_label
    alert_open = PracticeSession.alert_open


@dataclass
class ResidentProgress:
    sessions: list[SessionLine]
    has_baseline: bool
    rows: list[TaskProgress] = field(default_factory=list)
    chart: object = None
    area_now: dict[str, float] = field(default_factory=dict)


AREA_CLASSES = {area: f"series-{i + 1}" for i, area in enumerate(AREAS)}


def resident_progress(resident_id: int) -> ResidentProgress:
    """Per skill area, the mean of the latest level of each task assessed so far, after
    the baseline (point 0) and after each session (1, 2, …); and per task, the first and
    latest level. Three statements; the checkpoints come as plain tuples and are walked
    once (a resident with 500 sessions and 5,000 checkpoints: a few milliseconds)."""
    # What the sessions list shows, as plain rows (no ORM objects to track).
    sessions = [
        SessionLine(*row)
        for row in db.session.execute(
            select(
                PracticeSession.id,
                PracticeSession.held_on,
                PracticeSession.minutes,
                PracticeSession.mode,
                PracticeSession.place,
                PracticeSession.next_steps,
                PracticeSession.safeguarding_concern,
                PracticeSession.safeguarding_actioned_at,
            )
            .where(PracticeSession.resident_id == resident_id)
            .order_by(PracticeSession.held_on, PracticeSession.id)
        )
    ]
    number = {session.id: i + 1 for i, session in enumerate(sessions)}
    # (point, id, task, level, recorded on): point 0 is the baseline (no session).
    checkpoints = sorted(
        (number.get(session_id, 0), cp_id, task_id, level, recorded_on)
        for cp_id, session_id, task_id, level, recorded_on in db.session.execute(
            select(
                Checkpoint.id,
                Checkpoint.session_id,
                Checkpoint.task_id,
                Checkpoint.level,
                Checkpoint.recorded_on,
            ).where(Checkpoint.resident_id == resident_id)
        )
    )
    tasks = {
        t.id: t
        for t in db.session.scalars(
            select(SkillTask).where(SkillTask.id.in_({cp[2] for cp in checkpoints}))
        )
    }
    area_of = {task_id: task.area for task_id, task in tasks.items()}
    baseline = bool(checkpoints) and checkpoints[0][0] == 0
    progress = ResidentProgress(sessions=list(sessions), has_baseline=baseline)

    # One walk in point order: each task's first and latest level, and at each point the
    # change of each area's sum of latest levels and count of tasks assessed.
    first: dict[int, tuple] = {}
    latest: dict[int, tuple] = {}
    times: dict[int, int] = {}
    changes: dict[int, list] = {}
    for point, _cp_id, task_id, level, recorded_on in checkpoints:
        before = latest.get(task_id)
        if before is None:
            first[task_id] = (level, recorded_on)
            times[task_id] = 1
            changes.setdefault(point, []).append((area_of[task_id], level, 1))
        else:
            times[task_id] += 1
            changes.setdefault(point, []).append((area_of[task_id], level - before[0], 0))
        latest[task_id] = (level, recorded_on)
    area_order = {a: i for i, a in enumerate(AREAS)}
    progress.rows = sorted(
        (TaskProgress(tasks[t], *first[t], *latest[t], times[t]) for t in first),
        key=lambda tp: (area_order[tp.task.area], tp.task.position, tp.task.name),
    )

    # Carry each area's sum and count forward from point to point.
    points = ([0] if baseline else []) + list(range(1, len(sessions) + 1))
    sums = dict.fromkeys(AREAS, 0)
    counts = dict.fromkeys(AREAS, 0)
    series = {a: Series(AREAS[a], AREA_CLASSES[a], []) for a in AREAS}
    for p in points:
        for area, delta, new in changes.get(p, ()):
            sums[area] += delta
            counts[area] += new
        for area in AREAS:
            if counts[area]:
                series[area].points.append((p, round(sums[area] / counts[area], 2)))
    progress.area_now = {AREAS[a]: s.points[-1][1] for a, s in series.items() if s.points}
    progress.chart = line_chart(
        "Confidence per skill area",
        [s for s in series.values() if s.points],
        x_max=len(sessions),
        y_max=4,
        y_ticks=[(v, f"{v} {LEVELS[v].split(',')[0].lower()}") for v in LEVELS],
        x_label="Sessions (0 = first assessment)",
        y_label="Average confidence (0–4)",
        description="Average confidence level of the tasks assessed in each skill area, "
        "after the first assessment and after each practice session.",
    )
    return progress


# ---- the programme: sessions until "can do it alone" ---------------------------------------

AGE_BANDS = (
    (0, 50, "Under 50"),
    (50, 65, "50–64"),
    (65, 75, "65–74"),
    (75, 85, "75–84"),
    (85, 200, "85 and over"),
)
GROUPINGS = {"": "Everyone", "age": "Age band", "access": "Access need", "language": "Language"}


def age_band(born: date | None, on: date) -> str:
    if born is None:
        return "Not known"
    age = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    for low, high, label in AGE_BANDS:
        if low <= age < high:
            return label
    return "Not known"


@dataclass(frozen=True)
class Subject:
    """One resident learning one task."""

    resident_id: int
    task_id: int
    time: int  # sessions until level 3, or sessions so far when censored
    reached: bool
    born: date | None
    language: str
    access: tuple[str, ...]


def programme_subjects(task_id: int | None = None) -> list[Subject]:
    """Residents × tasks that started below "can do it alone" (or were first met at a
    session), with the session number at which they first reached it, or how many
    sessions they have had (censored). One statement: the sessions are numbered per
    resident with a window function and the checkpoints aggregated in SQL."""
    numbered = select(
        PracticeSession.id.label("session_id"),
        func.row_number()
        .over(
            partition_by=PracticeSession.resident_id,
            order_by=(PracticeSession.held_on, PracticeSession.id),
        )
        .label("n"),
    ).subquery("numbered")
    totals = (
        select(PracticeSession.resident_id.label("resident_id"), func.count().label("total"))
        .group_by(PracticeSession.resident_id)
        .subquery("totals")
    )
    per_task = (
        select(
            Checkpoint.resident_id.label("resident_id"),
            Checkpoint.task_id.label("task_id"),
            func.min(case((Checkpoint.level >= CAN_DO_ALONE, numbered.c.n))).label("reached_at"),
            func.max(case((Checkpoint.session_id.is_(None), Checkpoint.level))).label("baseline"),
        )
        .outerjoin(numbered, numbered.c.session_id == Checkpoint.session_id)
        .group_by(Checkpoint.resident_id, Checkpoint.task_id)
    )
    if task_id is not None:
        per_task = per_task.where(Checkpoint.task_id == task_id)
    per_task = per_task.subquery("per_task")
    stmt = (
        select(
            per_task.c.resident_id,
            per_task.c.task_id,
            per_task.c.reached_at,
            per_task.c.baseline,
            totals.c.total,
            Resident.date_of_birth,
            Resident.preferred_language,
            *(getattr(Resident, f) for f in ACCESS_NEEDS),
        )
        .join(Resident, Resident.id == per_task.c.resident_id)
        .join(totals, totals.c.resident_id == per_task.c.resident_id)
    )
    subjects = []
    for row in db.session.execute(stmt):
        m = row._mapping
        if m["baseline"] is not None and m["baseline"] >= CAN_DO_ALONE:
            continue  # could already do it: not learning it
        reached = m["reached_at"] is not None
        time = int(m["reached_at"]) if reached else int(m["total"] or 0)
        if time <= 0:
            continue
        subjects.append(
            Subject(
                m["resident_id"],
                m["task_id"],
                time,
                reached,
                m["date_of_birth"],
                m["preferred_language"] or "Not known",
                tuple(label for f, label in ACCESS_NEEDS.items() if m[f]),
            )
        )
    return subjects


def group_of(subject: Subject, grouping: str, on: date) -> list[str]:
    if grouping == "age":
        return [age_band(subject.born, on)]
    if grouping == "access":
        return list(subject.access) or ["No access needs"]
    if grouping == "language":
        return [subject.language]
    return ["Everyone"]


@dataclass
class CurveRow:
    label: str
    estimate: object
    css: str = ""

    def at_risk(self, t: int) -> int:
        return self.estimate.at_risk(t)

    def reached_by(self, t: int) -> int:
        return round(100 * (1 - self.estimate.survival_at(t)))


AT_RISK_TIMES = (1, 2, 4, 6, 8, 12)


def programme(task_id: int | None, grouping: str):
    """KM curves per group (for one task, or all tasks pooled), and a row per task."""
    on = today()
    subjects = programme_subjects(task_id)
    groups: dict[str, list[Subject]] = {}
    for s in subjects:
        for g in group_of(s, grouping, on):
            groups.setdefault(g, []).append(s)
    curves = [
        CurveRow(label, kaplan_meier([(s.time, s.reached) for s in members]))
        for label, members in sorted(groups.items())
    ]
    for i, c in enumerate(curves):
        c.css = f"series-{i % 8 + 1}"
    max_time = max((s.time for s in subjects), default=1)
    chart = line_chart(
        "Share who can do it alone, by number of sessions",
        [
            Series(
                c.label,
                c.css,
                [(0, 0.0)] + [(st.time, round(100 * st.reached, 1)) for st in c.estimate.steps],
                step=True,
            )
            for c in curves
        ],
        x_max=max_time,
        y_max=100,
        y_ticks=[(v, f"{v}%") for v in (0, 25, 50, 75, 100)],
        x_label="Practice sessions",
        y_label="Share who can do it alone",
        description="Estimated share of residents learning a task who can do it alone "
        "(level 3) after each number of practice sessions; those still learning count "
        "for the sessions they have had.",
    )
    by_task: dict[int, list[Subject]] = {}
    for s in programme_subjects(None) if task_id is not None else subjects:
        by_task.setdefault(s.task_id, []).append(s)
    task_rows = []
    for t in db.session.scalars(select(SkillTask).where(SkillTask.id.in_(list(by_task)))):
        task_rows.append(
            CurveRow(t.name, kaplan_meier([(s.time, s.reached) for s in by_task[t.id]]))
        )
        task_rows[-1].task = t
    area_order = {a: i for i, a in enumerate(AREAS)}
    task_rows.sort(key=lambda r: (area_order[r.task.area], r.task.position, r.task.name))
    return curves, chart, task_rows
