"""The reports' figures, kept under the organisation's data version.

``report_figures`` reads every loan, session and checkpoint of the period: about a second at
the benchmark's scale. The figures only change when the organisation's rows do, so they are
kept under ``(organisation, data_version, start, end, today)`` (today: "on loan now" and
"overdue" move with the date) and computed again only after a change is committed
(``inclusion.dataversion``, ``inclusion.kept``). The store is this process's memory (a small LRU, one per gunicorn
worker), or Redis shared by every worker when ``INCLUSION_CACHE_URL`` is set. A transaction
with changes not yet committed always computes its own figures.
"""

from __future__ import annotations

from datetime import date

from ..kept import forget_all, kept
from .queries import report_figures

__all__ = ["figures_for", "forget_all"]


def figures_for(organisation_id: int, start: date, end: date) -> dict:
    """``report_figures(organisation_id, start, end)``, from the cache when nothing changed."""
    return kept(
        "report",
        organisation_id,
        lambda: report_figures(organisation_id, start, end),
        start,
        end,
    )
