"""``flask inclusion expire-bundles``: run daily (cron) so issued data past its date shows as expired."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from inclusion.acting import acting_for
from inclusion.extensions import db


@click.command("expire-bundles")
@with_appcontext
def expire_bundles_command():
    """Mark issued data bundles past their expiry date as expired, in every organisation."""
    from inclusion.accounts.models import Organisation

    from . import service

    total = 0
    with acting_for("expire-bundles"):  # a system job: its events name cli:expire-bundles
        for org in db.session.scalars(select(Organisation).order_by(Organisation.id)):
            total += service.expire_bundles(org.id)
    db.session.commit()
    click.echo(f"{total} data bundles marked expired.")
