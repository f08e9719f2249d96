"""Benchmark data: one large, realistic organisation to time the reports against.

``flask inclusion bench-data --scale 1`` adds the organisation *BENCH* ("Benchmark Digital
Inclusion (generated)") holding, at scale 1, 20,000 residents, 5,000 devices, 500 IT buddies,
200,000 practice sessions and about 1,000,000 skill checkpoints, with everything those imply:
donors, donations and their items, wipes, device and referral histories, loans (returned,
gifted, lost, open, overdue, extended), data bundles, the device waiting list and buddy
matches: three years of a growing programme that ends today. ``--scale 0.01`` makes a
hundredth of it (for tests); the same seed gives the same data. ``--organisations N`` makes
N of them (BENCH, BENCH02, …, each at the scale, each from its own seed): a region sharing
one deployment.

How it is built: the core plans and writes the residents (``inclusion/residents/bench.py``);
each feature package registers its benchmark loaders in its own ``init_app``
(``registry(app).add_bench_loader``: ``devices/bench.py``, ``devices/loans/bench.py``,
``buddies/bench.py``, ``buddies/practice/bench.py``), and ``generate`` runs every step in its
``order`` with one shared ``Bench`` (the organisation, the seeded random numbers, the row
writer, and the plans one step leaves for the next).

- A plan first, in memory, from one seeded ``random.Random``: each resident's timeline
  (referred → contacted → assessed → supported → closed, or an early close), then the
  lending desk as a queue (a device is ready after a wipe; waiting residents are lent the
  next ready device in the order they joined the list), then matches and, within each match,
  sessions and checkpoints. So the rows agree the way the real flows make them agree: a loan
  starts after its resident joined the waiting list, a device has at most one open loan and
  is wiped before every lend, a resident stays open while holding a device, a closed
  resident's match is ended.
- Rows are written in chunks of ``CHUNK`` rows (SQLAlchemy Core ``insert()`` as executemany
  lists on SQLite, ``COPY`` on PostgreSQL), with explicit primary keys so children name their
  parents without reading ids back; PostgreSQL's sequences are then moved past them, and the
  reference counters continue after the generated R-, D- and L- numbers. Sessions and
  checkpoints are streamed (never a million rows in memory at once). On PostgreSQL the
  foreign keys of the organisation-scoped tables are lifted for the generation and put back
  as they were before it ends, which checks every row against its parent in one join per key
  instead of a trigger call per row (half the time at scale 1).
- Every check constraint, unique and partial unique index of the schema holds (the tests
  check the important ones against the database).
- No audit events. The audit log records what people did to records; these rows are
  generated, not a change anyone made, and a million "created" events would only drown the
  log and time the audit table instead of the reports. Nothing requires an event: the audit
  guards (``inclusion.audit``'s before-flush check and the triggers of the foundation
  migration) refuse only updates and deletes of audit events, and Core inserts run no
  ORM hooks.
- Refuses when the organisation BENCH exists; ``--replace`` deletes its rows first, unless
  someone has worked in it (it has audit events, which are append-only): then use a fresh
  database.
"""

from __future__ import annotations

import contextlib
import random

import click
from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.exc import IntegrityError

from .bench import Bench, RowWriter, SilentBar
from .errors import RuleBroken
from .extensions import db
from .registry import registry

BENCH_CODE = "BENCH"
BENCH_NAME = "Benchmark Digital Inclusion (generated)"
SEED = 2026
MAX_SCALE = 20.0
MAX_ORGANISATIONS = 50

# Rows of the core at scale 1; the packages declare theirs with their loaders, and every
# other count follows from these and the flows.
CORE_ROWS_AT_SCALE_1 = {"residents": 20_000}


def counts_for(scale: float) -> dict[str, int]:
    """Target rows per kind at ``scale`` (at least one of each), for the core and every
    registered loader."""
    at_scale_1 = dict(CORE_ROWS_AT_SCALE_1)
    for loader in registry().bench_loaders:
        at_scale_1.update(loader.rows_at_scale_1)
    return {k: max(1, round(v * scale)) for k, v in at_scale_1.items()}


