"""Small pieces every view uses: showing a refused rule next to its field, the
422 re-render, and the unit-of-work commit that wraps each request."""

from __future__ import annotations

from flask import abort, render_template

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
        if response.status_code < 400:
            db.session.commit()
        else:
            db.session.rollback()
        return response

    @app.teardown_request
    def _rollback_on_error(exc):
        if exc is not None:
            db.session.rollback()
