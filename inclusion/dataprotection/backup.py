"""Consistent copies of the database and putting one back.

SQLite: the sqlite3 online backup API copies every page in one step, inside one read
transaction, so the copy is consistent even while the application writes (a plain file
copy of a WAL database is not). PostgreSQL: ``pg_dump``'s custom format (one snapshot) and
``pg_restore``; both must be installed (the PostgreSQL client tools).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url

from ..errors import RuleBroken


def sqlite_path(url) -> Path | None:
    url = make_url(str(url)) if not hasattr(url, "drivername") else url
    if url.get_backend_name() != "sqlite":
        return None
    if not url.database or url.database == ":memory:":
        raise RuleBroken("An in-memory SQLite database cannot be backed up.")
    return Path(url.database)


def backup_sqlite(source: Path, target: Path, progress=None) -> int:
    """Copy ``source`` into ``target`` with the online backup API; returns pages copied.

    All pages in one step, inside one read transaction: copied a few pages at a time,
    the backup starts again whenever the application commits between two steps, and
    under steady writes it never finishes. A WAL reader does not stop the writers, so
    the app keeps working meanwhile. The copy is written to ``<target>.part`` and
    renamed only when it passed its integrity check; on any failure the part is removed.
    """
    tmp = target.with_name(target.name + ".part")
    if not source.is_file():
        raise RuleBroken(f"The database {source} does not exist.")
    tmp.unlink(missing_ok=True)
    try:
        src = sqlite3.connect(source, timeout=30)
        try:
            dst = sqlite3.connect(tmp)
            try:
                with dst:
                    src.backup(dst, pages=-1)
                pages = dst.execute("PRAGMA page_count").fetchone()[0]
                check = dst.execute("PRAGMA integrity_check").fetchone()[0]
                # A standalone file: no -wal beside it is needed to read it.
                dst.execute("PRAGMA journal_mode=DELETE")
            finally:
                dst.close()
        finally:
            src.close()
        if check != "ok":
            raise RuleBroken(f"The copy failed its integrity check: {check}")
        if progress:
            progress(pages, pages)
        os.replace(tmp, target)
    except sqlite3.Error as exc:
        raise RuleBroken(f"The backup of {source} failed ({exc}); nothing was written.") from None
    finally:
        # Whatever went wrong (even Ctrl+C), no half-written copy is left behind.
        for leftover in (tmp, tmp.with_name(tmp.name + "-journal")):
            leftover.unlink(missing_ok=True)
    return pages


def check_sqlite_backup(path: Path) -> str:
    """The migration revision(s) a backup file is at; refuses what is not one of ours."""
    if not path.is_file():
        raise RuleBroken(f"{path} does not exist.")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            ok = conn.execute("PRAGMA integrity_check").fetchone()[0]
            revisions = [r[0] for r in conn.execute("SELECT version_num FROM alembic_version")]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise RuleBroken(f"{path} is not an inclusion SQLite backup ({exc}).") from None
    if ok != "ok":
        raise RuleBroken(f"{path} failed its integrity check: {ok}")
    return ", ".join(sorted(revisions)) or "no migration"


def restore_sqlite(backup: Path, target: Path) -> None:
    """Replace the content of ``target`` with ``backup`` (online backup API, in one step
    under SQLite's lock, so no reader sees half of it)."""
    src = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    dst = sqlite3.connect(target, timeout=30)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def _pg_command(tool: str) -> str:
    found = shutil.which(tool)
    if not found:
        raise RuleBroken(
            f"{tool} was not found. Install the PostgreSQL client tools (e.g. "
            f"`apt-get install postgresql-client`, the same major version as the server) "
            f"and run this again."
        )
    return found


def _pg_target(url) -> tuple[str, dict]:
    """A libpq URL without the password (that goes in PGPASSWORD, never on the command line)."""
    url = make_url(str(url)) if not hasattr(url, "drivername") else url
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def backup_postgresql(url, target: Path) -> None:
    dsn, env = _pg_target(url)
    tmp = target.with_name(target.name + ".part")
    try:
        result = subprocess.run(
            [
                _pg_command("pg_dump"),
                "--format=custom",
                "--no-owner",
                f"--file={tmp}",
                f"--dbname={dsn}",
            ],
            env=env,
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise RuleBroken(f"pg_dump failed: {result.stderr.strip()}")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)  # no half-written dump is left behind


def restore_postgresql(url, backup: Path) -> None:
    if not backup.is_file():
        raise RuleBroken(f"{backup} does not exist.")
    dsn, env = _pg_target(url)
    result = subprocess.run(
        [
            _pg_command("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            f"--dbname={dsn}",
            str(backup),
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise RuleBroken(f"pg_restore failed: {result.stderr.strip()}")
