"""The daily reminders: each feature's reminder source queues its own (loans due and
overdue, data bundles expiring, DBS renewals), idempotently, through ``queue()``."""

from __future__ import annotations

from datetime import date

from ..clock import today
from ..extensions import db
from ..registry import registry
from ..tenancy import scope_session


def queue_reminders(as_of: date | None = None) -> dict[str, int]:
    """Run every registered reminder source for ``as_of`` (default today), across every
    organisation; returns how many each queued."""
    as_of = as_of or today()
    scope_session(db.session, None)
    counts = {}
    for source in registry().reminder_sources:
        label = getattr(source, "label", None) or source.__name__.replace("_", " ")
        counts[label] = counts.get(label, 0) + int(source(as_of) or 0)
    db.session.flush()
    return counts
