"""Pages kept under the organisation's data version: a page opened again before anything of
its organisation changed is answered from memory, without running the app.

A signed-in page is a function of what its organisation's rows hold (and so of its data
version, ``inclusion.dataversion``), the session (the cookie), the address and browser the
session is bound to, the language asked for, the URL and the date. When a ``GET`` answered
200 with HTML, set no cookie, ran scoped to the user's one organisation and read none of the
tables that belong to no organisation (``programme``, ``invitation``, ...), the answer is
kept in this worker's memory under exactly those request parts, with the version the
request read before any of its page's rows. The next identical request is answered from it
when a single read finds the organisation's version unchanged, the date the same, the
entry younger than ``PAGE_CACHE_SECONDS`` and the session cookie not yet expired.

Why it is safe:

- The key holds the whole ``Cookie`` header, so only the very session that was served the
  page (the same signed cookie: the same user, session generation, CSRF token and flashes)
  can be served it again, from the same address and browser (``strong`` protection).
- Every committed change to the organisation's rows raises its version, and users are rows
  of their organisation: a sign-out, a new password, a role or access change, an erasure, a
  new loan, all make every kept page of the organisation unreachable, and the first request
  that finds a newer version drops them from memory.
- A request that changed the session (a flash shown, a language chosen) sends a cookie and
  is never kept; neither is one whose session is permanent (a new cookie each time), one
  that read across organisations (a commissioner's programme) or one that failed.
- The entry lives ``PAGE_CACHE_SECONDS`` at most (60 by default), so what moves with the
  clock rather than with the data ("2 minutes ago") is never older than that.

Each gunicorn worker keeps its own (``PAGE_CACHE_ENTRIES`` pages and ``PAGE_CACHE_MB`` of
them at most, least recently used first out); nothing is shared, so nothing can be stale
across workers: each reads the version afresh on every request. ``INCLUSION_PAGE_CACHE=off`` turns it off; tests run with
it off unless a test turns it on (``tests/test_page_cache.py``).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import OrderedDict
from functools import cache

from flask import current_app, g, has_request_context, request, session
from flask_login import current_user
from sqlalchemy import bindparam, event, select
from sqlalchemy.engine import Engine

from .clock import today

#: Tables without an organisation: a page that reads one depends on more than its
#: organisation's version and is never kept. Worked out from the schema at start-up.
_GLOBAL_TABLES: tuple[str, ...] | None = None
KEY = "inclusion.page_cache.key"
GLOBAL_READ = "inclusion.page_cache.global_read"
STORE = "inclusion.page_cache.store"
_listening = False


class PageCache:
    """The WSGI side: answers a kept page, or runs the app and keeps what it may."""

    def __init__(self, app, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app
        self.seconds = float(app.config["PAGE_CACHE_SECONDS"])
        self.size = int(app.config["PAGE_CACHE_ENTRIES"])
        self.max_bytes = int(app.config["PAGE_CACHE_MB"]) * 1024 * 1024
        self.bytes = 0  # of the bodies kept
        self.cookie_name = app.config.get("SESSION_COOKIE_NAME", "session")
        self.entries: OrderedDict = OrderedDict()
        self.versions: dict[int, int] = {}  # organisation -> the newest version seen
        self.lock = threading.Lock()
        self.local = threading.local()  # each thread's own connection for the version
        self._version_sql = ""

    # -- the request ------------------------------------------------------------------

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") != "GET":
            return self.wsgi_app(environ, start_response)
        cookies = environ.get("HTTP_COOKIE", "")
        if self.cookie_name + "=" not in cookies:
            return self.wsgi_app(environ, start_response)
        key = (
            cookies,
            environ.get("SCRIPT_NAME", ""),
            environ.get("PATH_INFO", ""),
            environ.get("QUERY_STRING", ""),
            environ.get("HTTP_HOST", ""),
            environ.get("wsgi.url_scheme", ""),
            environ.get("REMOTE_ADDR", ""),
            environ.get("HTTP_USER_AGENT", ""),
            environ.get("HTTP_ACCEPT_LANGUAGE", ""),
        )
        answer = self._kept(key)
        if answer is not None:
            status, headers, body = answer
            start_response(status, list(headers))
            return [body]
        environ[KEY] = key
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return start_response(status, headers, exc_info)

        result = self.wsgi_app(environ, capture)
        store = environ.get(STORE)
        if store is None or not captured.get("status", "").startswith("200"):
            return result
        if any(name.lower() == "set-cookie" for name, _ in captured["headers"]):
            return result
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        self._keep(key, store, captured["status"], list(captured["headers"]), body)
        return [body]

    # -- the store --------------------------------------------------------------------

    def _kept(self, key):
        with self.lock:
            entry = self.entries.get(key)
        if entry is None:
            return None
        organisation, version, day, until, status, headers, body = entry
        if time.monotonic() > until or day != today():
            self._drop(key)
            return None
        try:
            current = self._read_version(organisation)
        except Exception:  # a busy or lost database: let the app answer (and explain)
            return None
        if current != version:
            self._forget_organisation(organisation, current)
            return None
        with self.lock:
            if key in self.entries:
                self.entries.move_to_end(key)
        return status, headers, body

    def _keep(self, key, store, status, headers, body) -> None:
        organisation, version, day, expires_in = store
        if len(body) > self.max_bytes:
            return
        until = time.monotonic() + min(self.seconds, expires_in)
        with self.lock:
            known = self.versions.get(organisation)
            if known is not None and known > version:
                return  # already older than what another request read
            if known is not None and known < version:
                self._forget_locked(organisation, version)
            self.versions[organisation] = version
            self._pop_locked(key)
            self.entries[key] = (organisation, version, day, until, status, headers, body)
            self.bytes += len(body)
            while self.entries and (len(self.entries) > self.size or self.bytes > self.max_bytes):
                self._pop_locked(next(iter(self.entries)))

    def _pop_locked(self, key) -> None:
        entry = self.entries.pop(key, None)
        if entry is not None:
            self.bytes -= len(entry[-1])

    def _drop(self, key) -> None:
        with self.lock:
            self._pop_locked(key)

    def _forget_organisation(self, organisation: int, current: int) -> None:
        with self.lock:
            self._forget_locked(organisation, current)

    def _forget_locked(self, organisation: int, current: int) -> None:
        """A newer version: every page kept of that organisation is out of date, and goes
        (personal data that changed, or was erased, does not linger in memory)."""
        if current is None:  # the organisation is gone (bench-data --replace)
            self.versions.pop(organisation, None)
        else:
            self.versions[organisation] = max(current, self.versions.get(organisation, 0))
        for k in [k for k, e in self.entries.items() if e[0] == organisation]:
            self._pop_locked(k)

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
            self.versions.clear()
            self.bytes = 0

    def _read_version(self, organisation: int) -> int | None:
        """One read of the organisation's version on a connection of this worker's own,
        outside the pool and in autocommit (no BEGIN/ROLLBACK around it: each read sees
        everything committed before it). A failed read closes it; the next opens anew."""
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = self._connect()
        try:
            cursor = conn.cursor()
            try:
                cursor.execute(self._version_sql, (organisation,))
                row = cursor.fetchone()
            finally:
                cursor.close()
        except Exception:
            self.local.conn = None
            with contextlib.suppress(Exception):
                conn.close()
            raise
        return row[0] if row else None

    def _connect(self):
        from .extensions import db

        with self.app.app_context():
            engine = db.engine
        pooled = engine.raw_connection()
        conn = pooled.driver_connection
        pooled.detach()  # this worker's own from now on: never handed to a request
        if engine.dialect.name == "sqlite":
            conn.isolation_level = None
        else:
            conn.autocommit = True
        mark = "?" if engine.dialect.paramstyle == "qmark" else "%s"
        self._version_sql = f"SELECT data_version FROM organisation WHERE id = {mark}"
        return conn


# -- the Flask side: may this request's page be kept? ---------------------------------


def _before_request():
    if KEY not in request.environ or not current_user.is_authenticated:
        return
    from .dataversion import data_version
    from .extensions import db

    # Read before any of the page's rows: what is kept is never older than its version.
    organisation = current_user.organisation_id
    version = data_version(db.session, organisation)
    # The user was read before the version: on PostgreSQL (read committed) a sign-out or a
    # role change committed between the two reads would be kept under the newer version.
    # Read again after it, whatever was committed before is seen; anything later raises it.
    again = db.session.execute(_user_again(), {"user_id": current_user.id}).one_or_none()
    if again == (current_user.session_generation, current_user.active, current_user.role):
        g._page_cache = (organisation, version)


@cache
def _user_again():
    from .accounts.models import User

    return select(User.session_generation, User.active, User.role).where(
        User.id == bindparam("user_id")
    )


def _after_request(response):
    kept = g.pop("_page_cache", None)
    if kept is None or response.status_code != 200 or response.mimetype != "text/html":
        return response
    from .dataversion import has_uncommitted_changes
    from .extensions import db
    from .tenancy import current_scope

    environ = request.environ
    if (
        environ.get(GLOBAL_READ)
        or session.permanent
        or response.is_streamed
        or g.get("unit_of_work_refused")
        or g.get("page_cache_never")
        or current_scope(db.session) != kept[0]
        or has_uncommitted_changes(db.session)
    ):
        return response
    lifetime = current_app.permanent_session_lifetime.total_seconds()
    try:
        serializer = current_app.session_interface.get_signing_serializer(current_app)
        _, signed_at = serializer.loads(
            request.cookies[current_app.config.get("SESSION_COOKIE_NAME", "session")],
            max_age=lifetime,
            return_timestamp=True,
        )
    except Exception:
        return response
    expires_in = signed_at.timestamp() + lifetime - time.time()
    if expires_in > 0:
        environ[STORE] = (kept[0], kept[1], today(), expires_in)
    return response


def never_keep() -> None:
    """For a view whose page shows what no organisation's rows hold (call in the view)."""
    g.page_cache_never = True


