"""Residents and referrals: the rules of intake and of the referral workflow.

Functions change objects, audit and flush; the request or CLI command commits.
Audit events list changed field *names* only, never personal data.
"""

from __future__ import annotations

from sqlalchemy import select

from .. import audit
from ..accounts.models import Organisation
from ..clock import now, today
from ..errors import RuleBroken
from ..extensions import db
from ..references import next_reference
from ..signals import case_closed
from ..validators import normalise_phone, normalise_postcode, postcode_district, storable_text
from ..workflow import transition
from .models import (
    ACCESS_NEEDS,
    CONSENT_METHODS,
    DIGITAL_NEEDS,
    OUTCOMES,
    SOURCES,
    TRANSITIONS,
    Resident,
    StatusChange,
)

PERSON_FIELDS = (
    "first_name",
    "last_name",
    "phone",
    "email",
    "date_of_birth",
    "postcode",
    "preferred_language",
    "interpreter_needed",
    *ACCESS_NEEDS,
    "access_notes",
    *DIGITAL_NEEDS,
    "referral_source",
    "referrer_name",
    "referrer_organisation",
    "referrer_contact",
    "referral_date",
    "referral_reason",
    "notes",
)


def _clean(data: dict) -> dict:
    """Normalise and check what every entry path (form, API, CLI) must agree on."""
    values = {k: v for k, v in data.items() if k in PERSON_FIELDS}
    for key, value in values.items():
        if isinstance(value, str) and not storable_text(value):
            raise RuleBroken("This contains a character we cannot store. Please retype it.", key)
    for key in ("first_name", "last_name"):
        values[key] = (values.get(key) or "").strip()
        if not values[key]:
            raise RuleBroken("Enter their " + key.replace("_", " ") + ".", key)
    phone = normalise_phone(values.get("phone") or "")
    if phone is None:
        raise RuleBroken("Enter a phone number, like 01902 555123 or 07911 123456.", "phone")
    values["phone"] = phone
    postcode = normalise_postcode(values.get("postcode") or "")
    if postcode is None:
        raise RuleBroken("Enter a UK postcode, like WV3 0AA.", "postcode")
    values["postcode"] = postcode
    values["area"] = postcode_district(postcode)
    values["email"] = (values.get("email") or "").strip().lower()
    if values.get("referral_source") not in SOURCES:
        raise RuleBroken("Choose where the referral came from.", "referral_source")
    values.setdefault("referral_date", today())
    if not any(values.get(k) for k in DIGITAL_NEEDS):
        raise RuleBroken("Choose at least one kind of help.", "needs_skills")
    return values


def create_referral(
    organisation: Organisation,
    data: dict,
    *,
    consent_given: bool,
    consent_method: str | None,
    recorded_by=None,
) -> Resident:
    """Take a referral: a new resident in state *referred* with the next gap-free reference."""
    values = _clean(data)
    if consent_given and consent_method not in CONSENT_METHODS:
        raise RuleBroken("Say how the person agreed.", "consent_method")
    resident = Resident(
        organisation_id=organisation.id,
        reference=next_reference(organisation.id, "resident"),
        status="referred",
        status_changed_at=now(),
        consent_given=consent_given,
        consent_at=now() if consent_given else None,
        consent_method=consent_method if consent_given else None,
        consent_recorded_by_id=recorded_by.id if recorded_by else None,
        **values,
    )
    db.session.add(resident)
    db.session.flush()
    db.session.add(
        StatusChange(
            organisation_id=organisation.id,
            resident_id=resident.id,
            from_status=None,
            to_status="referred",
            by_id=recorded_by.id if recorded_by else None,
            note="Referral received",
        )
    )
    # Without a recorder or a signed-in user, the referral came from the public form.
    audit.record(
        "resident.referred",
        resident,
        changed=["status", *values],
        actor=recorded_by or audit.PUBLIC,
    )
    db.session.flush()
    return resident


