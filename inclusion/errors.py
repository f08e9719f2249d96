"""Errors a service raises when a rule refuses a change, and the error pages.

The error pages must never fail themselves. A database that is down, read-only, locked or
full leaves the request's session needing a rollback, and the normal layout reads the
signed-in user (organisation, navigation) from it: so the session is rolled back first,
and a 500 is drawn from a layout that touches no database and runs no context processor.
A public form that registered itself with :func:`keep_typed` is shown again instead, with
what was typed and a "we could not save this" message.
"""

from __future__ import annotations

import logging

from flask import g, render_template
from flask_babel import lazy_gettext as _
from markupsafe import escape
from sqlalchemy.exc import SQLAlchemyError

from .i18n import current_language

log = logging.getLogger(__name__)


class RuleBroken(Exception):
    """A business rule refused the change; ``field`` names the form field to blame."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


SAVE_FAILED = "We could not save this, please try again. What you typed is still here."
# The same message in the visitor's language, as the form shows it.
_SAVE_FAILED_SHOWN = _("We could not save this, please try again. What you typed is still here.")

MESSAGES = {
    400: (_("Something was wrong with that request"), _("Go back and try again.")),
    403: (
        _("You do not have access to this page"),
        _("Ask a coordinator or admin if you need it."),
    ),
    404: (_("Page not found"), _("Check the address, or use the menu.")),
    405: (_("That action is not allowed here"), _("Use the buttons on the page.")),
    413: (_("That is too large to send"), ""),
    429: (
        _("Too many attempts"),
        _("For your security, please wait a minute before trying again."),
    ),
    500: (_("Something went wrong"), _("Nothing was saved. Please try again.")),
}


def keep_typed(form, template: str, **context) -> None:
    """Before a public form's save: should the database fail, show ``template`` again with
    ``form`` (what was typed) and :data:`SAVE_FAILED`, instead of the error page."""
    g.keep_typed = (form, template, context)


def _rollback() -> None:
    from .extensions import db

    try:
        db.session.rollback()
    except Exception:  # a dead connection may refuse even the rollback
        log.exception("rollback before an error page failed")


def minimal_page(code: int, title: str, detail: str) -> str:
    """The error page drawn without the database: no user, no navigation, no flashes."""
    from flask import current_app

    try:
        # In the visitor's language (inclusion.i18n.select_locale), passed in: no
        # context processor runs here.
        template = current_app.jinja_env.get_template("errors/minimal.html")
        return template.render(code=code, title=title, detail=detail, language=current_language())
    except Exception:
        log.exception("the minimal error page failed")
        return (
            f'<!doctype html><html lang="en-GB"><head><meta charset="utf-8">'
            f"<title>{escape(title)}</title></head><body><main><h1>{escape(title)}</h1>"
            f'<p>{escape(detail)}</p><p><a href="/">Go to the start page</a></p></main></body></html>'
        )


def _show_form_again(original: BaseException | None):
    kept = g.pop("keep_typed", None)
    if kept is None or not isinstance(original, SQLAlchemyError | OSError):
        return None
    form, template, context = kept
    try:
        form.form_errors.append(_SAVE_FAILED_SHOWN)
        return render_template(template, form=form, **context), 503
    except Exception:
        log.exception("showing %s again after a failed save failed", template)
        _rollback()
        return None


def _page(code: int, detail: str | None = None):
    title, default_detail = MESSAGES[code]
    detail = default_detail if detail is None else detail
    if code < 500:
        try:
            return render_template("error.html", code=code, title=title, detail=detail), code
        except Exception:
            log.exception("the %s page failed; drawing it without the database", code)
            _rollback()
    return minimal_page(code, title, detail), code


def init_error_pages(app) -> None:
    from .uploads import too_large_message

    def handler(code):
        def _render(err):
            if code >= 500:
                _rollback()
                shown = _show_form_again(getattr(err, "original_exception", None))
                if shown is not None:
                    return shown
            if code == 413:
                return _page(code, too_large_message())
            return _page(code)

        return _render

    for code in MESSAGES:
        app.register_error_handler(code, handler(code))