def _steps() -> list:
    """The core's steps and every registered loader's, in their order."""
    from .registry import BenchLoader
    from .residents import bench as residents

    core = [
        BenchLoader("residents: plan", residents.plan_residents, order=10),
        BenchLoader("residents: write", residents.write_residents, order=50),
    ]
    return sorted([*core, *registry().bench_loaders], key=lambda step: step.order)


# ---- the organisation ---------------------------------------------------------------


def bench_code(n: int) -> str:
    """The code of the ``n``-th generated organisation (0: BENCH, then BENCH02, BENCH03…)."""
    return BENCH_CODE if n == 0 else f"{BENCH_CODE}{n + 1:02d}"


def _existing_orgs(codes):
    from .accounts.models import Organisation

    return db.session.scalars(select(Organisation).where(Organisation.code.in_(codes))).all()


def _delete_org(org) -> None:
    """Delete every row of the benchmark organisation, children first."""
    from .audit import AuditEvent

    if db.session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.organisation_id == org.id)
    ):
        raise RuleBroken(
            f"The organisation {org.code} has audit events (someone worked in it), and the audit log "
            "is append-only: it cannot be replaced. Generate into a fresh database instead."
        )
    try:
        with db.session.begin_nested():
            for table in reversed(db.metadata.sorted_tables):
                if "organisation_id" in table.c and table.name != "audit_event":
                    db.session.execute(delete(table).where(table.c.organisation_id == org.id))
            db.session.execute(delete(org.__table__).where(org.__table__.c.id == org.id))
    except IntegrityError as err:
        raise RuleBroken(
            f"The organisation {org.code} could not be deleted (other records refer to it: "
            f"{err.orig}). Generate into a fresh database instead."
        ) from None
    db.session.expunge(org)


def _continue_sequences(table_names) -> None:
    """PostgreSQL: move each table's id sequence past the explicit ids just written."""
    if db.engine.dialect.name != "postgresql":
        return
    for name in sorted(table_names):
        db.session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 1) FROM {name}))"
            )
        )


def _continue_references(org_id: int, written: dict[str, int]) -> None:
    """The next resident, donation and loan references follow the generated ones."""
    from .references import ReferenceCounter

    table = ReferenceCounter.__table__
    for kind, source in (("resident", "resident"), ("donation", "donation"), ("loan", "loan")):
        if written.get(source):
            db.session.execute(
                insert(table).values(organisation_id=org_id, kind=kind, last_value=written[source])
            )


def generate(
    scale: float = 1.0,
    *,
    replace: bool = False,
    seed: int = SEED,
    progress: bool = False,
    organisations: int = 1,
) -> dict:
    """Generate the benchmark organisation (see the module docstring), or ``organisations``
    of them (BENCH, BENCH02, …, each at ``scale``, each from its own seed: a region sharing
    one deployment); returns rows written per table, with ``organisation_id`` (the first)
    and ``organisation_ids``. Refuses (``RuleBroken``) when one exists and ``replace`` is
    not given. Flushes, never commits: the CLI command commits once at its end."""
    if not (isinstance(scale, int | float) and 0 < scale <= MAX_SCALE):
        raise RuleBroken(f"The scale must be more than 0 and at most {MAX_SCALE:g}.", "scale")
    if not (isinstance(organisations, int) and 1 <= organisations <= MAX_ORGANISATIONS):
        raise RuleBroken(
            f"The number of organisations must be from 1 to {MAX_ORGANISATIONS}.", "organisations"
        )
    codes = [bench_code(n) for n in range(organisations)]
    existing = _existing_orgs(codes)
    if existing:
        if not replace:
            raise RuleBroken(
                f"The benchmark organisation {existing[0].code} already exists: "
                "run with --replace to generate it again."
            )
        for org in existing:
            _delete_org(org)

    counts = counts_for(scale)
    # A first estimate for the bar; the practice stage corrects it once it knows its totals.
    per_org = sum(counts.values()) * 2 + counts.get("checkpoints", 0) // 2
    label = f"Generating {codes[0]}" + (f"…{codes[-1]}" if organisations > 1 else "")
    bar_cm = (
        click.progressbar(length=per_org * organisations, label=f"{label} at scale {scale:g}")
        if progress
        else contextlib.nullcontext(SilentBar())
    )
    written: dict[str, int] = {}
    ids: list[int] = []
    explicit: set[str] = set()
    with bar_cm as bar, _foreign_keys_checked_at_the_end():
        for n, code in enumerate(codes):
            org = _new_org(n, code)
            ids.append(org.id)
            later = per_org * (organisations - n - 1)  # estimated like the first
            writer = RowWriter(bar, later=later)
            if progress:
                bar.length = bar.pos + per_org + later
            bench = Bench(org.id, random.Random(seed + n), counts, writer)
            for step in _steps():
                step.load(bench)
            writer.flush()
            _continue_references(org.id, writer.written)
            explicit |= bench.explicit_ids
            for table, rows in writer.written.items():
                written[table] = written.get(table, 0) + rows
        if progress:
            bar.update(max(0, bar.length - bar.pos))
    _continue_sequences(explicit)
    db.session.flush()
    return {"organisation_id": ids[0], "organisation_ids": ids, **dict(sorted(written.items()))}


