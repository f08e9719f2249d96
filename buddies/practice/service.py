"""The rules of practice: the skill taxonomy, logging sessions with their
checkpoints, the baseline assessment, and safeguarding alerts.

Every state change is a function here that changes objects, records an audit
event and flushes; the request (or CLI command) commits once.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import exists, func, select, true
from sqlalchemy.exc import IntegrityError

from inclusion import audit
from inclusion.clock import now, today
from inclusion.errors import RuleBroken
from inclusion.extensions import db
from inclusion.residents.service import lock_resident
from inclusion.tenancy import unscoped

from .. import service as buddies
from ..models import BuddyProfile, Match
from .models import (
    AREAS,
    CAN_DO_ALONE,
    LEVELS,
    SEED_TASKS,
    SESSION_MODES,
    Checkpoint,
    PracticeSession,
    SkillTask,
)

# ---- taxonomy ----------------------------------------------------------------------


def ensure_taxonomy(organisation_id: int, *, by=None) -> None:
    """Seed the framework's everyday tasks for an organisation, once (idempotent).

    Runs when an organisation is created (``organisation_created``) and, for
    organisations older than that, in migration uow_0002: never on a page load."""
    with unscoped():  # the organisation is named (also from a migration or the CLI)
        have = set(
            db.session.scalars(
                select(SkillTask.key).where(
                    SkillTask.organisation_id == organisation_id, SkillTask.key.is_not(None)
                )
            )
        )
    missing = [k for k in SEED_TASKS if k not in have]
    if not missing:
        return
    try:
        with db.session.begin_nested():
            positions = {key: i for i, key in enumerate(SEED_TASKS)}
            seeded = [
                SkillTask(
                    organisation_id=organisation_id,
                    area=SEED_TASKS[key][0],
                    key=key,
                    name=SEED_TASKS[key][1],
                    position=positions[key],
                    created_by_id=by.id if by is not None else None,
                )
                for key in missing
            ]
            db.session.add_all(seeded)
            db.session.flush()
            for task in seeded:
                audit.record("skill_task.seeded", task, changed=["area", "name"], actor=by)
            db.session.flush()
    except IntegrityError:
        pass  # seeded at the same moment by another transaction: theirs stands


def seed_taxonomy_of_new_organisation(organisation, by=None) -> None:
    """Receiver of ``inclusion.signals.organisation_created``."""
    ensure_taxonomy(organisation.id, by=by)


def tasks(*, include_retired: bool = False) -> list[SkillTask]:
    """The (scoped) organisation's tasks in framework order: area, then position."""
    stmt = select(SkillTask)
    if not include_retired:
        stmt = stmt.where(SkillTask.retired_at.is_(None))
    order = {a: i for i, a in enumerate(AREAS)}
    return sorted(db.session.scalars(stmt), key=lambda t: (order[t.area], t.position, t.name))


def tasks_by_area(task_list: list[SkillTask]) -> dict[str, list[SkillTask]]:
    grouped: dict[str, list[SkillTask]] = {a: [] for a in AREAS}
    for task in task_list:
        grouped[task.area].append(task)
    return {a: ts for a, ts in grouped.items() if ts}


def add_task(organisation_id: int, *, area: str, name: str, by) -> SkillTask:
    """A coordinator's own task under one of the framework's areas; names are unique
    within the organisation (retired ones included, so history stays unambiguous)."""
    name = " ".join((name or "").split())
    if area not in AREAS:
        raise RuleBroken("Choose one of the skill areas.", field="area")
    if not name:
        raise RuleBroken("Enter what the task is.", field="name")
    clash = db.session.scalar(
        select(SkillTask.id).where(
            SkillTask.organisation_id == organisation_id, func.lower(SkillTask.name) == name.lower()
        )
    )
    if clash:
        raise RuleBroken("There is already a task with that name.", field="name")
    last = db.session.scalar(
        select(func.max(SkillTask.position)).where(
            SkillTask.organisation_id == organisation_id, SkillTask.area == area
        )
    )
    task = SkillTask(
        organisation_id=organisation_id,
        area=area,
        name=name,
        position=(last or 0) + 1,
        created_by_id=by.id if by else None,
    )
    db.session.add(task)
    db.session.flush()
    audit.record("skill_task.added", task, changed=["area", "name"], actor=by)
    db.session.flush()
    return task


