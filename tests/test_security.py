"""Headers, CSRF, cookies and configuration that protect people."""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from inclusion import create_app
from inclusion.config import ConfigError, load_config
from tests.conftest import IN_CI, PASSWORD, make_test_app
from tests.factories import OrganisationFactory, UserFactory


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
    monkeypatch.setenv("INCLUSION_SECRET_KEY", secrets.token_urlsafe(48))
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


# ---- sessions, proxies and the production set-up ------------------------------------------

BROWSER = {"User-Agent": "Mozilla/5.0 (the victim's browser)"}


def _dashboard_with(app, cookie, **request):
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    return thief.get("/dashboard", headers=BROWSER | request.pop("headers", {}), **request)


def test_x_forwarded_for_cannot_undo_strong_session_protection(app, db, coordinator_user):
    victim = app.test_client()
    victim.post(
        "/login",
        data={"email": coordinator_user.email, "password": PASSWORD},
        headers=BROWSER,
        environ_base={"REMOTE_ADDR": "198.51.100.20"},
    )
    cookie = victim.get_cookie("session").value
    at_home = _dashboard_with(app, cookie, environ_base={"REMOTE_ADDR": "198.51.100.20"})
    assert at_home.status_code == 200

    # Same stolen cookie and browser string, from another address, claiming the victim's.
    forged = _dashboard_with(
        app,
        cookie,
        headers={"X-Forwarded-For": "198.51.100.20"},
        environ_base={"REMOTE_ADDR": "203.0.113.66"},
    )
    assert forged.status_code == 302 and "/login" in forged.headers["Location"]


def test_behind_a_trusted_proxy_only_the_address_it_adds_counts(make_database, monkeypatch):
    app = make_test_app(make_database("sqlite"), TRUSTED_PROXIES=1)
    with app.app_context():
        user = UserFactory(organisation=OrganisationFactory(), role="coordinator")
        email = user.email
        from inclusion.extensions import db as _db

        _db.session.commit()
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    victim = app.test_client()
    signed_in = victim.post(
        "/login",
        data={"email": email, "password": PASSWORD},
        headers=BROWSER | {"X-Forwarded-For": "198.51.100.20"},
        environ_base=proxy,
    )
    assert signed_in.status_code == 302
    cookie = victim.get_cookie("session").value
    through_proxy = _dashboard_with(
        app, cookie, headers={"X-Forwarded-For": "198.51.100.20"}, environ_base=proxy
    )
    assert through_proxy.status_code == 200, "the proxy's X-Forwarded-For is believed"
    # The attacker's own header comes first; the proxy appends the real address.
    forged = _dashboard_with(
        app,
        cookie,
        headers={"X-Forwarded-For": "198.51.100.20, 203.0.113.66"},
        environ_base=proxy,
    )
    assert forged.status_code == 302


def test_trusted_proxies_is_read_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("INCLUSION_TRUSTED_PROXIES", "2")
    assert load_config(str(tmp_path))["TRUSTED_PROXIES"] == 2
    monkeypatch.setenv("INCLUSION_TRUSTED_PROXIES", "many")
    with pytest.raises(ConfigError, match="INCLUSION_TRUSTED_PROXIES must be a whole number"):
        load_config(str(tmp_path))
    monkeypatch.delenv("INCLUSION_TRUSTED_PROXIES")
    assert load_config(str(tmp_path))["TRUSTED_PROXIES"] == 0


WEAK_KEYS = ["x", "x" * 40, "ab" * 20, "password" * 4, "correct horse", "01234567" * 4]


