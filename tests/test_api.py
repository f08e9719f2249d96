"""The referral API: keys made and revoked by admins, referrals sent by partner systems,
JSON errors, the rate limit, and a schemathesis run against the OpenAPI document."""

from __future__ import annotations

import hashlib
import json
import re

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance
from sqlalchemy import select

from inclusion.api import service
from inclusion.api.models import ApiKey
from inclusion.api.openapi import openapi_document
from inclusion.audit import AuditEvent
from inclusion.residents.models import Resident, StatusChange
from tests.conftest import row_counts, sign_in

REFERRAL = {
    "first_name": "Margaret",
    "last_name": "Okafor",
    "phone": "01902 555123",
    "email": "margaret@example.org",
    "postcode": "wv3 0aa",
    "preferred_language": "Punjabi",
    "interpreter_needed": True,
    "access_needs": ["sight", "memory"],
    "needs": ["device", "skills"],
    "referral_reason": "Wants to order repeat prescriptions online.",
    "referral_source": "gp",
    "referrer_name": "Dr A Patel",
    "referrer_organisation": "Whitmore Road Surgery",
    "referrer_contact": "01902 555000",
    "consent": True,
}


def referral(**changes):
    data = dict(REFERRAL, **changes)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def api_key(db, org):
    """A key in use for ``org``: ``(ApiKey, secret)``."""
    return service.create_key(org, "Whitmore Road Surgery", by=None)


def bearer(secret):
    return {"Authorization": f"Bearer {secret}"}


def _counts():
    return row_counts(Resident, StatusChange, AuditEvent)


# ---- keys on the admin pages -----------------------------------------------------


def test_admin_creates_a_key_shown_once_and_only_its_hash_is_kept(admin, db, org, admin_user):
    page = admin.get("/admin/api-keys").get_data(as_text=True)
    assert "No keys yet." in page
    response = admin.post("/admin/api-keys/new", data={"name": "EMIS at Whitmore Road"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    secret = re.search(
        r'id="api-key" type="text" readonly value="([^"]+)"', response.get_data(as_text=True)
    ).group(1)
    key = db.session.scalar(select(ApiKey).where(ApiKey.name == "EMIS at Whitmore Road"))
    assert key.organisation_id == org.id and key.created_by_id == admin_user.id
    assert secret.startswith(key.prefix + "_") and len(secret) > 40
    assert key.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    stored = [str(v) for v in db.session.execute(select(ApiKey.__table__)).one()]
    assert not any(secret in value or secret[len(key.prefix) :] in value for value in stored)
    # never again: the list shows the prefix only
    listing = admin.get("/admin/api-keys").get_data(as_text=True)
    assert key.prefix in listing and "EMIS at Whitmore Road" in listing and secret not in listing
    assert "API keys" in listing  # in the admin navigation
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.entity_type == "ApiKey"))
    assert (event.action, event.entity_id, event.actor_id) == (
        "api_key.created",
        key.id,
        admin_user.id,
    )
    assert secret not in str(event.changed)
    # and the key works
    ok = admin.post("/api/referrals", json=referral(), headers=bearer(secret))
    assert ok.status_code == 201


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Enter a name for the key."),
        ("   ", "Enter a name for the key."),
        ("x" * 101, "Field cannot be longer than 100 characters."),
        ("whitmore road surgery", "A key in use already has this name."),
    ],
)
def test_a_key_needs_a_new_name_and_bad_input_changes_nothing(admin, db, api_key, name, message):
    before = row_counts(ApiKey, AuditEvent)
    response = admin.post("/admin/api-keys/new", data={"name": name})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="name-error"' in page and message in page
    assert row_counts(ApiKey, AuditEvent) == before


def test_a_key_name_with_a_nul_character_is_refused(admin, db):
    before = row_counts(ApiKey, AuditEvent)
    response = admin.post("/admin/api-keys/new", data={"name": "EMIS\x00"})
    assert response.status_code == 422
    assert "This contains a character we cannot store." in response.get_data(as_text=True)
    assert row_counts(ApiKey, AuditEvent) == before


def test_a_revoked_keys_name_can_be_used_again(admin, db, org, api_key):
    key, _ = api_key
    service.revoke_key(key, by=None)
    response = admin.post("/admin/api-keys/new", data={"name": key.name})
    assert response.status_code == 200
    assert len(db.session.scalars(select(ApiKey).where(ApiKey.name == key.name)).all()) == 2


