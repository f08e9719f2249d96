"""Demo data for buddies/practice (idempotent), called from buddies/demo.py.

For every active or ended demo match: a first assessment (for most residents),
then a session every one to two weeks since the match started, each practising a
few of the resident's focus tasks. Residents learn at different speeds (some
quickly, some slowly, some forget a little between sessions), so the progress
charts and the sessions-to-"can do it alone" estimate have something to show.
One recent session carries an open safeguarding concern; an older one was actioned.
A resident who already has a session or a first assessment is left alone.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import exists, or_, select

from inclusion.clock import today
from inclusion.extensions import db
from inclusion.tenancy import scoped_to

from ..models import BuddyProfile, Match
from . import service
from .models import Checkpoint, PracticeSession

PLACES = {
    "home": ["At home"],
    "venue": ["Central Library", "Community Hub", "Whitmore Reans Centre"],
    "phone": [""],
    "video": [""],
}
NOTES = [
    "Practised slowly with lots of repetition; wrote the steps down on a card.",
    "Much more relaxed today. Did it twice without prompting.",
    "Tired today, so we kept it short and went over last week's steps.",
    "Daughter joined on a video call at the end, which was a lovely moment.",
    "Struggled with the small buttons; we made the text bigger first.",
    "Got stuck on the password again; we set up a memorable passphrase together.",
]
NEXT_STEPS = [
    "Try the video call with family before next week.",
    "Practise unlocking and opening the app every day.",
    "Next time: ordering a repeat prescription in the NHS App.",
    "Bring the bill letter so we can pay it online together.",
    "Keep the step card by the tablet.",
]


def _practised_before(resident_id: int) -> bool:
    return bool(
        db.session.scalar(
            select(
                or_(
                    exists().where(PracticeSession.resident_id == resident_id),
                    exists().where(Checkpoint.resident_id == resident_id),
                )
            )
        )
    )


def _resident_story(match: Match, tasks, coordinator, rng) -> None:
    resident = match.resident
    start = (match.started_at or match.proposed_at).date()
    end = match.ended_at.date() if match.ended_at else today()
    focus = rng.sample(tasks, min(len(tasks), rng.randint(5, 9)))
    # How fast this resident learns: chance that a practised task goes up a level.
    speed = rng.choice([0.25, 0.35, 0.45, 0.6, 0.75])
    if any(getattr(resident, f) for f in ("access_sight", "access_memory", "access_learning")):
        speed *= 0.7
    levels = {t.id: rng.choice([0, 0, 0, 1, 1, 2, 2, 3]) for t in focus}
    if rng.random() < 0.85:
        service.record_baseline(
            resident, dict(levels), by=coordinator, on=start - timedelta(days=rng.randint(1, 5))
        )
    lent = service.devices_lent_to(resident.id)
    day = start + timedelta(days=rng.randint(0, 4))
    while day < end:
        open_tasks = [t for t in focus if levels[t.id] < 4] or focus
        practised = rng.sample(open_tasks, min(len(open_tasks), rng.randint(2, 4)))
        for t in practised:
            r = rng.random()
            if r < speed:
                levels[t.id] = min(4, levels[t.id] + 1)
            elif r > 0.95:
                levels[t.id] = max(0, levels[t.id] - 1)
        mode = rng.choice(match.buddy.visit_modes or ["home"])
        if mode not in PLACES:
            mode = "home"
        session, _ = service.create_session(
            resident,
            match.buddy,
            dict(
                held_on=day,
                minutes=rng.choice([30, 45, 60, 60, 75, 90]),
                mode=mode,
                place=rng.choice(PLACES[mode]),
                notes=rng.choice(NOTES),
                device_id=lent[0][0] if lent and mode != "phone" else None,
                next_steps=rng.choice(NEXT_STEPS),
            ),
            {t.id: levels[t.id] for t in practised},
            token=uuid.uuid4().hex,
            by=match.buddy.user,
        )
        session.recorded_at = datetime.combine(day, datetime.min.time()) + timedelta(hours=15)
        day += timedelta(days=rng.choice([7, 7, 7, 10, 14, 14]))


def _alerts(org, coordinator, rng) -> None:
    """One open safeguarding concern (the newest session of buddy@wdi's first resident) and
    one that a coordinator has already acted on."""
    if db.session.scalar(
        select(PracticeSession.id).where(
            PracticeSession.organisation_id == org.id, PracticeSession.safeguarding_concern
        )
    ):
        return
    newest = db.session.scalars(
        select(PracticeSession)
        .join(BuddyProfile, BuddyProfile.id == PracticeSession.buddy_id)
        .where(PracticeSession.organisation_id == org.id)
        .order_by(
            BuddyProfile.user_id.is_(None),
            PracticeSession.held_on.desc(),
            PracticeSession.id.desc(),
        )
    ).all()
    if not newest:
        return
    open_one = newest[0]
    open_one.safeguarding_concern = True
    open_one.safeguarding_description = (
        "Mentioned a 'bank' caller asking her to move savings to a new account, and seemed "
        "frightened to say no. I said not to move anything and that I'd let the team know."
    )
    older = [s for s in newest[len(newest) // 2 :] if s.resident_id != open_one.resident_id]
    if older:
        done = older[0]
        done.safeguarding_concern = True
        done.safeguarding_description = "Said he has not been eating much since his wife died."
        service.record_safeguarding_action(
            done,
            "Called him the same day; referred to the social prescribing link worker "
            "with consent, and to the community meals service.",
            by=coordinator,
        )
        done.safeguarding_actioned_at = datetime.combine(
            done.held_on, datetime.min.time()
        ) + timedelta(days=1, hours=10)
    db.session.flush()


def _next_visits(org, coordinator) -> None:
    """Planned next visits for most active matches of buddies with an account (the
    buddy's home lists them soonest first); one in three has none planned yet."""
    from .. import service as buddies

    active = db.session.scalars(
        select(Match)
        .join(BuddyProfile, BuddyProfile.id == Match.buddy_id)
        .where(
            Match.organisation_id == org.id,
            Match.status == "active",
            BuddyProfile.user_id.is_not(None),
        )
        .order_by(Match.id)
    ).all()
    if any(m.next_visit_on for m in active):
        return
    for i, match in enumerate(active):
        if i % 3 != 2:
            buddies.plan_next_visit(
                match, today() + timedelta(days=min(2 + 3 * i, 300)), by=coordinator
            )
    db.session.flush()


def load(context) -> None:
    """Add this package's demo records; `context` holds the demo organisations and users."""
    coordinators = {
        "WDI": context.users.get("coordinator@wdi.example.org"),
        "DLW": context.users.get("coordinator@dlw.example.org"),
    }
    rng = context.rng
    for code, org in sorted(context.organisations.items()):
        with scoped_to(org.id):
            service.ensure_taxonomy(org.id)
            tasks = service.tasks()
            matches = db.session.scalars(
                select(Match)
                .where(Match.organisation_id == org.id, Match.status.in_(("active", "ended")))
                .order_by(Match.id)
            ).all()
            for match in matches:
                if not _practised_before(match.resident_id):
                    _resident_story(match, tasks, coordinators.get(code), rng)
            db.session.flush()
            _alerts(org, coordinators.get(code), rng)
            _next_visits(org, coordinators.get(code))
    db.session.flush()
