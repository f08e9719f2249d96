"""Whatever text is thrown at the public referral form, it never fails with a 500."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.dictionaries(st.sampled_from(FIELDS), st.text(max_size=300), max_size=len(FIELDS)))
def test_public_referral_form_never_errors(client, org, data):
    response = client.post("/refer", data=data)
    assert response.status_code in (302, 422), response.status_code
