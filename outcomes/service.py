"""The rules of outcomes: recording an answer set, the follow-up schedule, what is due.

Services change objects, write the audit event with its actor and flush; the request
commits. Refusals raise ``RuleBroken`` naming the field.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from inclusion import audit
from inclusion.accounts.models import Organisation
from inclusion.clock import today as clock_today
from inclusion.errors import RuleBroken
from inclusion.extensions import db
from inclusion.registry import registry
from inclusion.residents.models import Resident, StatusChange
from inclusion.residents.service import lock_resident, refuse_if_anonymised

from .measures import DIRECT, DIRECT_ANSWERS, HOW_ASKED, ITEM_KEYS, UCLA, UCLA_ANSWERS, WELLBEING
from .models import BASELINE, CLOSURE, AnswerSet, FollowUpSchedule, months_occasion

DEFAULT_MONTHS = (3, 6)
#: How long after closure the closing follow-up stays on the list.
CLOSURE_WINDOW_DAYS = 60


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (the month's last day when it has fewer days)."""
    import calendar

    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def schedule_of(organisation_id: int) -> tuple[tuple[int, ...], bool]:
    """(months after support starts, whether to ask at closure) of the organisation."""
    row = db.session.scalar(
        select(FollowUpSchedule).where(FollowUpSchedule.organisation_id == organisation_id)
    )
    if row is None:
        return DEFAULT_MONTHS, True
    return tuple(sorted(int(m) for m in row.months)), bool(row.at_closure)


def set_schedule(organisation_id: int, months: list[int], at_closure: bool, *, by) -> None:
    """Months are whole numbers from 1 to 36, each once."""
    if any(not 1 <= m <= 36 for m in months):
        raise RuleBroken("Enter months from 1 to 36, like 3, 6.", "months")
    # Two admins setting a first schedule at once: the second waits here and then finds
    # the first one's row to change, instead of adding a second (a unique violation).
    db.session.execute(
        select(Organisation.id).where(Organisation.id == organisation_id).with_for_update()
    )
    row = db.session.scalar(
        select(FollowUpSchedule).where(FollowUpSchedule.organisation_id == organisation_id)
    )
    if row is None:
        row = FollowUpSchedule(organisation_id=organisation_id)
        db.session.add(row)
    row.months, row.at_closure = sorted(set(months)), at_closure
    db.session.flush()
    audit.record("outcome.schedule_set", row, changed=["months", "at_closure"], actor=by)
    db.session.flush()


def occasions_of(organisation_id: int) -> list[str]:
    months, at_closure = schedule_of(organisation_id)
    return [BASELINE, *[months_occasion(m) for m in months], *([CLOSURE] if at_closure else [])]


def answer_sets_of(resident_id: int) -> list[AnswerSet]:
    return list(
        db.session.scalars(
            select(AnswerSet)
            .where(AnswerSet.resident_id == resident_id)
            .order_by(AnswerSet.asked_on, AnswerSet.id)
        )
    )


def support_started(resident_ids: list[int]) -> dict[int, date]:
    """resident id -> the day support first started (first move to "supported")."""
    if not resident_ids:
        return {}
    rows = db.session.execute(
        select(StatusChange.resident_id, StatusChange.at)
        .where(StatusChange.resident_id.in_(resident_ids), StatusChange.to_status == "supported")
        .order_by(StatusChange.at)
    ).all()
    started: dict[int, date] = {}
    for resident_id, at in rows:
        started.setdefault(resident_id, at.date())
    return started


@dataclass(frozen=True)
class Due:
    resident: Resident
    occasion: str
    due_on: date

    @property
    def label(self) -> str:
        from .models import occasion_label

        return occasion_label(self.occasion)


