"""Jinja set-up: the navigation for each role, permission checks and formats."""

from __future__ import annotations

from datetime import date, datetime

from flask_login import current_user

from .permissions import has_permission

# (permission, endpoint, label): the base layout shows the entries a user holds.
# Packages append their own entries in their ``init_app``.
NAVIGATION: list[tuple[str, str, str]] = [
    ("dashboard", "main.dashboard", "Home"),
    ("residents.view", "residents.index", "Residents"),
]
ADMIN_NAVIGATION: list[tuple[str, str, str]] = [
    ("users.manage", "accounts.users", "Users"),
    ("settings.manage", "accounts.settings", "Settings"),
]


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

    @app.context_processor
    def _navigation():
        if not current_user.is_authenticated:
            return {"navigation": [], "admin_navigation": []}
        return {
            "navigation": [
                (e, label) for p, e, label in NAVIGATION if has_permission(current_user, p)
            ],
            "admin_navigation": [
                (e, label) for p, e, label in ADMIN_NAVIGATION if has_permission(current_user, p)
            ],
        }
