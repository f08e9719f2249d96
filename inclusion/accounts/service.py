"""Accounts: sign-in, invitations, roles, deactivation, organisation settings.

Every function changes objects, records an audit event and flushes; the caller
(request or CLI command) commits once.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from .. import audit
from ..clock import now
from ..errors import RuleBroken
from ..extensions import db
from ..i18n import DEFAULT as DEFAULT_LANGUAGE
from ..i18n import LANGUAGES
from ..passwords import hash_password, password_problem, verify_password
from ..signals import organisation_created
from ..tenancy import unscoped
from .models import (
    ADMIN,
    ROLES,
    ROLES_BY_PRIVILEGE,
    Invitation,
    Organisation,
    PasswordReset,
    User,
)

#: A "forgot your password" link works for an hour, once.
RESET_MINUTES = 60


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def find_user_by_email(email: str) -> User | None:
    with unscoped():  # sign-in knows no organisation yet
        return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def authenticate(email: str, password: str) -> User | None:
    """The active user with these credentials, or ``None`` (never says which part was wrong)."""
    user = find_user_by_email(email)
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.active:
        return None
    return user


def end_sessions(user: User) -> None:
    """Every session cookie of ``user`` stops working (the generation in it is now old).

    Called for sign-out, a new password, a new set-password link, a role change,
    deactivation and re-activation, and an admin's "sign out everywhere".
    """
    # One UPDATE, so two requests ending sessions at once never lose a bump.
    with unscoped():
        db.session.execute(
            update(User)
            .where(User.id == user.id)
            .values(session_generation=User.session_generation + 1)
            .execution_options(synchronize_session=False)
        )
        db.session.refresh(user, ["session_generation"])


def sign_out(user: User) -> None:
    """Signing out ends the user's sessions on every device, not only this cookie."""
    end_sessions(user)
    audit.record("user.signed_out", user, changed=["session_generation"], actor=user)
    db.session.flush()


def sign_out_everywhere(user: User, *, by: User) -> None:
    end_sessions(user)
    audit.record("user.sessions_ended", user, changed=["session_generation"], actor=by)
    db.session.flush()


def record_sign_in(user: User) -> None:
    user.last_sign_in_at = now()
    audit.record("user.signed_in", user, changed=["last_sign_in_at"], actor=user)
    db.session.flush()


def create_organisation(name: str, code: str, *, by=None, **details) -> Organisation:
    code = code.strip().upper()
    if db.session.scalar(select(Organisation).where(Organisation.code == code)):
        raise RuleBroken("That short code is already used by another organisation.", "code")
    org = Organisation(name=name.strip(), code=code, **details)
    db.session.add(org)
    db.session.flush()
    audit.record("organisation.created", org, changed=["name", "code", *details], actor=by)
    organisation_created.send(org, by=by)
    return org


def update_organisation(org: Organisation, data: dict, *, by=None) -> list[str]:
    """Change an organisation's settings; the languages it offers are codes inclusion ships."""
    if isinstance(data.get("areas"), str):  # "WV1, WV3" → ["WV1", "WV3"]
        data = dict(data, areas=[a.strip() for a in data["areas"].split(",") if a.strip()])
    if "languages" in data:
        codes = data["languages"]
        codes = [c for c in (codes.split(",") if isinstance(codes, str) else codes or []) if c]
        unknown = [c for c in codes if c not in LANGUAGES or c == DEFAULT_LANGUAGE]
        if unknown:
            raise RuleBroken("Choose languages from the list.", "languages")
        data = dict(data, languages=",".join(c for c in LANGUAGES if c in codes))
    for field, value in data.items():
        setattr(org, field, value)
    changed = audit.changed_fields(org, list(data))
    if changed:
        audit.record("organisation.updated", org, changed=changed, actor=by)
        db.session.flush()
    return changed


def create_user(
    organisation: Organisation,
    *,
    email: str,
    name: str,
    role: str,
    password: str | None = None,
    by=None,
) -> User:
    """A new account; the email must be free (case-insensitive) and the password acceptable."""
    email = normalise_email(email)
    if role not in ROLES:
        raise RuleBroken("Choose a role.", "role")
    if find_user_by_email(email) is not None:
        raise RuleBroken("An account with this email address already exists.", "email")
    if password is not None:
        problem = password_problem(password, email)
        if problem:
            raise RuleBroken(problem, "password")
    user = User(
        organisation_id=organisation.id,
        email=email,
        name=name.strip(),
        role=role,
        active=True,
        password_hash=hash_password(password) if password else None,
    )
    db.session.add(user)
    db.session.flush()
    audit.record("user.created", user, changed=["email", "name", "role"], actor=by)
    return user


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite_user(organisation: Organisation, *, email: str, name: str, role: str, by: User):
    """Create the account without a password and a one-time link to set it.

    Returns ``(user, token)``; only the token's hash is stored, so the link can be
    shown once and never recovered.
    """
    user = create_user(organisation, email=email, name=name, role=role, by=by)
    token = issue_invitation(user, by=by)
    return user, token


