"""The outcomes report: before/after pairs, their statistics, loneliness moves, distributions
and change by group, as tables and charts built once and used by the page, the CSV and the PDF
(and, read through the tenancy scope of a programme, by the commissioner's page).

A pair is a person's baseline and their latest follow-up asked in the period. Groups
(referral source, age band, access need, language, area) come from the resident when the
link still exists; after erasure a pair counts in the totals and in "Not known".
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from inclusion.disclosure import publishable
from inclusion.extensions import db
from inclusion.registry import ReportSection
from inclusion.reports.charts import BarChart, bar_chart
from inclusion.reports.tables import ReportTable
from inclusion.residents.models import ACCESS_NEEDS, SOURCES
from inclusion.tenancy import unscoped

from .measures import (
    DIRECT_ANSWERS,
    INDEPENDENCE_TARGET,
    OFTEN_OR_ALWAYS,
    OUTCOME_SCORES,
    scores,
)
from .models import BASELINE, AnswerSet
from .statistics import MIN_PAIRS, Change, paired_change, significance_words

AGE_BANDS = (
    (0, 17, "Under 18"),
    (18, 49, "18 to 49"),
    (50, 64, "50 to 64"),
    (65, 74, "65 to 74"),
    (75, 200, "75 and over"),
)
GROUPS = {
    "source": "Source of referral",
    "age": "Age band",
    "access": "Access need",
    "language": "Preferred language",
    "area": "Area",
}
NOT_KNOWN = "Not known"


@dataclass
class Pair:
    before: AnswerSet
    after: AnswerSet
    groups: dict[str, list[str]]


@dataclass
class OutcomeReport:
    start: date
    end: date
    suppressed: bool
    pairs: int
    changes: dict[str, Change]
    tables: list[ReportTable] = field(default_factory=list)
    charts: list[BarChart] = field(default_factory=list)
    sentences: list[str] = field(default_factory=list)

    def table(self, slug: str) -> ReportTable:
        return next(t for t in self.tables if t.slug == slug)


def age_band(dob: date | None, on: date) -> str:
    if dob is None:
        return NOT_KNOWN
    age = on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))
    return next(label for low, high, label in AGE_BANDS if low <= age <= high)


def _groups_of(resident, on: date) -> dict[str, list[str]]:
    if resident is None or resident.anonymised_at is not None:
        return {key: [NOT_KNOWN] for key in GROUPS}
    needs = [label for key, label in ACCESS_NEEDS.items() if getattr(resident, key)]
    return {
        "source": [SOURCES.get(resident.referral_source, resident.referral_source)],
        "age": [age_band(resident.date_of_birth, on)],
        "access": needs or ["None recorded"],
        "language": [resident.preferred_language or NOT_KNOWN],
        "area": [resident.area or NOT_KNOWN],
    }


def pairs_in(start: date, end: date, organisation_ids=None) -> list[Pair]:
    """Baseline and latest follow-up in [start, end] of each person (of ``organisation_ids``,
    or in the current tenancy scope: one organisation, or a programme's). Two queries
    whatever the number of people."""
    stmt = select(AnswerSet).where(AnswerSet.asked_on <= end)
    if organisation_ids is not None:
        stmt = stmt.where(AnswerSet.organisation_id.in_(list(organisation_ids)))
    rows = db.session.scalars(
        stmt.options(selectinload(AnswerSet.resident)).order_by(AnswerSet.asked_on, AnswerSet.id)
    ).all()
    by_person: dict[str, list[AnswerSet]] = defaultdict(list)
    for row in rows:
        by_person[(row.organisation_id, row.person_key)].append(row)
    pairs = []
    for sets in by_person.values():
        baseline = next((s for s in sets if s.occasion == BASELINE), None)
        follow_ups = [s for s in sets if s.occasion != BASELINE and start <= s.asked_on <= end]
        if baseline is None or not follow_ups:
            continue
        after = follow_ups[-1]
        pairs.append(Pair(baseline, after, _groups_of(baseline.resident, baseline.asked_on)))
    return pairs


def changes_of(pairs: list[Pair]) -> dict[str, Change]:
    out = {}
    for key in OUTCOME_SCORES:
        values = []
        for pair in pairs:
            b, a = scores(pair.before)[key], scores(pair.after)[key]
            if b is not None and a is not None:
                values.append((b, a))
        out[key] = paired_change(key, values)
    return out


def _fmt(value: float | None, signed: bool = True) -> str:
    if value is None:
        return ""
    return f"{value:+.1f}" if signed else f"{value:.1f}"


def _identity(n):
    return n


# -- the figures: plain values, computed once (cached with the reports' figures) -------------

DISTRIBUTIONS = {
    "life_satisfaction": ("Life satisfaction (0 to 10)", {v: str(v) for v in range(11)}),
    "lonely_direct": ("How often do you feel lonely?", DIRECT_ANSWERS),
}


def outcome_figures(start: date, end: date, organisation_ids=None) -> dict:
    """Every outcome figure of [start, end] as plain values (numbers, strings, dicts), for
    the organisations ``organisation_ids`` (``None``: the current tenancy scope). Exact
    figures: ``tables_of`` and ``charts_of`` apply the small-number rule."""
    if organisation_ids is None:
        pairs = pairs_in(start, end)
    else:
        with unscoped():  # the organisations are given: each statement filters on them
            pairs = pairs_in(start, end, organisation_ids)
    changes = changes_of(pairs)
    lonely = [
        p
        for p in pairs
        if p.before.lonely_direct == OFTEN_OR_ALWAYS and p.after.lonely_direct is not None
    ]
    distributions = {}
    for key, (_title, labels) in DISTRIBUTIONS.items():
        before = Counter(getattr(p.before, key) for p in pairs)
        after = Counter(getattr(p.after, key) for p in pairs)
        distributions[key] = {
            "before": [before[v] for v in labels] + [before[None]],
            "after": [after[v] for v in labels] + [after[None]],
        }
    independent = {
        when: sum(
            1 for p in pairs if (getattr(p, when).independent_tasks or 0) >= INDEPENDENCE_TARGET
        )
        for when in ("before", "after")
    }
    groups = {}
    for group_key in GROUPS:
        members: dict[str, list[Pair]] = defaultdict(list)
        for pair in pairs:
            for name in pair.groups[group_key]:
                members[name].append(pair)
        groups[group_key] = {
            name: asdict(changes_of(members[name])["life_satisfaction"]) for name in sorted(members)
        }
    return {
        "pairs": len(pairs),
        "changes": {key: asdict(change) for key, change in changes.items()},
        "lonely_at_start": len(lonely),
        "lonely_moved_out": sum(1 for p in lonely if p.after.lonely_direct != OFTEN_OR_ALWAYS),
        "independent": independent,
        "distributions": distributions,
        "groups": groups,
    }


def _changes(fig: dict) -> dict[str, Change]:
    return {key: Change(**values) for key, values in fig["changes"].items()}


def sentences_of(fig: dict, count=_identity) -> list[str]:
    """The plain-words sentences: one per measure, and the loneliness move."""
    out = []
    for key, change in _changes(fig).items():
        if change.enough:
            out.append(f"{change.sentence} {significance_words(change)}")
        else:
            out.append(
                f"{OUTCOME_SCORES[key][0]}: {count(change.pairs)} people asked at both times, "
                f"fewer than {MIN_PAIRS}: no statistics are shown."
            )
    if fig["lonely_at_start"]:
        out.append(
            f"Of the {count(fig['lonely_at_start'])} people often or always lonely at the "
            f"start, {count(fig['lonely_moved_out'])} no longer were at follow-up."
        )
    return out


def tables_of(fig: dict, count=_identity) -> list[ReportTable]:
    """The report's tables; ``count`` is the small-number rule (or none). A measure or a
    group with fewer than ``MIN_PAIRS`` pairs shows only its count."""
    tables = []
    rows = []
    for key, change in _changes(fig).items():
        label = OUTCOME_SCORES[key][0]
        if change.enough:
            rows.append(
                [
                    label,
                    count(change.pairs),
                    _fmt(change.mean),
                    f"{_fmt(change.ci_low)} to {_fmt(change.ci_high)}",
                    _fmt(change.median),
                    f"{change.share(change.improved):.0%}",
                    f"{change.share(change.same):.0%}",
                    f"{change.share(change.worse):.0%}",
                    "" if change.wilcoxon_p is None else f"{change.wilcoxon_p:.3f}",
                ]
            )
        else:
            rows.append([label, count(change.pairs), "", "", "", "", "", "", ""])
    tables.append(
        ReportTable(
            "outcome_change",
            "Change from baseline to follow-up (better is positive)",
            [
                "Measure",
                "People asked at both times",
                "Mean change",
                "95% confidence interval",
                "Median change",
                "Improved",
                "Stayed the same",
                "Got worse",
                "Wilcoxon signed-rank p",
            ],
            rows,
            note=" ".join(
                [
                    *sentences_of(fig, count),
                    "Anxiety and the UCLA loneliness score are lower when better: their change "
                    "is turned round so that better is positive. Fewer than "
                    f"{MIN_PAIRS} pairs: count only.",
                ]
            ),
        )
    )
    tables.append(
        ReportTable(
            "loneliness_often",
            "Often or always lonely at the start",
            ["Measure", "People"],
            [
                [
                    "Often or always lonely at the baseline (answered both times)",
                    count(fig["lonely_at_start"]),
                ],
                [
                    "No longer often or always lonely at follow-up",
                    count(fig["lonely_moved_out"]),
                ],
            ],
        )
    )
    tables.append(
        ReportTable(
            "digital_independence",
            f"Doing {INDEPENDENCE_TARGET} or more tasks alone",
            ["Measure", "People"],
            [
                [
                    f"{INDEPENDENCE_TARGET} or more tasks alone at the baseline",
                    count(fig["independent"]["before"]),
                ],
                [
                    f"{INDEPENDENCE_TARGET} or more tasks alone at follow-up",
                    count(fig["independent"]["after"]),
                ],
            ],
            note="Of the people asked at both times; tasks at 'can do it alone' or above.",
        )
    )
    for key, (title, labels) in DISTRIBUTIONS.items():
        dist = fig["distributions"][key]
        names = [*(str(v) for v in labels.values()), "Prefers not to say"]
        tables.append(
            ReportTable(
                f"{key}_distribution",
                title,
                ["Answer", "At the baseline", "At follow-up"],
                [
                    [name, count(b), count(a)]
                    for name, b, a in zip(names, dist["before"], dist["after"], strict=True)
                ],
            )
        )
    for group_key, group_label in GROUPS.items():
        group_rows = []
        for name, values in fig["groups"][group_key].items():
            change = Change(**values)
            if change.enough:
                group_rows.append(
                    [
                        name,
                        count(change.pairs),
                        _fmt(change.mean),
                        f"{_fmt(change.ci_low)} to {_fmt(change.ci_high)}",
                        f"{change.share(change.improved):.0%}",
                    ]
                )
            else:
                group_rows.append([name, count(change.pairs), "", "", ""])
        tables.append(
            ReportTable(
                f"life_satisfaction_by_{group_key}",
                f"Change in life satisfaction by {group_label.lower()}",
                [
                    group_label,
                    "People asked at both times",
                    "Mean change",
                    "95% confidence interval",
                    "Improved",
                ],
                group_rows,
                note=f"A group with fewer than {MIN_PAIRS} pairs shows only its count.",
            )
        )
    return tables


def charts_of(fig: dict, count=_identity) -> list[BarChart]:
    """Before/after distributions and change by group, each drawn next to its table (which
    has every number). A suppressed count draws no bar."""
    charts = []
    for key, (title, labels) in DISTRIBUTIONS.items():
        slug = f"{key}_distribution"
        for when, words in (("before", "at the baseline"), ("after", "at follow-up")):
            counts = fig["distributions"][key][when]
            charts.append(
                bar_chart(
                    f"{slug}-{when}",
                    f"{title}: {words}",
                    f"How many people gave each answer {words}.",
                    [
                        (str(name), n if isinstance(count(n), int) else 0, count(n))
                        for name, n in zip(labels.values(), counts, strict=False)
                    ],
                    table=slug,
                )
            )
    for group_key, group_label in GROUPS.items():
        items = []
        for name, values in fig["groups"][group_key].items():
            change = Change(**values)
            if change.enough:
                items.append((name, max(change.mean, 0), _fmt(change.mean)))
        if items:
            slug = f"life_satisfaction_by_{group_key}"
            charts.append(
                bar_chart(
                    f"{slug}-chart",
                    f"Mean change in life satisfaction by {group_label.lower()}",
                    f"Groups with {MIN_PAIRS} or more pairs; rises only are drawn, "
                    "the table has every figure.",
                    items,
                    table=slug,
                )
            )
    return charts


def build(start: date, end: date, *, suppressed: bool) -> OutcomeReport:
    """The report of the current scope. ``suppressed``: every count from 1 to 4 is "fewer
    than 5" (always, for a commissioner; for publication otherwise)."""
    return report_of(outcome_figures(start, end), start, end, suppressed=suppressed)


def report_of(fig: dict, start: date, end: date, *, suppressed: bool) -> OutcomeReport:
    count = publishable if suppressed else _identity
    return OutcomeReport(
        start,
        end,
        suppressed,
        fig["pairs"],
        _changes(fig),
        tables=tables_of(fig, count),
        charts=charts_of(fig, count),
        sentences=sentences_of(fig, count),
    )


# -- the section of the reports page, its CSV zip and its PDF ------------------------------


def _section_figures(organisation_id: int, start: date, end: date) -> dict:
    return {"outcomes": outcome_figures(start, end, [organisation_id])}


def _section_headlines(figures: dict) -> list[tuple]:
    return [(figures["outcomes"]["pairs"], "people asked at the start and at follow-up")]


#: The reports page's key figure of outcomes (the programme page hides it where needed).
LIFE_SATISFACTION_ASKED = "People asked about life satisfaction at both times"


def _section_key_figures(tables: dict) -> list[list]:
    change = tables["outcome_change"].rows[0]
    return [[LIFE_SATISFACTION_ASKED, change[1]]]


OUTCOMES_SECTION = ReportSection(
    "outcomes",
    "Outcomes: wellbeing, loneliness and independence",
    figures=_section_figures,
    tables=lambda figures, shown: tables_of(figures["outcomes"], shown.count),
    charts=lambda figures, shown: charts_of(figures["outcomes"], shown.count),
    headlines=_section_headlines,
    key_figures=_section_key_figures,
    order=60,
)


def as_csv(built: OutcomeReport, write_csv) -> str:
    """Every table of the report one after another, each with its title (one CSV file)."""
    rows: list[list] = [["Outcomes", f"{built.start.isoformat()} to {built.end.isoformat()}"]]
    for table in built.tables:
        rows += [[], [table.title], table.columns, *table.rows]
    return write_csv(rows)
