"""Every route × every role: allowed or refused, exactly as the matrix says.

A rule in ``app.url_map`` that is missing from ``tests/routes`` fails the test,
so a new page cannot ship without deciding who may see it.
"""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import tests.routes as routes_pkg
from tests.conftest import sign_in
from tests.routes import DENY, LOGIN, MISSING, OK, ROLES, World


def _modules():
    return [
        importlib.import_module(f"tests.routes.{m.name}")
        for m in pkgutil.iter_modules(routes_pkg.__path__)
    ]


def all_routes():
    return [route for module in _modules() for route in module.ROUTES]


def test_every_rule_is_in_the_matrix(app):
    listed = {(r.endpoint, r.method) for r in all_routes()}
    missing = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if (rule.endpoint, method) not in listed:
                missing.append(f"{method} {rule.rule} ({rule.endpoint})")
    assert not missing, "routes missing from tests/routes: " + ", ".join(missing)
    known = {rule.endpoint for rule in app.url_map.iter_rules()}
    stale = sorted({r.endpoint for r in all_routes()} - known)
    assert not stale, f"matrix lists endpoints the app does not have: {stale}"


def _outcome(response) -> str:
    code = response.status_code
    if code in (301, 302, 303, 307, 308):
        return LOGIN if "/login" in response.headers.get("Location", "") else OK
    if code == 403:
        return DENY
    if code == 404:
        return MISSING
    if code < 300 or code in (400, 422):
        return OK
    return f"HTTP {code}"


def _speaks(app, route, response, language: str) -> bool:
    """A public page (one anyone may open) drawn as HTML speaks the language of the
    cookie, with its direction: ``<html lang="ur" dir="rtl">``. Staff pages stay English."""
    from inclusion.i18n import LANGUAGES

    view = app.view_functions.get(route.endpoint)
    if getattr(view, "permission", "") is not None or response.status_code != 200:
        return True
    if response.mimetype != "text/html":
        return True
    lang = LANGUAGES[language]
    return f'<html lang="{lang.code}" dir="{lang.dir}"' in response.get_data(as_text=True)


@pytest.mark.parametrize("language", ["en", "ur"])  # and once right to left, in Urdu
@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(
    app,
    db,
    role,
    language,
    org,
    other_org,
    admin_user,
    coordinator_user,
    buddy_user,
    donor_user,
    other_coordinator_user,
    commissioner_user,
):
    users = {
        "admin": admin_user,
        "coordinator": coordinator_user,
        "buddy": buddy_user,
        "donor": donor_user,
        "other": other_coordinator_user,
        "commissioner": commissioner_user,
    }
    world = World(org, other_org, users)
    for module in _modules():
        module.arrange(world)
    db.session.flush()
    client = app.test_client() if role == "anon" else sign_in(app, users[role])
    client.set_cookie("lang", language)
    failures = []
    for route in all_routes():
        url = world.url(route)
        response = client.open(url, method=route.method, data=route.data)
        got, want = _outcome(response), route.expect(role)
        if got != want:
            failures.append(f"{route.method} {url}: expected {want}, got {got}")
        elif language != "en" and not _speaks(app, route, response, language):
            failures.append(f"{route.method} {url}: a public page not drawn in {language}")
        if route.endpoint == "accounts.logout" and got == OK and role != "anon":
            client = sign_in(app, users[role])  # signed out by the route itself
            client.set_cookie("lang", language)
    assert not failures, f"as {role}:\n" + "\n".join(failures)