def _revoke_links(user: User, *, keep: Invitation | None = None) -> None:
    stmt = (
        update(Invitation)
        .where(
            Invitation.user_id == user.id,
            Invitation.used_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
        .values(revoked_at=now())
        .execution_options(synchronize_session=False)
    )
    if keep is not None:
        stmt = stmt.where(Invitation.id != keep.id)
    db.session.execute(stmt)


def issue_invitation(user: User, *, by: User | None) -> str:
    """A new one-time set-password link; every earlier link of ``user`` stops working,
    and so do the user's sessions (a new link is how a password is reset)."""
    _revoke_links(user)
    end_sessions(user)
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        user_id=user.id,
        token_hash=_token_hash(token),
        expires_at=now() + timedelta(days=current_app.config["INVITATION_DAYS"]),
        created_by_id=by.id if by else None,
    )
    db.session.add(invitation)
    db.session.flush()
    audit.record("user.invited", user, changed=["invitation"], actor=by)
    _email_link(
        user,
        purpose="account.invitation",
        key=f"user:{user.id}:invitation:{invitation.id}",
        endpoint="accounts.accept_invitation",
        token=token,
        values={"days": str(current_app.config["INVITATION_DAYS"])},
        by=by,
    )
    return token


def _email_link(user: User, *, purpose, key, endpoint, token, values, by) -> None:
    """Queue the e-mail carrying a one-time link (sent by the worker, never here)."""
    from ..messages import service as messages
    from ..messages.links import external_url

    organisation = db.session.get(
        Organisation, user.organisation_id, execution_options={"all_organisations": True}
    )
    messages.queue(
        organisation,
        purpose=purpose,
        key=key,
        to=messages.to_user(user),
        values={"name": user.name, "link": external_url(endpoint, token=token), **values},
        secret=token,
        by=by,
    )


def request_password_reset(email: str) -> None:
    """ "Forgot your password?": e-mail a one-time link, valid for an hour, to the active
    account with this address. Says nothing either way (the page answers the same
    whether or not the address has an account); earlier reset links stop working; the
    user's sessions go on until the password is actually changed."""
    user = find_user_by_email(email)
    if user is None or not user.active:
        return
    _revoke_resets(user)
    token = secrets.token_urlsafe(32)
    reset = PasswordReset(
        user_id=user.id,
        token_hash=_token_hash(token),
        created_at=now(),
        expires_at=now() + timedelta(minutes=RESET_MINUTES),
    )
    db.session.add(reset)
    db.session.flush()
    audit.record(
        "user.password_reset_requested", user, changed=["password_reset"], actor=audit.PUBLIC
    )
    _email_link(
        user,
        purpose="account.password_reset",
        key=f"user:{user.id}:password-reset:{reset.id}",
        endpoint="accounts.reset_password",
        token=token,
        values={"minutes": str(RESET_MINUTES)},
        by=audit.PUBLIC,
    )


def find_password_reset(token: str) -> PasswordReset | None:
    """The unused, unexpired, unrevoked reset link for ``token``, or ``None``."""
    reset = db.session.scalar(
        select(PasswordReset)
        .where(PasswordReset.token_hash == _token_hash(token or ""))
        .execution_options(all_organisations=True)
    )
    if (
        reset is None
        or reset.used_at is not None
        or reset.revoked_at is not None
        or reset.expires_at < now()
    ):
        return None
    user = db.session.get(User, reset.user_id, execution_options={"all_organisations": True})
    if user is None or not user.active:
        return None
    return reset


def reset_password(reset: PasswordReset, password: str) -> User:
    """Set a new password through a reset link: the link works once; every other reset
    and invitation link of the user stops working and every session of theirs ends."""
    user = db.session.get(User, reset.user_id, execution_options={"all_organisations": True})
    problem = password_problem(password, user.email)
    if problem:
        raise RuleBroken(problem, "password")
    used = db.session.execute(
        update(PasswordReset)
        .where(
            PasswordReset.id == reset.id,
            PasswordReset.used_at.is_(None),
            PasswordReset.revoked_at.is_(None),
            PasswordReset.expires_at >= now(),
        )
        .values(used_at=now())
        .execution_options(synchronize_session=False)
    )
    if used.rowcount != 1:
        raise RuleBroken("This link has already been used or has expired. Ask for a new one.")
    db.session.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
        .values(revoked_at=now())
        .execution_options(synchronize_session=False)
    )
    _revoke_links(user)
    user.password_hash = hash_password(password)
    end_sessions(user)
    audit.record("user.password_reset", user, changed=["password_hash"], actor=user)
    db.session.flush()
    return user


