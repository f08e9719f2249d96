"""The reports' figures, kept under the organisation's data version.

``report_figures`` reads every loan, session and checkpoint of the period: about a second at
the benchmark's scale. The figures only change when the organisation's rows do, so they are
kept under ``(organisation, data_version, start, end, today)`` (today: "on loan now" and
"overdue" move with the date) and computed again only after a change is committed
(``inclusion.dataversion``). The store is this process's memory (a small LRU, one per gunicorn
worker), or Redis shared by every worker when ``INCLUSION_CACHE_URL`` is set. A transaction
with changes not yet committed always computes its own figures.
"""

from __future__ import annotations

import logging
import pickle
import threading
from collections import OrderedDict
from datetime import date

from flask import current_app

from ..clock import today
from ..dataversion import data_version, has_uncommitted_changes
from ..extensions import db
from .queries import report_figures

log = logging.getLogger(__name__)
KEPT = 64  # figure sets per worker process
EXPIRES = 7 * 24 * 3600  # seconds in Redis; a new version makes old keys unreachable anyway


class _Memory:
    def __init__(self, size: int):
        self.size, self.items, self.lock = size, OrderedDict(), threading.Lock()

    def get(self, key):
        with self.lock:
            value = self.items.get(key)
            if value is not None:
                self.items.move_to_end(key)
            return value

    def set(self, key, value) -> None:
        with self.lock:
            self.items[key] = value
            self.items.move_to_end(key)
            while len(self.items) > self.size:
                self.items.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.items.clear()


class _Redis:
    def __init__(self, url: str):
        import redis

        self.client = redis.Redis.from_url(url)

    def get(self, key):
        return self.client.get(key)

    def set(self, key, value) -> None:
        self.client.set(key, value, ex=EXPIRES)

    def clear(self) -> None:
        for key in self.client.scan_iter("inclusion:figures:*"):
            self.client.delete(key)


def _store(app):
    store = app.extensions.get("inclusion.figures")
    if store is None:
        url = app.config.get("CACHE_URL") or ""
        store = _Redis(url) if url.startswith(("redis://", "rediss://", "unix://")) else None
        store = store or _Memory(KEPT)
        app.extensions["inclusion.figures"] = store
    return store


def figures_for(organisation_id: int, start: date, end: date) -> dict:
    """``report_figures(organisation_id, start, end)``, from the cache when nothing changed."""
    session = db.session
    if has_uncommitted_changes(session):
        return report_figures(organisation_id, start, end)
    # The version is read before the figures: a change committed while they are computed
    # has already raised it, so figures that may miss that change are kept only under the
    # old version, which no later request asks for.
    version = data_version(session, organisation_id)
    key = f"inclusion:figures:{organisation_id}:{version}:{start}:{end}:{today()}"
    store = _store(current_app)
    try:
        cached = store.get(key)
    except Exception:  # Redis down: compute, never fail the page
        log.warning("report figures cache unavailable", exc_info=True)
        return report_figures(organisation_id, start, end)
    if cached is not None:
        return pickle.loads(cached)  # a fresh copy: callers may change what they get
    figures = report_figures(organisation_id, start, end)
    try:
        store.set(key, pickle.dumps(figures, protocol=pickle.HIGHEST_PROTOCOL))
    except Exception:
        log.warning("report figures cache unavailable", exc_info=True)
    return figures


def forget_all(app) -> None:
    """Empty the cache (tests; after restoring a backup into a running deployment)."""
    _store(app).clear()
