"""Referral API routes: admin pages for keys, the JSON endpoint and its OpenAPI document."""

from __future__ import annotations

from inclusion.api import service

from . import Route, admin_only, public

# The JSON endpoint ignores sessions: without an API key every caller gets 401.
NO_KEY = "HTTP 401"


def arrange(world) -> None:
    key, _secret = service.create_key(world.org, "Matrix surgery", by=None)
    world.api_key_id = key.id


ROUTES = [
    admin_only("api.keys", "/admin/api-keys"),
    admin_only("api.new_key", "/admin/api-keys/new"),
    admin_only("api.new_key", "/admin/api-keys/new", "POST"),
    admin_only("api.revoke_key", "/admin/api-keys/{api_key_id}/revoke"),
    admin_only("api.revoke_key", "/admin/api-keys/{api_key_id}/revoke", "POST"),
    Route(
        "api.create_referral",
        "/api/referrals",
        "POST",
        anon=NO_KEY,
        admin=NO_KEY,
        coordinator=NO_KEY,
        buddy=NO_KEY,
        donor=NO_KEY,
        other=NO_KEY,
        commissioner=NO_KEY,
    ),
    Route(
        "api.referral_outcome",
        "/api/referrals/{resident_ref}/outcome",
        anon=NO_KEY,
        admin=NO_KEY,
        coordinator=NO_KEY,
        buddy=NO_KEY,
        donor=NO_KEY,
        other=NO_KEY,
        commissioner=NO_KEY,
    ),
    public("api.openapi", "/api/openapi.json"),
]
