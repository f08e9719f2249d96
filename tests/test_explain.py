"""Every query the main pages make finds its rows of the large tables through an index.

PostgreSQL only. On test-sized data the planner rightly prefers reading a small table
whole, so each page's SELECT statements are captured and explained again with
``enable_seqscan = off``: the planner then still reads a table sequentially only when no
index can serve the query at all (a missing index, a predicate no index matches). A
``Seq Scan`` of one of the large tables fails, naming the page, the table and the query.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import event

from inclusion.clock import today
from inclusion.extensions import db
from inclusion.reports.periods import financial_year_of
from tests.factories import (
    BuddyProfileFactory,
    CheckpointFactory,
    DataBundleFactory,
    LoanFactory,
    MatchFactory,
    PracticeSessionFactory,
    ResidentFactory,
    WaitingListEntryFactory,
)
from tests.test_impact import _seed

# Tables that grow with an organisation's work (thousands to millions of rows).
LARGE = {
    "resident",
    "resident_status_change",
    "device",
    "device_status_change",
    "wipe",
    "donation",
    "donation_item",
    "loan",
    "loan_extension",
    "data_bundle",
    "reminder_call",
    "waiting_list_entry",
    "buddy_match",
    "practice_session",
    "skill_checkpoint",
    "audit_event",
}


def _seq_scans(plan) -> list[str]:
    found = []
    if plan.get("Node Type") == "Seq Scan" and plan.get("Relation Name") in LARGE:
        found.append(plan["Relation Name"])
    for child in plan.get("Plans", ()):
        found += _seq_scans(child)
    return found


@pytest.fixture
def world(app, org, buddy_user, donor_user):
    profile = BuddyProfileFactory(organisation=org, user=buddy_user)
    match = MatchFactory(organisation=org, buddy=profile)
    for days in (20, 10):
        held = PracticeSessionFactory(match=match, held_on=today() - timedelta(days=days))
        CheckpointFactory(session=held)
    loan = LoanFactory(organisation=org, resident=match.resident, due_on=today() + timedelta(2))
    DataBundleFactory(organisation=org)
    WaitingListEntryFactory(organisation=org)
    ResidentFactory(organisation=org, last_name="Searchable")
    _seed(org, donor_user)
    db.session.commit()
    return {"resident": match.resident.reference, "device": loan.device.asset_tag}


def _pages(world):
    year = financial_year_of(today()) - 1
    resident, device = world["resident"], world["device"]
    return [
        ("coordinator", "/dashboard"),
        ("coordinator", "/residents"),
        ("coordinator", "/residents?page=2"),
        ("coordinator", "/residents?q=searchable"),
        ("coordinator", "/devices"),
        ("coordinator", "/loans"),
        ("coordinator", "/waiting-list"),
        ("coordinator", "/reminders"),
        ("coordinator", f"/residents/{resident}"),
        ("coordinator", f"/devices/{device}"),
        ("coordinator", f"/reports/?period=year&year={year}"),
        ("coordinator", f"/practice/residents/{resident}"),
        ("buddy", "/practice/residents"),
        ("buddy", f"/practice/residents/{resident}/sessions/new"),
        ("donor", "/impact"),
    ]


@pytest.mark.postgresql_only  # SQLite's planner has no EXPLAIN of this kind
def test_the_main_pages_read_large_tables_through_indexes(app, world, coordinator, buddy, donor):
    clients = {"coordinator": coordinator, "buddy": buddy, "donor": donor}
    connection = db.engines[None]  # the test transaction's connection
    problems = []
    for role, path in _pages(world):
        seen = []

        def capture(conn, cursor, statement, parameters, context, executemany, seen=seen):
            if statement.lstrip().upper().startswith(("SELECT", "WITH")):
                seen.append((statement, parameters))

        event.listen(connection, "before_cursor_execute", capture)
        try:
            assert clients[role].get(path).status_code == 200, path
        finally:
            event.remove(connection, "before_cursor_execute", capture)
        assert seen, path
        connection.exec_driver_sql("SET enable_seqscan = off")
        try:
            for statement, parameters in seen:
                rows = connection.exec_driver_sql(
                    "EXPLAIN (FORMAT JSON) " + statement, parameters
                ).scalar()
                plan = (rows if isinstance(rows, list) else json.loads(rows))[0]["Plan"]
                for table in _seq_scans(plan):
                    problems.append(f"{path}: reads {table} whole: {statement[:300]}")
        finally:
            connection.exec_driver_sql("SET enable_seqscan = on")
    assert not problems, "\n".join(problems)