def test_admin_revokes_a_key_after_confirming_and_it_stops_working(admin, db, admin_user, api_key):
    key, secret = api_key
    confirm = admin.get(f"/admin/api-keys/{key.id}/revoke")
    assert confirm.status_code == 200 and "Revoke the key" in confirm.get_data(as_text=True)
    db.session.refresh(key)
    assert key.revoked_at is None  # looking at the confirmation changes nothing
    response = admin.post(f"/admin/api-keys/{key.id}/revoke", follow_redirects=True)
    assert "is revoked" in response.get_data(as_text=True)
    db.session.refresh(key)
    assert key.revoked_at is not None and key.revoked_by_id == admin_user.id
    actions = db.session.scalars(
        select(AuditEvent.action).where(
            AuditEvent.entity_type == "ApiKey", AuditEvent.entity_id == key.id
        )
    ).all()
    assert actions == ["api_key.created", "api_key.revoked"]
    before = _counts()
    refused = admin.post("/api/referrals", json=referral(), headers=bearer(secret))
    assert refused.status_code == 401 and refused.json["error"] == "unauthorized"
    assert _counts() == before


def test_the_key_list_takes_constant_queries(
    app, admin, db, org, admin_user, coordinator_user, count_queries
):
    for n in range(2):
        key, _ = service.create_key(org, f"Few {n}", by=admin_user)
    service.revoke_key(key, by=coordinator_user)
    with count_queries() as few:
        assert admin.get("/admin/api-keys").status_code == 200
    for n in range(30):
        key, _ = service.create_key(org, f"Many {n}", by=coordinator_user if n % 2 else admin_user)
        if n % 3 == 0:
            service.revoke_key(key, by=admin_user)
    with count_queries() as many:
        page = admin.get("/admin/api-keys").get_data(as_text=True)
    assert "Page 1 of 2" in page
    assert many.count == few.count


def test_keys_of_another_organisation_are_not_found(app, db, other_org, admin):
    theirs, _ = service.create_key(other_org, "Their surgery", by=None)
    assert "Their surgery" not in admin.get("/admin/api-keys").get_data(as_text=True)
    assert admin.get(f"/admin/api-keys/{theirs.id}/revoke").status_code == 404
    assert admin.post(f"/admin/api-keys/{theirs.id}/revoke").status_code == 404
    db.session.refresh(theirs)
    assert theirs.revoked_at is None


# ---- referrals through the API -----------------------------------------------------


@pytest.mark.parametrize("header", ["bearer", "x-api-key"])
def test_a_partner_system_refers_a_resident(client, db, org, api_key, header):
    key, secret = api_key
    headers = bearer(secret) if header == "bearer" else {"X-API-Key": secret}
    response = client.post("/api/referrals", json=referral(), headers=headers)
    assert response.status_code == 201, response.json
    body = response.json
    resident = db.session.scalar(select(Resident).where(Resident.last_name == "Okafor"))
    assert body == {
        "reference": resident.reference,
        "status": "referred",
        "url": f"/residents/{resident.reference}",
    }
    assert response.headers["Location"] == f"/residents/{resident.reference}"
    assert re.fullmatch(r"R-\d{6}", resident.reference)
    assert resident.organisation_id == org.id
    assert (resident.status, resident.postcode, resident.area, resident.phone) == (
        "referred",
        "WV3 0AA",
        "WV3",
        "+44 1902 555123",
    )
    assert resident.referral_source == "gp" and resident.referrer_name == "Dr A Patel"
    assert resident.preferred_language == "Punjabi" and resident.interpreter_needed
    assert resident.access_sight and resident.access_memory and not resident.access_hearing
    assert resident.needs_device and resident.needs_skills and not resident.needs_data
    assert resident.consent_given and resident.consent_method == "api" and resident.consent_at
    db.session.refresh(key)
    assert key.last_used_at is not None
    events = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.entity_type == "Resident", AuditEvent.entity_id == resident.id)
        .order_by(AuditEvent.id)
    ).all()
    assert [e.action for e in events] == ["resident.referred", "resident.referred_via_api"]
    assert events[1].changed == [f"api_key:{key.prefix} {key.name}"]
    assert all(e.actor_id is None and e.organisation_id == org.id for e in events)
    logged = str([e.changed for e in events])
    assert "Okafor" not in logged and "Margaret" not in logged and "555123" not in logged


