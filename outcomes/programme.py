"""A commissioner's view: aggregate figures across the organisations of their programme, and
per organisation (the reports page's key figures, its targets, its outcomes), with
small-number suppression always on. Never a record, a name, a free-text field or a list of
residents.

This is the one deliberate path across organisations, and it goes through the tenancy
mechanism explicitly: the outcome figures are computed over the programme's organisations
only (``organisation_id IN (...)``, under ``unscoped()`` with the ids given), and each
organisation's report is the reports page's own ``build_report`` for that organisation, for
publication (every count from 1 to 4 suppressed). An organisation outside the programme is
never asked for: ``organisation_in_programme`` refuses it before anything is computed.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from inclusion.accounts.models import Organisation
from inclusion.disclosure import NOT_SHOWN, SMALL_NUMBER_THRESHOLD, protect_parts, publishable
from inclusion.extensions import db
from inclusion.reports.service import Report, build_report
from inclusion.tenancy import unscoped

from . import report
from .models import Programme, ProgrammeCommissioner, ProgrammeMember
from .statistics import describe


@dataclass
class TargetRow:
    organisation: str
    measure: str
    target: int
    actual: int | str
    percent: int | None


@dataclass
class OrganisationFigures:
    id: int
    name: str
    referrals: int | str
    pairs: int | str
    life_satisfaction: str  # the plain-words sentence (count only below MIN_PAIRS)
    key_figures: list[list]  # [label, value], suppressed as the report's tables are
    targets: list[TargetRow]


@dataclass
class ProgrammeFigures:
    programme: Programme | None
    overall: report.OutcomeReport | None
    referrals: int | str
    organisations: list[OrganisationFigures]
    year_label: str = ""

    @property
    def key_figure_labels(self) -> list[str]:
        labels: list[str] = []
        for o in self.organisations:
            labels += [label for label, _value in o.key_figures if label not in labels]
        return labels

    @property
    def targets(self) -> list[TargetRow]:
        return [t for o in self.organisations for t in o.targets]


def programme_of(user) -> tuple[Programme | None, list[int]]:
    """The programme ``user`` commissions and its organisations' ids (none: no programme)."""
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


def organisation_in_programme(user, organisation_id) -> bool:
    """True only for an organisation of ``user``'s programme."""
    _programme, org_ids = programme_of(user)
    return organisation_id in org_ids


def _referrals(built: Report) -> int:
    return built.figures["referrals"]["total"]


def organisation_report(organisation_id: int, period) -> Report:
    """One organisation's reports page, for publication (small numbers suppressed)."""
    return build_report(organisation_id, period, publication=True)


def figures_for(user, period) -> ProgrammeFigures:
    programme, org_ids = programme_of(user)
    if programme is None:
        return ProgrammeFigures(None, None, 0, [])
    overall = report.report_of(
        report.outcome_figures(period.start, period.end, org_ids),
        period.start,
        period.end,
        suppressed=True,
    )
    with unscoped():  # the names of the programme's organisations, by id
        names = dict(
            db.session.execute(
                select(Organisation.id, Organisation.name).where(Organisation.id.in_(org_ids))
            ).all()
        )
    built_of, total, year_label = [], 0, ""
    for org_id in sorted(org_ids, key=lambda i: names.get(i, "")):
        built = organisation_report(org_id, period)
        year_label = built.year_label
        total += _referrals(built)
        built_of.append((org_id, built))
    # The programme's outcomes give the exact number of people asked at both times (and
    # of those asked about life satisfaction): beside them, one organisation's count shown
    # as "fewer than 5" could be worked out from the others'. More are hidden until it
    # cannot (``protect_parts``), and when even that is not enough the programme's own
    # outcomes are withheld.
    changes = [
        report.Change(**built.figures["outcomes"]["changes"]["life_satisfaction"])
        for _org_id, built in built_of
    ]
    pairs, pairs_whole = protect_parts([b.figures["outcomes"]["pairs"] for _i, b in built_of])
    asked, asked_whole = protect_parts([change.pairs for change in changes])
    per_org = []
    for (org_id, built), change, shown_pairs, shown_asked in zip(
        built_of, changes, pairs, asked, strict=True
    ):
        if shown_asked == NOT_SHOWN:
            sentence = describe(change, count=False)
        elif change.enough:
            sentence = change.sentence
        else:
            sentence = f"{shown_asked} people asked at both times: no statistics."
        per_org.append(
            OrganisationFigures(
                org_id,
                names.get(org_id, ""),
                publishable(_referrals(built)),
                shown_pairs,
                sentence,
                [
                    [label, shown_asked if label == report.LIFE_SATISFACTION_ASKED else value]
                    for label, value in built.key_figures
                ],
                [
                    TargetRow(names.get(org_id, ""), p.label, p.target, p.actual, p.percent)
                    for p in built.progress
                ],
            )
        )
    shown_total = _total(total, [o.referrals for o in per_org])
    if not (pairs_whole and asked_whole):
        overall = None
    return ProgrammeFigures(programme, overall, shown_total, per_org, year_label)


def _total(total: int, parts: list) -> int | str:
    """The programme's total beside its organisations' counts. When one of them is hidden
    ("fewer than 5"), an exact total would give it away (total minus the others): the total
    is then "at least" the sum of the counts that are shown."""
    hidden = [p for p in parts if isinstance(p, str)]
    if not hidden or total == 0:
        return publishable(total)
    shown = sum(p for p in parts if not isinstance(p, str))
    if shown == 0:  # every organisation's count is hidden
        return publishable(total) if total < SMALL_NUMBER_THRESHOLD else "5 or more"
    return f"at least {shown}"
