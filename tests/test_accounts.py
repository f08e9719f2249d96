"""Sign-in, rate limits, passwords, invitations and user administration."""

from __future__ import annotations

import re

from sqlalchemy import select

from inclusion.accounts.models import Invitation, User
from inclusion.audit import AuditEvent
from tests.conftest import PASSWORD, row_counts, sign_in
from tests.factories import UserFactory


def test_sign_in_with_any_case_and_see_your_name(app, coordinator_user):
    client = app.test_client()
    response = client.post(
        "/login", data={"email": coordinator_user.email.upper(), "password": PASSWORD}
    )
    assert response.status_code == 302
    assert coordinator_user.name in client.get("/dashboard").get_data(as_text=True)


def test_bad_credentials_get_one_generic_message(app, coordinator_user):
    client = app.test_client()
    wrong_password = client.post(
        "/login", data={"email": coordinator_user.email, "password": "nope-nope-nope"}
    )
    no_account = client.post(
        "/login", data={"email": "nobody@example.org", "password": "nope-nope-nope"}
    )
    for response in (wrong_password, no_account):
        assert response.status_code == 422
        assert "do not match an active account" in response.get_data(as_text=True)


def test_deactivated_user_cannot_sign_in(app, db, coordinator_user):
    coordinator_user.active = False
    db.session.flush()
    response = app.test_client().post(
        "/login", data={"email": coordinator_user.email, "password": PASSWORD}
    )
    assert response.status_code == 422


def test_login_is_rate_limited_per_account(app, coordinator_user):
    client = app.test_client()
    for _ in range(5):
        assert (
            client.post(
                "/login", data={"email": coordinator_user.email, "password": "wrong password!"}
            ).status_code
            == 422
        )
    blocked = client.post("/login", data={"email": coordinator_user.email, "password": PASSWORD})
    assert blocked.status_code == 429
    assert "wait a minute" in blocked.get_data(as_text=True)


def test_successful_sign_ins_are_not_counted(app, coordinator_user):
    for _ in range(7):
        sign_in(app, coordinator_user)


def test_admin_invites_and_the_link_works_once(app, db, admin, admin_user):
    response = admin.post(
        "/admin/users/invite",
        data={"name": "Vera Volunteer", "email": "Vera@Example.org", "role": "buddy"},
    )
    assert response.status_code == 200
    link = re.search(
        r'value="(http[^"]+/invitations/[^"]+)"', response.get_data(as_text=True)
    ).group(1)
    user = db.session.scalar(select(User).where(User.email == "vera@example.org"))
    assert user.role == "buddy" and user.password_hash is None
    assert (
        db.session.scalar(select(Invitation).where(Invitation.user_id == user.id)).token_hash
        not in link
    )

    path = link.split("localhost", 1)[-1]
    visitor = app.test_client()
    too_short = visitor.post(path, data={"password": "short", "confirm": "short"})
    assert too_short.status_code == 422
    assert "at least 12 characters" in too_short.get_data(as_text=True)
    same_as_email = visitor.post(
        path, data={"password": "vera@example.org", "confirm": "vera@example.org"}
    )
    assert "must not be your email" in same_as_email.get_data(as_text=True)

    ok = visitor.post(
        path, data={"password": "a long enough passphrase", "confirm": "a long enough passphrase"}
    )
    assert ok.status_code == 302
    assert app.test_client().get(path).status_code == 404, "the link works only once"
    actions = db.session.scalars(
        select(AuditEvent.action).where(
            AuditEvent.entity_id == user.id, AuditEvent.entity_type == "User"
        )
    ).all()
    assert {"user.created", "user.invited", "user.password_set"} <= set(actions)


def test_invite_with_bad_input_changes_nothing(admin, db, admin_user):
    before = row_counts(User, Invitation, AuditEvent)
    response = admin.post(
        "/admin/users/invite", data={"name": "", "email": "not-an-email", "role": "buddy"}
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="name-error"' in page and 'id="email-error"' in page
    duplicate = admin.post(
        "/admin/users/invite",
        data={"name": "Twin", "email": admin_user.email.upper(), "role": "buddy"},
    )
    assert duplicate.status_code == 422
    assert "already exists" in duplicate.get_data(as_text=True)
    assert row_counts(User, Invitation, AuditEvent) == before


def test_admin_changes_role_and_deactivates_with_audit(admin, db, org):
    someone = UserFactory(organisation=org, role="coordinator")
    assert admin.post(f"/admin/users/{someone.id}", data={"role": "buddy"}).status_code == 302
    assert admin.post(f"/admin/users/{someone.id}/active", data={"active": "0"}).status_code == 302
    db.session.refresh(someone)
    assert someone.role == "buddy" and someone.active is False
    actions = set(
        db.session.scalars(
            select(AuditEvent.action).where(
                AuditEvent.entity_id == someone.id, AuditEvent.entity_type == "User"
            )
        )
    )
    assert {"user.role_changed", "user.deactivated"} <= actions


def test_admin_cannot_lock_themself_out(admin, db, admin_user):
    response = admin.post(f"/admin/users/{admin_user.id}", data={"role": "coordinator"})
    assert response.status_code == 422
    assert "cannot remove your own admin role" in response.get_data(as_text=True)
    admin.post(f"/admin/users/{admin_user.id}/active", data={"active": "0"})
    db.session.refresh(admin_user)
    assert admin_user.active and admin_user.role == "admin"


def test_settings_bad_input_is_refused_next_to_the_field(admin, db, org):
    response = admin.post(
        "/admin/settings",
        data={
            "name": "Renamed",
            "contact_phone": "12",
            "contact_email": "x",
            "return_address": "",
            "default_loan_days": "0",
            "retention_months": "24",
        },
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    for field in ("contact_phone", "contact_email", "return_address", "default_loan_days"):
        assert f'id="{field}-error"' in page
    db.session.refresh(org)
    assert org.name == "Test Digital Inclusion"


def test_settings_save(admin, db, org):
    response = admin.post(
        "/admin/settings",
        data={
            "name": "Renamed Org",
            "contact_phone": "01902 555000",
            "contact_email": "",
            "return_address": "Hub, WV1 1AA",
            "default_loan_days": "28",
            "retention_months": "36",
        },
    )
    assert response.status_code == 302
    db.session.refresh(org)
    assert (org.name, org.contact_phone, org.default_loan_days) == (
        "Renamed Org",
        "+44 1902 555000",
        28,
    )


def test_sign_out(app, coordinator):
    assert coordinator.post("/logout").status_code == 302
    assert "/login" in coordinator.get("/dashboard").headers["Location"]
