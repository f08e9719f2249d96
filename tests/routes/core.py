"""Core routes: home, sign-in, users and settings, residents and referrals."""

from __future__ import annotations

from tests.factories import ResidentFactory, UserFactory

from . import DENY, LOGIN, MISSING, OK, Route, admin_only, public, signed_in, staff


def arrange(world) -> None:
    world.resident_ref = ResidentFactory(organisation=world.org).reference
    world.org_code = world.org.code.lower()  # its public links: /o/<code>/refer …
    world.user_id = UserFactory(organisation=world.org, role="coordinator").id
    world.token = "not-a-real-token"


ROUTES = [
    public("static", "/static/app.css"),
    public("main.home", "/"),
    signed_in("main.dashboard", "/dashboard"),
    public("accounts.login", "/login"),
    public("accounts.login", "/login", "POST"),
    signed_in("accounts.logout", "/logout", "POST", anon=LOGIN),
    # an unknown token is "not found" for everyone: the page exists but the link does not
    Route(
        "accounts.accept_invitation",
        "/invitations/{token}",
        anon=MISSING,
        admin=MISSING,
        coordinator=MISSING,
        buddy=MISSING,
        donor=MISSING,
        other=MISSING,
        commissioner=MISSING,
    ),
    Route(
        "accounts.accept_invitation",
        "/invitations/{token}",
        "POST",
        anon=MISSING,
        admin=MISSING,
        coordinator=MISSING,
        buddy=MISSING,
        donor=MISSING,
        other=MISSING,
        commissioner=MISSING,
    ),
    admin_only("accounts.users", "/admin/users"),
    admin_only("accounts.invite", "/admin/users/invite"),
    admin_only("accounts.invite", "/admin/users/invite", "POST"),
    admin_only("accounts.user_detail", "/admin/users/{user_id}"),
    admin_only("accounts.user_detail", "/admin/users/{user_id}", "POST"),
    admin_only("accounts.set_active", "/admin/users/{user_id}/active", "POST"),
    admin_only("accounts.reinvite", "/admin/users/{user_id}/invitation", "POST"),
    admin_only("accounts.end_sessions", "/admin/users/{user_id}/sessions", "POST"),
    admin_only("accounts.settings", "/admin/settings"),
    admin_only("accounts.settings", "/admin/settings", "POST"),
    public("residents.refer", "/refer"),
    public("residents.refer", "/refer", "POST"),
    public("residents.refer", "/o/{org_code}/refer"),
    public("residents.refer", "/o/{org_code}/refer", "POST"),
    # with no referral in the session it sends you to the form
    public("residents.referral_received", "/refer/received"),
    staff("residents.index", "/residents"),
    staff("residents.new", "/residents/new"),
    staff("residents.new", "/residents/new", "POST"),
    staff("residents.detail", "/residents/{resident_ref}", record=True),
    staff("residents.edit", "/residents/{resident_ref}/edit", record=True),
    staff("residents.edit", "/residents/{resident_ref}/edit", "POST", record=True),
    staff("residents.change_status", "/residents/{resident_ref}/status", "POST", record=True),
    staff("residents.record_steps", "/residents/{resident_ref}/steps", "POST", record=True),
    staff(
        "residents.resolve_duplicate", "/residents/{resident_ref}/duplicate", "POST", record=True
    ),
]

__all__ = ["ROUTES", "arrange", "OK", "DENY", "LOGIN", "MISSING"]