def follow_ups_due(organisation_id: int, today: date | None = None) -> list[Due]:
    """Follow-ups due by ``today`` and not yet asked, oldest first: each month of the
    schedule after support started (open cases), and the closing one for a case closed in
    the last ``CLOSURE_WINDOW_DAYS`` days. Only residents with a baseline are followed up
    (without one nothing can be compared). A fixed number of queries."""
    today = today or clock_today()
    months, at_closure = schedule_of(organisation_id)
    residents = list(
        db.session.scalars(
            select(Resident).where(
                Resident.anonymised_at.is_(None),
                Resident.status.in_(("supported", "closed")),
                Resident.id.in_(
                    select(AnswerSet.resident_id).where(AnswerSet.occasion == BASELINE)
                ),
            )
        )
    )
    ids = [r.id for r in residents]
    asked: set[tuple[int, str]] = set()
    if ids:
        asked = set(
            db.session.execute(
                select(AnswerSet.resident_id, AnswerSet.occasion).where(
                    AnswerSet.resident_id.in_(ids)
                )
            ).all()
        )
    started = support_started(ids)
    due: list[Due] = []
    for resident in residents:
        if resident.status == "closed":
            closed_on = resident.closed_at.date() if resident.closed_at else None
            if (
                at_closure
                and closed_on
                and (today - closed_on).days <= CLOSURE_WINDOW_DAYS
                and (resident.id, CLOSURE) not in asked
            ):
                due.append(Due(resident, CLOSURE, closed_on))
            continue
        start = started.get(resident.id)
        if start is None:
            continue
        for m in months:
            on = add_months(start, m)
            if on <= today and (resident.id, months_occasion(m)) not in asked:
                due.append(Due(resident, months_occasion(m), on))
                break  # one call asks one follow-up: the earliest missing one
    return sorted(due, key=lambda d: (d.due_on, d.resident.reference))


def independent_tasks_of(resident_id: int) -> int | None:
    """Tasks at "can do it alone" or above, from the checkpoints (a declared interface the
    practice package provides; None when no feature records checkpoints)."""
    return registry().interface("independent_tasks", lambda _resident_id: None)(resident_id)


def _checked(values: dict) -> dict[str, int | None]:
    """Each answer as an int in its scale, or None for "prefers not to say"."""
    scales = {i.key: range(0, 11) for i in WELLBEING}
    scales |= {i.key: UCLA_ANSWERS for i in UCLA}
    scales[DIRECT.key] = DIRECT_ANSWERS
    out: dict[str, int | None] = {}
    for key in ITEM_KEYS:
        raw = values.get(key)
        if raw is None or raw == "":
            out[key] = None
            continue
        try:
            value = int(raw)
        except (TypeError, ValueError):
            raise RuleBroken("Choose one of the answers, or prefers not to say.", key) from None
        if value not in scales[key]:
            raise RuleBroken("Choose one of the answers, or prefers not to say.", key)
        out[key] = value
    return out


def record_answers(
    resident: Resident,
    occasion: str,
    values: dict,
    *,
    method: str,
    by,
    asked_on: date | None = None,
) -> AnswerSet:
    """One sitting of the outcome questions.

    The baseline comes first and once; each follow-up of the organisation's schedule once
    (the database's unique index backs it). A declined question is recorded as "prefers
    not to say", never as a zero. Not for an erased person.
    """
    lock_resident(resident)
    refuse_if_anonymised(resident)
    if occasion not in occasions_of(resident.organisation_id):
        raise RuleBroken("Choose which follow-up this is.", "occasion")
    if method not in HOW_ASKED:
        raise RuleBroken("Choose how the questions were asked.", "method")
    asked_on = asked_on or clock_today()
    if asked_on > clock_today():
        raise RuleBroken("The date cannot be in the future.", "asked_on")
    existing = answer_sets_of(resident.id)
    if occasion != BASELINE and not any(a.occasion == BASELINE for a in existing):
        raise RuleBroken("Record the baseline first: a follow-up is compared with it.", "occasion")
    if occasion == CLOSURE and resident.status != "closed":
        raise RuleBroken("The closing follow-up is asked once the case is closed.", "occasion")
    answers = _checked(values)
    person_key = existing[0].person_key if existing else secrets.token_hex(16)
    answer_set = AnswerSet(
        organisation_id=resident.organisation_id,
        resident_id=resident.id,
        person_key=person_key,
        occasion=occasion,
        asked_on=asked_on,
        method=method,
        asked_by_id=by.id if by is not None else None,
        independent_tasks=independent_tasks_of(resident.id),
        **answers,
    )
    try:
        with db.session.begin_nested():
            db.session.add(answer_set)
            db.session.flush()
    except IntegrityError:
        raise RuleBroken(
            "These questions were already recorded for this follow-up.", "occasion"
        ) from None
    audit.record(
        "outcome.recorded",
        answer_set,
        changed=["occasion", "asked_on", "method", *ITEM_KEYS],
        actor=by,
    )
    db.session.flush()
    return answer_set


