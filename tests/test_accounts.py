"""Sign-in, rate limits, passwords, invitations and user administration."""

from __future__ import annotations

import re

from sqlalchemy import select

from inclusion.accounts.models import Invitation, User
from inclusion.audit import AuditEvent
from inclusion.passwords import verify_password
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


# ---- sessions that end when they should ---------------------------------------------


def _captured(client):
    """The session cookie as someone who copied it (from a shared computer, a proxy log) holds it."""
    return client.get_cookie("session").value


def _replay(app, cookie):
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    return thief


def _signed_in(client) -> bool:
    response = client.get("/dashboard")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def _link_path(response) -> str:
    link = re.search(r'value="(http[^"]+/invitations/[^"]+)"', response.get_data(as_text=True))
    return link.group(1).split("localhost", 1)[-1]


def test_a_cookie_captured_before_sign_out_no_longer_works(app, db, coordinator_user):
    client = sign_in(app, coordinator_user)
    on_the_phone = sign_in(app, coordinator_user)
    cookie = _captured(client)
    assert _signed_in(_replay(app, cookie))

    assert client.post("/logout").status_code == 302
    assert not _signed_in(_replay(app, cookie))
    assert not _signed_in(on_the_phone), "sign-out ends the sessions on every device"
    assert _signed_in(sign_in(app, coordinator_user)), "signing in again works"
    assert "user.signed_out" in set(
        db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.entity_id == coordinator_user.id)
        )
    )


def test_a_new_set_password_link_and_setting_the_password_end_old_sessions(
    app, db, admin, coordinator_user
):
    before_reset = sign_in(app, coordinator_user)
    cookie = _captured(before_reset)
    response = admin.post(f"/admin/users/{coordinator_user.id}/invitation")
    assert response.status_code == 200
    assert not _signed_in(before_reset)
    assert not _signed_in(_replay(app, cookie))

    # Signed in again with the old password while the link is outstanding: setting the
    # new password ends that session too.
    still_old_password = sign_in(app, coordinator_user)
    visitor = app.test_client()
    new = "a brand new passphrase"
    assert (
        visitor.post(_link_path(response), data={"password": new, "confirm": new}).status_code
        == 302
    )
    assert not _signed_in(still_old_password)
    assert _signed_in(visitor), "the person who set the password is signed in"


def test_a_reactivated_users_old_cookie_stays_dead(app, db, admin, coordinator_user):
    client = sign_in(app, coordinator_user)
    cookie = _captured(client)
    assert (
        admin.post(f"/admin/users/{coordinator_user.id}/active", data={"active": "0"}).status_code
        == 302
    )
    assert (
        admin.post(f"/admin/users/{coordinator_user.id}/active", data={"active": "1"}).status_code
        == 302
    )
    db.session.refresh(coordinator_user)
    assert coordinator_user.active
    assert not _signed_in(client)
    assert not _signed_in(_replay(app, cookie))
    assert _signed_in(sign_in(app, coordinator_user))


def test_a_role_change_ends_the_users_sessions(app, db, admin, coordinator_user):
    client = sign_in(app, coordinator_user)
    assert (
        admin.post(f"/admin/users/{coordinator_user.id}", data={"role": "buddy"}).status_code == 302
    )
    assert not _signed_in(client)
    assert _signed_in(admin), "the admin who changed it stays signed in"


def test_admin_signs_someone_out_everywhere(app, db, admin, admin_user, coordinator_user):
    desk, phone = sign_in(app, coordinator_user), sign_in(app, coordinator_user)
    page = admin.get(f"/admin/users/{coordinator_user.id}").get_data(as_text=True)
    assert f'action="/admin/users/{coordinator_user.id}/sessions"' in page
    assert "Sign out everywhere" in page

    response = admin.post(f"/admin/users/{coordinator_user.id}/sessions", follow_redirects=True)
    assert "signed out on every device" in response.get_data(as_text=True)
    assert not _signed_in(desk) and not _signed_in(phone)
    assert _signed_in(admin)
    assert "user.sessions_ended" in set(
        db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.entity_id == coordinator_user.id)
        )
    )


def test_admin_signs_themself_out_on_every_other_device(app, db, admin, admin_user):
    left_at_the_library = sign_in(app, admin_user)
    page = admin.get(f"/admin/users/{admin_user.id}").get_data(as_text=True)
    assert "Sign me out on every other device" in page
    response = admin.post(f"/admin/users/{admin_user.id}/sessions", follow_redirects=True)
    assert "signed out on every other device" in response.get_data(as_text=True)
    assert not _signed_in(left_at_the_library)
    assert _signed_in(admin), "the session that asked carries on"


def test_only_admins_sign_others_out(app, db, coordinator, admin_user):
    assert coordinator.post(f"/admin/users/{admin_user.id}/sessions").status_code == 403
    assert _signed_in(sign_in(app, admin_user))


# ---- set-password links ----------------------------------------------------------------


def test_a_newer_link_replaces_every_earlier_one(app, db, admin, coordinator_user):
    first = _link_path(admin.post(f"/admin/users/{coordinator_user.id}/invitation"))
    second = _link_path(admin.post(f"/admin/users/{coordinator_user.id}/invitation"))
    third = _link_path(admin.post(f"/admin/users/{coordinator_user.id}/invitation"))
    visitor = app.test_client()
    assert visitor.get(first).status_code == 404
    assert visitor.get(second).status_code == 404
    assert visitor.get(third).status_code == 200

    new = "a brand new passphrase"
    refused = visitor.post(second, data={"password": new, "confirm": new})
    assert refused.status_code == 404
    db.session.refresh(coordinator_user)
    assert verify_password(coordinator_user.password_hash, PASSWORD), "the old link changed nothing"

    assert visitor.post(third, data={"password": new, "confirm": new}).status_code == 302
    for path in (first, second, third):
        assert app.test_client().get(path).status_code == 404
    invitations = db.session.scalars(
        select(Invitation).where(Invitation.user_id == coordinator_user.id)
    ).all()
    assert [i.used_at is not None for i in invitations].count(True) == 1
    assert all(i.used_at or i.revoked_at for i in invitations)


