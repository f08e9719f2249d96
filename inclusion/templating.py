"""Jinja set-up: the navigation for each role, permission checks and formats."""

from __future__ import annotations

from datetime import date, datetime

from flask import request
from flask_login import current_user

from .permissions import has_permission, held_permissions
from .registry import registry
from .validators import display_phone


def _fmt_date(value, fmt="%d %b %Y"):
    if value is None or value == "":
        return ""
    if isinstance(value, datetime | date):
        return value.strftime(fmt)
    return str(value)


def _fmt_datetime(value):
    return _fmt_date(value, "%d %b %Y %H:%M")


def status_label(value) -> str:
    """One way of writing a status on screen: sentence case, words not keys
    (``on_loan`` -> "On loan", ``referred`` -> "Referred")."""
    if value is None:
        return ""
    return str(value).replace("_", " ").strip().capitalize()


def phone_label(value) -> str:
    """A phone number on screen, written the one way (``validators.display_phone``:
    ``+447911123408`` -> "07911 123408"); anything that is not one is shown as typed."""
    text = (value or "").strip()
    return display_phone(text) or text


def init_templating(app) -> None:
    app.jinja_env.filters["date"] = _fmt_date
    app.jinja_env.filters["datetime"] = _fmt_datetime
    app.jinja_env.filters["status"] = status_label
    app.jinja_env.filters["phone"] = phone_label
    app.jinja_env.globals["can"] = lambda permission: has_permission(current_user, permission)
    contributions = registry(app)
    # What features registered: their template helpers, and the lists the layout iterates.
    app.jinja_env.globals.update(contributions.template_helpers)
    app.jinja_env.globals["contributions"] = contributions

    # A menu depends only on the permissions its user holds, i.e. on the role: built once
    # per role and page, not on every request.
    menus: dict[tuple, tuple] = {}

    @app.context_processor
    def _navigation():
        if not current_user.is_authenticated:
            return {"menu": [], "menu_current": None}
        held = held_permissions(current_user)
        key = (held, request.endpoint, request.blueprint)
        found = menus.get(key)
        if found is None:
            menu = contributions.menu(held.__contains__)
            # The group the page shown belongs to: its other pages are the row under the menu.
            exact = [item for item in menu if request.endpoint in item.endpoints]
            near = [item for item in menu if item.is_current(request.endpoint, request.blueprint)]
            found = menus[key] = (menu, (exact or near or [None])[0])
        menu, current = found
        return {"menu": menu, "menu_current": current}