def lock_resident(resident: Resident) -> Resident:
    """Lock the resident's row for the rest of the transaction and re-read it.

    Every check-then-write on a resident (its status, its waiting-list places, its
    matches) starts here, so two desks acting on one resident at once are serialised
    on PostgreSQL and the second sees what the first committed (SQLite has one
    writer anyway).
    """
    db.session.scalars(
        select(Resident)
        .where(Resident.id == resident.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    return resident


def open_case():
    """THE definition of an open case, as a SQL condition: not closed, not erased."""
    return (Resident.status != "closed") & Resident.anonymised_at.is_(None)


def is_open_case(resident: Resident) -> bool:
    """``open_case()`` for one resident in memory."""
    return resident.status != "closed" and resident.anonymised_at is None


def refuse_if_closed(resident: Resident, field: str | None = "resident") -> None:
    """Nothing is offered to a closed case: refuse with a message that says so."""
    if resident.status == "closed":
        raise RuleBroken(
            f"{resident.full_name}'s case ({resident.reference}) is closed: "
            "re-open it as a new referral first.",
            field,
        )
    if resident.anonymised_at is not None:
        raise RuleBroken("This record is anonymised: it can no longer be changed.", field)


def refuse_if_anonymised(resident: Resident) -> None:
    """An anonymised (erased) record is never edited again: erasure is irreversible."""
    if resident.anonymised_at is not None:
        raise RuleBroken("This record is anonymised: it can no longer be changed.")


def update_resident(
    resident: Resident, data: dict, *, consent_given: bool, consent_method, by
) -> list[str]:
    """Edit a resident's record; consent can be recorded or withdrawn, never back-dated."""
    refuse_if_anonymised(resident)
    values = _clean(data)
    for key, value in values.items():
        setattr(resident, key, value)
    if consent_given and consent_method not in CONSENT_METHODS:
        raise RuleBroken("Say how the person agreed.", "consent_method")
    if consent_given != resident.consent_given or (
        consent_given and consent_method != resident.consent_method
    ):
        resident.consent_given = consent_given
        resident.consent_method = consent_method if consent_given else None
        resident.consent_at = now() if consent_given else None
        resident.consent_recorded_by_id = by.id
    changed = audit.changed_fields(
        resident, [*values, "consent_given", "consent_method", "consent_at"]
    )
    if changed:
        audit.record("resident.updated", resident, changed=changed, actor=by)
        db.session.flush()
    return changed


def change_status(
    resident: Resident, new_status: str, *, by, outcome: str | None = None, note: str = ""
) -> None:
    """Move a resident along the referral workflow; closing needs an outcome.

    The resident's row is locked first, so two desks changing one status at once
    are serialised and the second is checked against what the first did. Closing
    sends ``case_closed`` in the same transaction: features take the resident off
    what they wait for, and a refusal there refuses the close.
    """
    lock_resident(resident)
    refuse_if_anonymised(resident)
    if new_status == "closed":
        if outcome not in OUTCOMES:
            raise RuleBroken("Choose an outcome to close the case.", "outcome")
    elif outcome:
        raise RuleBroken("An outcome is only recorded when closing.", "outcome")
    old = resident.status
    extra = ["status_changed_at"]
    if new_status == "closed":
        resident.outcome, resident.closed_at = outcome, now()
        extra += ["outcome", "closed_at"]
    elif old == "closed":
        resident.outcome, resident.closed_at = None, None
        extra += ["outcome", "closed_at"]
    transition(
        resident,
        new_status,
        TRANSITIONS,
        action="resident.status_changed",
        extra_changed=extra,
        actor=by,
    )
    resident.status_changed_at = now()
    db.session.add(
        StatusChange(
            organisation_id=resident.organisation_id,
            resident_id=resident.id,
            from_status=old,
            to_status=new_status,
            outcome=outcome,
            note=(note or "").strip(),
            by_id=by.id if by else None,
        )
    )
    db.session.flush()
    if new_status == "closed":
        case_closed.send(resident, by=by)