def test_a_self_referral_through_a_partner_needs_no_referrer(client, db, api_key):
    _, secret = api_key
    data = referral(
        referral_source="self",
        referrer_name=None,
        referrer_organisation=None,
        referrer_contact=None,
        email=None,
        access_needs=None,
    )
    response = client.post("/api/referrals", json=data, headers=bearer(secret))
    assert response.status_code == 201, response.json
    resident = db.session.scalar(
        select(Resident).where(Resident.reference == response.json["reference"])
    )
    assert (
        resident.referral_source == "self" and resident.referrer_name == "" and resident.email == ""
    )
    # and like the public form, a self-referral keeps no referrer even when one is sent
    sent = client.post(
        "/api/referrals",
        json=referral(referral_source="self", last_name="Selfsent"),
        headers=bearer(secret),
    )
    assert sent.status_code == 201
    resident = db.session.scalar(select(Resident).where(Resident.last_name == "Selfsent"))
    assert (resident.referrer_name, resident.referrer_organisation, resident.referrer_contact) == (
        "",
        "",
        "",
    )


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer inc_00000000_not-a-key"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"X-API-Key": "nonsense"},
    ],
    ids=["none", "empty", "unknown", "basic", "nonsense"],
)
def test_no_or_unknown_key_is_401_and_nothing_is_created(client, db, api_key, headers):
    before = _counts()
    response = client.post("/api/referrals", json=referral(), headers=headers)
    assert response.status_code == 401
    assert response.mimetype == "application/json" and response.json["error"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert _counts() == before


def test_a_key_with_the_right_prefix_but_wrong_secret_is_refused(client, db, api_key):
    key, secret = api_key
    response = client.post(
        "/api/referrals", json=referral(), headers=bearer(key.prefix + "_guessed")
    )
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"first_name": None}, "first_name", "Enter their first name."),
        ({"first_name": "   "}, "first_name", "Enter their first name."),
        ({"last_name": "x" * 101}, "last_name", "Field cannot be longer than 100 characters."),
        ({"phone": "12"}, "phone", "Enter a phone number, like 01902 555123 or 07911 123456."),
        ({"postcode": "NOT A CODE"}, "postcode", "Enter a UK postcode, like WV3 0AA."),
        ({"email": "not-an-email"}, "email", "Enter an email address like name@example.org."),
        ({"email": ""}, "email", "or leave it out"),
        ({"needs": []}, "needs", "Choose at least one kind of help."),
        ({"needs": ["wifi"]}, "needs", "Send a list of any of: device, data, skills."),
        ({"access_needs": "sight"}, "access_needs", "Send a list of any of: sight"),
        (
            {"referral_reason": ""},
            "referral_reason",
            "Tell us briefly what they would like help with.",
        ),
        ({"referral_source": "pharmacy"}, "referral_source", "Not a valid choice."),
        ({"referral_source": None}, "referral_source", "Choose where the referral came from."),
        ({"preferred_language": "Klingon"}, "preferred_language", "Not a valid choice."),
        (
            {"referrer_name": None},
            "referrer_name",
            "Enter your name, as you are referring someone else.",
        ),
        (
            {"referrer_contact": ""},
            "referrer_contact",
            "Enter a phone number or email so we can reach you.",
        ),
        (
            {"consent": None},
            "consent",
            "We can only take the referral with the person's agreement.",
        ),
        (
            {"consent": False},
            "consent",
            "We can only take the referral with the person's agreement.",
        ),
        ({"consent": "yes"}, "consent", "Send true or false."),
        ({"first_name": 42}, "first_name", "Send this as text."),
        ({"nhs_number": "943 476 5919"}, "nhs_number", "This is not a field of a referral."),
    ],
)
def test_each_invalid_field_gets_its_message_and_nothing_changes(
    client, db, api_key, changes, field, message
):
    _, secret = api_key
    before = _counts()
    response = client.post("/api/referrals", json=referral(**changes), headers=bearer(secret))
    assert response.status_code == 422
    body = response.json
    assert body["error"] == "invalid" and set(body["errors"]) == {field}, body
    assert any(message in m for m in body["errors"][field]), body
    assert _counts() == before


@pytest.mark.parametrize("field", ["first_name", "referral_reason", "referrer_contact"])
def test_a_nul_character_is_refused_not_a_server_error(client, db, api_key, field):
    _, secret = api_key
    before = _counts()
    value = REFERRAL[field][:3] + "\x00" + REFERRAL[field][3:]
    response = client.post(
        "/api/referrals", json=referral(**{field: value}), headers=bearer(secret)
    )
    assert response.status_code == 422
    assert response.json["errors"] == {
        field: ["This contains a character we cannot store. Please retype it."]
    }
    assert _counts() == before


