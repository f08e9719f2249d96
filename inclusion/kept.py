"""Figures kept under the organisation's data version (``inclusion.dataversion``).

Counts that read many rows (the reports' figures, the home page's panels) only change when
the organisation's rows do, so :func:`kept` keeps what ``compute()`` returned under
``(name, organisation, data_version, today, *parts)`` (today: "overdue" and "due soon" move
with the date) and computes it again only after a change is committed. The store is this
process's memory (a small LRU, one per gunicorn worker), or Redis shared by every worker
when ``INCLUSION_CACHE_URL`` is set. A transaction with changes not yet committed, and a
session not scoped to one organisation, always compute their own. Values are pickled, so
keep plain data (numbers, dicts, lists), never ORM objects.
"""

from __future__ import annotations

import logging
import pickle
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TypeVar

from flask import current_app

from .clock import today
from .dataversion import data_version, has_uncommitted_changes
from .extensions import db
from .tenancy import current_scope

log = logging.getLogger(__name__)
KEPT = 256  # values per worker process
EXPIRES = 7 * 24 * 3600  # seconds in Redis; a new version makes old keys unreachable anyway
PREFIX = "inclusion:figures:"

T = TypeVar("T")


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
        for key in self.client.scan_iter(PREFIX + "*"):
            self.client.delete(key)


def _store(app):
    store = app.extensions.get("inclusion.figures")
    if store is None:
        url = app.config.get("CACHE_URL") or ""
        store = _Redis(url) if url.startswith(("redis://", "rediss://", "unix://")) else None
        store = store or _Memory(KEPT)
        app.extensions["inclusion.figures"] = store
    return store


def kept(name: str, organisation_id: int | None, compute: Callable[[], T], *parts) -> T:
    """``compute()``, from the store when nothing of ``organisation_id`` changed since it
    was kept. ``organisation_id=None`` (no single organisation): always computed."""
    session = db.session
    if organisation_id is None or has_uncommitted_changes(session):
        return compute()
    # The version is read before the value: a change committed while it is computed has
    # already raised it, so a value that may miss that change is kept only under the old
    # version, which no later request asks for.
    version = data_version(session, organisation_id)
    key = ":".join(str(p) for p in (PREFIX + name, organisation_id, version, today(), *parts))
    store = _store(current_app)
    try:
        cached = store.get(key)
    except Exception:  # Redis down: compute, never fail the page
        log.warning("figures cache unavailable", exc_info=True)
        return compute()
    if cached is not None:
        return pickle.loads(cached)  # a fresh copy: callers may change what they get
    value = compute()
    try:
        store.set(key, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
    except Exception:
        log.warning("figures cache unavailable", exc_info=True)
    return value


def kept_for_scope(name: str, compute: Callable[[], T], *parts) -> T:
    """:func:`kept` for the organisation the session is scoped to (a signed-in request);
    computed every time when the session is unscoped or scoped to several."""
    scope = current_scope(db.session)
    return kept(name, scope if isinstance(scope, int) else None, compute, *parts)


def forget_all(app) -> None:
    """Empty the store (tests; after restoring a backup into a running deployment)."""
    _store(app).clear()