def test_production_refuses_a_weak_secret_key(monkeypatch, tmp_path):
    for weak in WEAK_KEYS:
        monkeypatch.setenv("INCLUSION_SECRET_KEY", weak)
        with pytest.raises(ConfigError) as refused:
            create_app({"ENV": "production", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
        message = str(refused.value)
        assert "INCLUSION_SECRET_KEY is too weak" in message, weak
        assert "secrets.token_urlsafe(48)" in message
        assert len(weak) == 1 or weak not in message, "the message never repeats the key"
    for good in (secrets.token_urlsafe(48), secrets.token_hex(32), secrets.token_hex(16)):
        monkeypatch.setenv("INCLUSION_SECRET_KEY", good)
        assert load_config(str(tmp_path), {"ENV": "production"})["SECRET_KEY"] == good


@pytest.mark.parametrize("variable", ["INCLUSION_WORKERS", "WEB_CONCURRENCY"])
def test_production_refuses_per_worker_rate_limits_with_several_workers(
    monkeypatch, tmp_path, variable
):
    monkeypatch.setenv("INCLUSION_SECRET_KEY", secrets.token_urlsafe(48))
    monkeypatch.delenv("INCLUSION_RATELIMIT_STORAGE", raising=False)
    monkeypatch.setenv(variable, "4")
    with pytest.raises(ConfigError, match="INCLUSION_RATELIMIT_STORAGE") as refused:
        load_config(str(tmp_path), {"ENV": "production"})
    assert "4 times the limit" in str(refused.value)
    monkeypatch.setenv("INCLUSION_RATELIMIT_STORAGE", "redis://127.0.0.1:6379/0")
    config = load_config(str(tmp_path), {"ENV": "production"})
    assert config["RATELIMIT_STORAGE_URI"].startswith("redis://") and config["WORKERS"] == 4


def test_production_with_memory_rate_limits_says_so_at_start_up(monkeypatch, tmp_path, caplog):
    monkeypatch.setenv("INCLUSION_SECRET_KEY", secrets.token_urlsafe(48))
    for name in ("INCLUSION_RATELIMIT_STORAGE", "INCLUSION_WORKERS", "WEB_CONCURRENCY"):
        monkeypatch.delenv(name, raising=False)
    with caplog.at_level(logging.WARNING, logger="inclusion"):
        load_config(str(tmp_path), {"ENV": "production"})
    assert any(
        "ONE worker process only" in r.getMessage() and "redis://" in r.getMessage()
        for r in caplog.records
    )


def _redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


WORKER = """
import json, sys
from inclusion import create_app
database, prefix, attempts, first = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
app = create_app({
    "ENV": "testing", "SQLALCHEMY_DATABASE_URI": database, "WTF_CSRF_ENABLED": False,
    "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0", "RATELIMIT_KEY_PREFIX": prefix,
})
client = app.test_client()
codes = [
    client.post("/login", data={"email": "shared@example.org", "password": "wrong password!"},
                environ_base={"REMOTE_ADDR": f"203.0.113.{first + i}"}).status_code
    for i in range(attempts)
]
print(json.dumps(codes))
"""


def test_two_workers_sharing_redis_count_sign_in_attempts_together(make_database):
    if not _redis_answers():
        if IN_CI:
            pytest.fail("Redis must answer on 127.0.0.1:6379 in CI")
        pytest.skip("no Redis on 127.0.0.1:6379")
    database = make_database("sqlite")
    make_test_app(database)  # migrated once; each worker is its own process, as in gunicorn
    prefix = f"inclusion-test-{uuid.uuid4().hex}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("INCLUSION_")}

    def worker(attempts, first):
        done = subprocess.run(
            [sys.executable, "-c", WORKER, database, prefix, str(attempts), str(first)],
            capture_output=True,
            text=True,
            cwd=Path(__file__).resolve().parents[1],
            env=env,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout.strip().splitlines()[-1])

    assert worker(3, 1) == [422, 422, 422]
    assert worker(3, 10) == [422, 422, 429], "the second worker sees the first one's attempts"


def test_http_in_production_says_secure_cookies_need_https(make_database, monkeypatch):
    monkeypatch.setenv("INCLUSION_SECRET_KEY", secrets.token_urlsafe(48))
    app = make_test_app(make_database("sqlite"), ENV="production", WTF_CSRF_ENABLED=True)
    browser = app.test_client()
    page = browser.get("/login")
    assert "Secure" in page.headers["Set-Cookie"]
    token = re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"', page.get_data(as_text=True)
    )
    # A browser keeps a Secure cookie only from an https page, so over http it sends none.
    browser.delete_cookie("session")
    response = browser.post(
        "/login",
        data={"email": "a@example.org", "password": "whatever-long", "csrf_token": token.group(1)},
    )
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "needs HTTPS" in text and "INCLUSION_ENV=development" in text and "TLS proxy" in text

    over_https = app.test_client()
    page = over_https.get("/login", base_url="https://localhost")
    token = re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"', page.get_data(as_text=True)
    )
    answered = over_https.post(
        "/login",
        base_url="https://localhost",
        headers={"Referer": "https://localhost/login"},
        data={"email": "a@example.org", "password": "whatever-long", "csrf_token": token.group(1)},
    )
    assert answered.status_code == 422, "over https the form is checked as usual"

    # A form that fails its CSRF check for another reason keeps the plain message.
    stale = over_https.post(
        "/login",
        base_url="https://localhost",
        headers={"Referer": "https://localhost/login"},
        data={"email": "a@example.org", "password": "whatever-long", "csrf_token": "stale"},
    )
    assert stale.status_code == 400
    text = stale.get_data(as_text=True)
    assert "Something was wrong with that request" in text and "needs HTTPS" not in text


def test_json_sign_in_is_keyed_by_its_account_not_shared(app, db, coordinator_user, buddy_user):
    # Before: every JSON attempt shared one empty key, so five bad JSON attempts on any
    # account blocked JSON sign-in for everyone. Now each account has its own count.
    for i in range(5):
        app.test_client().post(
            "/login",
            json={"email": buddy_user.email, "password": "wrong password!"},
            environ_base={"REMOTE_ADDR": f"203.0.113.{i + 1}"},
        )
    other = app.test_client().post(
        "/login",
        json={"email": coordinator_user.email, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "203.0.113.50"},
    )
    assert other.status_code == 302
