"""``flask inclusion retention | backup | restore``."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from ..acting import acting_for, by_option
from ..errors import RuleBroken
from ..extensions import db

#: Residents anonymised per commit by ``retention --apply``.
RETENTION_BATCH = 100


@click.command("retention")
@click.option(
    "--apply", "apply_", is_flag=True, help="Anonymise them (without it: only list them)."
)
@by_option
@with_appcontext
def retention_command(apply_, by_email):
    """List closed cases past their organisation's retention period; --apply anonymises them.

    Safe to run daily from cron: already anonymised residents are never due again, and
    cases with something still open (a loan, the waiting list, a safeguarding concern)
    are listed as skipped until it is finished.
    """
    from ..accounts.models import Organisation
    from . import service

    due = []
    for org in db.session.scalars(select(Organisation).order_by(Organisation.id)):
        items = service.due_for_retention(org)
        if items:
            click.echo(
                f"{org.name} ({org.code}): keep closed cases {org.retention_months} months; "
                f"{len(items)} due"
            )
        for item in items:
            why = f"  skipped: {' '.join(item.blockers)}" if item.blockers else ""
            click.echo(f"  {item.resident.reference}  closed {item.closed_at:%Y-%m-%d}{why}")
        due += items
    ready = [item for item in due if not item.blockers]
    if not apply_:
        click.echo(
            f"{len(ready)} would be anonymised, {len(due) - len(ready)} skipped. "
            "Run with --apply to anonymise them."
        )
        return
    done = skipped = 0
    # Committed in batches: each resident's anonymisation is complete on its own, so a
    # run stopped halfway keeps what it finished and the next run carries on (already
    # anonymised residents are not due any more); short transactions also keep SQLite
    # writers (the web app) waiting for seconds at most.
    # One sweep of the organisation's free text per batch, not per resident.
    with (
        acting_for("retention", by_email),
        click.progressbar(length=len(ready), label="Anonymising", show_pos=True) as bar,
    ):
        for start in range(0, len(ready), RETENTION_BATCH):
            batch = ready[start : start + RETENTION_BATCH]
            erased = service.apply_retention_batch(batch)
            done += erased
            skipped += len(batch) - erased
            db.session.commit()
            bar.update(len(batch))
    click.echo(f"{done} anonymised, {skipped + len(due) - len(ready)} skipped.")


def _database_url():
    return db.engine.url


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite PATH if it exists.")
@with_appcontext
def backup_command(path, force):
    """Write a consistent copy of the database to PATH (safe while the app runs).

    SQLite: the online backup API; PostgreSQL: pg_dump (custom format).
    """
    from . import backup

    if path.exists() and not force:
        raise click.ClickException(f"{path} exists; choose another name or add --force.")
    if not path.parent.is_dir():
        raise click.ClickException(f"The folder {path.parent} does not exist.")
    url = _database_url()
    try:
        source = backup.sqlite_path(url)
        if source is not None:
            with click.progressbar(length=1, label="Copying pages", show_percent=True) as bar:

                def progress(done, total):
                    bar.length = max(total, 1)
                    bar.update(done - bar.pos)

                pages = backup.backup_sqlite(source, path, progress=progress)
            click.echo(
                f"Backed up {source} to {path} ({pages} pages, {path.stat().st_size:,} bytes)."
            )
        elif url.get_backend_name() == "postgresql":
            backup.backup_postgresql(url, path)
            click.echo(
                f"Backed up {url.database} to {path} with pg_dump ({path.stat().st_size:,} bytes). "
                "Restore with `flask inclusion restore`."
            )
        else:
            raise click.ClickException(f"Backups of {url.get_backend_name()} are not supported.")
    except RuleBroken as err:
        raise click.ClickException(err.message) from None


@click.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option(
    "--without-erasure-register",
    is_flag=True,
    help="Restore even though the current database has no erasure register to re-apply "
    "(only when nobody was erased since the backup was taken).",
)
@with_appcontext
def restore_command(path, yes, without_erasure_register):
    """Replace the whole database with the backup at PATH (asks first, unless --yes),
    then erase again everyone erased after the backup was taken.

    The erasure register of the database being replaced is read first; every person it
    lists whom the backup does not list as erased is anonymised again, so a restore
    never brings an erased person back. Stop the web application first: requests
    served during a restore may fail.
    """
    from . import backup, service

    url = _database_url()
    erasures = _current_erasures()
    if erasures is None and not without_erasure_register:
        raise click.ClickException(
            "The current database has no erasure register, so erasures made since the backup "
            "cannot be re-applied and erased people would come back. Restore into the "
            "database that holds the register; or, only if nobody has been erased since the "
            "backup was taken, run again with --without-erasure-register."
        )
    try:
        target = backup.sqlite_path(url)
        if target is not None:
            revision = backup.check_sqlite_backup(path)
            click.echo(f"{path}: an inclusion backup at migration {revision}.")
            if not yes:
                click.confirm(f"Replace everything in {target} with it?", abort=True)
            db.session.remove()
            db.engine.dispose()
            backup.restore_sqlite(path, target)
        elif url.get_backend_name() == "postgresql":
            if not yes:
                click.confirm(
                    f"Replace everything in the PostgreSQL database {url.database} with {path}?",
                    abort=True,
                )
            db.session.remove()
            db.engine.dispose()
            backup.restore_postgresql(url, path)
        else:
            raise click.ClickException(f"Restores of {url.get_backend_name()} are not supported.")
    except RuleBroken as err:
        raise click.ClickException(err.message) from None
    if erasures:
        _upgrade_if_behind()
        again = service.reapply_erasures(erasures)
        db.session.commit()
        click.echo(
            f"{len(again)} erased after the backup was taken, erased again: "
            + (", ".join(again) if again else "none needed")
            + "."
        )
    click.echo("Restored. If the backup is older than the code, run `flask db upgrade heads`.")


def _current_erasures():
    """The erasure register of the database about to be replaced (None: it has none)."""
    from sqlalchemy.exc import DBAPIError

    from . import service

    try:
        erasures = service.erasure_register()
    except DBAPIError:
        erasures = None
    db.session.rollback()
    return erasures


def _upgrade_if_behind() -> None:
    """Erasing needs the schema the code knows: bring an older backup up to date first."""
    import flask_migrate
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from flask import current_app

    config = current_app.extensions["migrate"].migrate.get_config()
    heads = set(ScriptDirectory.from_config(config).get_heads())
    with db.engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    if current != heads:
        click.echo("Upgrading the restored database to the code's migrations first.")
        flask_migrate.upgrade(revision="heads")


COMMANDS = [retention_command, backup_command, restore_command]