def test_setting_the_password_revokes_links_issued_before(app, db, admin_user, coordinator_user):
    # Two links outstanding at once (as a database from before this rule may hold):
    # setting the password with one revokes the other.
    from inclusion.accounts import service

    older = service.issue_invitation(coordinator_user, by=admin_user)
    newer = service.issue_invitation(coordinator_user, by=admin_user)
    db.session.execute(
        Invitation.__table__.update()
        .where(Invitation.user_id == coordinator_user.id)
        .values(revoked_at=None, used_at=None)
    )
    visitor = app.test_client()
    assert visitor.get(f"/invitations/{older}").status_code == 200
    new = "a brand new passphrase"
    assert (
        visitor.post(f"/invitations/{newer}", data={"password": new, "confirm": new}).status_code
        == 302
    )
    assert app.test_client().get(f"/invitations/{older}").status_code == 404


# ---- invitations never default to admin ---------------------------------------------------


def test_the_invite_form_preselects_no_role(admin, db):
    page = admin.get("/admin/users/invite").get_data(as_text=True)
    select_html = re.search(r'<select[^>]*name="role"[^>]*>(.*?)</select>', page, re.S).group(1)
    options = re.findall(r"<option([^>]*)>([^<]*)</option>", select_html)
    first_attrs, first_label = options[0]
    assert 'value=""' in first_attrs and first_label == "Choose a role"
    assert "selected" in first_attrs
    assert not any("selected" in attrs for attrs, _ in options[1:])


def test_inviting_without_choosing_a_role_is_refused(admin, db):
    before = row_counts(User, Invitation, AuditEvent)
    for data in ({"role": ""}, {}):
        response = admin.post(
            "/admin/users/invite", data={"name": "Rory Role", "email": "rory@example.org", **data}
        )
        assert response.status_code == 422
        page = response.get_data(as_text=True)
        assert 'id="role-error"' in page and "Choose a role." in page
    assert row_counts(User, Invitation, AuditEvent) == before


def test_raising_a_role_is_audited_with_the_old_and_new_role(admin, db, org, admin_user):
    someone = UserFactory(organisation=org, role="buddy")
    assert admin.post(f"/admin/users/{someone.id}", data={"role": "admin"}).status_code == 302
    assert admin.post(f"/admin/users/{someone.id}", data={"role": "donor"}).status_code == 302
    events = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.entity_type == "User", AuditEvent.entity_id == someone.id)
        .order_by(AuditEvent.id)
    ).all()
    raised = [e for e in events if e.action == "user.role_raised"]
    assert len(raised) == 1
    assert {"from:buddy", "to:admin"} <= set(raised[0].changed)
    assert raised[0].actor_id == admin_user.id
    lowered = [e for e in events if e.action == "user.role_changed"]
    assert {"from:admin", "to:donor"} <= set(lowered[-1].changed)


# ---- sign-in rate limit -------------------------------------------------------------------


def test_json_sign_in_attempts_count_for_their_account(app, db, coordinator_user):
    # From five addresses, so only the per-account limit can stop the sixth attempt.
    for i in range(5):
        attempt = app.test_client().post(
            "/login",
            json={"email": coordinator_user.email.upper(), "password": "wrong password!"},
            environ_base={"REMOTE_ADDR": f"203.0.113.{i + 1}"},
        )
        assert attempt.status_code == 422
    blocked = app.test_client().post(
        "/login",
        data={"email": coordinator_user.email, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "203.0.113.99"},
    )
    assert blocked.status_code == 429


def test_deactivation_closes_every_way_back_in_even_after_reactivation(app, admin, db, org):
    """A deactivated account's sessions, unused set-password link and reset link all stop
    working, and re-activating it brings none of them back."""
    from datetime import timedelta

    from inclusion.accounts import service as accounts
    from inclusion.accounts.models import PasswordReset
    from inclusion.api import service as api
    from inclusion.api.models import ApiKey
    from inclusion.clock import now

    someone = UserFactory(organisation=org, role="coordinator")
    invite_token = accounts.issue_invitation(someone, by=None)
    reset_token = "a-reset-link-token-for-this-test"
    db.session.add(
        PasswordReset(
            user_id=someone.id,
            token_hash=accounts._token_hash(reset_token),
            expires_at=now() + timedelta(minutes=30),
        )
    )
    db.session.flush()
    key, _secret = api.create_key(org, "Council portal", by=someone)
    their_browser = sign_in(app, someone)
    assert their_browser.get("/dashboard").status_code == 200

    assert admin.post(f"/admin/users/{someone.id}/active", data={"active": "0"}).status_code == 302
    assert admin.post(f"/admin/users/{someone.id}/active", data={"active": "1"}).status_code == 302

    assert their_browser.get("/dashboard").status_code == 302  # signed out
    assert app.test_client().get(f"/invitations/{invite_token}").status_code == 404
    assert app.test_client().get(f"/password-reset/{reset_token}").status_code == 404
    links = db.session.scalars(select(Invitation).where(Invitation.user_id == someone.id)).all()
    assert [link.revoked_at is not None for link in links] == [True]
    # API keys are the organisation's (one per partner system): they stay in use.
    assert db.session.get(ApiKey, key.id).revoked_at is None
