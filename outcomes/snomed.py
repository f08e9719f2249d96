"""SNOMED CT concept ids carried by referrals and their outcomes, in one table.

Each id with the source it was taken from. The UK edition is maintained by NHS England
(browse it at https://termbrowser.nhs.uk/). Only ids we could confirm are filled in; an
entry whose id is ``None`` is sent without a code rather than with a guessed one.
"""

from __future__ import annotations

SNOMED_SYSTEM = "http://snomed.info/sct"

#: key -> (concept id or None, preferred term, source)
CONCEPTS: dict[str, tuple[str | None, str, str]] = {
    "referral": (
        "871731000000106",
        "Referral to social prescribing service",
        "SNOMED CT UK edition; NHS England Network Contract DES social prescribing "
        "guidance (as cited in issue 16)",
    ),
    # The outcome codes below are left for the deploying organisation to confirm against
    # the UK edition before use: no source we could check gave their ids.
    "declined": (None, "Social prescribing declined", "to be confirmed in the UK edition"),
    "completed": (None, "Social prescribing completed", "to be confirmed in the UK edition"),
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
    return {"system": SNOMED_SYSTEM, "code": code, "display": display, "source": source}
