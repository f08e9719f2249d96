"""The rules of reports: setting yearly targets (audited, one transaction), and putting
a report together from the figures for the page and the downloads."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from inclusion import audit
from inclusion.clock import today
from inclusion.errors import RuleBroken
from inclusion.extensions import db
from inclusion.registry import registry
from inclusion.tenancy import unscoped

from .cache import figures_for
from .charts import BarChart
from .models import TARGET_MAX, TARGET_MEASURES, ReportTarget
from .periods import Period, financial_year, financial_year_label, financial_year_of
from .tables import Progress, ReportTable, Shown, Span, progress_table, target_progress


def targets_for(organisation_id: int, year: int) -> dict[str, int]:
    """measure -> target of one organisation for one financial year."""
    with unscoped():  # no request needed: the organisation is given
        rows = db.session.execute(
            select(ReportTarget.measure, ReportTarget.value).where(
                ReportTarget.organisation_id == organisation_id, ReportTarget.year == year
            )
        ).all()
    return dict(rows)


def set_targets(
    organisation_id: int, year: int, values: dict[str, int | None], *, by
) -> list[ReportTarget]:
    """Set the targets of one financial year, all or nothing.

    A measure given a number gets that target; a measure left empty has none (an
    existing target is removed). Every new, changed or removed target is audited.
    """
    if not 2000 <= int(year) <= 2100:
        raise RuleBroken("Choose a financial year from the list.", field="year")
    unknown = set(values) - set(TARGET_MEASURES)
    if unknown:
        raise RuleBroken(f"Unknown measure: {', '.join(sorted(unknown))}.")
    for measure, value in values.items():
        if value is not None and not (isinstance(value, int) and 0 <= value <= TARGET_MAX):
            raise RuleBroken(f"Enter a number from 0 to {TARGET_MAX:,}.", field=f"target_{measure}")
    with unscoped():
        existing = {
            t.measure: t
            for t in db.session.scalars(
                select(ReportTarget).where(
                    ReportTarget.organisation_id == organisation_id, ReportTarget.year == year
                )
            )
        }
    kept = []
    for measure, value in values.items():
        target = existing.get(measure)
        if value is None:
            if target is not None:
                audit.record("report_target.removed", target, changed=["value"], actor=by)
                db.session.delete(target)
            continue
        if target is None:
            target = ReportTarget(
                organisation_id=organisation_id,
                year=year,
                measure=measure,
                value=value,
                updated_by_id=getattr(by, "id", None),
            )
            db.session.add(target)
            audit.record("report_target.set", target, changed=["value"], actor=by)
        elif target.value != value:
            target.value = value
            target.updated_by_id = getattr(by, "id", None)
            audit.record("report_target.changed", target, changed=["value"], actor=by)
        kept.append(target)
    db.session.flush()
    return kept


@dataclass
class Report:
    organisation_id: int
    period: Period
    publication: bool
    figures: dict
    tables: list[ReportTable]
    charts: list[BarChart]
    year: int
    year_label: str
    progress: list[Progress]
    year_elapsed: int  # per cent of the financial year gone by (100 for a past year)
    span: Span | None = None  # set when the period is not its whole financial year
    headlines: list[tuple] = field(default_factory=list)  # (number, words): the page's cards
    key_figures: list[list] = field(default_factory=list)  # [label, value]: the PDF's first table

    @property
    def progress_table(self) -> ReportTable:
        table = progress_table(self.progress, self.year_label, self.span, self.period.label)
        if self.span is None and self.year_elapsed < 100:
            table.note = (
                f"Targets for the whole financial year {self.year_label}, which is not over: "
                f"{self.year_elapsed}% of it had gone by on {today():%d %B %Y}."
            )
        return table

    def table(self, slug: str) -> ReportTable:
        return next(t for t in self.tables if t.slug == slug)

    @property
    def all_tables(self) -> list[ReportTable]:
        extra = [self.progress_table] if self.progress else []
        return extra + self.tables


def build_report(organisation_id: int, period: Period, *, publication: bool = False) -> Report:
    """The figures of ``period`` as tables and charts, with progress against the targets
    of the financial year the period ends in (a fixed number of queries).

    Targets are set for a whole financial year. A report of that year compares its figures
    with them as they are; a report of any other period compares its own figures with the
    targets pro-rated to its length (``Span``), and says so."""
    figures = figures_for(organisation_id, period.start, period.end)
    year = financial_year_of(period.end)
    fy = financial_year(year)
    targets = targets_for(organisation_id, year)
    whole_year = (period.start, period.end) == (fy.start, fy.end)
    span = None if whole_year else Span(period.these, period.days, fy.days)
    progress = target_progress(targets, figures, publication, span) if targets else []
    on = today()
    elapsed = (
        100
        if on > fy.end
        else 0
        if on < fy.start
        else round(100 * ((on - fy.start).days + 1) / fy.days)
    )
    shown = Shown(publication)
    tables, charts, headlines, key_figures = [], [], [], []
    for section in registry().report_sections:  # each package's part, in order
        own = section.tables(figures, shown)
        tables += own
        charts += section.charts(figures, shown)
        headlines += section.headlines(figures)
        key_figures += section.key_figures({t.slug: t for t in own})
    return Report(
        organisation_id=organisation_id,
        period=period,
        publication=publication,
        figures=figures,
        tables=tables,
        charts=charts,
        headlines=headlines,
        key_figures=key_figures,
        year=year,
        year_label=financial_year_label(year),
        progress=progress,
        year_elapsed=elapsed,
        span=span,
    )
