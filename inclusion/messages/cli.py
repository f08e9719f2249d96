"""``flask inclusion send-messages`` (the worker) and ``flask inclusion queue-reminders``
(daily, from cron)."""

from __future__ import annotations

from datetime import date

import click
from flask.cli import with_appcontext

from ..acting import acting_for
from ..extensions import db
from ..looping import Looping


@click.command("send-messages")
@click.option("--loop", is_flag=True, help="Keep running: look for due messages every --interval.")
@click.option("--interval", default=30, show_default=True, help="Seconds between looks (--loop).")
@click.option("--batch", default=100, show_default=True, help="Messages claimed at a time.")
@with_appcontext
def send_messages_command(loop, interval, batch):
    """Send the texts and e-mails that are due; retry failures with backoff.

    Several workers (on several machines) may run at once: each claims different
    messages. Letters are printed from the Messages page, not sent here."""
    from .worker import run_once

    looping = Looping(loop)  # SIGTERM: finish the message in hand, then stop

    def progress(ids):
        return click.progressbar(ids, label=f"Sending {len(ids)} messages", show_pos=True)

    while True:
        while not looping.stopping:
            result = run_once(batch, progress=progress if batch > 1 else None)
            if result.handled or result.statuses:
                click.echo(
                    f"{result.sent} sent, {result.retrying} to retry, {result.failed} failed, "
                    f"{result.cancelled} cancelled, {result.held} held for quiet hours"
                    + (f", {result.statuses} delivery statuses read" if result.statuses else "")
                )
            if result.handled < batch:
                break
        if not loop or looping.stopping:
            break
        looping.wait(interval)


@click.command("queue-reminders")
@click.option(
    "--date",
    "as_of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The day to queue for (default today).",
)
@with_appcontext
def queue_reminders_command(as_of):
    """Queue the reminders due today (loans, data bundles, DBS renewals). Run daily from
    cron; running it again queues nothing twice."""
    from .reminders import queue_reminders

    day: date | None = as_of.date() if as_of else None
    with acting_for("queue-reminders"):
        counts = queue_reminders(day)
    db.session.commit()
    for label, count in counts.items():
        click.echo(f"{count:>6} {label}")
    click.echo(f"{sum(counts.values())} reminders queued.")
