"""``flask inclusion keep-figures``: the report figures pages open without being asked,
computed off the request path and kept (``inclusion.reports.cache``).

A report's figures are computed on the first opening after a change (``report_figures``:
about a second per organisation at the benchmark's scale), and a commissioner's report reads
every organisation of the programme. Run beside the web workers (``--loop``), this command
computes, for every organisation whose figures of a period are not kept under its current
data version, the figures of each period a page opens without being asked (registered with
``registry(app).add_kept_period``), so that the page finds them kept. It only helps the web
workers when they share the store: set ``INCLUSION_CACHE_URL`` (Redis) for both.
"""

from __future__ import annotations

import contextlib
import time

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from ..clock import today
from ..extensions import db
from ..looping import Looping
from ..registry import registry
from ..tenancy import unscoped


def keep_current(progress=None) -> int:
    """Compute and keep every organisation's figures of every kept period; returns how many
    (organisation, period) figure sets there were. ``progress(ids)``: a context manager
    giving the ids back as they are done (click's progress bar). Each organisation in a transaction of its
    own, so each reads its own current version."""
    from ..accounts.models import Organisation
    from .cache import figures_for

    with unscoped():
        organisations = db.session.scalars(select(Organisation.id).order_by(Organisation.id)).all()
    db.session.rollback()
    on = today()
    periods = []
    for period_of in registry().kept_periods:
        period = period_of(on)
        if (period.start, period.end) not in periods:
            periods.append((period.start, period.end))
    bar = contextlib.nullcontext(organisations) if progress is None else progress(organisations)
    with bar as items:
        for organisation_id in items:
            for start, end in periods:
                figures_for(organisation_id, start, end)
            db.session.rollback()
    return len(organisations) * len(periods)


@click.command("keep-figures")
@click.option("--loop", is_flag=True, help="Keep running: look again every --interval.")
@click.option("--interval", default=60, show_default=True, help="Seconds between looks (--loop).")
@with_appcontext
def keep_figures_command(loop, interval):
    """Keep the report figures pages open without being asked (this and last financial
    year, this month, the last quarter, a commissioner's last twelve months) current for
    every organisation. Figures already kept under the organisation's version cost one read."""
    if not current_app.config.get("CACHE_URL"):
        click.echo(
            "INCLUSION_CACHE_URL is not set: the figures are kept in this process only, where "
            "no web worker reads them. Set it (redis://...) here and for the web workers.",
            err=True,
        )
    looping = Looping(loop)

    def progress(ids):
        return click.progressbar(ids, label=f"Keeping figures of {len(ids)} organisations")

    while True:
        began = time.perf_counter()
        kept = keep_current(progress=None if loop else progress)
        click.echo(f"{kept} figure sets kept current in {time.perf_counter() - began:.1f} s.")
        if not loop or looping.stopping:
            break
        looping.wait(interval)
