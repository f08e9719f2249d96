"""Demo outcomes: baselines and follow-ups with varied change (most better, some the same,
some worse), a few follow-ups due on the call list, and a demo commissioner over both demo
organisations. Idempotent: a resident with a baseline is left alone."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from inclusion.accounts import service as accounts
from inclusion.accounts.models import COMMISSIONER
from inclusion.clock import today
from inclusion.extensions import db
from inclusion.residents.models import Resident, StatusChange
from inclusion.tenancy import scope_session

from . import service
from .models import BASELINE, CLOSURE, AnswerSet, Programme, ProgrammeCommissioner, ProgrammeMember

COMMISSIONER_EMAIL = "commissioner@blackcountry-icb.example.org"
PROGRAMME = "Black Country digital inclusion (demo)"


def _clamp(value, low, high):
    return max(low, min(high, value))


def _answers(rng, base: dict | None, shift: int) -> dict:
    if base is None:
        values = {
            "life_satisfaction": rng.randint(2, 7),
            "worthwhile": rng.randint(3, 7),
            "happy": rng.randint(2, 7),
            "anxious": rng.randint(3, 9),
            "ucla_companionship": rng.choice([2, 3, 3]),
            "ucla_left_out": rng.choice([1, 2, 3]),
            "ucla_isolated": rng.choice([2, 3, 3]),
            "lonely_direct": rng.choice([1, 1, 2, 2, 3]),
        }
    else:
        values = {
            "life_satisfaction": _clamp(
                base["life_satisfaction"] + shift + rng.randint(-1, 1), 0, 10
            ),
            "worthwhile": _clamp(base["worthwhile"] + shift + rng.randint(-1, 1), 0, 10),
            "happy": _clamp(base["happy"] + shift + rng.randint(-1, 1), 0, 10),
            "anxious": _clamp(base["anxious"] - shift + rng.randint(-1, 1), 0, 10),
            "ucla_companionship": _clamp(base["ucla_companionship"] - (shift > 1), 1, 3),
            "ucla_left_out": _clamp(base["ucla_left_out"] - (shift > 2), 1, 3),
            "ucla_isolated": _clamp(base["ucla_isolated"] - (shift > 0), 1, 3),
            "lonely_direct": _clamp(base["lonely_direct"] + (shift > 0) + (shift > 2), 1, 5),
        }
    if rng.random() < 0.08:  # someone declines a question now and then
        values[rng.choice(list(values))] = None
    return values


def _resident_outcomes(resident, coordinator, rng) -> None:
    start = resident.referral_date + timedelta(days=7)
    if start > today():
        return
    base = _answers(rng, None, 0)
    service.record_answers(
        resident, BASELINE, base, method="in_person", asked_on=start, by=coordinator
    )
    if resident.status == "supported":
        # Support started a week after the referral (the demo's history is written today).
        db.session.execute(
            StatusChange.__table__.update()
            .where(
                StatusChange.__table__.c.resident_id == resident.id,
                StatusChange.__table__.c.to_status == "supported",
            )
            .values(at=datetime.combine(start, datetime.min.time()))
        )
    shift = rng.choice([3, 2, 2, 1, 1, 1, 0, 0, -1, -2])
    filled = {k: (v if v is not None else 5) for k, v in base.items()}
    if resident.status == "closed":
        service.record_answers(
            resident, CLOSURE, _answers(rng, filled, shift), method="phone", by=coordinator
        )
    elif rng.random() < 0.7:
        asked = min(today(), start + timedelta(days=95))
        service.record_answers(
            resident,
            "months_3",
            _answers(rng, filled, shift),
            method="phone",
            asked_on=asked,
            by=coordinator,
        )


def _commissioner(context) -> None:
    orgs = context.organisations
    programme = db.session.scalar(select(Programme).where(Programme.name == PROGRAMME))
    if programme is None:
        programme = Programme(name=PROGRAMME)
        db.session.add(programme)
        db.session.flush()
        for org in orgs.values():
            db.session.add(ProgrammeMember(programme_id=programme.id, organisation_id=org.id))
    user = accounts.find_user_by_email(COMMISSIONER_EMAIL)
    if user is None:
        user = accounts.create_user(
            orgs["WDI"],
            email=COMMISSIONER_EMAIL,
            name="Cara Commissioner (ICB)",
            role=COMMISSIONER,
            password=context.password,
        )
        db.session.add(ProgrammeCommissioner(programme_id=programme.id, user_id=user.id))
    db.session.flush()
    context.users[COMMISSIONER_EMAIL] = user


def load(context) -> None:
    coordinators = {
        "WDI": context.users.get("coordinator@wdi.example.org"),
        "DLW": context.users.get("coordinator@dlw.example.org"),
    }
    rng = context.rng
    for code, org in sorted(context.organisations.items()):
        scope_session(db.session, org.id)
        try:
            # Once per organisation: later demo steps add residents (old closed cases)
            # that a second run must not give answers to.
            if db.session.scalar(select(AnswerSet.id).limit(1)) is None:
                for resident in db.session.scalars(
                    select(Resident)
                    .where(
                        Resident.status.in_(("assessed", "supported", "closed")),
                        Resident.anonymised_at.is_(None),
                    )
                    .order_by(Resident.id)
                ):
                    _resident_outcomes(resident, coordinators.get(code), rng)
        finally:
            scope_session(db.session, None)
    _commissioner(context)
    db.session.flush()