# ---- the outcome summary back to the referrer (PRSB Social Prescribing Information Standard)


@dataclass
class OutcomeSummary:
    """What goes back to the referrer, in the order of the PRSB standard's message: the
    person, the referral, the support given, the outcome measures at start and end, and the
    case outcome."""

    resident: Resident
    baseline: AnswerSet | None
    latest: AnswerSet | None
    devices: list[str]
    sessions: int | None
    referral_concept: dict | None
    outcome_concept: dict | None


def outcome_summary(resident: Resident) -> OutcomeSummary:
    from .snomed import OUTCOME_CONCEPTS, concept

    sets = answer_sets_of(resident.id)
    baseline = next((a for a in sets if a.occasion == BASELINE), None)
    follow_ups = [a for a in sets if a.occasion != BASELINE]
    devices = registry().interface("devices_lent_to", lambda _id: [])(resident.id)
    sessions = registry().interface("practice_sessions_of", lambda _id: None)(resident.id)
    outcome_key = OUTCOME_CONCEPTS.get(resident.outcome or "")
    return OutcomeSummary(
        resident=resident,
        baseline=baseline,
        latest=follow_ups[-1] if follow_ups else None,
        devices=[label for _id, label, _on_loan in devices],
        sessions=sessions,
        referral_concept=concept("referral"),
        outcome_concept=concept(outcome_key) if outcome_key else None,
    )


def _answers_json(answer_set: AnswerSet | None) -> dict | None:
    from .measures import ITEM_KEYS, scores

    if answer_set is None:
        return None
    return {
        "occasion": answer_set.occasion,
        "asked_on": answer_set.asked_on.isoformat(),
        "how_asked": answer_set.method,
        "answers": {k: getattr(answer_set, k) for k in ITEM_KEYS},
        "scores": scores(answer_set),
    }


def summary_json(summary: OutcomeSummary) -> dict:
    """The API's outcome of a referral (``GET /api/referrals/<reference>/outcome``); null
    answers are "prefers not to say"."""
    r = summary.resident
    return {
        "reference": r.reference,
        "referral": {
            "date": r.referral_date.isoformat(),
            "reason": r.referral_reason,
            "snomed": summary.referral_concept,
        },
        "person": {
            "name": r.full_name,
            "date_of_birth": r.date_of_birth.isoformat() if r.date_of_birth else None,
            "nhs_number": getattr(r, "nhs_number", None) or None,
        },
        "support": {"devices_lent": summary.devices, "buddy_sessions": summary.sessions},
        "status": r.status,
        "case_outcome": r.outcome,
        "case_outcome_snomed": summary.outcome_concept,
        "measures": {
            "baseline": _answers_json(summary.baseline),
            "latest": _answers_json(summary.latest),
        },
    }


def referral_outcome(organisation_id: int, reference: str) -> dict | None:
    """The outcome of a referral that came through the API (None: no such referral of the
    key's organisation, or not one the API sent)."""
    resident = db.session.scalar(
        select(Resident).where(
            Resident.organisation_id == organisation_id,
            Resident.reference == reference,
            Resident.consent_method == "api",
            Resident.anonymised_at.is_(None),
        )
    )
    if resident is None:
        return None
    return summary_json(outcome_summary(resident))


# ---- programmes and commissioners --------------------------------------------------------