def retire_task(task: SkillTask, *, by) -> None:
    """Retired tasks leave the session form; their checkpoints and charts stay."""
    if task.retired_at is not None:
        raise RuleBroken("That task is already retired.")
    task.retired_at = now()
    task.retired_by_id = by.id if by else None
    audit.record("skill_task.retired", task, changed=["retired_at"], actor=by)
    db.session.flush()


def restore_task(task: SkillTask, *, by) -> None:
    if task.retired_at is None:
        raise RuleBroken("That task is in use already.")
    task.retired_at = None
    task.retired_by_id = None
    audit.record("skill_task.restored", task, changed=["retired_at"], actor=by)
    db.session.flush()


# ---- checkpoints ---------------------------------------------------------------------


def latest_levels(resident_id: int) -> dict[int, int]:
    """task id -> the resident's most recent level (baseline first, then sessions in order)."""
    rows = db.session.execute(
        select(Checkpoint.task_id, Checkpoint.level)
        .outerjoin(PracticeSession, PracticeSession.id == Checkpoint.session_id)
        .where(Checkpoint.resident_id == resident_id)
        .order_by(
            Checkpoint.session_id.is_not(None),
            PracticeSession.held_on,
            PracticeSession.id,
            Checkpoint.id,
        )
    ).all()
    return {task_id: level for task_id, level in rows}


def independent_tasks(resident_id: int) -> int:
    """How many tasks the resident can now do alone or better (latest checkpoint at
    ``CAN_DO_ALONE`` or above): digital independence, read by outcomes."""
    return sum(1 for level in latest_levels(resident_id).values() if level >= CAN_DO_ALONE)


def sessions_count_of(resident_id: int) -> int:
    """How many practice sessions the resident had (for the outcome letter)."""
    return db.session.scalar(
        select(func.count(PracticeSession.id)).where(PracticeSession.resident_id == resident_id)
    )


def _checked_levels(levels: dict[int, int], *, allow_retired: bool = False) -> dict[int, SkillTask]:
    if not levels:
        return {}
    found = {
        t.id: t for t in db.session.scalars(select(SkillTask).where(SkillTask.id.in_(list(levels))))
    }
    for task_id, level in levels.items():
        task = found.get(task_id)
        if task is None or (task.retired and not allow_retired):
            raise RuleBroken("That task is not in use any more.", field=f"level_{task_id}")
        if level not in LEVELS:
            raise RuleBroken("Choose a level from 0 to 4.", field=f"level_{task_id}")
    return found


def has_sessions(resident_id: int) -> bool:
    return bool(
        db.session.scalar(select(exists().where(PracticeSession.resident_id == resident_id)))
    )


def has_baseline(resident_id: int) -> bool:
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    Checkpoint.resident_id == resident_id, Checkpoint.session_id.is_(None)
                )
            )
        )
    )


def record_baseline(
    resident, levels: dict[int, int], *, by, on: date | None = None
) -> list[Checkpoint]:
    """The first assessment: a level for each task assessed, before any session, once.

    The resident is locked first, so two desks recording it at once record it once.
    """
    if not levels:
        raise RuleBroken("Choose a level for at least one task.", field="tasks")
    lock_resident(resident)
    if has_sessions(resident.id):
        raise RuleBroken(
            "The baseline is the first assessment: this resident already has practice sessions."
        )
    if has_baseline(resident.id):
        raise RuleBroken("The baseline for this resident has been recorded already.")
    _checked_levels(levels)
    created = []
    for task_id, level in sorted(levels.items()):
        cp = Checkpoint(
            organisation_id=resident.organisation_id,
            resident_id=resident.id,
            task_id=task_id,
            level=level,
            recorded_on=on or today(),
            recorded_by_id=by.id if by else None,
        )
        db.session.add(cp)
        created.append(cp)
    db.session.flush()
    for cp in created:
        audit.record("checkpoint.baseline", cp, changed=["level"], actor=by)
    db.session.flush()
    return created


# ---- sessions --------------------------------------------------------------------------

SESSION_FIELDS = (
    "held_on",
    "minutes",
    "mode",
    "place",
    "device_id",
    "notes",
    "next_steps",
    "safeguarding_concern",
    "safeguarding_description",
)


