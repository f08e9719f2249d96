"""Whatever is thrown at the public referral form, it never fails with a 500, a refused
submission writes nothing at all, and an accepted one writes exactly one referral."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from inclusion.audit import AuditEvent
from inclusion.extensions import db
from tests.test_unit_of_work import assert_unchanged, snapshot

FIELDS = [
    "first_name",
    "last_name",
    "phone",
    "email",
    "postcode",
    "preferred_language",
    "referral_reason",
    "access_notes",
    "on_behalf",
    "referrer_name",
    "referrer_contact",
    "organisation",
    "consent",
    "needs_skills",
]

VALID = {
    "on_behalf": "self",
    "first_name": "Edna",
    "last_name": "Hughes",
    "phone": "07911 123456",
    "postcode": "wv3 0aa",
    "preferred_language": "English",
    "needs_device": "y",
    "needs_skills": "y",
    "referral_reason": "Wants to order prescriptions online.",
    "consent": "y",
}


def valid_referral(org, **changes) -> dict:
    """A submission the public form accepts; ``changes`` replace fields (None drops one)."""
    data = dict(VALID, organisation=str(org.id))
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


# Written by an accepted referral: the resident, its first status, its audit event, and
# the organisation's reference counter.
# "organisation": its data_version rises with every committed change (inclusion.dataversion).
REFERRAL_TABLES = {
    "resident",
    "resident_status_change",
    "audit_event",
    "reference_counter",
    "organisation",
}

FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _post_and_check(client, data):
    before = snapshot()
    response = client.post("/refer", data=data)
    assert response.status_code in (302, 422), response.status_code
    after = snapshot()
    if response.status_code == 422:
        assert_unchanged(before, after)
        return
    changed = {name for name in after if after[name] != before[name]}
    assert changed <= REFERRAL_TABLES, changed
    grown = {name: len(after[name]) - len(before[name]) for name in changed}
    assert (grown["resident"], grown["resident_status_change"]) == (1, 1)
    # One event for the referral, and one more when it looks like a case already open
    # (the same person sent twice): flagged for the coordinator, never refused.
    new_events = [row for row in after["audit_event"] if row not in before["audit_event"]]
    assert grown["audit_event"] in (1, 2)
    actions = sorted(
        next(v for v in row if isinstance(v, str) and v.startswith("resident."))
        for row in new_events
    )
    assert actions in (["resident.referred"], ["resident.possible_duplicate", "resident.referred"])
    event = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == "resident.referred")
        .order_by(AuditEvent.id.desc())
    ).first()
    assert (event.actor_id, event.system_actor) == (None, "public")


@FUZZ
@given(data=st.dictionaries(st.sampled_from(FIELDS), st.text(max_size=300), max_size=len(FIELDS)))
def test_any_text_never_errors_and_a_refusal_writes_nothing(client, org, data):
    _post_and_check(client, data)


@FUZZ
@given(
    changes=st.dictionaries(
        st.sampled_from(FIELDS), st.one_of(st.none(), st.text(max_size=80)), max_size=3
    )
)
def test_a_nearly_valid_referral_is_taken_once_or_writes_nothing(client, org, changes):
    """Close to a valid submission, so both outcomes happen: accepted or refused whole."""
    _post_and_check(client, valid_referral(org, **changes))
