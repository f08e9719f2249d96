"""Small pieces every view uses: showing a refused rule next to its field, the
422 re-render, and the unit-of-work commit that wraps each request."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

from flask import abort, flash, g, render_template

from .errors import RuleBroken
from .extensions import db


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
    """Commit once per request when it succeeded, roll back otherwise."""

    @app.after_request
    def _commit(response):
        if response.status_code < 400 and not g.get("unit_of_work_refused"):
            db.session.commit()
        else:
            db.session.rollback()
        return response

    @app.teardown_request
    def _rollback_on_error(exc):
        if exc is not None:
            db.session.rollback()
