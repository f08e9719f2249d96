"""The rules of API keys and of referrals sent through the API.

Functions change objects, audit and flush; the request commits. Keys are shown once:
only the SHA-256 of a key is stored, and a presented key is compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import func, select

from .. import audit
from ..clock import now
from ..errors import RuleBroken
from ..extensions import db
from ..residents import service as residents
from ..tenancy import unscoped
from ..validators import storable_text
from .models import ApiKey

KEY_START = "inc_"
PREFIX_LENGTH = len(KEY_START) + 8  # "inc_" and 8 hex characters: public, shown in lists
_DUMMY_HASH = hashlib.sha256(b"no key has this hash").hexdigest()


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def create_key(organisation, name: str, *, by) -> tuple[ApiKey, str]:
    """Make a named key for ``organisation``; returns ``(key, secret)``.

    The secret is returned once, to be shown once: only its hash is kept. Names are unique
    (ignoring case) among the organisation's keys in use, so a list tells them apart.
    """
    name = (name or "").strip()
    if not name:
        raise RuleBroken("Enter a name for the key.", "name")
    if not storable_text(name):
        raise RuleBroken("This contains a character we cannot store. Please retype it.", "name")
    taken = db.session.scalar(
        select(ApiKey.id).where(
            ApiKey.organisation_id == organisation.id,
            ApiKey.revoked_at.is_(None),
            func.lower(ApiKey.name) == name.lower(),
        )
    )
    if taken is not None:
        raise RuleBroken("A key in use already has this name. Choose another name.", "name")
    while True:
        prefix = KEY_START + secrets.token_hex(4)
        with unscoped():  # prefixes are unique across organisations
            exists = db.session.scalar(select(ApiKey.id).where(ApiKey.prefix == prefix))
        if exists is None:
            break
    secret = f"{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey(
        organisation_id=organisation.id,
        name=name,
        prefix=prefix,
        secret_hash=_hash(secret),
        created_by_id=by.id if by else None,
    )
    db.session.add(key)
    db.session.flush()
    audit.record("api_key.created", key, changed=["name", "prefix"], actor=by)
    db.session.flush()
    return key, secret


def revoke_key(key: ApiKey, *, by) -> None:
    """Stop a key working, for good; the record stays so the log still names it."""
    if key.revoked_at is not None:
        raise RuleBroken("This key is already revoked.")
    key.revoked_at = now()
    key.revoked_by_id = by.id if by else None
    audit.record("api_key.revoked", key, changed=["revoked_at", "revoked_by_id"], actor=by)
    db.session.flush()


def authenticate(presented: str | None) -> ApiKey | None:
    """The key in use that ``presented`` is, or ``None`` (unknown, malformed or revoked)."""
    presented = (presented or "").strip()
    prefix = presented[:PREFIX_LENGTH]
    key = None
    if presented.startswith(KEY_START) and len(presented) > PREFIX_LENGTH:
        with unscoped():  # the key says which organisation it belongs to
            key = db.session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    # Compare even when no key was found, so timing does not tell prefixes apart.
    matches = hmac.compare_digest(key.secret_hash if key else _DUMMY_HASH, _hash(presented))
    if key is None or not matches or key.revoked_at is not None:
        return None
    return key


def limit_bucket(presented: str | None) -> str:
    """What the rate limit counts by: the presented key (never stored, only hashed)."""
    return "api-key:" + _hash((presented or "").strip())[:32]


def take_referral(key: ApiKey, data: dict):
    """A referral from a partner system: the public form's rules (checked by the caller
    with :func:`inclusion.api.forms.check_referral`), in the key's organisation, with
    consent confirmed by the referrer. The audit log names the key, never the person."""
    data = dict(data)
    if data.get("referral_source") == "self":
        # As on the public form: someone referring themself has no referrer to record.
        data.update(referrer_name="", referrer_organisation="", referrer_contact="")
    with audit.acting_as(audit.API):
        resident = residents.create_referral(
            key.organisation, data, consent_given=True, consent_method="api"
        )
        key.last_used_at = now()
        audit.record(
            "resident.referred_via_api", resident, changed=[f"api_key:{key.prefix} {key.name}"]
        )
    db.session.flush()
    return resident
