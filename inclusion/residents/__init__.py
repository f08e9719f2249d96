"""Residents and referrals: intake, the referral workflow and the resident record."""

from __future__ import annotations

ANONYMOUS_FIRST_NAME = "Anonymised"
ANONYMOUS_LAST_NAME = "resident"
# Contact and referrer details: emptied when the person is erased.
CLEARED_ON_ERASURE = ("phone", "email", "referrer_name", "referrer_contact")


def anonymise_resident(resident) -> list[str]:
    """Names become "Anonymised resident"; contact and referrer details are emptied; the
    postcode keeps only its district (what matching and area counts use) and the date
    of birth only its month (age bands stay as they were)."""
    resident.first_name = ANONYMOUS_FIRST_NAME
    resident.last_name = ANONYMOUS_LAST_NAME
    for name in CLEARED_ON_ERASURE:
        setattr(resident, name, "")
    resident.postcode = (resident.area or (resident.postcode or "").split(" ")[0]).upper()[:8]
    if resident.date_of_birth is not None:
        resident.date_of_birth = resident.date_of_birth.replace(day=1)
    return ["first_name", "last_name", *CLEARED_ON_ERASURE, "postcode", "date_of_birth"]


def init_app(app) -> None:
    """Declare the personal data residents and their timeline hold."""
    from inclusion import personal_data

    from .models import Resident, StatusChange

    personal_data.declare(
        app,
        Resident,
        resident_column="id",
        free_text=("access_notes", "referral_reason", "notes"),
        not_free_text=("email", "referrer_name", "referrer_organisation", "referrer_contact"),
        export="resident",
        export_extra=lambda r: {
            "consent_recorded_by": personal_data.name_of(r.consent_recorded_by)
        },
        blocks_erasure=[
            (lambda: Resident.status != "closed", "Close the case first (with an outcome).")
        ],
        anonymise=anonymise_resident,
    )
    personal_data.declare(
        app,
        StatusChange,
        resident_column="resident_id",
        free_text=("note",),
        export="status_changes",
        export_extra=lambda s: {"by": personal_data.name_of(s.by)},
        order_by=("at", "id"),
    )
