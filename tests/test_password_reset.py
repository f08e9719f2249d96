"""Forgot your password?: the same answer whether or not the address has an account, a
single-use link for an hour, e-mailed through the outbox, rate-limited, and every
session of the user ended once the password is changed."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from inclusion.accounts.models import PasswordReset
from inclusion.clock import now
from inclusion.messages.models import Message
from inclusion.passwords import verify_password
from tests.conftest import PASSWORD, row_counts, sign_in
from tests.factories import UserFactory

NEW = "a brand new long passphrase"


def _ask(client, email):
    return client.post("/password-reset", data={"email": email})


def _link(db) -> str:
    message = db.session.scalar(
        select(Message)
        .where(Message.purpose == "account.password_reset")
        .order_by(Message.id.desc())
    )
    return re.search(r"http://\S+/password-reset/\S+", message.body).group(0)


def _path(link: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(link).path


def test_the_answer_is_the_same_whether_or_not_the_address_has_an_account(
    db, client, coordinator_user
):
    unknown = _ask(client, "nobody@example.org")
    known = _ask(client, coordinator_user.email.upper())
    assert unknown.status_code == known.status_code == 200

    def strip(response):
        page = response.get_data(as_text=True)
        return page.replace("nobody@example.org", "X").replace(coordinator_user.email.upper(), "X")

    assert strip(unknown) == strip(known)
    assert row_counts(PasswordReset, Message) == {"password_reset": 1, "message": 1}
    message = db.session.scalar(select(Message))
    assert message.address == coordinator_user.email and message.channel == "email"
    assert message.purpose == "account.password_reset" and "60 minutes" in message.body


def test_the_link_sets_a_new_password_once_and_ends_every_other_session(
    app, db, client, coordinator_user
):
    elsewhere = sign_in(app, coordinator_user)
    assert elsewhere.get("/dashboard").status_code == 200
    _ask(client, coordinator_user.email)
    path = _path(_link(db))
    assert client.get(path).status_code == 200
    done = client.post(path, data={"password": NEW, "confirm": NEW})
    assert done.status_code == 302 and done.headers["Location"].endswith("/dashboard")
    db.session.refresh(coordinator_user)
    assert verify_password(coordinator_user.password_hash, NEW)
    assert "/login" in elsewhere.get("/dashboard").headers["Location"]  # signed out there
    assert client.get("/dashboard").status_code == 200  # signed in here
    again = app.test_client().post(path, data={"password": NEW + "!", "confirm": NEW + "!"})
    assert again.status_code == 404  # used once


def test_a_link_expires_after_an_hour_and_a_newer_one_replaces_it(db, client, coordinator_user):
    _ask(client, coordinator_user.email)
    first = _path(_link(db))
    _ask(client, coordinator_user.email)
    second = _path(_link(db))
    assert client.get(first).status_code == 404
    assert client.get(second).status_code == 200
    newest = db.session.scalar(select(PasswordReset).order_by(PasswordReset.id.desc()))
    newest.expires_at = now() - timedelta(seconds=1)
    db.session.flush()
    response = client.get(second)
    assert response.status_code == 404 and "Ask for a new link" in response.get_data(as_text=True)


def test_bad_input_changes_nothing(db, client, coordinator_user):
    assert _ask(client, "not an email").status_code == 422
    assert row_counts(PasswordReset, Message) == {"password_reset": 0, "message": 0}
    _ask(client, coordinator_user.email)
    path = _path(_link(db))
    before = coordinator_user.password_hash
    short = client.post(path, data={"password": "short", "confirm": "short"})
    differ = client.post(path, data={"password": NEW, "confirm": NEW + "x"})
    assert short.status_code == differ.status_code == 422
    assert "The two passwords differ." in differ.get_data(as_text=True)
    db.session.refresh(coordinator_user)
    assert coordinator_user.password_hash == before
    assert client.get(path).status_code == 200  # the link still works


def test_an_inactive_account_gets_no_link(db, client, org):
    user = UserFactory(organisation=org, active=False)
    assert _ask(client, user.email).status_code == 200
    assert row_counts(PasswordReset, Message) == {"password_reset": 0, "message": 0}


def test_asking_is_rate_limited(db, client, coordinator_user):
    codes = [_ask(client, coordinator_user.email).status_code for _ in range(6)]
    assert codes == [200] * 5 + [429]


def test_the_sign_in_page_links_to_it(db, client):
    page = client.get("/login").get_data(as_text=True)
    assert 'href="/password-reset"' in page and "Forgot your password?" in page
    assert PASSWORD  # the fixture users' password is unchanged by these tests
