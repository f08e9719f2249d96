"""``flask inclusion …`` commands. Each command commits once, at its end.

Who acted, in the audit log: a command that acts for a person takes ``--by EMAIL``
(an active account) and its events name that person; without it (or for commands
that are system jobs) its events name the system actor ``cli:<command>``.
"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from .acting import acting_for, by_option
from .errors import RuleBroken
from .extensions import db
from .transactions import writing


@click.group("inclusion")
def cli():
    """inclusion administration."""
    # Commands are short units of work that mostly write: on SQLite they take the write
    # lock when their transaction begins, so they wait for the web app's writers rather
    # than fail halfway with "database is locked".
    click.get_current_context().with_resource(writing())


@cli.command("create-admin")
@click.option("--email", prompt=True)
@click.option("--name", prompt=True)
@click.option("--organisation", "org_name", prompt="Organisation name")
@click.option("--code", prompt="Organisation short code", help="Short code, e.g. WCVS")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@by_option
@with_appcontext
def create_admin(email, name, org_name, code, password, by_email):
    """Create an admin account (and its organisation if the code is new)."""
    from sqlalchemy import select

    from .accounts import service
    from .accounts.models import ADMIN, Organisation

    org = db.session.scalar(select(Organisation).where(Organisation.code == code.strip().upper()))
    try:
        with acting_for("create-admin", by_email):
            if org is None:
                org = service.create_organisation(org_name, code)
            user = service.create_user(org, email=email, name=name, role=ADMIN, password=password)
    except RuleBroken as err:
        db.session.rollback()
        raise click.ClickException(err.message) from None
    db.session.commit()
    click.echo(f"Admin {user.email} created for {org.name} ({org.code}).")


@cli.command("demo")
@with_appcontext
def demo():
    """Load demo data for every role (safe to run again: it adds nothing twice)."""
    from .demo import DEMO_PASSWORD, load_demo

    with acting_for("demo"):
        users = load_demo(progress=True)
    db.session.commit()
    click.echo(f"Demo sign-ins (password for all: {DEMO_PASSWORD}):")
    for user in users:
        click.echo(f"  {user.role:<12} {user.email:<36} {user.organisation.name}")


@cli.command("check")
@with_appcontext
def check():
    """Check the database answers and its schema is at the latest migration."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy import text

    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            current = set(MigrationContext.configure(conn).get_current_heads())
    except Exception as exc:  # noqa: BLE001 - report any connection failure plainly
        raise click.ClickException(f"Database not reachable: {exc}") from None
    config = current_app.extensions["migrate"].migrate.get_config()
    heads = set(ScriptDirectory.from_config(config).get_heads())
    if current != heads:
        raise click.ClickException(
            f"Database schema is at {sorted(current) or 'nothing'}, latest is {sorted(heads)}: "
            "run `flask --app inclusion db upgrade`."
        )
    click.echo(
        f"Database reachable ({db.engine.dialect.name}); migrations at head {', '.join(sorted(heads))}."
    )


@cli.command("bench-data")
@click.option(
    "--scale",
    type=float,
    default=1.0,
    show_default=True,
    help="1 = 20,000 residents, 5,000 devices, 500 buddies, 200,000 sessions, 1,000,000 "
    "checkpoints; fractions for tests (0.01).",
)
@click.option(
    "--organisations",
    type=int,
    default=1,
    show_default=True,
    help="How many organisations (BENCH, BENCH02, …), each at --scale: a region sharing "
    "one deployment.",
)
@click.option("--replace", is_flag=True, help="Delete the benchmark organisations' rows first.")
@click.option("--seed", type=int, default=None, help="Random seed (the same seed, the same data).")
@with_appcontext
def bench_data(scale, organisations, replace, seed):
    """Generate a large benchmark organisation (code BENCH), or several, to time pages and
    reports against."""
    import time

    from .benchdata import SEED, analyse, bench_code, generate

    started = time.perf_counter()
    try:
        written = generate(
            scale,
            replace=replace,
            seed=SEED if seed is None else seed,
            progress=True,
            organisations=organisations,
        )
    except RuleBroken as err:
        db.session.rollback()
        raise click.ClickException(err.message) from None
    db.session.commit()
    ids = written.pop("organisation_ids")
    written.pop("organisation_id")
    analyse(written)
    seconds = time.perf_counter() - started
    rows = sum(written.values())
    codes = bench_code(0) + (f"…{bench_code(len(ids) - 1)}" if len(ids) > 1 else "")
    which = f"organisation {ids[0]}" if len(ids) == 1 else f"organisations {ids[0]}…{ids[-1]}"
    click.echo(f"{codes} ({which}): {rows:,} rows in {seconds:.1f} s")
    for table, count in written.items():
        click.echo(f"  {table:<24} {count:>10,}")
