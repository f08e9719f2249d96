"""The embedded SQLite database under concurrent writers: writes that collide wait
their turn instead of failing with "database is locked", a database that stays busy
answers a 503 page that keeps what was typed, and a backup finishes while the app
writes.

These run on an SQLite file of their own (not the shared test database inside one
rolled-back transaction): what they test is several connections committing at once.
"""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
import threading
import time
from html import unescape

import pytest
from sqlalchemy import func, select

from inclusion.audit import AuditEvent
from inclusion.extensions import db
from inclusion.residents.models import Resident
from tests.conftest import PASSWORD, make_test_app

RESIDENT_FORM = {
    "referral_source": "gp",
    "referral_date": "2026-11-01",
    "first_name": "Ada",
    "last_name": "Lovelace-Byron",
    "phone": "01902 555 321",
    "postcode": "WV10 9RU",
    "preferred_language": "English",
    "needs_device": "y",
    "referral_reason": "Wants to video call her grandson in Leeds.",
    "consent_given": "y",
    "consent_method": "verbal",
}


@pytest.fixture
def sqlite_app(tmp_path):
    """Factory: an app on a fresh SQLite file, with ``overrides`` to its config."""
    made = []

    def make(**overrides):
        overrides.setdefault("RATELIMIT_ENABLED", False)
        app = make_test_app(f"sqlite:///{tmp_path / 'inclusion.sqlite3'}", **overrides)
        made.append(app)
        return app

    yield make
    for app in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def _users(app, count: int = 1, role: str = "coordinator"):
    from tests.factories import OrganisationFactory, UserFactory

    with app.app_context():
        org = OrganisationFactory()
        users = [UserFactory(organisation=org, role=role) for _ in range(count)]
        db.session.commit()
        emails = [u.email for u in users]
        db.session.remove()
    return emails


def _count(app, stmt) -> int:
    with app.app_context():
        try:
            return db.session.scalar(stmt)
        finally:
            db.session.remove()


class _HoldWriteLock:
    """Another connection (another worker, a script) holding SQLite's write lock."""

    def __init__(self, app):
        with app.app_context():
            self.path = db.engine.url.database
        self.conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)

    def __enter__(self):
        self.conn.execute("BEGIN IMMEDIATE")
        return self

    def release(self):
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    def __exit__(self, *exc):
        self.release()
        self.conn.close()


class _HoldDatabaseExclusively:
    """Another program holding the whole file (SQLite's exclusive locking mode, as a
    maintenance script may): even reading waits, so a GET finds the database busy."""

    def __init__(self, app):
        with app.app_context():
            self.path = db.engine.url.database
            db.engine.dispose()  # an open connection of the app would keep it from locking
        self.conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)

    def __enter__(self):
        self.conn.execute("PRAGMA locking_mode=EXCLUSIVE")
        self.conn.execute("BEGIN EXCLUSIVE")
        self.conn.execute("UPDATE organisation SET name = name")
        return self

    def __exit__(self, *exc):
        self.conn.execute("ROLLBACK")
        self.conn.close()  # leaving exclusive locking mode takes closing the connection


def _hidden_form(html: str) -> dict[str, str]:
    return {
        unescape(name): unescape(value)
        for name, value in re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)">', html)
    }


# ---- writers that collide wait their turn ----------------------------------------


def test_people_signing_in_at_the_same_moment_are_all_signed_in(sqlite_app):
    # A real argon2 cost, so every sign-in is still checking its password (reading)
    # when the first one writes its audit event: a deferred transaction then cannot
    # upgrade to a write ("database is locked").
    app = sqlite_app(PASSWORD_TIME_COST=2, PASSWORD_MEMORY_COST=32768)
    emails = _users(app, 4)
    start = threading.Barrier(len(emails))
    answers: dict[str, object] = {}

    def sign_in(email):
        client = app.test_client()
        start.wait()
        try:
            answers[email] = client.post(
                "/login", data={"email": email, "password": PASSWORD}
            ).status_code
        except Exception as exc:  # noqa: BLE001 - the test reports what went wrong
            answers[email] = repr(exc)

    threads = [threading.Thread(target=sign_in, args=(e,)) for e in emails]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    assert answers == {email: 302 for email in emails}
    signed_in = select(func.count()).where(AuditEvent.action == "user.signed_in")
    assert _count(app, signed_in) == len(emails)


