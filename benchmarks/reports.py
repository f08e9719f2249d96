"""Reports: time the reports page's figures for a financial year on a large organisation.

Creates a fresh database (a SQLite file in a temporary folder, or a throwaway PostgreSQL
database on the server of ``--database-url`` / ``INCLUSION_BENCH_DATABASE_URL``), upgrades
it to the latest migration, generates the benchmark organisation with
``flask inclusion bench-data --scale N`` (at scale 1: 20,000 residents, 5,000 devices,
500 buddies, 200,000 sessions, 1,000,000 checkpoints), then times
``inclusion.reports.queries.report_figures`` for the last complete financial year
(April to March), best of 3 (the machine is shared; the minimum is the least noisy).
Targets at scale 1: under 1 s on PostgreSQL, under 2 s on SQLite.

    python benchmarks/reports.py                      # SQLite, scale 1
    python benchmarks/reports.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    python benchmarks/reports.py --scale 0.01 --no-targets   # a quick smoke run

Prints the generation time and the query times; exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_SECONDS = {"postgresql": 1.0, "sqlite": 2.0}
RUNS = 3


def financial_year(today: date) -> tuple[date, date]:
    """The last complete financial year (1 April to 31 March) before ``today``."""
    end_year = today.year if today.month >= 4 else today.year - 1
    return date(end_year - 1, 4, 1), date(end_year, 3, 31)


def fresh_database(server_url: str | None) -> tuple[str, callable]:
    """A new, empty database and a function that removes it."""
    if not server_url:
        folder = tempfile.mkdtemp(prefix="inclusion-bench-")
        return f"sqlite:///{folder}/bench.sqlite3", lambda: shutil.rmtree(
            folder, ignore_errors=True
        )
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(server_url)
    name = f"inclusion_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()

    def drop():
        eng = create_engine(url, isolation_level="AUTOCOMMIT")
        with eng.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        eng.dispose()

    return url.set(database=name).render_as_string(hide_password=False), drop


def generate(app, scale: float, organisations: int = 1) -> float:
    """Run ``flask inclusion bench-data --scale N [--organisations M]`` in this process (its
    progress bar shows); the seconds it took."""
    from inclusion.cli import cli

    with app.app_context():
        started = time.perf_counter()
        cli.main(
            ["bench-data", "--scale", str(scale), "--organisations", str(organisations)],
            prog_name="flask inclusion",
            standalone_mode=False,
        )
        return time.perf_counter() - started


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="data size (1 = the target size)")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("INCLUSION_BENCH_DATABASE_URL"),
        help="a PostgreSQL server to create a throwaway database on (default: SQLite)",
    )
    parser.add_argument("--no-targets", action="store_true", help="print the figures, never fail")
    parser.add_argument("--keep", action="store_true", help="keep the database (prints its URL)")
    args = parser.parse_args(argv)

    import flask_migrate
    from sqlalchemy import select

    from inclusion import create_app
    from inclusion.accounts.models import Organisation
    from inclusion.benchdata import BENCH_CODE
    from inclusion.clock import today
    from inclusion.extensions import db

    try:
        from inclusion.reports.queries import report_figures
    except ImportError:
        print(
            "inclusion.reports.queries.report_figures is missing: nothing to time", file=sys.stderr
        )
        return 2

    database_url, remove = fresh_database(args.database_url)
    backend = "postgresql" if database_url.startswith("postgresql") else "sqlite"
    try:
        app = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
        with app.app_context():
            started = time.perf_counter()
            flask_migrate.upgrade(revision="heads")
            migrate_seconds = time.perf_counter() - started
            db.engine.dispose()
        generate_seconds = generate(app, args.scale)
        with app.app_context():
            org_id = db.session.scalar(
                select(Organisation.id).where(Organisation.code == BENCH_CODE)
            )
            start, end = financial_year(today())
            seconds = float("inf")
            for _ in range(RUNS):
                db.session.expire_all()
                began = time.perf_counter()
                figures = report_figures(org_id, start, end)
                seconds = min(seconds, time.perf_counter() - began)
                db.session.rollback()
            db.engine.dispose()
        target = TARGET_SECONDS[backend]
        ok = seconds < target
        print(f"reports benchmark on {backend}, scale {args.scale:g}")
        print(f"  migrate to head             {migrate_seconds:7.1f} s")
        print(f"  generate (bench-data)       {generate_seconds:7.1f} s")
        print(
            f"  report_figures {start:%b %Y}–{end:%b %Y}, best of {RUNS}: {seconds:7.3f} s  "
            f"{'ok' if ok else 'MISSED'} (target < {target:g} s at scale 1)"
        )
        if isinstance(figures, dict):
            print(f"  ({len(figures)} figure groups: {', '.join(sorted(map(str, figures))[:8])}…)")
        if args.keep:
            print(f"  database kept: {database_url}")
        if not ok and not args.no_targets:
            print("MISSED the target", file=sys.stderr)
            return 1
        return 0
    finally:
        if not args.keep:
            remove()


if __name__ == "__main__":
    sys.exit(main())