def add_commissioner(*, email: str, name: str, programme_name: str, codes, password: str):
    """A commissioner account over a programme of the organisations ``codes`` (created, or
    extended with the organisations it lacks). An account belongs to one programme."""
    from inclusion.accounts import service as accounts
    from inclusion.accounts.models import COMMISSIONER, Organisation

    from .models import Programme, ProgrammeCommissioner, ProgrammeMember

    orgs = []
    for code in codes:
        org = db.session.scalar(
            select(Organisation).where(Organisation.code == code.strip().upper())
        )
        if org is None:
            raise RuleBroken(f"No organisation has the code {code!r}.", "organisation")
        orgs.append(org)
    if not orgs:
        raise RuleBroken("Name at least one organisation.", "organisation")
    if not programme_name.strip():
        raise RuleBroken("Name the programme.", "programme")
    programme = db.session.scalar(select(Programme).where(Programme.name == programme_name.strip()))
    if programme is None:
        programme = Programme(name=programme_name.strip())
        db.session.add(programme)
        db.session.flush()
        audit.record("programme.created", programme, changed=["name"])
    have = set(
        db.session.scalars(
            select(ProgrammeMember.organisation_id).where(
                ProgrammeMember.programme_id == programme.id
            )
        )
    )
    for org in orgs:
        if org.id not in have:
            member = ProgrammeMember(programme_id=programme.id, organisation_id=org.id)
            db.session.add(member)
            db.session.flush()
            audit.record(
                "programme.member_added",
                member,
                changed=["organisation_id"],
                organisation_id=org.id,
            )
    user = accounts.create_user(
        orgs[0], email=email, name=name, role=COMMISSIONER, password=password
    )
    link = ProgrammeCommissioner(programme_id=programme.id, user_id=user.id)
    db.session.add(link)
    db.session.flush()
    audit.record(
        "programme.commissioner_added", link, changed=["user_id"], organisation_id=orgs[0].id
    )
    db.session.flush()
    return user


def remove_member(*, programme_name: str, code: str):
    """Take an organisation out of a programme: its commissioners stop seeing its figures
    from the next request (audited). The commissioner's home organisation stays a member
    while they have an account there, so no account is left reading nothing of its own."""
    from inclusion.accounts.models import Organisation

    from .models import Programme, ProgrammeCommissioner, ProgrammeMember

    programme = db.session.scalar(select(Programme).where(Programme.name == programme_name.strip()))
    if programme is None:
        raise RuleBroken(f"No programme is called {programme_name!r}.", "programme")
    org = db.session.scalar(select(Organisation).where(Organisation.code == code.strip().upper()))
    if org is None:
        raise RuleBroken(f"No organisation has the code {code!r}.", "organisation")
    member = db.session.scalar(
        select(ProgrammeMember)
        .where(
            ProgrammeMember.programme_id == programme.id, ProgrammeMember.organisation_id == org.id
        )
        .with_for_update()
    )
    if member is None:
        raise RuleBroken(f"{org.name} is not in the programme {programme.name}.", "organisation")
    from inclusion.accounts.models import User

    homes = db.session.scalars(
        select(User.organisation_id)
        .join(ProgrammeCommissioner, ProgrammeCommissioner.user_id == User.id)
        .where(ProgrammeCommissioner.programme_id == programme.id)
    ).all()
    if org.id in homes:
        raise RuleBroken(
            f"A commissioner of {programme.name} has their account at {org.name}: "
            "it stays in the programme.",
            "organisation",
        )
    audit.record(
        "programme.member_removed", member, changed=["organisation_id"], organisation_id=org.id
    )
    db.session.delete(member)
    db.session.flush()
    return programme


def programmes_including(organisation_id: int) -> list[dict]:
    """The programmes an organisation is in, for its admin: each programme's name, its
    member organisations' names and who commissions it (names only). Three queries."""
    from inclusion.accounts.models import Organisation, User
    from inclusion.tenancy import unscoped

    from .models import Programme, ProgrammeCommissioner, ProgrammeMember

    with unscoped():  # across organisations on purpose: the programme's other members
        programmes = db.session.scalars(
            select(Programme)
            .join(ProgrammeMember, ProgrammeMember.programme_id == Programme.id)
            .where(ProgrammeMember.organisation_id == organisation_id)
            .order_by(Programme.name)
        ).all()
        ids = [p.id for p in programmes]
        members = db.session.execute(
            select(ProgrammeMember.programme_id, Organisation.name)
            .join(Organisation, Organisation.id == ProgrammeMember.organisation_id)
            .where(ProgrammeMember.programme_id.in_(ids))
            .order_by(Organisation.name)
        ).all()
        readers = db.session.execute(
            select(ProgrammeCommissioner.programme_id, User.name)
            .join(User, User.id == ProgrammeCommissioner.user_id)
            .where(ProgrammeCommissioner.programme_id.in_(ids), User.active.is_(True))
            .order_by(User.name)
        ).all()
    return [
        {
            "name": p.name,
            "organisations": [name for pid, name in members if pid == p.id],
            "commissioners": [name for pid, name in readers if pid == p.id],
        }
        for p in programmes
    ]