def devices_lent_to(resident_id: int) -> list[tuple[int, str, bool]]:
    """The devices a resident has borrowed, as ``(device id, label, on loan now)``: the
    ones a session can have used, as the devices feature declares them (none without it)."""
    from inclusion.registry import registry

    return registry().interface("devices_lent_to", lambda resident_id: [])(resident_id)


def device_use_columns(device_ids):
    """For the devices feature's impact figures: sessions held on, and practice minutes
    with, the devices whose ids ``device_ids`` selects (labelled scalar subqueries)."""
    held = select(PracticeSession).where(PracticeSession.device_id.in_(device_ids))
    return [
        held.with_only_columns(func.count(PracticeSession.id)).scalar_subquery().label("sessions"),
        held.with_only_columns(func.sum(PracticeSession.minutes))
        .scalar_subquery()
        .label("practice_minutes"),
    ]


def last_session_of(resident_id: int) -> PracticeSession | None:
    """The resident's most recent session (by date, then as logged), or ``None``."""
    return db.session.scalar(
        select(PracticeSession)
        .where(PracticeSession.resident_id == resident_id)
        .order_by(PracticeSession.held_on.desc(), PracticeSession.id.desc())
        .limit(1)
    )


def session_by_token(token: str) -> PracticeSession | None:
    return db.session.scalar(
        select(PracticeSession).where(PracticeSession.idempotency_token == token)
    )


def _active_match(resident, user) -> tuple[BuddyProfile, Match] | tuple[None, None]:
    """``user``'s active match with ``resident`` and its buddy profile. The match is
    locked (FOR NO KEY UPDATE: the session may plan the next visit on it), so it cannot
    end (``end_match`` locks it) while a session is logged, and a match ended at another
    desk a moment ago is not found."""
    row = db.session.execute(
        select(BuddyProfile, Match)
        .join(Match, Match.buddy_id == BuddyProfile.id)
        .where(
            Match.resident_id == resident.id,
            Match.status == "active",
            BuddyProfile.user_id == user.id,
        )
        .with_for_update(key_share=True, of=Match)
        .execution_options(populate_existing=True)
    ).first()
    return (row[0], row[1]) if row else (None, None)


def log_session(
    resident, data: dict, levels: dict[int, int], *, token: str, by
) -> tuple[PracticeSession, bool]:
    """Save a practice session and its checkpoints together, once.

    Rules: only the resident's active buddy logs a session; the date is not in the
    future (nor over a year ago); 5–480 minutes; a known mode; a safeguarding concern
    needs a description. When ``data`` has ``next_visit_on`` (the form always sends it)
    it becomes the match's next planned visit (today or later, after the session; empty
    clears it). ``token`` comes from the form: when a session with it exists
    (a retried submit) that session is returned with ``created=False`` and nothing new
    is saved. Returns ``(session, created)``.
    """
    token = (token or "").strip()
    if not (8 <= len(token) <= 64):
        raise RuleBroken("The form expired. Please submit it again.")
    existing = session_by_token(token)
    if existing is not None:
        if existing.resident_id != resident.id:
            raise RuleBroken("The form expired. Please submit it again.")
        return existing, False
    profile, match = _active_match(resident, by)
    if profile is None:
        raise RuleBroken("Only this resident's buddy can log their sessions.")
    held_on = data.get("held_on")
    if held_on is None:
        raise RuleBroken("Enter the date of the session.", field="held_on")
    if held_on > today():
        raise RuleBroken("The date cannot be in the future.", field="held_on")
    if held_on < today() - timedelta(days=366):
        raise RuleBroken("The date must be within the last year.", field="held_on")
    minutes = data.get("minutes")
    if minutes is None or not (5 <= minutes <= 480):
        raise RuleBroken("Enter how long it lasted, from 5 to 480 minutes.", field="minutes")
    if data.get("mode") not in SESSION_MODES:
        raise RuleBroken("Choose how you met.", field="mode")
    concern = bool(data.get("safeguarding_concern"))
    description = (data.get("safeguarding_description") or "").strip()
    if concern and not description:
        raise RuleBroken(
            "Describe the safeguarding concern so a coordinator can act on it.",
            field="safeguarding_description",
        )
    device_id = data.get("device_id")
    if device_id is not None and device_id not in {d for d, _, _ in devices_lent_to(resident.id)}:
        raise RuleBroken(
            "Choose one of the devices lent to this resident, or none.", field="device_id"
        )
    _checked_levels(levels)
    if "next_visit_on" in data:
        buddies.check_next_visit(data["next_visit_on"], after=held_on)

    session, created = create_session(resident, profile, data, levels, token=token, by=by)
    if created and "next_visit_on" in data:
        buddies.set_next_visit(match, data["next_visit_on"], by=by)
    return session, created