@pytest.mark.parametrize(
    "field", ["first_name", "email", "phone", "postcode", "referrer_name", "access_notes"]
)
def test_a_lone_surrogate_is_refused_not_a_server_error(client, db, api_key, field):
    """JSON may carry ``\\ud800``, which is not UTF-8 and no database can store."""
    _, secret = api_key
    before = _counts()
    body = json.dumps(referral(**{"access_notes": "Large print", field: "PLACEHOLDER"}))
    body = body.replace("PLACEHOLDER", "ab\\ud800cd")
    response = client.post(
        "/api/referrals", data=body, content_type="application/json", headers=bearer(secret)
    )
    assert response.status_code == 422
    assert set(response.json["errors"]) == {field}
    assert _counts() == before


def test_the_public_form_refuses_a_nul_character_the_same_way(client, db, org):
    before = _counts()
    data = {
        "organisation": str(org.id),
        "on_behalf": "self",
        "first_name": "Ed\x00na",
        "last_name": "Hughes",
        "phone": "07911 123456",
        "postcode": "WV3 0AA",
        "needs_skills": "y",
        "referral_reason": "Prescriptions.",
        "consent": "y",
    }
    response = client.post("/refer", data=data)
    assert response.status_code == 422
    assert "This contains a character we cannot store." in response.get_data(as_text=True)
    assert _counts() == before


def test_several_errors_come_back_together(client, db, api_key):
    _, secret = api_key
    response = client.post(
        "/api/referrals", json={"consent": True, "phone": "nope"}, headers=bearer(secret)
    )
    assert response.status_code == 422
    assert {
        "first_name",
        "last_name",
        "phone",
        "postcode",
        "needs",
        "referral_reason",
        "referral_source",
    } <= set(response.json["errors"])


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("{not json", "application/json"),
        ("[1, 2]", "application/json"),
        ("null", "application/json"),
        ("first_name=Ann", "application/x-www-form-urlencoded"),
        ("", "application/json"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_400(client, db, api_key, body, content_type):
    _, secret = api_key
    before = _counts()
    response = client.post(
        "/api/referrals", data=body, content_type=content_type, headers=bearer(secret)
    )
    assert response.status_code == 400
    assert response.mimetype == "application/json" and response.json["error"] == "bad_request"
    assert _counts() == before


def test_a_huge_or_absurdly_nested_body_is_refused(client, db, api_key):
    _, secret = api_key
    before = _counts()
    huge = referral(access_notes="x" * 70_000)
    too_large = client.post("/api/referrals", json=huge, headers=bearer(secret))
    assert too_large.status_code == 413 and too_large.json["error"] == "too_large"
    deep = client.post(
        "/api/referrals", data="[" * 20_000, content_type="application/json", headers=bearer(secret)
    )
    assert deep.status_code == 400 and deep.json["error"] == "bad_request"
    assert _counts() == before


def test_errors_under_api_are_json(client, db):
    wrong_method = client.get("/api/referrals")
    assert wrong_method.status_code == 405 and "POST" in wrong_method.headers["Allow"]
    assert wrong_method.json["error"] == "method_not_allowed"
    missing = client.get("/api/nothing-here")
    assert missing.status_code == 404 and missing.json["error"] == "not_found"
    # outside /api/ the friendly HTML pages stay
    assert client.get("/nothing-here").mimetype == "text/html"


def test_the_api_needs_no_csrf_token_while_forms_still_do(app, db, org, api_key, admin_user):
    key, secret = api_key
    admin = sign_in(app, admin_user)
    app.config["WTF_CSRF_ENABLED"] = True  # the suite switches it off; production has it on
    try:
        client = app.test_client()
        assert (
            client.post("/api/referrals", json=referral(), headers=bearer(secret)).status_code
            == 201
        )
        assert client.post("/refer", data={"first_name": "Ann"}).status_code == 400  # no token
        # the key pages share the package, not the exemption
        assert admin.post("/admin/api-keys/new", data={"name": "Forged"}).status_code == 400
        assert admin.post(f"/admin/api-keys/{key.id}/revoke").status_code == 400
        assert row_counts(ApiKey) == {"api_key": 1}
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_rate_limit_per_key_is_429_json(app, client, db, org, api_key, monkeypatch):
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "3 per minute")
    _, secret = api_key
    _, other_secret = service.create_key(org, "Council portal", by=None)
    codes = [
        client.post("/api/referrals", json=referral(), headers=bearer(secret)).status_code
        for _ in range(3)
    ]
    assert codes == [201, 201, 201]
    before = _counts()
    limited = client.post("/api/referrals", json=referral(), headers=bearer(secret))
    assert limited.status_code == 429
    assert limited.mimetype == "application/json" and limited.json["error"] == "rate_limited"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert _counts() == before
    # the limit counts per key: another partner is not held up
    assert (
        client.post("/api/referrals", json=referral(), headers=bearer(other_secret)).status_code
        == 201
    )


