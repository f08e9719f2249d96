"""The one permission mechanism: named permissions granted to roles, a view
decorator that enforces them, and policy functions for single records.

Every view is decorated with :func:`requires` (or :func:`public` for pages open
to everyone), so the role-access matrix test can reason about all of them.
Records of other organisations never reach a policy function: the tenancy scope
(``inclusion.tenancy``) hides them, so they are simply not found (404).
"""

from __future__ import annotations

from functools import cache, wraps

from flask import abort, redirect, request, url_for
from flask_login import current_user

from .accounts.models import ADMIN, BUDDY, COMMISSIONER, COORDINATOR, DONOR
from .registry import registry

STAFF = frozenset({ADMIN, COORDINATOR})

# permission -> roles that hold it
PERMISSIONS: dict[str, frozenset[str]] = {
    "dashboard": frozenset({ADMIN, COORDINATOR, BUDDY, DONOR, COMMISSIONER}),
    "residents.view": STAFF,
    "residents.manage": STAFF,
    "users.manage": frozenset({ADMIN}),
    "settings.manage": frozenset({ADMIN}),
    "devices.manage": STAFF,
    "donations.manage": STAFF,
    "donations.follow": frozenset({DONOR}),
    "buddies.manage": STAFF,
    "matches.manage": STAFF,
    "skills.manage": STAFF,
    "sessions.log": frozenset({BUDDY}),
    "progress.view": frozenset({ADMIN, COORDINATOR, BUDDY}),
    "reports.view": STAFF,
    "impact.view": frozenset({DONOR}),
    "api_keys.manage": frozenset({ADMIN}),
    "data_protection.manage": STAFF,
    # Outcome questions: staff, and a buddy for a resident matched to them (policy function).
    "outcomes.record": frozenset({ADMIN, COORDINATOR, BUDDY}),
    # Aggregates across the commissioner's programme, small numbers always suppressed.
    "programme.view": frozenset({COMMISSIONER}),
    "messages.manage": STAFF,
    "message_texts.manage": frozenset({ADMIN}),
}


def has_permission(user, permission: str) -> bool:
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")
    return permission in held_permissions(user)


def held_permissions(user) -> frozenset[str]:
    """Every permission ``user`` holds (what :func:`has_permission` answers yes to)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return frozenset()
    return _role_permissions(user.role)


@cache
def _role_permissions(role: str) -> frozenset[str]:
    return frozenset(p for p, roles in PERMISSIONS.items() if role in roles)


def requires(permission: str):
    """View decorator: sign-in required, then ``permission`` required (403 otherwise)."""
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
            if not has_permission(current_user, permission):
                abort(403)
            return view(*args, **kwargs)

        wrapped.permission = permission
        return wrapped

    return decorator


def public(view):
    """Mark a view as open to everyone, signed in or not (no personal data on it)."""
    view.permission = None
    return view


def authorize(allowed: bool) -> None:
    """Refuse the request unless a policy function said yes."""
    if not allowed:
        abort(403)


# ---- policy functions for single records -----------------------------------------


def can_view_resident(user, resident) -> bool:
    """Staff see every resident of their organisation; a buddy only residents
    matched to them (decided by the buddies package); donors never."""
    if not (user and user.is_authenticated) or resident.organisation_id != user.organisation_id:
        return False
    if user.role in STAFF:
        return True
    if user.role == BUDDY:
        return buddy_is_matched(user, resident)
    return False


def can_manage_resident(user, resident) -> bool:
    return has_permission(user, "residents.manage") and can_view_resident(user, resident)


def buddy_is_matched(user, resident) -> bool:
    """True when ``user`` is the IT buddy of an active match with ``resident``."""
    return any(check(user, resident) for check in registry().resident_access)


def can_manage_user(admin, user) -> bool:
    return has_permission(admin, "users.manage") and user.organisation_id == admin.organisation_id
