"""Memory and time: generating the benchmark data, and a subject access export.

Creates a fresh database (a SQLite file in a temporary folder, or a throwaway PostgreSQL
database on the server of ``--database-url`` / ``INCLUSION_BENCH_DATABASE_URL``), upgrades
it, then runs in a child process of its own each: ``flask inclusion bench-data --scale N
--organisations M`` (default scale 1, one organisation), and the subject access export
(``inclusion.dataprotection.service.export_resident``) of the resident with the most
checkpoints. Each child reports its peak resident memory (``ru_maxrss``) and wall time.
Targets: generating scale 1 under 500 MB; the export under 200 MB. Exits 1 when one is
missed.

    python benchmarks/memory.py                         # SQLite, scale 1
    python benchmarks/memory.py --scale 1 --organisations 10 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres   # a region
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from reports import fresh_database  # noqa: E402  (benchmarks/reports.py)

GENERATE_MB, EXPORT_MB = 500, 200

PRELUDE = """
import json, resource, sys, time
sys.path.insert(0, {root!r})
from inclusion import create_app
app = create_app({{"SQLALCHEMY_DATABASE_URI": {url!r}}})
started = time.perf_counter()
"""
REPORT = """
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print("RESULT " + json.dumps({{"mb": peak, "seconds": time.perf_counter() - started, **extra}}))
"""

GENERATE = """
from inclusion.cli import cli
with app.app_context():
    cli.main(["bench-data", "--scale", {scale!r}, "--organisations", {orgs!r}],
             prog_name="flask inclusion", standalone_mode=False)
extra = {{}}
"""

EXPORT = """
from sqlalchemy import func, select
from buddies.practice.models import Checkpoint
from inclusion.accounts.models import User
from inclusion.dataprotection.service import export_resident
from inclusion.extensions import db
from inclusion.residents.models import Resident
from inclusion.tenancy import scoped_to
with app.test_request_context():
    resident_id, checkpoints = db.session.execute(
        select(Checkpoint.resident_id, func.count()).group_by(Checkpoint.resident_id)
        .order_by(func.count().desc()).limit(1)
    ).one()
    resident = db.session.get(Resident, resident_id)
    started = time.perf_counter()  # the export only
    with scoped_to(resident.organisation_id):
        data = export_resident(resident, by=None)
    db.session.rollback()
extra = {{"bytes": len(data), "checkpoints": checkpoints}}
"""


def child(code: str, url: str, **values) -> dict:
    script = textwrap.dedent(PRELUDE + code + REPORT).format(root=str(ROOT), url=url, **values)
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=False
    )
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    raise RuntimeError(f"the child process failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--organisations", type=int, default=1)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("INCLUSION_BENCH_DATABASE_URL"),
        help="a PostgreSQL server to create a throwaway database on (default: SQLite)",
    )
    parser.add_argument("--no-targets", action="store_true", help="print the figures, never fail")
    args = parser.parse_args(argv)

    import flask_migrate

    from inclusion import create_app
    from inclusion.extensions import db

    url, remove = fresh_database(args.database_url)
    backend = "postgresql" if url.startswith("postgresql") else "sqlite"
    try:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            flask_migrate.upgrade(revision="heads")
            db.engine.dispose()
        made = child(GENERATE, url, scale=str(args.scale), orgs=str(args.organisations))
        export = child(EXPORT, url)
        print(
            f"memory benchmark on {backend}, scale {args.scale:g}, "
            f"{args.organisations} organisation(s)"
        )
        missed = []
        # The target is for one organisation at scale 1; each organisation's plans are
        # let go before the next one's.
        gen_ok = made["mb"] < GENERATE_MB * max(1.0, args.scale)
        print(
            f"  bench-data: {made['seconds']:.0f} s, peak {made['mb']:.0f} MB "
            f"(target < {GENERATE_MB * max(1.0, args.scale):.0f} MB) {'ok' if gen_ok else 'MISSED'}"
        )
        exp_ok = export["mb"] < EXPORT_MB
        print(
            f"  subject access export of a resident with {export['checkpoints']:,} checkpoints: "
            f"{export['bytes'] / 1024:.0f} KB in {export['seconds'] * 1000:.0f} ms, process peak "
            f"{export['mb']:.0f} MB (target < {EXPORT_MB} MB) {'ok' if exp_ok else 'MISSED'}"
        )
        missed = [n for n, ok in (("bench-data", gen_ok), ("export", exp_ok)) if not ok]
        if missed and not args.no_targets:
            print(f"MISSED: {', '.join(missed)}", file=sys.stderr)
            return 1
        return 0
    finally:
        remove()


if __name__ == "__main__":
    sys.exit(main())