def test_referrals_land_only_in_the_keys_organisation(
    app, client, db, org, other_org, api_key, coordinator, other_coordinator
):
    _, secret = api_key
    _, their_secret = service.create_key(other_org, "Their portal", by=None)
    ours = client.post(
        "/api/referrals", json=referral(last_name="Ours"), headers=bearer(secret)
    ).json
    theirs = client.post(
        "/api/referrals", json=referral(last_name="Theirs"), headers=bearer(their_secret)
    ).json
    # each organisation numbers its own references
    assert ours["reference"] == theirs["reference"] == "R-000001"
    by_name = {r.last_name: r.organisation_id for r in db.session.scalars(select(Resident))}
    assert by_name == {"Ours": org.id, "Theirs": other_org.id}
    assert "Theirs" not in coordinator.get("/residents").get_data(as_text=True)
    assert "Ours" in coordinator.get("/residents").get_data(as_text=True)
    assert "Ours" not in other_coordinator.get("/residents").get_data(as_text=True)


@pytest.mark.parametrize("field", ["organisation", "on_behalf", "consent_method", "status"])
def test_a_referral_cannot_choose_its_organisation_or_workflow(
    client, db, other_org, api_key, field
):
    _, secret = api_key
    before = _counts()
    value = other_org.id if field == "organisation" else "closed"
    response = client.post(
        "/api/referrals", json=referral(**{field: value}), headers=bearer(secret)
    )
    assert response.status_code == 422
    assert response.json["errors"] == {field: ["This is not a field of a referral."]}
    assert _counts() == before


def test_a_signed_in_user_of_another_organisation_cannot_redirect_a_key(
    client, db, org, api_key, other_coordinator
):
    _, secret = api_key
    response = other_coordinator.post("/api/referrals", json=referral(), headers=bearer(secret))
    assert response.status_code == 201
    resident = db.session.scalar(
        select(Resident).where(Resident.reference == response.json["reference"])
    )
    assert resident.organisation_id == org.id


# ---- the OpenAPI document and a schemathesis run against it ---------------------------------


def test_openapi_document_describes_the_endpoint(client, db):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    doc = response.json
    assert doc["openapi"].startswith("3.")
    operation = doc["paths"]["/api/referrals"]["post"]
    assert set(operation["responses"]) == {"201", "400", "401", "413", "422", "429"}
    schema = doc["components"]["schemas"]["Referral"]
    assert {"first_name", "phone", "postcode", "needs", "consent", "referral_source"} <= set(
        schema["required"]
    )
    props = schema["properties"]
    assert props["first_name"]["maxLength"] == 100
    assert props["referral_source"]["enum"] == [
        "gp",
        "social_care",
        "housing",
        "self",
        "family",
        "other",
    ]
    assert props["needs"]["items"]["enum"] == ["device", "data", "skills"]
    assert props["email"]["format"] == "email"
    assert set(doc["components"]["securitySchemes"]) == {"bearerAuth", "apiKeyHeader"}
    assert schemathesis.openapi.from_dict(doc)  # a document schemathesis can load


@pytest.fixture
def api_secret(app, db, org, monkeypatch):
    """A key for the schemathesis run."""
    # Enough room for every generated case: the limit itself is tested above.
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "10000 per minute")
    return service.create_key(org, "Schemathesis", by=None)[1]


# The document the app serves (test_openapi_document_is_what_the_app_serves); loaded at import
# because schemathesis' fixture-based loader does not run on pytest 9.2.
schema = schemathesis.openapi.from_dict(openapi_document())


def test_openapi_document_is_what_the_app_serves(client, db):
    assert client.get("/api/openapi.json").json == openapi_document()


@schema.parametrize()
@settings(
    max_examples=50,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_keeps_its_openapi_promises(case, app, api_secret):
    """No 500s and no response outside the document, for valid and invalid requests alike.

    ``positive_data_acceptance`` is left out on purpose: a request can match the schema and
    still break a rule JSON Schema cannot say (a phone number that does not exist, a name of
    spaces); it gets a documented 422 with the field's message."""
    case.operation.schema.app = app  # this backend's app, for the auth probes too
    case.call_and_validate(
        base_url="http://localhost",
        app=app,
        session=app.test_client(),
        headers=bearer(api_secret),
        excluded_checks=[positive_data_acceptance],
    )