def find_invitation(token: str) -> Invitation | None:
    """The unused, unexpired invitation for ``token``, or ``None``."""
    with unscoped():  # the link is the key, whoever is signed in
        invitation = db.session.scalar(
            select(Invitation).where(Invitation.token_hash == _token_hash(token or ""))
        )
    if (
        invitation is None
        or invitation.used_at is not None
        or invitation.revoked_at is not None
        or invitation.expires_at < now()
    ):
        return None
    return invitation


@dataclass(frozen=True)
class NewPassword:
    """A password that passed the rules for its account, already hashed: argon2 is slow,
    so it is done before the write transaction (see ``transactions.reading``)."""

    user_id: int
    password_hash: str


def new_password(invitation: Invitation, password: str) -> NewPassword:
    """Check ``password`` against the rules for the invited account and hash it."""
    with unscoped():
        user = db.session.get(User, invitation.user_id)
    problem = password_problem(password, user.email)
    if problem:
        raise RuleBroken(problem, "password")
    return NewPassword(user.id, hash_password(password))


def accept_invitation(invitation: Invitation, password: str | NewPassword) -> User:
    """Set the password through a link: the link is used once, every other link of the
    user is revoked and every existing session of theirs ends."""
    new = password if isinstance(password, NewPassword) else new_password(invitation, password)
    with unscoped():
        user = db.session.get(User, invitation.user_id)
    if new.user_id != user.id:
        raise RuleBroken("That password was made for another account.", "password")
    # Conditional on the link still being unused: two submissions of one link at once
    # set the password only once.
    used = db.session.execute(
        update(Invitation)
        .where(
            Invitation.id == invitation.id,
            Invitation.used_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
        .values(used_at=now())
        .execution_options(synchronize_session=False)
    )
    if used.rowcount != 1:
        raise RuleBroken("This link has already been used or replaced by a newer one.")
    db.session.refresh(invitation, ["used_at"])
    _revoke_links(user, keep=invitation)
    user.password_hash = new.password_hash
    end_sessions(user)
    audit.record("user.password_set", user, changed=["password_hash"], actor=user)
    db.session.flush()
    return user


def change_role(user: User, role: str, *, by: User) -> None:
    if role not in ROLES:
        raise RuleBroken("Choose a role.", "role")
    if user.id == by.id and role != ADMIN:
        raise RuleBroken("You cannot remove your own admin role.", "role")
    if user.role == role:
        return
    old = user.role
    user.role = role
    end_sessions(user)
    # Roles are not personal data: a raise names the old and the new role, so a
    # review of who gained access needs nothing but the audit log.
    raised = ROLES_BY_PRIVILEGE.index(role) > ROLES_BY_PRIVILEGE.index(old)
    audit.record(
        "user.role_raised" if raised else "user.role_changed",
        user,
        changed=["role", f"from:{old}", f"to:{role}"],
        actor=by,
    )
    db.session.flush()


def _revoke_resets(user: User) -> None:
    db.session.execute(
        update(PasswordReset)
        .where(
            PasswordReset.user_id == user.id,
            PasswordReset.used_at.is_(None),
            PasswordReset.revoked_at.is_(None),
        )
        .values(revoked_at=now())
        .execution_options(synchronize_session=False)
    )


def set_active(user: User, active: bool, *, by: User) -> None:
    """Deactivate or re-activate an account. Deactivation closes every way back in: the
    user's sessions end and their unused set-password and reset links stop working (so
    re-activation brings none of them back). API keys belong to the organisation's
    partner systems, not to a person, and stay until an admin revokes them."""
    if user.id == by.id and not active:
        raise RuleBroken("You cannot deactivate your own account.")
    # Lock and re-read: two admins acting at once decide one after the other.
    db.session.flush()
    with unscoped():
        db.session.execute(select(User.id).where(User.id == user.id).with_for_update())
        db.session.refresh(user, ["active"])
    if user.active == active:
        return
    user.active = active
    if not active:
        _revoke_links(user)
        _revoke_resets(user)
    # Also on re-activation: a cookie from before the deactivation must not come back to life.
    end_sessions(user)
    audit.record(
        "user.activated" if active else "user.deactivated", user, changed=["active"], actor=by
    )
    db.session.flush()