def test_a_write_while_another_connection_is_writing_waits_and_succeeds(sqlite_app):
    app = sqlite_app()
    (email,) = _users(app)
    client = app.test_client()
    assert client.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302

    with _HoldWriteLock(app) as other:
        other.conn.execute("UPDATE organisation SET name = name")
        # The other writer commits while this request is under way.
        timer = threading.Timer(0.3, other.release)
        timer.start()
        response = client.post("/residents/new", data=RESIDENT_FORM)
        timer.join()

    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    made = select(func.count()).where(Resident.last_name == "Lovelace-Byron")
    assert _count(app, made) == 1


def test_a_request_that_found_the_database_busy_runs_again_and_succeeds(sqlite_app):
    # Each attempt waits only 50 ms for the lock; the other writer keeps it for 300 ms.
    app = sqlite_app(SQLITE_BUSY_TIMEOUT=0.05, BUSY_ATTEMPTS=20)
    (email,) = _users(app)
    client = app.test_client()
    assert client.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302

    with _HoldWriteLock(app) as other:
        timer = threading.Timer(0.3, other.release)
        timer.start()
        response = client.post("/residents/new", data=RESIDENT_FORM)
        timer.join()

    assert response.status_code == 302
    made = select(func.count()).where(Resident.last_name == "Lovelace-Byron")
    assert _count(app, made) == 1


# ---- a database that stays busy -----------------------------------------------------


def test_a_busy_database_answers_503_keeping_what_was_typed(sqlite_app):
    app = sqlite_app(SQLITE_BUSY_TIMEOUT=0.05, BUSY_ATTEMPTS=2)
    (email,) = _users(app)
    client = app.test_client()
    assert client.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302

    with _HoldWriteLock(app):
        busy = client.post("/residents/new", data=RESIDENT_FORM)

    html = busy.get_data(as_text=True)
    assert busy.status_code == 503
    assert "Busy, please try again" in html and "nothing was saved" in html
    assert busy.headers["Retry-After"] and "X-Inclusion-Busy" not in busy.headers
    assert "Content-Security-Policy" in busy.headers
    assert "Set-Cookie" not in busy.headers  # the session is left as it was
    assert "Wants to video call her grandson in Leeds." in html  # shown, to read again
    kept = _hidden_form(html)
    assert kept == RESIDENT_FORM
    assert 'action="/residents/new"' in html
    made = select(func.count()).where(Resident.last_name == "Lovelace-Byron")
    assert _count(app, made) == 0

    # Once the other writer is done, "Try again" sends what was kept.
    again = client.post("/residents/new", data=kept)
    assert again.status_code == 302
    assert _count(app, made) == 1


def test_a_busy_sign_in_keeps_the_email_but_never_echoes_the_password(sqlite_app):
    app = sqlite_app(SQLITE_BUSY_TIMEOUT=0.05, BUSY_ATTEMPTS=2)
    (email,) = _users(app)
    client = app.test_client()

    with _HoldWriteLock(app):
        busy = client.post("/login", data={"email": email, "password": PASSWORD})

    html = busy.get_data(as_text=True)
    assert busy.status_code == 503
    assert _hidden_form(html) == {"email": email}
    assert PASSWORD not in html
    assert re.search(r'<label[^>]* for="busy-password">Password', html)
    assert 'id="busy-password" name="password" type="password"' in html
    # Not signed in by the failed attempt; signed in by the next one.
    assert client.get("/dashboard").status_code == 302
    again = client.post("/login", data={"email": email, "password": PASSWORD})
    assert again.status_code == 302
    assert client.get("/dashboard").status_code == 200


# ---- the busy page in the visitor's language ---------------------------------------

# Every sentence the busy page and its shell say in English.
BUSY_ENGLISH = (
    "Busy, please try again",
    "Many people are saving at this moment",
    "nothing was saved",
    "What you typed is kept below",
    "What you typed",
    "Try again",
    "Skip to main content",
    "helps people get online",
)


