"""SNOMED CT concept ids carried by referrals and their outcomes, in one table.

Each id with the source it was checked against. The UK edition is maintained by NHS England
(browse it at https://termbrowser.nhs.uk/). Only ids we could confirm are filled in; an entry
whose id is ``None`` is sent without a code rather than with a guessed one. A deployment may
set or correct an id without a code change: ``INCLUSION_SNOMED_IDS="completed=…,declined=…"``
(read in ``inclusion.config`` as ``SNOMED_IDS``), after checking it in the UK edition.
"""

from __future__ import annotations

from flask import current_app, has_app_context

SNOMED_SYSTEM = "http://snomed.info/sct"

_SP_CODES = (
    "NHS England's national social prescribing codes as listed by Social RX, 'What are the "
    "social prescribing SNOMED codes and why are they important?' "
    "(https://www.socialrx.co.uk/blogs/blog/social-prescribing-snomed-codes-why-important); "
    "the referral code is also the one issue 16 cites from the Network Contract DES guidance"
)

#: key -> (concept id or None, preferred term, source)
CONCEPTS: dict[str, tuple[str | None, str, str]] = {
    "referral": ("871731000000106", "Referral to social prescribing service", _SP_CODES),
    "declined": ("871711000000103", "Social prescribing declined", _SP_CODES),
    # No source we could check gives an id for a completed social prescribing episode
    # (NHS England recommends three codes; the third, "offered", was not confirmed either).
    # Left empty: the letter and the API send the words without a code.
    "completed": (
        None,
        "Social prescribing completed",
        "not verified: no id found in a checkable source; set INCLUSION_SNOMED_IDS",
    ),
}

#: The case outcome (inclusion.residents.models.OUTCOMES key) -> concept key above.
OUTCOME_CONCEPTS = {
    "declined": "declined",
    "goals_met": "completed",
    "partly_met": "completed",
}


def concept(key: str) -> dict | None:
    found = CONCEPTS.get(key)
    if found is None:
        return None
    code, display, source = found
    configured = current_app.config.get("SNOMED_IDS", {}) if has_app_context() else {}
    if configured.get(key):
        code, source = configured[key], "set by this deployment (INCLUSION_SNOMED_IDS)"
    return {"system": SNOMED_SYSTEM, "code": code, "display": display, "source": source}
