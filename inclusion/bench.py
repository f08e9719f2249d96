"""What every step of the benchmark data shares (``inclusion.benchdata`` composes the steps;
the packages' loaders are written with these): the ``Bench`` of one generation, its
``RowWriter``, and small helpers for made-up times and weighted choices."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import JSON, func, insert, select

from .clock import today as _today
from .extensions import db

CHUNK = 5_000  # rows per executemany
DAYS = 3 * 365  # how far back the programme starts
LANGUAGES = ["English"] * 8 + ["Punjabi", "Urdu", "Polish", "Somali", "Bengali", "Arabic"]


def weighted(rng: random.Random, pairs) -> str:
    """One key of ``(key, weight)`` pairs, drawn by weight."""
    keys, weights = zip(*pairs, strict=True)
    return rng.choices(keys, weights)[0]


def at_time(day: date, rng: random.Random, start_hour: int = 9) -> datetime:
    """A moment on ``day`` within the eight working hours from ``start_hour``."""
    return datetime.combine(day, time(start_hour)) + timedelta(minutes=rng.randint(0, 480))


class RowWriter:
    """Buffers rows per table and writes them with executemany in chunks, parents first."""

    def __init__(self, bar, *, later: int = 0):
        self.bar = bar
        # The bar may have counted other organisations before this one, and be waiting
        # for ``later`` more rows after it.
        self.before = getattr(bar, "pos", 0)
        self.later = later
        self.buffers: dict = {}
        self.order = {t.name: i for i, t in enumerate(db.metadata.sorted_tables)}
        self.written: dict[str, int] = {}
        self.copy: bool | None = None  # PostgreSQL: COPY, several times executemany's speed

    def add(self, table, row: dict) -> None:
        rows = self.buffers.setdefault(table, [])
        rows.append(row)
        if len(rows) >= CHUNK:
            # A child's rows may name parents still buffered: write those first.
            for parent in sorted(self.buffers, key=lambda t: self.order[t.name]):
                if self.order[parent.name] < self.order[table.name]:
                    self._write(parent)
            self._write(table)

    def _write(self, table) -> None:
        rows = self.buffers.get(table)
        if rows:
            if self.copy is None:
                self.copy = db.session.get_bind().dialect.name == "postgresql"
            if self.copy:
                _copy(table, rows)
            else:
                db.session.execute(insert(table), rows)
            self.written[table.name] = self.written.get(table.name, 0) + len(rows)
            self.bar.update(len(rows))
            self.buffers[table] = []

    def flush(self) -> None:
        for table in sorted(self.buffers, key=lambda t: self.order[t.name]):
            self._write(table)

    def expect_more(self, rows: int) -> None:
        """Correct the progress bar's length once a step knows how many rows it will write."""
        if hasattr(self.bar, "length"):
            done = sum(self.written.values()) + sum(len(v) for v in self.buffers.values())
            self.bar.length = self.before + done + rows + self.later


def _copy(table, rows: list[dict]) -> None:
    """Write ``rows`` into ``table`` with PostgreSQL's ``COPY ... FROM STDIN``, on the
    session's own connection (so in its transaction): the Python-side defaults an
    ``insert()`` would fill are filled here, JSON values are written as JSON text."""
    names = list(rows[0])
    missing = [c for c in table.c if c.name not in rows[0] and c.default is not None]
    defaults = []
    for column in missing:
        default = column.default
        if default.is_scalar:
            defaults.append((column.name, lambda arg=default.arg: arg))
        elif default.is_callable:
            defaults.append((column.name, lambda arg=default.arg: arg(None)))
    names += [name for name, _ in defaults]
    json_columns = {c.name for c in table.c if isinstance(c.type, JSON)}
    driver = db.session.connection().connection.driver_connection
    columns = ", ".join(f'"{name}"' for name in names)
    with (
        driver.cursor() as cursor,
        cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy,
    ):
        for row in rows:
            values = [row.get(name) for name in names[: len(names) - len(defaults)]]
            values += [make() for _, make in defaults]
            if json_columns:
                values = [
                    json.dumps(v) if n in json_columns and v is not None else v
                    for n, v in zip(names, values, strict=True)
                ]
            copy.write_row(values)


class SilentBar:
    """A progress bar that shows nothing (tests, scripts)."""

    def update(self, n: int) -> None:
        pass


@dataclass
class Bench:
    """What every benchmark step shares: the organisation, the seeded random numbers (one
    sequence, so the same seed gives the same data), the target counts, the row writer, and
    ``plans``: what a step leaves for the later ones (``plans["residents"]``, the core's
    ``ResidentPlan`` list; a package's own keys; and declared keys one package leaves for
    another, such as ``plans["devices_lent"]``: resident id -> (lent on, back on, device id))."""

    organisation_id: int
    rng: random.Random
    counts: dict[str, int]
    rows: RowWriter
    today: date = field(default_factory=_today)
    plans: dict = field(default_factory=dict)
    next_ids: dict[str, int] = field(default_factory=dict)
    explicit_ids: set[str] = field(default_factory=set)

    @property
    def start(self) -> date:
        """The day the generated programme starts."""
        return self.today - timedelta(days=DAYS)

    def new_ids(self, table: str, n: int) -> range:
        """``n`` explicit primary keys of ``table`` after those in use (children name their
        parents by them without reading ids back)."""
        if table not in self.next_ids:
            column = db.metadata.tables[table].c.id
            self.next_ids[table] = (db.session.scalar(select(func.max(column))) or 0) + 1
        first = self.next_ids[table]
        self.next_ids[table] = first + n
        self.explicit_ids.add(table)
        return range(first, first + n)

    def add(self, table: str, row: dict) -> None:
        """One row of the benchmark organisation into ``table``."""
        row["organisation_id"] = self.organisation_id
        self.rows.add(db.metadata.tables[table], row)

    def random_days(self, low: int, high: int) -> timedelta:
        return timedelta(days=self.rng.randint(low, high))
