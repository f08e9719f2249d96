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
from ..passwords import hash_password, password_problem, verify_password
from ..signals import organisation_created
from ..tenancy import unscoped
from .models import ADMIN, ROLES, ROLES_BY_PRIVILEGE, Invitation, Organisation, User


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
    if isinstance(data.get("areas"), str):  # "WV1, WV3" → ["WV1", "WV3"]
        data = dict(data, areas=[a.strip() for a in data["areas"].split(",") if a.strip()])
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
    return token


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


def set_active(user: User, active: bool, *, by: User) -> None:
    if user.id == by.id and not active:
        raise RuleBroken("You cannot deactivate your own account.")
    if user.active == active:
        return
    user.active = active
    # Also on re-activation: a cookie from before the deactivation must not come back to life.
    end_sessions(user)
    audit.record(
        "user.activated" if active else "user.deactivated", user, changed=["active"], actor=by
    )
    db.session.flush()
