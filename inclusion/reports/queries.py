"""Every figure of the reports page, computed by SQL aggregation in the database.

``report_figures(organisation_id, start, end)`` is the one entry point (the page, the
downloads, the benchmark and the erasure test all call it). The core counts referrals and
how far residents have got; each feature package adds its figure groups through the report
sections it registers (``registry(app).add_report_section``: ``devices/loans/report.py``,
``buddies/practice/report.py``). Every section runs a fixed number of statements whatever
the size of the data (GROUP BY, COUNT, SUM, window functions and subqueries; never a Python
loop over records), with the same SQLAlchemy code on SQLite and PostgreSQL
(``inclusion/reports/sql.py``). It needs no request: the organisation is passed in and every
statement filters on it explicitly (run ``unscoped()``, so the tenancy hook adds nothing).

Periods are inclusive: ``start`` and ``end`` are dates, and a timestamp on ``end``
counts. What the core's figures mean:

- referrals: residents whose referral date is in the period, by source and by month;
- funnel: of those residents, how many have reached each stage so far (history or
  current status); "closed" counts those closed at any point.

The erasure of a resident keeps every column read here and by the sections (reference,
dates, source, status history, loans, bundles, sessions, checkpoints), so counts do not
change.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import and_, case, extract, func, select, union_all

from inclusion.registry import registry
from inclusion.residents.models import SOURCES, STATUSES, Resident, StatusChange

from .sql import run

FUNNEL = ("referred", "contacted", "assessed", "supported")  # in order; "closed" apart


# ---- the figures ---------------------------------------------------------------------


def report_figures(organisation_id: int, start: date, end: date) -> dict:
    """All figures of one organisation for ``start``..``end`` (inclusive), as plain values."""
    if end < start:
        raise ValueError("end is before start")
    figures = {"period": {"start": start.isoformat(), "end": end.isoformat()}}
    for section in registry().report_sections:
        figures.update(section.figures(organisation_id, start, end))
    return figures


def referral_figures(organisation_id: int, start: date, end: date) -> dict:
    return {
        "referrals": _referrals(organisation_id, start, end),
        "funnel": _funnel(organisation_id, start, end),
    }


def _months(start: date, end: date) -> list[tuple[int, int]]:
    months, y, m = [], start.year, start.month
    while (y, m) <= (end.year, end.month):
        months.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return months


def _referrals(org: int, start: date, end: date) -> dict:
    year = extract("year", Resident.referral_date)
    month = extract("month", Resident.referral_date)
    rows = run(
        select(Resident.referral_source, year, month, func.count())
        .where(Resident.organisation_id == org, Resident.referral_date.between(start, end))
        .group_by(Resident.referral_source, year, month)
    ).all()
    by_source = dict.fromkeys(SOURCES, 0)
    by_month = {f"{y:04d}-{m:02d}": 0 for y, m in _months(start, end)}
    for source, y, m, n in rows:  # one row per group, never per record
        by_source[source] = by_source.get(source, 0) + n
        key = f"{int(y):04d}-{int(m):02d}"
        by_month[key] = by_month.get(key, 0) + n
    return {
        "total": sum(by_source.values()),
        "by_source": [
            {"source": k, "label": SOURCES.get(k, k), "count": v} for k, v in by_source.items()
        ],
        "by_month": [{"month": k, "count": v} for k, v in by_month.items()],
    }


def _stage(status_column):
    whens = [(status_column == s, i) for i, s in enumerate(FUNNEL)]
    return case(*whens, else_=0)


def _funnel(org: int, start: date, end: date) -> dict:
    referred = and_(Resident.organisation_id == org, Resident.referral_date.between(start, end))
    statuses = union_all(
        select(StatusChange.resident_id.label("rid"), StatusChange.to_status.label("status"))
        .join(Resident, Resident.id == StatusChange.resident_id)
        .where(referred),
        select(Resident.id.label("rid"), Resident.status.label("status")).where(referred),
    ).subquery()
    per_resident = (
        select(
            statuses.c.rid,
            func.max(_stage(statuses.c.status)).label("stage"),
            func.max(case((statuses.c.status == "closed", 1), else_=0)).label("closed"),
        )
        .group_by(statuses.c.rid)
        .subquery()
    )
    columns = (
        [func.count().label("referred")]
        + [
            func.coalesce(func.sum(case((per_resident.c.stage >= i, 1), else_=0)), 0).label(s)
            for i, s in enumerate(FUNNEL)
            if i
        ]
        + [func.coalesce(func.sum(per_resident.c.closed), 0).label("closed")]
    )
    row = run(select(*columns).select_from(per_resident)).one()._mapping
    return [{"status": s, "count": int(row[s])} for s in STATUSES]
