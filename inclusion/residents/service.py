"""Residents and referrals: the rules of intake and of the referral workflow.

Functions change objects, audit and flush; the request or CLI command commits.
Audit events list changed field *names* only, never personal data.
"""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import and_, func, or_, select, update

from .. import audit
from ..accounts.models import Organisation
from ..clock import now, today
from ..errors import RuleBroken
from ..extensions import db
from ..references import next_reference
from ..signals import case_closed
from ..tenancy import unscoped
from ..validators import (
    normalise_nhs_number,
    normalise_phone,
    normalise_postcode,
    postcode_district,
    storable_text,
)
from ..workflow import transition
from .models import (
    ACCESS_NEEDS,
    CONSENT_METHODS,
    DIGITAL_NEEDS,
    DUPLICATE_RESOLUTIONS,
    OUTCOMES,
    SOURCES,
    TRANSITIONS,
    USUAL_PATH,
    Resident,
    StatusChange,
)

PERSON_FIELDS = (
    "first_name",
    "last_name",
    "phone",
    "email",
    "date_of_birth",
    "nhs_number",
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
    if "nhs_number" in values:
        number = normalise_nhs_number(values.get("nhs_number") or "")
        if number is None:
            raise RuleBroken(
                "Enter the 10-digit NHS number, like 943 476 5919, or leave it empty.",
                "nhs_number",
            )
        values["nhs_number"] = number
    if values.get("referral_source") not in SOURCES:
        raise RuleBroken("Choose where the referral came from.", "referral_source")
    values.setdefault("referral_date", today())
    if not any(values.get(k) for k in DIGITAL_NEEDS):
        raise RuleBroken("Choose at least one kind of help.", "needs_skills")
    return values


class PossibleDuplicate(RuleBroken):
    """A referral taken by staff matches an open case: the coordinator decides."""

    def __init__(self, match: Resident, reason: str):
        super().__init__(
            f"This may be {match.reference}: an open case with the same {reason}.", None
        )
        self.resident = match
        self.reason = reason


def possible_duplicate(organisation_id: int, values: dict) -> tuple[Resident, str] | None:
    """The open case this referral may repeat, with why: the same name and phone, or the
    same name, date of birth and postcode (the oldest such case)."""
    same_name = and_(
        func.lower(Resident.first_name) == values["first_name"].lower(),
        func.lower(Resident.last_name) == values["last_name"].lower(),
    )
    same_phone = Resident.phone == values["phone"]
    rules = [same_phone]
    dob = values.get("date_of_birth")
    if dob:
        rules.append(and_(Resident.date_of_birth == dob, Resident.postcode == values["postcode"]))
    with unscoped():  # a public referral has no signed-in organisation
        match = db.session.scalar(
            select(Resident)
            .where(
                Resident.organisation_id == organisation_id,
                Resident.status != "closed",
                Resident.anonymised_at.is_(None),
                same_name,
                or_(*rules),
            )
            .order_by(Resident.id)
            .limit(1)
        )
    if match is None:
        return None
    if match.phone == values["phone"]:
        return match, "name and phone number"
    return match, "name, date of birth and postcode"


def create_referral(
    organisation: Organisation,
    data: dict,
    *,
    consent_given: bool,
    consent_method: str | None,
    recorded_by=None,
    duplicates: str = "flag",
    create_anyway_despite: str = "",
) -> Resident:
    """Take a referral: a new resident in state *referred* with the next gap-free reference.

    A referral that matches an open case (:func:`possible_duplicate`) is, with
    ``duplicates="flag"`` (public form, API), created and flagged for a coordinator to
    resolve; nothing in the answer says so. With ``duplicates="ask"`` (staff intake) it is
    refused with :class:`PossibleDuplicate` unless the coordinator chose to create it
    anyway despite that very case (``create_anyway_despite`` is its reference), which is
    recorded on the new case and audited.
    """
    values = _clean(data)
    if consent_given and consent_method not in CONSENT_METHODS:
        raise RuleBroken("Say how the person agreed.", "consent_method")
    found = possible_duplicate(organisation.id, values)
    kept_anyway = False
    if found and duplicates == "ask":
        if (create_anyway_despite or "").strip().upper() != found[0].reference:
            raise PossibleDuplicate(*found)
        kept_anyway = True
    resident = Resident(
        organisation_id=organisation.id,
        reference=next_reference(organisation.id, "resident"),
        status="referred",
        status_changed_at=now(),
        consent_given=consent_given,
        consent_at=now() if consent_given else None,
        consent_method=consent_method if consent_given else None,
        consent_recorded_by_id=recorded_by.id if recorded_by else None,
        possible_duplicate_of_id=found[0].id if found else None,
        duplicate_resolution="kept" if kept_anyway else None,
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
    if kept_anyway:
        audit.record(
            "resident.duplicate_kept",
            resident,
            changed=["possible_duplicate_of_id", "duplicate_resolution"],
            actor=recorded_by,
        )
    elif found:
        audit.record(
            "resident.possible_duplicate",
            resident,
            changed=["possible_duplicate_of_id"],
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


def resolve_duplicate(resident: Resident, resolution: str, *, by) -> None:
    """A coordinator settles a possible duplicate: keep both, or close this one as a
    duplicate of the open case. Decided once (a conditional update: two desks at once
    cannot both decide)."""
    lock_resident(resident)
    refuse_if_anonymised(resident)
    if resolution not in DUPLICATE_RESOLUTIONS:
        raise RuleBroken("Choose whether to keep both or close this one.", "resolution")
    if resident.possible_duplicate_of_id is None:
        raise RuleBroken("This referral is not flagged as a possible duplicate.")
    if resident.status == "closed":
        raise RuleBroken("This case is closed already.")
    done = db.session.execute(
        update(Resident)
        .where(Resident.id == resident.id, Resident.duplicate_resolution.is_(None))
        .values(duplicate_resolution=resolution)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        raise RuleBroken("Someone has already decided about this possible duplicate.")
    db.session.refresh(resident)
    audit.record(
        "resident.duplicate_resolved", resident, changed=["duplicate_resolution"], actor=by
    )
    if resolution == "closed":
        original = db.session.get(Resident, resident.possible_duplicate_of_id)
        change_status(
            resident,
            "closed",
            by=by,
            outcome="duplicate",
            note=f"Duplicate of {original.reference}" if original else "Duplicate",
        )
    db.session.flush()


def refuse_if_anonymised(resident: Resident) -> None:
    """An anonymised (erased) record is never edited again: erasure is irreversible."""
    if resident.anonymised_at is not None:
        raise RuleBroken("This record is anonymised: it can no longer be changed.")


def update_resident(
    resident: Resident, data: dict, *, consent_given: bool, consent_method, by
) -> list[str]:
    """Edit a resident's record; consent can be recorded or withdrawn, never back-dated.
    The row is locked and re-read first, so an edit racing an erasure waits for it and
    is refused, never writing the person's details back."""
    lock_resident(resident)
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
    resident: Resident,
    new_status: str,
    *,
    by,
    outcome: str | None = None,
    note: str = "",
    at: datetime | None = None,
) -> None:
    """Move a resident along the referral workflow; closing needs an outcome.

    The resident's row is locked first, so two desks changing one status at once
    are serialised and the second is checked against what the first did. Closing
    sends ``case_closed`` in the same transaction: features take the resident off
    what they wait for, and a refusal there refuses the close. ``at`` is when it
    happened, when that was before now (``record_steps``).
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
    at = at or now()
    resident.status_changed_at = at
    db.session.add(
        StatusChange(
            at=at,
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


def steps_ahead(resident: Resident) -> list[str]:
    """The steps of the usual path still to come for ``resident`` (none once supported or
    closed)."""
    if resident.status not in USUAL_PATH:
        return []
    return list(USUAL_PATH[USUAL_PATH.index(resident.status) + 1 :])


def _reached_on(resident: Resident) -> date:
    """The day the resident reached their current status (a referral: its date)."""
    if resident.status == "referred" and resident.referral_date:
        return min(resident.referral_date, resident.status_changed_at.date())
    return resident.status_changed_at.date()


def record_steps(resident: Resident, dates: dict[str, date | None], *, by) -> list[str]:
    """Several steps of the usual path at once (contacted, then assessed, …), each on the
    day it happened. The steps are taken in order from the current status, with no step
    left out; each day is on or after the one before (the first on or after the day the
    current status was reached) and none is in the future. Each step is a status change of
    its own, audited, all in one transaction: one refused step refuses them all. A day
    before today is stamped at noon (the day is what counts). Returns the steps taken."""
    lock_resident(resident)
    refuse_if_anonymised(resident)
    ahead = steps_ahead(resident)
    dates = {status: day for status, day in dates.items() if day is not None}
    if not ahead or set(dates) - set(ahead):
        raise RuleBroken(f"{resident.reference} cannot take those steps from {resident.status}.")
    chosen: list[tuple[str, date]] = []
    missing = None
    for status in ahead:
        day = dates.get(status)
        if day is None:
            missing = missing or status
        elif missing:
            raise RuleBroken(
                f"Enter the date they were {missing} first: steps are recorded in order.",
                f"{missing}_on",
            )
        else:
            chosen.append((status, day))
    if not chosen:
        raise RuleBroken(f"Enter the date they were {ahead[0]}.", f"{ahead[0]}_on")
    before, before_status = _reached_on(resident), resident.status
    for status, day in chosen:
        if day > today():
            raise RuleBroken("The date cannot be in the future.", f"{status}_on")
        if day < before:
            raise RuleBroken(
                f"The date must be on or after the date they were {before_status} "
                f"({before:%d %b %Y}).",
                f"{status}_on",
            )
        before, before_status = day, status
    last = resident.status_changed_at
    for status, day in chosen:
        at = datetime.combine(day, time(12))
        if day == today():
            at = now()
        elif last.date() == day:  # after what was recorded earlier that day
            at = max(at, last)
        change_status(resident, status, by=by, at=at)
        last = at
    return [status for status, _ in chosen]