def create_session(
    resident, profile: BuddyProfile, data: dict, levels: dict[int, int], *, token: str, by
) -> tuple[PracticeSession, bool]:
    """Save a session and its checkpoints (the rules are checked by ``log_session``;
    the demo loader calls this directly for buddies without an account)."""
    held_on = data["held_on"]
    minutes = data["minutes"]
    concern = bool(data.get("safeguarding_concern"))
    description = (data.get("safeguarding_description") or "").strip()
    session = PracticeSession(
        organisation_id=resident.organisation_id,
        resident_id=resident.id,
        buddy_id=profile.id,
        held_on=held_on,
        minutes=minutes,
        mode=data["mode"],
        place=(data.get("place") or "").strip(),
        device_id=data.get("device_id"),
        notes=(data.get("notes") or "").strip(),
        next_steps=(data.get("next_steps") or "").strip(),
        safeguarding_concern=concern,
        safeguarding_description=description if concern else "",
        idempotency_token=token,
        recorded_by_id=by.id if by else None,
    )
    try:
        with db.session.begin_nested():
            db.session.add(session)
            db.session.flush()
    except IntegrityError:
        # The same form arrived twice at once; the first one saved it.
        existing = session_by_token(token)
        if existing is None:
            raise
        return existing, False
    for task_id, level in sorted(levels.items()):
        db.session.add(
            Checkpoint(
                organisation_id=resident.organisation_id,
                resident_id=resident.id,
                task_id=task_id,
                session_id=session.id,
                level=level,
                recorded_on=held_on,
                recorded_by_id=by.id if by else None,
            )
        )
    db.session.flush()
    audit.record(
        "practice_session.logged",
        session,
        changed=[
            f
            for f in SESSION_FIELDS
            if (f != "safeguarding_description" or concern)
            and (f != "device_id" or session.device_id)
        ],
        actor=by,
    )
    for cp in session.checkpoints:
        audit.record("checkpoint.recorded", cp, changed=["level"], actor=by)
    if concern:
        audit.record(
            "practice_session.safeguarding_raised",
            session,
            changed=["safeguarding_concern"],
            actor=by,
        )
    db.session.flush()
    return session, True


# ---- safeguarding --------------------------------------------------------------------


def open_alerts_query():
    """Sessions with a safeguarding concern and no recorded action, oldest first."""
    return (
        select(PracticeSession)
        .where(
            # "= true", not "IS true": only the same term as the partial index's predicate
            # lets the database use ix_practice_session_open_alerts (SQLite otherwise read
            # every session of the organisation: 282 ms of the dashboard at scale 1).
            PracticeSession.safeguarding_concern == true(),
            PracticeSession.safeguarding_actioned_at.is_(None),
        )
        .order_by(PracticeSession.recorded_at, PracticeSession.id)
    )


def record_safeguarding_action(session: PracticeSession, action: str, *, by) -> None:
    """A coordinator records what was done; the alert then leaves the list. Once only:
    the session is locked and re-read, so two coordinators acting at once record one
    action and the second is told."""
    db.session.scalars(
        select(PracticeSession)
        .where(PracticeSession.id == session.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    if not session.safeguarding_concern:
        raise RuleBroken("This session has no safeguarding concern.")
    if session.safeguarding_actioned_at is not None:
        raise RuleBroken("The action taken has been recorded already.")
    action = (action or "").strip()
    if len(action) < 5:
        raise RuleBroken(
            "Describe the action taken (who was told, what happens next).", field="action"
        )
    session.safeguarding_action = action
    session.safeguarding_actioned_at = now()
    session.safeguarding_actioned_by_id = by.id if by else None
    audit.record(
        "practice_session.safeguarding_actioned",
        session,
        changed=["safeguarding_action", "safeguarding_actioned_at"],
        actor=by,
    )
    db.session.flush()
