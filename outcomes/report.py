"""The outcomes report: before/after pairs, their statistics, loneliness moves, distributions
and change by group, as tables and charts built once and used by the page, the CSV and the PDF
(and, read through the tenancy scope of a programme, by the commissioner's page).

A pair is a person's baseline and their latest follow-up asked in the period. Groups
(referral source, age band, access need, language, area) come from the resident when the
link still exists; after erasure a pair counts in the totals and in "Not known".
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from inclusion.disclosure import publishable
from inclusion.extensions import db
from inclusion.reports.charts import BarChart, bar_chart
from inclusion.residents.models import ACCESS_NEEDS, SOURCES

from .measures import DIRECT_ANSWERS, OFTEN_OR_ALWAYS, OUTCOME_SCORES, scores
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
class ReportTable:
    """One table of the report (shaped as ``inclusion.reports.tables.ReportTable``, which
    this feature cannot import: the reports package stands on top of every feature)."""

    slug: str
    title: str
    columns: list[str]
    rows: list[list] = field(default_factory=list)
    note: str = ""


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


def pairs_in(start: date, end: date) -> list[Pair]:
    """Baseline and latest follow-up in [start, end] of each person (in the current tenancy
    scope: one organisation, or a programme's). Two queries whatever the number of people."""
    rows = db.session.scalars(
        select(AnswerSet)
        .options(selectinload(AnswerSet.resident))
        .order_by(AnswerSet.asked_on, AnswerSet.id)
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


def build(start: date, end: date, *, suppressed: bool) -> OutcomeReport:
    """The report of the current scope. ``suppressed``: every count from 1 to 4 is "fewer
    than 5" (always, for a commissioner; for publication otherwise)."""
    count = publishable if suppressed else (lambda n: n)
    pairs = pairs_in(start, end)
    changes = changes_of(pairs)
    report = OutcomeReport(start, end, suppressed, len(pairs), changes)

    # -- the change of each measure ---------------------------------------------------------
    rows = []
    for key, change in changes.items():
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
            report.sentences.append(f"{change.sentence} {significance_words(change)}")
        else:
            rows.append([label, count(change.pairs), "", "", "", "", "", "", ""])
            report.sentences.append(
                f"{label}: {count(change.pairs)} people asked at both times, fewer than "
                f"{MIN_PAIRS}: no statistics are shown."
            )
    report.tables.append(
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
            note=(
                "Anxiety and the UCLA loneliness score are lower when better: their change is "
                f"turned round so that better is positive. Fewer than {MIN_PAIRS} pairs: count only."
            ),
        )
    )

    # -- loneliness: out of "often or always" ------------------------------------------------
    lonely = [
        p
        for p in pairs
        if p.before.lonely_direct == OFTEN_OR_ALWAYS and p.after.lonely_direct is not None
    ]
    moved_out = sum(1 for p in lonely if p.after.lonely_direct != OFTEN_OR_ALWAYS)
    report.tables.append(
        ReportTable(
            "loneliness_often",
            "Often or always lonely at the start",
            ["Measure", "People"],
            [
                [
                    "Often or always lonely at the baseline (answered both times)",
                    count(len(lonely)),
                ],
                ["No longer often or always lonely at follow-up", count(moved_out)],
            ],
        )
    )
    if lonely:
        report.sentences.append(
            f"Of the {count(len(lonely))} people often or always lonely at the start, "
            f"{count(moved_out)} no longer were at follow-up."
        )

    # -- distributions, before and after ----------------------------------------------------
    def distribution(slug, title, key, values, labels):
        before = Counter(getattr(p.before, key) for p in pairs)
        after = Counter(getattr(p.after, key) for p in pairs)
        table_rows = [[labels[v], count(before[v]), count(after[v])] for v in values]
        table_rows.append(["Prefers not to say", count(before[None]), count(after[None])])
        report.tables.append(
            ReportTable(slug, title, ["Answer", "At the baseline", "At follow-up"], table_rows)
        )
        for when, counter in (("before", before), ("after", after)):
            report.charts.append(
                bar_chart(
                    f"{slug}-{when}",
                    f"{title}: {'at the baseline' if when == 'before' else 'at follow-up'}",
                    f"How many people gave each answer {'at the baseline' if when == 'before' else 'at follow-up'}.",
                    [
                        (
                            labels[v],
                            0 if not isinstance(count(counter[v]), int) else counter[v],
                            count(counter[v]),
                        )
                        for v in values
                    ],
                    table=slug,
                )
            )

    distribution(
        "life_satisfaction_distribution",
        "Life satisfaction (0 to 10)",
        "life_satisfaction",
        list(range(11)),
        {v: str(v) for v in range(11)},
    )
    distribution(
        "lonely_direct_distribution",
        "How often do you feel lonely?",
        "lonely_direct",
        list(DIRECT_ANSWERS),
        DIRECT_ANSWERS,
    )

    # -- change by group --------------------------------------------------------------------
    for group_key, group_label in GROUPS.items():
        members: dict[str, list[Pair]] = defaultdict(list)
        for pair in pairs:
            for name in pair.groups[group_key]:
                members[name].append(pair)
        group_rows, items = [], []
        for name in sorted(members):
            change = changes_of(members[name])["life_satisfaction"]
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
                items.append((name, max(change.mean, 0), _fmt(change.mean)))
            else:
                group_rows.append([name, count(change.pairs), "", "", ""])
        slug = f"life_satisfaction_by_{group_key}"
        report.tables.append(
            ReportTable(
                slug,
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
        if items:
            report.charts.append(
                bar_chart(
                    f"{slug}-chart",
                    f"Mean change in life satisfaction by {group_label.lower()}",
                    f"Groups with {MIN_PAIRS} or more pairs; rises only are drawn, the table has every figure.",
                    items,
                    table=slug,
                )
            )
    return report


def as_csv(built: OutcomeReport, write_csv) -> str:
    """Every table of the report one after another, each with its title (one CSV file)."""
    rows: list[list] = [["Outcomes", f"{built.start.isoformat()} to {built.end.isoformat()}"]]
    for table in built.tables:
        rows += [[], [table.title], table.columns, *table.rows]
    return write_csv(rows)
