"""Small pieces every view uses: showing a refused rule next to its field, the
422 re-render, and the unit-of-work commit that wraps each request (run again when
SQLite was busy, then a "busy, please try again" page that keeps what was typed)."""

from __future__ import annotations

import io
import json
import random
import time
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass

from flask import Response, abort, current_app, flash, g, render_template, request
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from .errors import RuleBroken
from .extensions import db
from .i18n import in_language, language_without_database
from .transactions import WRITE_METHODS, is_busy


def show_rule_error(form, err: RuleBroken) -> None:
    """Put a service's refusal next to the field it names (or above the form)."""
    field = getattr(form, err.field, None) if err.field else None
    if field is not None and hasattr(field, "errors"):
        if not isinstance(field.errors, list):
            field.errors = list(field.errors)
        field.errors.append(err.message)
    else:
        form.form_errors.append(err.message)


@dataclass
class Attempt:
    """What ``attempt()`` saw: ``refused`` holds the service's refusal, if any."""

    error: RuleBroken | None = None

    @property
    def refused(self) -> bool:
        return self.error is not None


def refuse_unit_of_work() -> None:
    """Undo everything this request changed and make sure nothing of it is committed."""
    db.session.rollback()
    g.unit_of_work_refused = True


@contextmanager
def attempt(form=None, *, flash_message: bool = True):
    """The try-service / catch-refusal / show-error shape every writing view has.

    ``with attempt(form) as outcome: service.do(...)``, then ``if outcome.refused:``
    re-render. A refusal rolls back what the service changed before it refused and
    marks the request so the unit of work never commits; the message goes next to
    the field it names on ``form``, or is flashed when there is no form. A view that
    shows the message itself (a JSON problem, a list of errors on the page) passes
    ``flash_message=False`` and reads ``outcome.error``.
    """
    outcome = Attempt()
    try:
        yield outcome
    except RuleBroken as err:
        refuse_unit_of_work()
        outcome.error = err
        if form is not None:
            show_rule_error(form, err)
        elif flash_message:
            flash(err.message, "error")


def invalid(template: str, **context):
    """Re-render a form with its errors; 422 so nothing in the request is committed."""
    return render_template(template, **context), 422


def get_or_404(stmt):
    """One scoped record or 404 (other organisations' records are never found)."""
    obj = db.session.scalar(stmt)
    if obj is None:
        abort(404)
    return obj


def init_unit_of_work(app) -> None:
    """Commit once per request when it succeeded, roll back otherwise; a database that
    stayed busy runs the request again, then answers the busy page."""

    @app.after_request
    def _commit(response):
        if response.status_code < 400 and not g.get("unit_of_work_refused"):
            try:
                db.session.commit()
            except OperationalError as err:
                if not is_busy(err):
                    raise
                db.session.rollback()
                # In place, so the headers other after-request rules set stay.
                _become_busy_page(response)
        else:
            db.session.rollback()
        return response

    @app.errorhandler(OperationalError)
    def _busy(err):
        if not is_busy(err):
            raise err
        db.session.rollback()
        response = Response(status=503)
        _become_busy_page(response)
        return response

    if make_url(app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name() == "sqlite":
        app.wsgi_app = _RetryWhenBusy(app, app.wsgi_app)

    @app.teardown_request
    def _rollback_on_error(exc):
        if exc is not None:
            db.session.rollback()


# ---- a busy SQLite database ------------------------------------------------------------

#: Marks a busy page for _RetryWhenBusy; never leaves the application.
BUSY_HEADER = "X-Inclusion-Busy"
_PASSWORD_HINT = "password"


def _busy_page_html() -> str:
    # Straight from the Jinja environment: context processors (the navigation) would
    # read the signed-in user from a database that is busy. Nor is the language read
    # from it: a write request's every transaction waits for the write lock.
    form = request.form if request.method in WRITE_METHODS else None
    fields, passwords, typed = [], [], []
    for name, values in form.lists() if form is not None else ():
        if _PASSWORD_HINT in name.lower():
            passwords.append(name)  # never echoed into a page; typed again instead
            continue
        for value in values:
            fields.append((name, value))
            if value.strip() and name != "csrf_token":
                typed.append((name.replace("_", " ").capitalize(), value))
    template = current_app.jinja_env.get_template("errors/busy.html")
    language = language_without_database()
    with in_language(language.code):
        return template.render(
            language=language,
            method=request.method,
            action=request.full_path.rstrip("?"),
            fields=fields,
            passwords=passwords,
            typed=typed,
            lost_files=bool(form is not None and request.files),
        )


def _become_busy_page(response: Response) -> None:
    """Turn ``response`` into the 503 "busy, please try again" page."""
    response.status_code = 503
    response.direct_passthrough = False
    for header in ("Location", "Content-Disposition", "ETag", "Last-Modified"):
        response.headers.pop(header, None)
    if request.is_json or request.accept_mimetypes.best == "application/json":
        # A partner system (the referral API) retries by itself.
        response.set_data(json.dumps({"error": "The database is busy, please try again."}))
        response.mimetype = "application/json"
    else:
        response.set_data(_busy_page_html())
        response.mimetype = "text/html"
    response.headers["Retry-After"] = "2"
    response.headers[BUSY_HEADER] = "1"


class _RetryWhenBusy:
    """WSGI middleware: a request that found SQLite busy runs again, from the start and
    in a fresh context, up to ``BUSY_ATTEMPTS`` times, after a short random pause (so
    the writers that collided do not collide again). The last busy answer goes out as
    it is, without cookies: a request that changed nothing leaves the session as it was.
    """

    def __init__(self, app, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        attempts = self.app.config["BUSY_ATTEMPTS"]
        body = self._replayable_body(environ)
        if body is None:
            attempts = 1
        for n in range(1, attempts + 1):
            env = dict(environ)
            if body:
                env["wsgi.input"] = io.BytesIO(body)
            seen = {}

            def capture(status, headers, exc_info=None, seen=seen):
                seen.update(status=status, headers=headers, exc_info=exc_info)
                return lambda data: None

            # A fresh context for a second attempt: nothing of the first (g, the
            # session's objects) may leak into it.
            with self.app.app_context() if n > 1 else nullcontext():
                result = self.wsgi_app(env, capture)
            headers = seen["headers"]
            busy = any(k.lower() == BUSY_HEADER.lower() for k, _ in headers)
            if busy and n < attempts:
                if hasattr(result, "close"):
                    result.close()
                time.sleep(random.uniform(0.02, 0.1) * n)
                continue
            if busy:
                drop = {BUSY_HEADER.lower(), "set-cookie"}
                headers = [(k, v) for k, v in headers if k.lower() not in drop]
            start_response(seen["status"], headers, seen["exc_info"])
            return result
        raise AssertionError("unreachable")

    def _replayable_body(self, environ) -> bytes | None:
        """The request body, kept so the request can run again (``b""`` when it has
        none); ``None`` when it cannot be kept (streamed, or over the size limit)."""
        length = environ.get("CONTENT_LENGTH") or ""
        if not length.strip():
            if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
                return None
            return b""
        try:
            size = int(length)
        except ValueError:
            return None
        limit = self.app.config.get("MAX_CONTENT_LENGTH") or 16 * 1024 * 1024
        if size <= 0:
            return b""
        if size > limit:
            return None  # let the application refuse it as too large, unread
        return environ["wsgi.input"].read(size)