@contextlib.contextmanager
def _foreign_keys_checked_at_the_end():
    """PostgreSQL: lift the foreign keys of the organisation-scoped tables for the
    generation and put them back, exactly as they were (``pg_get_constraintdef``), before
    it ends, in the same transaction. Putting a foreign key back checks every row against
    its parent in one join, instead of one trigger call per row: about half of the
    generation's time at scale 1 (a checkpoint names its organisation, resident, session,
    task and buddy). A row that names no parent still fails the generation, at the end.
    The tables are held for the whole transaction (``ALTER TABLE``'s lock): bench-data is
    for a benchmark's database, not a working one. SQLite checks no foreign key unless
    asked: nothing to do."""
    if db.session.get_bind().dialect.name != "postgresql":
        yield
        return
    scoped = [t.name for t in db.metadata.sorted_tables if "organisation_id" in t.c]
    keys = db.session.execute(
        text(
            "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) "
            "FROM pg_constraint c WHERE c.contype = 'f' "
            "AND c.conrelid::regclass::text = ANY(:tables) ORDER BY 1, 2"
        ),
        {"tables": scoped},
    ).all()
    quote = db.session.get_bind().dialect.identifier_preparer.quote
    run = db.session.connection().exec_driver_sql  # the definitions as they are, no binds
    for table, name, _definition in keys:
        run(f"ALTER TABLE {table} DROP CONSTRAINT {quote(name)}")
    yield
    db.session.flush()
    for table, name, definition in keys:
        try:
            with db.session.begin_nested():
                run(f"ALTER TABLE {table} ADD CONSTRAINT {quote(name)} {definition}")
        except IntegrityError as err:
            raise RuleBroken(
                f"A generated row of {table} names no parent ({name}): {err.orig}"
            ) from None


def _new_org(n: int, code: str):
    from .accounts.models import Organisation

    org = Organisation(
        name=BENCH_NAME if n == 0 else f"{BENCH_NAME} {n + 1}",
        code=code,
        contact_phone="+44 1902 555000",
        contact_email="bench@bench.example.org",
        return_address="Benchmark Hub, 1 Test Street, WV1 1AA",
    )
    db.session.add(org)
    db.session.flush()
    return org


def analyse(tables) -> None:
    """PostgreSQL: ``VACUUM ANALYZE`` the tables just written, as autovacuum would within a
    minute or so of a bulk load (fresh planner statistics, and the visibility map that lets
    index-only scans skip the table), so what is timed next is the steady state. SQLite is
    left as a deployment runs it: without ``ANALYZE`` statistics. Run after the commit."""
    from sqlalchemy.engine import Engine

    if db.engine.dialect.name != "postgresql" or not isinstance(db.engine, Engine):
        return  # SQLite; or bound to an outer transaction's connection (tests): nothing to do
    names = ", ".join(sorted(t for t in tables if t.isidentifier()))
    if names:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f"VACUUM ANALYZE {names}"))
