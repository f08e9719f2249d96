"""A commissioner's view: aggregate figures across the organisations of their programme, and
per organisation, with small-number suppression always on. Never a record, a name, a
free-text field or a list of residents.

This is the one deliberate path across organisations, and it goes through the tenancy
mechanism explicitly: the session is scoped to the programme's organisations
(``scope_session_to_programme``) or to one of them at a time, aggregates are computed, and
the scope goes back to the commissioner's own organisation afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from inclusion.accounts.models import Organisation
from inclusion.disclosure import publishable
from inclusion.extensions import db
from inclusion.residents.models import Resident
from inclusion.tenancy import scope_session, scope_session_to_programme

from . import report
from .models import Programme, ProgrammeCommissioner, ProgrammeMember


@dataclass
class OrganisationFigures:
    name: str
    referrals: int | str
    pairs: int | str
    life_satisfaction: str  # the plain-words sentence (count only below MIN_PAIRS)


@dataclass
class ProgrammeFigures:
    programme: Programme | None
    overall: report.OutcomeReport | None
    referrals: int | str
    organisations: list[OrganisationFigures]


def programme_of(user) -> tuple[Programme | None, list[int]]:
    row = db.session.scalar(
        select(ProgrammeCommissioner).where(ProgrammeCommissioner.user_id == user.id)
    )
    if row is None:
        return None, []
    org_ids = list(
        db.session.scalars(
            select(ProgrammeMember.organisation_id).where(
                ProgrammeMember.programme_id == row.programme_id
            )
        )
    )
    return row.programme, sorted(org_ids)


def _referrals(period) -> int:
    return db.session.scalar(
        select(func.count(Resident.id)).where(
            Resident.referral_date >= period.start, Resident.referral_date <= period.end
        )
    )


def figures_for(user, period) -> ProgrammeFigures:
    programme, org_ids = programme_of(user)
    if programme is None:
        return ProgrammeFigures(None, None, 0, [])
    try:
        scope_session_to_programme(db.session, org_ids)
        overall = report.build(period.start, period.end, suppressed=True)
        referrals = publishable(_referrals(period))
        names = dict(
            db.session.execute(
                select(Organisation.id, Organisation.name).where(Organisation.id.in_(org_ids))
            ).all()
        )
        per_org = []
        for org_id in org_ids:
            scope_session(db.session, org_id)
            built = report.build(period.start, period.end, suppressed=True)
            change = built.changes["life_satisfaction"]
            sentence = (
                change.sentence
                if change.enough
                else f"{publishable(change.pairs)} people asked at both times: no statistics."
            )
            per_org.append(
                OrganisationFigures(
                    names.get(org_id, ""),
                    publishable(_referrals(period)),
                    publishable(built.pairs),
                    sentence,
                )
            )
    finally:
        scope_session(db.session, user.organisation_id)
    return ProgrammeFigures(programme, overall, referrals, per_org)
