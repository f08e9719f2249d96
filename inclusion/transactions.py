"""How a unit of work meets the database, so the embedded SQLite default holds under
a desk's load.

SQLite allows one writer at a time. A deferred ``BEGIN`` starts as a reader; when it
later writes, WAL mode refuses the upgrade at once ("database is locked") if another
connection committed since it began reading, and the busy timeout does not help. So
a writing request (POST, PUT, PATCH, DELETE) and a ``flask inclusion`` command take the
write lock up front with ``BEGIN IMMEDIATE``, which waits its turn (the busy timeout)
instead of failing halfway; reading requests stay deferred and never wait (WAL readers
do not block the writer, nor it them). Slow work that only reads (argon2, drawing a
PDF) runs in :func:`reading`, a read transaction ended before the request writes, so
the write lock is held for milliseconds. PostgreSQL needs none of this.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from flask import has_request_context, request
from sqlalchemy import event

from .extensions import db

#: Requests that take SQLite's write lock when their transaction begins.
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

_IMMEDIATE = "BEGIN IMMEDIATE"
_DEFERRED = "BEGIN"
# Set by reading() / writing(); None: decided by the request's method.
_begin: ContextVar[str | None] = ContextVar("inclusion_begin", default=None)

# SQLite's primary result codes for "another connection holds the lock".
_SQLITE_BUSY, _SQLITE_LOCKED = 5, 6


def configure_sqlite(engine, *, busy_timeout: float) -> None:
    """Per connection: foreign keys on, WAL (file databases), the busy timeout, and
    transactions begun by :func:`_begin_statement` instead of pysqlite's guesses."""
    if engine.dialect.name != "sqlite":
        return
    in_memory = engine.url.database in (None, "", ":memory:")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, record):
        # Let SQLAlchemy, not pysqlite, decide where transactions begin (needed for
        # savepoints and for BEGIN IMMEDIATE), and enforce foreign keys as PostgreSQL does.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        if not in_memory:
            # Readers and the writer do not block each other; the mode is stored in the
            # file, so this only changes something the first time.
            cur.execute("PRAGMA journal_mode=WAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql(_begin_statement())


def _begin_statement() -> str:
    chosen = _begin.get()
    if chosen is not None:
        return chosen
    if has_request_context() and request.method in WRITE_METHODS:
        return _IMMEDIATE
    return _DEFERRED


def _transaction_wrote(session) -> bool:
    return bool(session.new or session.dirty or session.deleted or session.info.get("wrote"))


@event.listens_for(db.session.session_factory.class_, "after_flush")
def _mark_wrote(session, flush_context):
    session.info["wrote"] = True


@event.listens_for(db.session.session_factory.class_, "after_transaction_end")
def _clear_wrote(session, transaction):
    if transaction.parent is None:
        session.info.pop("wrote", None)


@contextmanager
def reading() -> Iterator[None]:
    """Run the block in a read transaction that ends before the request writes.

    For slow work that only reads (checking a password, drawing a PDF): on SQLite the
    block does not hold the write lock, and what the request writes afterwards begins a
    new transaction that takes it. A transaction that has already written is left as it
    is (its changes must commit or roll back together), and the block runs inside it.
    Objects loaded before or inside the block are reloaded when next used.
    """
    session = db.session()  # the request's Session (the scoped proxy lacks in_transaction)
    if session.in_transaction() and not _transaction_wrote(session):
        session.rollback()  # nothing written yet: only gives the lock back
    token = _begin.set(_DEFERRED)
    try:
        yield
    finally:
        _begin.reset(token)
    if session.in_transaction() and not _transaction_wrote(session):
        session.rollback()


@contextmanager
def writing() -> Iterator[None]:
    """Transactions begun in the block take SQLite's write lock up front (CLI commands)."""
    token = _begin.set(_IMMEDIATE)
    try:
        yield
    finally:
        _begin.reset(token)


def run_outside_transaction(connection, sql: str) -> None:
    """Run a statement SQLite refuses inside a transaction (``PRAGMA wal_checkpoint``,
    ``VACUUM``) on ``connection`` without beginning one: through SQLAlchemy it would
    begin with ``BEGIN IMMEDIATE`` in a writing request or command, and a checkpoint
    under the connection's own write lock fails ("database table is locked")."""
    connection.connection.driver_connection.execute(sql).close()


def is_busy(exc: BaseException) -> bool:
    """Whether ``exc`` means another connection held SQLite's lock for too long."""
    orig = getattr(exc, "orig", exc)
    if not isinstance(orig, sqlite3.OperationalError):
        return False
    code = getattr(orig, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED)
    message = str(orig).lower()
    return "locked" in message or "busy" in message
