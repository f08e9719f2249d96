"""Benchmark data: `flask inclusion bench-data` writes a consistent organisation, on every
database, and the reports benchmark script runs end to end."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from buddies.models import BuddyProfile, Match
from buddies.practice.models import Checkpoint, PracticeSession
from devices.loans.models import DataBundle, Loan, WaitingListEntry
from devices.models import Device
from inclusion.accounts.models import Organisation
from inclusion.audit import AuditEvent
from inclusion.benchdata import BENCH_CODE, counts_for
from inclusion.residents.models import Resident

SCALE = 0.002
ROOT = Path(__file__).resolve().parent.parent


def _count(db, model, org_id) -> int:
    return db.session.scalar(
        select(func.count()).select_from(model).where(model.organisation_id == org_id)
    )


def _scalar(db, sql: str, org_id: int):
    return db.session.execute(text(sql), {"org": org_id}).scalar()


def _bench(app, *args):
    return app.test_cli_runner().invoke(
        args=["inclusion", "bench-data", "--scale", str(SCALE), *args]
    )


def test_bench_data_writes_the_counts_asked_for_and_keeps_every_rule(app, db):
    audit_before = db.session.scalar(select(func.count()).select_from(AuditEvent))

    result = _bench(app)

    assert result.exit_code == 0, result.output
    org_id = db.session.scalar(select(Organisation.id).where(Organisation.code == BENCH_CODE))
    want = counts_for(SCALE)
    assert _count(db, Resident, org_id) == want["residents"]
    assert _count(db, Device, org_id) == want["devices"]
    assert _count(db, BuddyProfile, org_id) == want["buddies"]
    assert _count(db, PracticeSession, org_id) == want["sessions"]
    checkpoints = _count(db, Checkpoint, org_id)
    assert abs(checkpoints - want["checkpoints"]) <= 0.1 * want["checkpoints"]
    assert _count(db, Loan, org_id) > 0
    assert _count(db, Match, org_id) > 0
    assert _count(db, WaitingListEntry, org_id) > 0
    assert _count(db, DataBundle, org_id) > 0
    assert f"{want['residents']}" in result.output  # the summary printed per table
    # Generated, not a user's change: no audit events.
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == audit_before

    # The rules the schema and the flows keep.
    assert (
        _scalar(
            db,
            "SELECT count(*) FROM (SELECT device_id FROM loan WHERE organisation_id = :org "
            "AND ended_at IS NULL GROUP BY device_id HAVING count(*) > 1) t",
            org_id,
        )
        == 0
    )
    assert (
        _scalar(
            db,
            "SELECT count(*) FROM skill_checkpoint WHERE organisation_id = :org "
            "AND (level < 0 OR level > 4)",
            org_id,
        )
        == 0
    )
    # A device is on loan exactly when it has an open loan.
    assert (
        _scalar(
            db,
            "SELECT count(*) FROM device d WHERE d.organisation_id = :org AND "
            "(d.status = 'on_loan') <> EXISTS (SELECT 1 FROM loan l WHERE l.device_id = d.id "
            "AND l.ended_at IS NULL)",
            org_id,
        )
        == 0
    )
    assert (
        _scalar(
            db,
            "SELECT count(*) FROM device WHERE organisation_id = :org AND status = 'ready' "
            "AND NOT wiped",
            org_id,
        )
        == 0
    )
    # Lent after joining the waiting list; a resident holding a device is not closed.
    assert (
        _scalar(
            db,
            "SELECT count(*) FROM waiting_list_entry w JOIN loan l ON l.id = w.loan_id "
            "WHERE w.organisation_id = :org AND l.lent_at < w.joined_on",
            org_id,
        )
        == 0
    )
    assert (
        _scalar(
            db,
            "SELECT count(*) FROM loan l JOIN resident r ON r.id = l.resident_id "
            "WHERE l.organisation_id = :org AND l.ended_at IS NULL AND r.status = 'closed'",
            org_id,
        )
        == 0
    )
    # Sessions within their resident's match, by the match's buddy.
    matches = {
        m.resident_id: m
        for m in db.session.scalars(select(Match).where(Match.organisation_id == org_id))
    }
    for session in db.session.scalars(
        select(PracticeSession).where(PracticeSession.organisation_id == org_id)
    ):
        match = matches[session.resident_id]
        assert match.buddy_id == session.buddy_id
        assert match.started_at.date() <= session.held_on
        assert match.ended_at is None or session.held_on <= match.ended_at.date()
    # Every closed resident has an outcome and a closing step in their history.
    assert (
        _scalar(
            db,
            "SELECT count(*) FROM resident r WHERE r.organisation_id = :org AND r.status = "
            "'closed' AND NOT EXISTS (SELECT 1 FROM resident_status_change c WHERE "
            "c.resident_id = r.id AND c.to_status = 'closed')",
            org_id,
        )
        == 0
    )
    assert (
        _scalar(
            db,
            "SELECT count(*) FROM data_bundle WHERE organisation_id = :org AND "
            "status = 'issued' AND expires_on < CURRENT_DATE",
            org_id,
        )
        == 0
    )


def test_bench_data_refuses_to_run_twice_and_replaces_on_request(app, db):
    assert _bench(app).exit_code == 0
    org_id = db.session.scalar(select(Organisation.id).where(Organisation.code == BENCH_CODE))
    residents = _count(db, Resident, org_id)
    sessions = _count(db, PracticeSession, org_id)
    everyone = db.session.scalar(select(func.count()).select_from(Resident))

    again = _bench(app)

    assert again.exit_code != 0
    assert "already exists" in again.output and "--replace" in again.output
    assert _count(db, Resident, org_id) == residents

    replaced = _bench(app, "--replace")

    assert replaced.exit_code == 0, replaced.output
    new_id = db.session.scalar(select(Organisation.id).where(Organisation.code == BENCH_CODE))
    assert (
        db.session.scalar(select(func.count()).select_from(Resident)) == everyone
    )  # old rows gone
    assert _count(db, Resident, new_id) == residents  # the same seed, the same data
    assert _count(db, PracticeSession, new_id) == sessions


def test_bench_data_refuses_a_scale_out_of_range(app, db):
    result = app.test_cli_runner().invoke(args=["inclusion", "bench-data", "--scale", "0"])

    assert result.exit_code != 0
    assert "scale" in result.output.lower()
    assert (
        db.session.scalar(
            select(func.count()).select_from(Organisation).where(Organisation.code == BENCH_CODE)
        )
        == 0
    )


def test_reports_benchmark_runs_at_a_tiny_scale(app):
    pytest.importorskip("inclusion.reports.queries", reason="the reports queries are not there yet")
    from inclusion.reports import queries

    if not hasattr(queries, "report_figures"):
        pytest.skip("report_figures is not there yet")
    args = [sys.executable, "benchmarks/reports.py", "--scale", "0.001", "--no-targets"]
    if app.backend == "postgresql":
        args += ["--database-url", os.environ["INCLUSION_TEST_DATABASE_URL"]]
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=120)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "report_figures" in done.stdout and "generate" in done.stdout


def test_each_package_plans_its_own_part_of_the_bench_data(make_database):
    """The benchmark loaders come from the installed packages: without the buddies, the
    organisation has residents, devices and loans but no buddies or sessions."""
    import flask_migrate

    from inclusion import create_app
    from inclusion.extensions import db as database
    from inclusion.registry import registry

    app = create_app(
        {
            "ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": make_database("sqlite"),
            "FEATURES": ("devices",),
        }
    )
    with app.app_context():
        flask_migrate.upgrade(revision="heads")
        assert [loader.label for loader in registry(app).bench_loaders] == [
            "devices: donations and devices",
            "loans: the lending desk",
            "devices: write",
            "loans: write",
        ]
        assert set(counts_for(SCALE)) == {
            "residents",
            "devices",
            "donations",
            "donors",
            "bundles_in_stock",
        }
        result = app.test_cli_runner().invoke(
            args=["inclusion", "bench-data", "--scale", str(SCALE)]
        )
        assert result.exit_code == 0, result.output
        org_id = database.session.scalar(
            select(Organisation.id).where(Organisation.code == BENCH_CODE)
        )
        assert _count(database, Resident, org_id) == counts_for(SCALE)["residents"]
        assert _count(database, Loan, org_id) > 0
        assert _count(database, BuddyProfile, org_id) == 0
        assert _count(database, PracticeSession, org_id) == 0
        database.engine.dispose()


def test_bench_data_generates_a_region_of_organisations(app, db):
    result = _bench(app, "--organisations", "3")

    assert result.exit_code == 0, result.output
    orgs = db.session.scalars(
        select(Organisation)
        .where(Organisation.code.in_((BENCH_CODE, f"{BENCH_CODE}02", f"{BENCH_CODE}03")))
        .order_by(Organisation.id)
    ).all()
    assert [o.code for o in orgs] == [BENCH_CODE, f"{BENCH_CODE}02", f"{BENCH_CODE}03"]
    want = counts_for(SCALE)
    for org in orgs:  # each at the scale asked for, each keeping the rules
        assert _count(db, Resident, org.id) == want["residents"]
        assert _count(db, Device, org.id) == want["devices"]
        assert _count(db, PracticeSession, org.id) == want["sessions"]
        assert (
            _scalar(
                db,
                "SELECT count(*) FROM loan l JOIN device d ON d.id = l.device_id "
                "WHERE l.organisation_id = :org AND d.organisation_id <> :org",
                org.id,
            )
            == 0
        )
    assert f"{BENCH_CODE}…{BENCH_CODE}03" in result.output
    # Asked again: refused.
    again = _bench(app, "--organisations", "2")
    assert again.exit_code != 0 and "already exists" in again.output


FOREIGN_KEYS = (
    "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
    "FROM pg_constraint WHERE contype = 'f' ORDER BY 1, 2"
)


@pytest.mark.postgresql_only  # SQLite checks no foreign key while it writes
def test_bench_data_puts_back_every_foreign_key_it_lifts(app, db):
    before = db.session.execute(text(FOREIGN_KEYS)).all()
    assert len(before) > 50

    result = _bench(app)

    assert result.exit_code == 0, result.output
    assert db.session.execute(text(FOREIGN_KEYS)).all() == before
    org_id = db.session.scalar(select(Organisation.id).where(Organisation.code == BENCH_CODE))
    assert _count(db, Checkpoint, org_id) > 0


@pytest.mark.postgresql_only
def test_bench_data_refuses_a_generated_row_that_names_no_parent(app, db):
    """The foreign keys are checked when they are put back: a loader's row naming a resident
    that does not exist fails the whole generation, which writes nothing."""
    from inclusion.registry import registry

    def orphan(bench):
        bench.add(
            "skill_checkpoint",
            {
                "id": 2_000_000_000,
                "resident_id": 2_000_000_000,  # no such resident, task or session
                "task_id": 2_000_000_000,
                "session_id": 2_000_000_000,
                "level": 2,
                "recorded_on": bench.today,
                "recorded_at": bench.today,
                "recorded_by_id": None,
            },
        )

    before = db.session.execute(text(FOREIGN_KEYS)).all()
    loaders = registry(app).bench_loaders
    registry(app).add_bench_loader("test: a row naming no parent", orphan, order=999)
    try:
        result = _bench(app)
    finally:
        loaders[:] = [loader for loader in loaders if loader.load is not orphan]

    assert result.exit_code != 0
    assert "names no parent" in result.output
    assert db.session.scalar(select(Organisation.id).where(Organisation.code == BENCH_CODE)) is None
    assert db.session.execute(text(FOREIGN_KEYS)).all() == before
