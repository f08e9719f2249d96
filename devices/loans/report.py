"""The devices' part of the reports (registered in ``devices.loans.init_app``): devices
received, loans started and ended, data bundles issued, and the device waiting list.

Each section's figures are one statement: single-row aggregates, one per table (each table
read once, through the report indexes on ``Loan`` and ``DataBundle``), joined together.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, and_, case, func, literal, or_, select, true

from devices.models import Device
from inclusion.clock import today
from inclusion.registry import ReportSection
from inclusion.reports.charts import bar_chart, chart_items
from inclusion.reports.sql import bounds, days_between, median, run, sum_if
from inclusion.reports.tables import ReportTable

from .models import LOST_END_KINDS, RETURNED, DataBundle, Loan, WaitingListEntry


def _single_row(*parts):
    """Single-row subqueries side by side, as one statement's mapping."""
    joined = parts[0]
    for part in parts[1:]:
        joined = joined.join(part, true())
    stmt = select(*(c for part in parts for c in part.c)).select_from(joined)
    return run(stmt).one()._mapping


def device_figures(org: int, start: date, end: date) -> dict:
    """Devices registered in the period (received), loans started (lent), loans ended by a
    return (returned), as lost or not returned (lost), gifted, on loan at the end of the
    period; bundles issued in the period, the GB they carry, residents given data."""
    t0, t1 = bounds(start, end)
    in_period = lambda column: and_(column >= t0, column < t1)  # noqa: E731

    devices = (
        select(func.count().label("received"))
        .where(Device.organisation_id == org, in_period(Device.created_at))
        .subquery()
    )
    loans = (
        select(
            sum_if(in_period(Loan.lent_at)).label("lent"),
            sum_if(and_(in_period(Loan.ended_at), Loan.end_kind == RETURNED)).label("returned"),
            sum_if(and_(in_period(Loan.ended_at), Loan.end_kind.in_(LOST_END_KINDS))).label("lost"),
            sum_if(and_(in_period(Loan.ended_at), Loan.end_kind == "gifted")).label("gifted"),
            sum_if(or_(Loan.is_open, Loan.ended_at >= t1)).label("on_loan_at_end"),
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
    row = _single_row(devices, loans, bundles)

    def n(key) -> int:
        return int(row[key] or 0)

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
    }


def device_tables(figures: dict, s) -> list[ReportTable]:
    dev, data = figures["devices"], figures["data"]
    return [
        ReportTable(
            "devices",
            "Devices",
            ["Measure", "Number"],
            [
                ["Devices received (registered)", s.count(dev["received"])],
                ["Devices lent", s.count(dev["lent"])],
                ["Devices returned", s.count(dev["returned"])],
                ["Devices lost or not returned", s.count(dev["lost"])],
                ["Devices gifted to residents", s.count(dev["gifted"])],
                ["On loan at the end of the period", s.count(dev["on_loan_at_end"])],
                ["Residents lent a device", s.count(dev["residents_lent"])],
            ],
        ),
        ReportTable(
            "data_bundles",
            "Mobile data",
            ["Measure", "Number"],
            [
                ["Data bundles issued", s.count(data["bundles_issued"])],
                ["GB of data given", s.derived(data["gb_given"], data["bundles_issued"])],
                ["Residents given data", s.count(data["residents_given_data"])],
            ],
        ),
    ]


def device_charts(figures: dict, s) -> list:
    dev = figures["devices"]
    bars = [
        {"label": "Received", "count": dev["received"]},
        {"label": "Lent", "count": dev["lent"]},
        {"label": "Returned", "count": dev["returned"]},
        {"label": "Lost or not returned", "count": dev["lost"]},
    ]
    return [
        bar_chart(
            "chart-devices",
            "Devices",
            "Bar chart of devices received, lent, returned and lost in the period.",
            chart_items(s, bars, lambda r: r["label"]),
            table="devices",
        )
    ]


def device_headlines(figures: dict) -> list[tuple]:
    data = figures["data"]
    return [
        (figures["devices"]["lent"], "devices lent"),
        (data["bundles_issued"], f"data bundles ({data['gb_given']} GB)"),
    ]


def device_key_figures(tables: dict) -> list[list]:
    return [
        ["Devices lent", tables["devices"].rows[1][1]],
        ["Data bundles issued", tables["data_bundles"].rows[0][1]],
    ]


DEVICES_SECTION = ReportSection(
    "devices",
    "Devices and data",
    figures=device_figures,
    tables=device_tables,
    charts=device_charts,
    headlines=device_headlines,
    key_figures=device_key_figures,
    order=20,
)


def waiting_list_figures(org: int, start: date, end: date) -> dict:
    """Entries waiting at the end of the period, joined and lent in it, the median wait of
    those lent a device in the period, and the median time so far of those still waiting at
    its end (counted to the end of the period, or to today if that is sooner)."""
    t0, t1 = bounds(start, end)
    as_of = literal(min(end, today()), Date)
    entry = WaitingListEntry
    waiting_at_end = and_(
        entry.joined_on <= end, or_(entry.status == "waiting", entry.status_changed_at >= t1)
    )
    lent_from_list = and_(
        entry.status == "lent", entry.status_changed_at >= t0, entry.status_changed_at < t1
    )
    of_org = entry.organisation_id == org
    waits = (
        select(days_between(entry.status_changed_at, entry.joined_on).label("days"))
        .where(of_org, lent_from_list)
        .subquery()
    )
    still_waiting = (
        select(days_between(as_of, entry.joined_on).label("days"))
        .where(of_org, waiting_at_end)
        .subquery()
    )
    row = (
        run(
            select(
                sum_if(waiting_at_end).label("waiting_at_end"),
                sum_if(entry.joined_on.between(start, end)).label("waiting_joined"),
                sum_if(lent_from_list).label("waiting_lent"),
                median(waits, "days").label("median_wait_days"),
                median(still_waiting, "days").label("median_waiting_days"),
            ).where(of_org)
        )
        .one()
        ._mapping
    )

    def days(key) -> float | None:
        return None if row[key] is None else round(float(row[key]), 1)

    return {
        "waiting": {
            "waiting_at_end": int(row["waiting_at_end"] or 0),
            "joined": int(row["waiting_joined"] or 0),
            "lent": int(row["waiting_lent"] or 0),
            "median_wait_days": days("median_wait_days"),
            "median_waiting_days": days("median_waiting_days"),
        }
    }


def waiting_list_tables(figures: dict, s) -> list[ReportTable]:
    wait = figures["waiting"]
    return [
        ReportTable(
            "waiting_list",
            "Device waiting list",
            ["Measure", "Number"],
            [
                ["Waiting at the end of the period", s.count(wait["waiting_at_end"])],
                ["Joined the list in the period", s.count(wait["joined"])],
                ["Lent a device from the list in the period", s.count(wait["lent"])],
                [
                    "Median wait of those lent a device (days)",
                    s.derived(wait["median_wait_days"], wait["lent"]),
                ],
                [
                    "Median time waiting so far of those still waiting (days)",
                    s.derived(wait["median_waiting_days"], wait["waiting_at_end"]),
                ],
            ],
        )
    ]


WAITING_LIST_SECTION = ReportSection(
    "waiting_list",
    "Device waiting list",
    figures=waiting_list_figures,
    tables=waiting_list_tables,
    headlines=lambda figures: [(figures["waiting"]["waiting_at_end"], "waiting for a device")],
    order=40,
)
