"""Portable SQL pieces the report sections are written with (the same SQLAlchemy code on
SQLite and PostgreSQL): whole days between two dates, a date as a sortable day number, a
median in SQL, a conditional sum, the timestamps of a period, and running a statement
across organisations (every report statement filters on its organisation explicitly)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import case, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement
from sqlalchemy.types import Integer

from inclusion.extensions import db
from inclusion.tenancy import unscoped


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


def median(values_subquery, column: str):
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


def sum_if(condition, value=1):
    return func.coalesce(func.sum(case((condition, value), else_=0)), 0)


def bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """Timestamps from the start of ``start`` to (excluding) the day after ``end``."""
    return datetime.combine(start, time.min), datetime.combine(end + timedelta(days=1), time.min)


def run(stmt):
    """Execute a report statement; it filters on its organisation itself."""
    with unscoped():
        return db.session.execute(stmt)
