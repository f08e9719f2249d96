"""The report as tables, built once from ``report_figures`` (each report section makes its
own, ``ReportSection.tables``) and used by the page, the CSV zip and the PDF alike, so all
three always show the same numbers.

With ``publication=True`` every count from 1 to 4 is shown as "fewer than 5"
(``inclusion.disclosure.publishable``), and so is any figure worked out from so few
people or records (GB given, hours, a median wait). Staff on screen see exact figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from inclusion.disclosure import SMALL_NUMBER_THRESHOLD, SUPPRESSED, publishable

from .models import TARGET_MEASURES

MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass
class ReportTable:
    slug: str  # CSV file name and HTML id
    title: str
    columns: list[str]
    rows: list[list] = field(default_factory=list)
    note: str = ""


@dataclass
class Progress:
    measure: str
    label: str
    target: (
        int  # for the report's period: the yearly target, pro-rated when the period is not the year
    )
    actual: int | str
    percent: int | None  # None when the figure is suppressed
    bar: int  # 0..100 for the progress bar
    yearly: int = 0  # the target set for the whole financial year


@dataclass(frozen=True)
class Span:
    """A report period that is not its whole financial year: its targets are pro-rated by
    the days it covers (``days`` of the year's ``year_days``)."""

    these: str  # "these 4 months"
    days: int
    year_days: int

    def share(self, yearly: int) -> int:
        """``yearly`` pro-rated to the period, to the nearest whole number (halves up)."""
        return (2 * yearly * self.days + self.year_days) // (2 * self.year_days)


class Shown:
    """Applies the small-number rule, or not."""

    def __init__(self, publication: bool):
        self.publication = publication

    def count(self, value):
        return publishable(value) if self.publication else value

    def derived(self, value, base: int):
        """A figure worked out from ``base`` people or records (hours, GB, a median)."""
        if value is None:
            return "none"
        if self.publication and 0 < base < SMALL_NUMBER_THRESHOLD:
            return SUPPRESSED
        return value


def month_label(key: str) -> str:
    year, month = key.split("-")
    return f"{MONTH_NAMES[int(month) - 1]} {year}"


def progress_table(
    progress: list[Progress], year_label: str, span: Span | None = None, period_label: str = ""
) -> ReportTable:
    """Progress against targets as a table (page, CSV and PDF alike). For a period that is
    not the whole financial year the targets are pro-rated, and the table says so."""
    if span is None:
        return ReportTable(
            "targets",
            f"Progress against targets for {year_label}",
            ["Measure", "Target", "So far", "Per cent"],
            [
                [p.label, p.target, p.actual, "" if p.percent is None else f"{p.percent}%"]
                for p in progress
            ],
        )
    return ReportTable(
        "targets",
        f"Progress against targets, {period_label}" if period_label else "Progress against targets",
        [
            "Measure",
            f"Target for {span.these}",
            "Done",
            "Per cent",
            f"Yearly target ({year_label})",
        ],
        [
            [p.label, p.target, p.actual, "" if p.percent is None else f"{p.percent}%", p.yearly]
            for p in progress
        ],
        note=(
            f"Targets are set for a whole financial year. Each target for {span.these} is "
            f"pro-rated from the yearly target by the days the period covers ({span.days:,} "
            f"days; {year_label} has {span.year_days}): "
            + "; ".join(
                f"{p.label}, {p.target:,} for {span.these}, pro-rated from {p.yearly:,} a year"
                for p in progress
            )
            + "."
        ),
    )


def target_progress(
    targets: dict[str, int], figures: dict, publication: bool = False, span: Span | None = None
) -> list[Progress]:
    """Each target against its figure in ``figures``: the whole year's targets, or for a
    shorter (or longer) period, each pro-rated by ``span``."""
    s = Shown(publication)
    out = []
    for measure, (label, (section, key)) in TARGET_MEASURES.items():
        if measure not in targets or section not in figures:
            continue  # no target, or the feature that counts it is not installed
        yearly = targets[measure]
        target = yearly if span is None else span.share(yearly)
        actual = figures[section][key]
        shown = s.count(actual)
        percent = round(100 * actual / target) if target else 100
        hidden = isinstance(shown, str)
        out.append(
            Progress(
                measure,
                label,
                target,
                shown,
                None if hidden else percent,
                0 if hidden else min(100, percent),
                yearly,
            )
        )
    return out
