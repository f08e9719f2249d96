"""Every figure of the reports page, computed by SQL aggregation in the database.

``report_figures(organisation_id, start, end)`` is the one entry point (the page, the
downloads, the benchmark and the erasure test all call it). It runs a fixed number of
statements whatever the size of the data (GROUP BY, COUNT, SUM, window functions and
subqueries; never a Python loop over records), with the same SQLAlchemy code on SQLite
and PostgreSQL. It needs no request: the organisation is passed in and every statement
filters on it explicitly (with ``all_organisations`` so the tenancy hook adds nothing).

Periods are inclusive: ``start`` and ``end`` are dates, and a timestamp on ``end``
counts. What each figure means:

- referrals: residents whose referral date is in the period, by source and by month;
- funnel: of those residents, how many have reached each stage so far (history or
  current status); "closed" counts those closed at any point;
- devices: registered in the period (received), loans started (lent), loans ended by
  a return (returned), loans ended as lost or not returned (lost), gifted, on loan at
  the end of the period;
- data: bundles issued in the period, the GB they carry, residents given data;
- buddies and practice: buddies with a match active at any time in the period, matches
  started and active, sessions held, hours, residents who practised;
- skills: for each resident and task checked in the period, the level before it (the
  latest checkpoint before the period, else the first in it) against the highest level
  reached in it. Residents who moved up at least one level in any task (and per skill
  area); residents who reached level 3 "can do it alone" in a task they were below 3 in;
- waiting list (devices): entries waiting at the end of the period, joined and lent in
  it, the median wait of those lent a device in the period, and the median time so far
  of those still waiting at its end.

The erasure of a resident keeps every column read here (reference, dates, source,
status history, loans, bundles, sessions, checkpoints), so counts do not change.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import Date, and_, case, extract, func, literal, or_, select, true, union_all
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement
from sqlalchemy.types import Integer

from buddies.models import Match
from buddies.practice.models import AREAS, CAN_DO_ALONE, Checkpoint, PracticeSession, SkillTask
from devices.loans.models import DataBundle, Loan, WaitingListEntry
from devices.models import Device
from inclusion.clock import today
from inclusion.extensions import db
from inclusion.residents.models import SOURCES, STATUSES, Resident, StatusChange

FUNNEL = ("referred", "contacted", "assessed", "supported")  # in order; "closed" apart
ALL_ORGS = {"all_organisations": True}


# ---- portable SQL pieces -------------------------------------------------------------


class days_between(FunctionElement):  # noqa: N801 - reads like the SQL function it is
    """Whole days from ``earlier`` to ``later`` (dates or timestamps, day part only)."""

    type = Integer()
    inherit_cache = True


@compiles(days_between, "sqlite")
def _days_between_sqlite(element, compiler, **kw):
    later, earlier = list(element.clauses)
    return (
        f"CAST(julianday(date({compiler.process(later, **kw)})) - "
        f"julianday(date({compiler.process(earlier, **kw)})) AS INTEGER)"
    )


@compiles(days_between)
def _days_between_default(element, compiler, **kw):
    later, earlier = list(element.clauses)
    return (
        f"(CAST({compiler.process(later, **kw)} AS DATE) - "
        f"CAST({compiler.process(earlier, **kw)} AS DATE))"
    )


class day_number(FunctionElement):  # noqa: N801
    """Days since 1 January 1970 of a date, as a number that sorts like the date."""

    type = Integer()
    inherit_cache = True


@compiles(day_number, "sqlite")
def _day_number_sqlite(element, compiler, **kw):
    (value,) = list(element.clauses)
    return f"(julianday({compiler.process(value, **kw)}) - 2440587.5)"


@compiles(day_number)
def _day_number_default(element, compiler, **kw):
    (value,) = list(element.clauses)
    return f"(CAST({compiler.process(value, **kw)} AS DATE) - DATE '1970-01-01')"


def _median(values_subquery, column: str):
    """The median of one column of a subquery, by the middle row(s) in SQL order."""
    value = values_subquery.c[column]
    ranked = select(
        value.label("v"),
        func.row_number().over(order_by=value).label("rn"),
        func.count().over().label("n"),
    ).subquery()
    return (
        select(func.avg(ranked.c.v))
        .where(or_(ranked.c.rn == (ranked.c.n + 1) // 2, ranked.c.rn == (ranked.c.n + 2) // 2))
        .scalar_subquery()
    )


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """Timestamps from the start of ``start`` to (excluding) the day after ``end``."""
    return datetime.combine(start, time.min), datetime.combine(end + timedelta(days=1), time.min)


def _run(stmt):
    return db.session.execute(stmt, execution_options=ALL_ORGS)


# ---- the figures ---------------------------------------------------------------------


def report_figures(organisation_id: int, start: date, end: date) -> dict:
    """All figures of one organisation for ``start``..``end`` (inclusive), as plain values."""
    if end < start:
        raise ValueError("end is before start")
    figures = {"period": {"start": start.isoformat(), "end": end.isoformat()}}
    figures["referrals"] = _referrals(organisation_id, start, end)
    figures["funnel"] = _funnel(organisation_id, start, end)
    figures.update(_activity(organisation_id, start, end))
    figures["skills"] = _skills(organisation_id, start, end)
    return figures


def _months(start: date, end: date) -> list[tuple[int, int]]:
    months, y, m = [], start.year, start.month
    while (y, m) <= (end.year, end.month):
        months.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return months


def _referrals(org: int, start: date, end: date) -> dict:
    year = extract("year", Resident.referral_date)
    month = extract("month", Resident.referral_date)
    rows = _run(
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
    row = _run(select(*columns).select_from(per_resident)).one()._mapping
    return [{"status": s, "count": int(row[s])} for s in STATUSES]


def _sum_if(condition, value=1):
    return func.coalesce(func.sum(case((condition, value), else_=0)), 0)


def _activity(org: int, start: date, end: date) -> dict:
    """Devices, data, buddies, practice and the waiting list in one statement: one
    single-row aggregate per table (each table read once, through the report indexes),
    joined together."""
    t0, t1 = _bounds(start, end)
    in_period = lambda column: and_(column >= t0, column < t1)  # noqa: E731

    devices = (
        select(func.count().label("received"))
        .where(Device.organisation_id == org, in_period(Device.created_at))
        .subquery()
    )
    loans = (
        select(
            _sum_if(in_period(Loan.lent_at)).label("lent"),
            _sum_if(and_(in_period(Loan.ended_at), Loan.end_kind == "returned")).label("returned"),
            _sum_if(
                and_(in_period(Loan.ended_at), Loan.end_kind.in_(("lost", "not_returned")))
            ).label("lost"),
            _sum_if(and_(in_period(Loan.ended_at), Loan.end_kind == "gifted")).label("gifted"),
            _sum_if(or_(Loan.ended_at.is_(None), Loan.ended_at >= t1)).label("on_loan_at_end"),
            func.count(func.distinct(case((in_period(Loan.lent_at), Loan.resident_id)))).label(
                "residents_lent"
            ),
        )
        .where(Loan.organisation_id == org, Loan.lent_at < t1)
        .subquery()
    )
    bundles = (
        select(
            func.count().label("bundles_issued"),
            func.coalesce(func.sum(DataBundle.allowance_gb), 0).label("gb_given"),
            func.count(func.distinct(DataBundle.resident_id)).label("residents_given_data"),
        )
        .where(DataBundle.organisation_id == org, in_period(DataBundle.issued_at))
        .subquery()
    )
    matches = (
        select(
            func.count(func.distinct(Match.buddy_id)).label("active_buddies"),
            _sum_if(Match.started_at >= t0).label("matches_started"),
            func.count().label("matches_active"),
        )
        .where(
            Match.organisation_id == org,
            Match.started_at.is_not(None),
            Match.started_at < t1,
            or_(Match.ended_at.is_(None), Match.ended_at >= t0),
        )
        .subquery()
    )
    sessions = (
        select(
            func.count().label("sessions"),
            func.coalesce(func.sum(PracticeSession.minutes), 0).label("minutes"),
            func.count(func.distinct(PracticeSession.resident_id)).label("residents_practised"),
        )
        .where(PracticeSession.organisation_id == org, PracticeSession.held_on.between(start, end))
        .subquery()
    )

    # Waiting list (devices). Days waited so far are counted to the end of the period,
    # or to today if that is sooner.
    as_of = literal(min(end, today()), Date)
    waiting_at_end = and_(
        WaitingListEntry.joined_on <= end,
        or_(WaitingListEntry.status == "waiting", WaitingListEntry.status_changed_at >= t1),
    )
    lent_from_list = and_(
        WaitingListEntry.status == "lent", in_period(WaitingListEntry.status_changed_at)
    )
    of_org = WaitingListEntry.organisation_id == org
    waits = (
        select(
            days_between(WaitingListEntry.status_changed_at, WaitingListEntry.joined_on).label(
                "days"
            )
        )
        .where(of_org, lent_from_list)
        .subquery()
    )
    still_waiting = (
        select(days_between(as_of, WaitingListEntry.joined_on).label("days"))
        .where(of_org, waiting_at_end)
        .subquery()
    )
    waiting = (
        select(
            _sum_if(waiting_at_end).label("waiting_at_end"),
            _sum_if(WaitingListEntry.joined_on.between(start, end)).label("waiting_joined"),
            _sum_if(lent_from_list).label("waiting_lent"),
            _median(waits, "days").label("median_wait_days"),
            _median(still_waiting, "days").label("median_waiting_days"),
        )
        .where(of_org)
        .subquery()
    )

    parts = {
        "devices": devices,
        "loans": loans,
        "bundles": bundles,
        "matches": matches,
        "sessions": sessions,
        "waiting": waiting,
    }
    joined = devices
    for part in (loans, bundles, matches, sessions, waiting):
        joined = joined.join(part, true())  # single rows side by side
    row = (
        _run(select(*(c for part in parts.values() for c in part.c)).select_from(joined))
        .one()
        ._mapping
    )

    def n(key) -> int:
        return int(row[key] or 0)

    def median(key) -> float | None:
        return None if row[key] is None else round(float(row[key]), 1)

    return {
        "devices": {
            "received": n("received"),
            "lent": n("lent"),
            "returned": n("returned"),
            "lost": n("lost"),
            "gifted": n("gifted"),
            "on_loan_at_end": n("on_loan_at_end"),
            "residents_lent": n("residents_lent"),
        },
        "data": {
            "bundles_issued": n("bundles_issued"),
            "gb_given": round(float(row["gb_given"] or 0), 2),
            "residents_given_data": n("residents_given_data"),
        },
        "practice": {
            "active_buddies": n("active_buddies"),
            "matches_started": n("matches_started"),
            "matches_active": n("matches_active"),
            "sessions": n("sessions"),
            "hours": round(n("minutes") / 60, 1),
            "residents_practised": n("residents_practised"),
        },
        "waiting": {
            "waiting_at_end": n("waiting_at_end"),
            "joined": n("waiting_joined"),
            "lent": n("waiting_lent"),
            "median_wait_days": median("median_wait_days"),
            "median_waiting_days": median("median_waiting_days"),
        },
    }


def _skills(org: int, start: date, end: date) -> dict:
    """Skill gains in one statement: one grouped pass over the checkpoints up to ``end``
    (in the order of the covering index ``ix_report_checkpoint_progress``), then aggregates.

    Ordering "which checkpoint came last" needs no window: each checkpoint gets a key,
    its day number × 10 + its level, so MAX/MIN of the key is the latest/first checkpoint
    and ``key % 10`` its level (on the same day the higher level counts as later).
    """
    key = day_number(Checkpoint.recorded_on) * 10 + Checkpoint.level
    in_period = Checkpoint.recorded_on >= start
    # Per resident and task: the level before the period (the latest checkpoint before
    # it, else the first in it) and the highest level reached in it.
    pairs = (
        select(
            Checkpoint.resident_id.label("rid"),
            Checkpoint.task_id.label("tid"),
            func.coalesce(
                func.max(case((Checkpoint.recorded_on < start, key))),
                func.min(case((in_period, key))),
            ).label("before_key"),
            func.max(case((in_period, Checkpoint.level))).label("top"),
        )
        .where(Checkpoint.organisation_id == org, Checkpoint.recorded_on <= end)
        .group_by(Checkpoint.resident_id, Checkpoint.task_id)
        .subquery()
    )
    before = pairs.c.before_key % 10
    up = pairs.c.top > before
    per_resident = (
        select(
            pairs.c.rid,
            func.max(case((up, 1), else_=0)).label("up"),
            func.max(
                case((and_(before < CAN_DO_ALONE, pairs.c.top >= CAN_DO_ALONE), 1), else_=0)
            ).label("alone"),
            *(
                func.max(case((and_(up, SkillTask.area == area), 1), else_=0)).label(f"up_{area}")
                for area in AREAS
            ),
        )
        .join(SkillTask, SkillTask.id == pairs.c.tid)
        .where(pairs.c.top.is_not(None))  # checked at least once in the period
        .group_by(pairs.c.rid)
        .subquery()
    )
    row = (
        _run(
            select(
                func.count().label("checked"),
                func.coalesce(func.sum(per_resident.c.up), 0).label("up"),
                func.coalesce(func.sum(per_resident.c.alone), 0).label("alone"),
                *(func.coalesce(func.sum(per_resident.c[f"up_{a}"]), 0).label(a) for a in AREAS),
            ).select_from(per_resident)
        )
        .one()
        ._mapping
    )
    return {
        "residents_checked": int(row["checked"]),
        "residents_moved_up": int(row["up"]),
        "residents_reached_can_do_alone": int(row["alone"]),
        "moved_up_by_area": [
            {"area": a, "label": label, "count": int(row[a])} for a, label in AREAS.items()
        ],
    }