def _in(code: str, message: str) -> str:
    from inclusion.i18n import catalogue

    return catalogue(code)[message].string


def _html_lang(html: str) -> tuple[str, str]:
    m = re.search(r'<html lang="([^"]+)" dir="([^"]+)"', html)
    return m.group(1), m.group(2)


def _organisation(app) -> int:
    from tests.factories import OrganisationFactory

    with app.app_context():
        org = OrganisationFactory()  # offers every language
        db.session.commit()
        org_id = org.id
        db.session.remove()
    return org_id


def test_a_busy_public_form_answers_in_the_residents_language(sqlite_app):
    app = sqlite_app(SQLITE_BUSY_TIMEOUT=0.05, BUSY_ATTEMPTS=2)
    org_id = _organisation(app)
    client = app.test_client()
    client.set_cookie("lang", "ur")  # chosen on an earlier page
    referral = {
        "organisation": str(org_id),
        "on_behalf": "self",
        "first_name": "Nasreen",
        "last_name": "Akhtar",
        "phone": "07911 123456",
        "postcode": "WV3 0AA",
        "preferred_language": "Urdu",
        "needs_device": "y",
        "referral_reason": "آن لائن نسخہ منگوانا",
        "consent": "y",
    }

    with _HoldWriteLock(app):
        busy = client.post("/refer", data=referral)

    html = busy.get_data(as_text=True)
    assert busy.status_code == 503
    assert _html_lang(html) == ("ur", "rtl")
    assert _in("ur", "Busy, please try again") in html
    assert _in("ur", "What you typed") in html
    assert f">{_in('ur', 'Try again')}</button>" in html
    # the markup and the button's name survive the translation
    assert "<strong>کچھ محفوظ نہیں ہوا</strong>" in html
    assert f'"{_in("ur", "Try again")}"' in html
    assert [english for english in BUSY_ENGLISH if english in html] == []
    # what was typed is kept, and shown in its own direction
    assert _hidden_form(html) == referral
    assert "<bdi>آن لائن نسخہ منگوانا</bdi>" in html
    made = select(func.count()).where(Resident.last_name == "Akhtar")
    assert _count(app, made) == 0
    again = client.post("/refer", data=_hidden_form(html))
    assert again.status_code == 302 and _count(app, made) == 1


@pytest.mark.parametrize(
    ("url", "headers", "code"),
    [("/refer?lang=cy", {}, "cy"), ("/refer", {"Accept-Language": "pl-PL,pl;q=0.9"}, "pl")],
    ids=["cy-asked", "pl-browser"],
)
def test_a_busy_public_page_answers_in_the_visitors_language(sqlite_app, url, headers, code):
    app = sqlite_app(SQLITE_BUSY_TIMEOUT=0.05, BUSY_ATTEMPTS=2)
    _organisation(app)
    client = app.test_client()

    with _HoldDatabaseExclusively(app):
        busy = client.get(url, headers=headers)

    html = busy.get_data(as_text=True)
    assert busy.status_code == 503
    assert _html_lang(html) == (code, "ltr")
    assert _in(code, "Busy, please try again") in html
    assert (
        _in(code, "Many people are saving at this moment and the page could not be shown.") in html
    )
    assert f'href="{url}">{_in(code, "Try again")}</a>' in html
    assert [english for english in BUSY_ENGLISH if english in html] == []
    assert client.get(url, headers=headers).status_code == 200  # once the file is let go


def test_a_busy_staff_page_stays_in_english_with_a_language_cookie(sqlite_app):
    app = sqlite_app(SQLITE_BUSY_TIMEOUT=0.05, BUSY_ATTEMPTS=2)
    (email,) = _users(app)
    client = app.test_client()
    assert client.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302
    client.set_cookie("lang", "ur")

    with _HoldWriteLock(app):
        busy = client.post("/residents/new", data=RESIDENT_FORM)

    html = busy.get_data(as_text=True)
    assert busy.status_code == 503
    assert _html_lang(html) == ("en", "ltr")
    assert "Busy, please try again" in html


