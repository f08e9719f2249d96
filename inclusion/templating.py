"""Jinja set-up: the navigation for each role, permission checks and formats."""

from __future__ import annotations

from datetime import date, datetime

from flask_login import current_user

from .permissions import has_permission
from .registry import registry


def _fmt_date(value, fmt="%d %b %Y"):
    if value is None or value == "":
        return ""
    if isinstance(value, datetime | date):
        return value.strftime(fmt)
    return str(value)


def _fmt_datetime(value):
    return _fmt_date(value, "%d %b %Y %H:%M")


def init_templating(app) -> None:
    app.jinja_env.filters["date"] = _fmt_date
    app.jinja_env.filters["datetime"] = _fmt_datetime
    app.jinja_env.globals["can"] = lambda permission: has_permission(current_user, permission)
    contributions = registry(app)
    # What features registered: their template helpers, and the lists the layout iterates.
    app.jinja_env.globals.update(contributions.template_helpers)
    app.jinja_env.globals["contributions"] = contributions

    @app.context_processor
    def _navigation():
        if not current_user.is_authenticated:
            return {"navigation": [], "admin_navigation": []}

        def allowed(entries):
            return [
                (e.endpoint, e.label) for e in entries if has_permission(current_user, e.permission)
            ]

        return {
            "navigation": allowed(contributions.navigation),
            "admin_navigation": allowed(contributions.admin_navigation),
        }
