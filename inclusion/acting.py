"""Who a ``flask inclusion …`` command acts for, in the audit log.

A command that acts for a person takes ``--by EMAIL`` (an active account) and its
events name that person; without it, or for a system job, its events name the system
actor ``cli:<command>``. (Its own module, so feature commands can use it without
importing every core command.)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click

from . import audit

#: ``--by EMAIL`` for commands that act for a person.
by_option = click.option(
    "--by",
    "by_email",
    metavar="EMAIL",
    default=None,
    help="The person this is done for (an active account); the audit log names them. "
    "Without it the log names the command.",
)


def system_actor(command: str) -> str:
    """The audit log's name for a command run without ``--by``."""
    return f"cli:{command}"


@contextmanager
def acting_for(command: str, by_email: str | None = None) -> Iterator[None]:
    """Audit events inside name the ``--by`` person, or the command's system actor."""
    actor = system_actor(command)
    if by_email:
        from .accounts.service import find_user_by_email

        actor = find_user_by_email(by_email)
        if actor is None or not actor.active:
            raise click.ClickException(f"No active account has the email {by_email}.")
    with audit.acting_as(actor):
        yield
