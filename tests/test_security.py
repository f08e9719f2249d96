"""Headers, CSRF, cookies and configuration that protect people."""

from __future__ import annotations

import pytest

from inclusion import create_app
from inclusion.config import ConfigError
from tests.conftest import make_test_app


def test_security_headers_forbid_inline_script(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_pages_have_no_inline_script_or_style(client, db, org):
    for path in ("/", "/refer", "/login"):
        page = client.get(path).get_data(as_text=True)
        assert "<script>" not in page and " style=" not in page and "<style" not in page


def test_forms_are_protected_by_csrf(make_database, db):
    app = make_test_app(make_database("sqlite"), WTF_CSRF_ENABLED=True)
    client = app.test_client()
    response = client.post("/login", data={"email": "a@example.org", "password": "whatever-long"})
    assert response.status_code == 400
    page = client.get("/login").get_data(as_text=True)
    assert 'name="csrf_token"' in page


def test_production_refuses_to_start_without_a_secret_key(monkeypatch):
    monkeypatch.delenv("INCLUSION_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="INCLUSION_SECRET_KEY is not set"):
        create_app({"ENV": "production", "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_production_cookies_are_secure(monkeypatch):
    monkeypatch.setenv("INCLUSION_SECRET_KEY", "x" * 40)
    app = create_app({"ENV": "production", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["SESSION_COOKIE_HTTPONLY"]
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_sign_in_refuses_an_outside_redirect(app, coordinator_user):
    from tests.conftest import PASSWORD

    response = app.test_client().post(
        "/login?next=https://evil.example.com/",
        data={"email": coordinator_user.email, "password": PASSWORD},
    )
    assert response.headers["Location"].endswith("/dashboard")
