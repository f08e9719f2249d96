"""``flask inclusion add-commissioner``: a commissioner account and the programme it reads."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from inclusion.acting import acting_for, by_option
from inclusion.errors import RuleBroken
from inclusion.extensions import db


@click.command("add-commissioner")
@click.option("--email", prompt=True)
@click.option("--name", prompt=True)
@click.option("--programme", "programme_name", prompt=True, help="e.g. 'Borough digital inclusion'")
@click.option(
    "--organisation",
    "codes",
    multiple=True,
    required=True,
    help="Code of a member organisation (repeat).",
)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@by_option
@with_appcontext
def add_commissioner(email, name, programme_name, codes, password, by_email):
    """Create a commissioner over a programme of the given organisations (the first is the
    account's home organisation); the programme is created or extended."""
    from . import service

    try:
        with acting_for("add-commissioner", by_email):
            user = service.add_commissioner(
                email=email,
                name=name,
                programme_name=programme_name,
                codes=codes,
                password=password,
            )
    except RuleBroken as err:
        db.session.rollback()
        raise click.ClickException(err.message) from None
    db.session.commit()
    click.echo(f"Commissioner {user.email} reads the programme {programme_name!r}.")


@click.command("programme-remove-organisation")
@click.option("--programme", "programme_name", required=True)
@click.option("--organisation", "code", required=True, help="Code of the member organisation.")
@by_option
@with_appcontext
def remove_programme_organisation(programme_name, code, by_email):
    """Take an organisation out of a programme (its commissioners stop seeing its figures)."""
    from . import service

    try:
        with acting_for("programme-remove-organisation", by_email):
            programme = service.remove_member(programme_name=programme_name, code=code)
    except RuleBroken as err:
        db.session.rollback()
        raise click.ClickException(err.message) from None
    db.session.commit()
    click.echo(f"{code.upper()} is no longer in the programme {programme.name!r}.")