def _global_tables() -> tuple[str, ...]:
    global _GLOBAL_TABLES
    if _GLOBAL_TABLES is None:
        from .extensions import db

        _GLOBAL_TABLES = tuple(
            t.name
            for t in db.metadata.sorted_tables
            if "organisation_id" not in t.c and t.name != "organisation"
        )
    return _GLOBAL_TABLES


def _watch_statements(conn, cursor, statement, parameters, context, executemany):
    if not has_request_context():
        return
    environ = request.environ
    if KEY in environ and any(name in statement for name in _global_tables()):
        environ[GLOBAL_READ] = True


def init_page_cache(app) -> None:
    """Wrap the app (inside any proxy fix, so the address is the client's) when on."""
    global _listening
    app.config.setdefault("PAGE_CACHE", not app.config.get("TESTING"))
    app.config.setdefault("PAGE_CACHE_SECONDS", 60)
    app.config.setdefault("PAGE_CACHE_ENTRIES", 256)
    app.config.setdefault("PAGE_CACHE_MB", 64)
    if not app.config["PAGE_CACHE"]:
        return
    if not _listening:
        event.listen(Engine, "before_cursor_execute", _watch_statements)
        _listening = True
    app.before_request(_before_request)
    app.after_request(_after_request)
    app.wsgi_app = app.extensions["inclusion.page_cache"] = PageCache(app, app.wsgi_app)