def test_a_busy_database_tells_a_partner_system_in_json(sqlite_app):
    from inclusion.api import service as api
    from tests.factories import OrganisationFactory
    from tests.test_api import REFERRAL

    app = sqlite_app(SQLITE_BUSY_TIMEOUT=0.05, BUSY_ATTEMPTS=2)
    with app.app_context():
        _key, secret = api.create_key(OrganisationFactory(), "Whitmore Road Surgery", by=None)
        db.session.commit()
        db.session.remove()
    client = app.test_client()

    with _HoldWriteLock(app):
        busy = client.post(
            "/api/referrals", json=REFERRAL, headers={"Authorization": f"Bearer {secret}"}
        )

    assert busy.status_code == 503 and busy.headers["Retry-After"]
    assert busy.get_json() == {"error": "The database is busy, please try again."}
    made = select(func.count()).where(Resident.last_name == REFERRAL["last_name"])
    assert _count(app, made) == 0


# ---- backups while the app writes ------------------------------------------------


# Another process committing as fast as SQLite takes them (a backup copied in small
# steps starts again after each of its commits).
_WRITER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
conn.execute("PRAGMA synchronous=OFF")
conn.execute("CREATE TABLE IF NOT EXISTS churn (pad BLOB)")
while True:
    conn.execute("INSERT INTO churn VALUES (randomblob(512))")
"""


def _churned(path) -> int:
    conn = sqlite3.connect(path, timeout=10)
    try:
        return conn.execute("SELECT count(*) FROM churn").fetchone()[0]
    except sqlite3.OperationalError:
        return 0  # not created yet
    finally:
        conn.close()


def test_backup_finishes_while_the_app_keeps_committing(sqlite_app, tmp_path):
    app = sqlite_app()
    _users(app, 2)
    with app.app_context():
        path = db.engine.url.database
    # 25 MB, so a backup in small steps would have many steps to restart.
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE ballast (pad BLOB)")
        conn.executemany("INSERT INTO ballast VALUES (randomblob(4000))", [()] * 6000)
    conn.close()
    target = tmp_path / "copy.sqlite3"
    result = {}

    def backup():
        result["run"] = app.test_cli_runner().invoke(args=["inclusion", "backup", str(target)])

    writer = subprocess.Popen([sys.executable, "-c", _WRITER, path])
    runner = threading.Thread(target=backup)
    try:
        while _churned(path) < 20:  # the writer is under way
            time.sleep(0.01)
        before = _churned(path)
        runner.start()
        runner.join(10)
        finished_while_writing = not runner.is_alive()
        during = _churned(path) - before
    finally:
        writer.kill()
        writer.wait()
        if runner.is_alive() or runner.ident:
            runner.join()

    assert finished_while_writing, "the backup did not finish while another process wrote"
    assert during > 0
    run = result["run"]
    assert run.exit_code == 0, run.output
    assert "Backed up" in run.output
    copy = sqlite3.connect(f"file:{target}?mode=ro", uri=True)
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert copy.execute("SELECT count(*) FROM ballast").fetchone()[0] == 6000
        assert copy.execute("SELECT count(*) FROM user").fetchone()[0] == 2
    finally:
        copy.close()
    assert sorted(p.name for p in tmp_path.iterdir() if ".part" in p.name) == []


def test_a_failed_backup_leaves_no_part_file(sqlite_app, tmp_path):
    app = sqlite_app()
    with app.app_context():
        path = db.engine.url.database
    db_file = tmp_path / "inclusion.sqlite3"
    assert str(db_file) == path
    target = tmp_path / "backups" / "copy.sqlite3"
    target.parent.mkdir()
    # A database file damaged under the app: the copy fails partway.
    with app.app_context():
        db.engine.dispose()
    raw = bytearray(db_file.read_bytes())
    raw[0:16] = b"not a database!!"
    db_file.write_bytes(bytes(raw))
    for extra in ("-wal", "-shm"):
        (tmp_path / f"inclusion.sqlite3{extra}").unlink(missing_ok=True)

    run = app.test_cli_runner().invoke(args=["inclusion", "backup", str(target)])

    assert run.exit_code != 0
    assert "failed" in run.output and "nothing was written" in run.output
    assert list(target.parent.iterdir()) == []
