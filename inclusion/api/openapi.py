"""The OpenAPI 3 document of the referral API, served at ``/api/openapi.json``.

Lengths, choices and labels come from the referral form itself, so the document and
the validation cannot drift apart.
"""

from __future__ import annotations

from wtforms.validators import DataRequired, InputRequired, Length

from ..residents.forms import LANGUAGES
from ..residents.models import SOURCES
from .forms import ACCESS_NEEDS, NEEDS, ApiReferralForm

_REQUIRED = (
    "first_name",
    "last_name",
    "phone",
    "postcode",
    "referral_reason",
    "referral_source",
    "needs",
    "consent",
)
_EXAMPLE = {
    "first_name": "Margaret",
    "last_name": "Okafor",
    "phone": "01902 555123",
    "postcode": "WV3 0AA",
    "preferred_language": "English",
    "interpreter_needed": False,
    "access_needs": ["sight"],
    "needs": ["device", "skills"],
    "referral_reason": "Wants to order repeat prescriptions and video-call her grandson.",
    "referral_source": "gp",
    "referrer_name": "Dr A Patel",
    "referrer_organisation": "Whitmore Road Surgery",
    "referrer_contact": "01902 555000",
    "consent": True,
}


def _label(field) -> str:
    return str(field.args[0] if field.args else field.kwargs.get("label", ""))


def _text(field, **extra) -> dict:
    """A string property from a form field (unbound, so no app or request is needed)."""
    schema = {"type": "string", "description": _label(field)}
    for validator in field.kwargs.get("validators", ()):
        if isinstance(validator, Length) and validator.max and validator.max > 0:
            schema["maxLength"] = validator.max
        if isinstance(validator, DataRequired | InputRequired):
            schema["minLength"] = 1
    schema.update(extra)
    return schema


def _list(choices: dict, description: str, **extra) -> dict:
    return {
        "type": "array",
        "description": description,
        "items": {"type": "string", "enum": list(choices)},
        **extra,
    }


def referral_schema() -> dict:
    """The JSON Schema of a referral, read from :class:`ApiReferralForm`."""
    f = {name: getattr(ApiReferralForm, name) for name in dir(ApiReferralForm)}
    properties = {
        "first_name": _text(f["first_name"]),
        "last_name": _text(f["last_name"]),
        "phone": _text(
            f["phone"],
            description="A UK phone number we can call, e.g. 01902 555123 or 07911 123456.",
            minLength=1,
        ),
        "email": _text(
            f["email"],
            format="email",
            minLength=1,
            description="Email address. Leave the property out when there is none.",
        ),
        "postcode": _text(f["postcode"], description="A UK postcode, e.g. WV3 0AA.", minLength=1),
        "preferred_language": _text(f["preferred_language"], enum=LANGUAGES, default="English"),
        "interpreter_needed": {
            "type": "boolean",
            "default": False,
            "description": "Needs an interpreter.",
        },
        "access_needs": _list(
            ACCESS_NEEDS,
            "Sight, hearing, dexterity, memory or cognition, learning disability, other.",
        ),
        "access_notes": _text(f["access_notes"]),
        "needs": _list(NEEDS, "The help they need: at least one.", minItems=1),
        "referral_reason": _text(f["referral_reason"]),
        "referral_source": _text(
            f["referral_source"],
            enum=list(SOURCES),
            description="Where the referral comes from: "
            + ", ".join(f"{k} ({v})" for k, v in SOURCES.items())
            + ".",
        ),
        "referrer_name": _text(
            f["referrer_name"],
            description="Who refers them. Required unless referral_source is self.",
        ),
        "referrer_organisation": _text(f["referrer_organisation"]),
        "referrer_contact": _text(
            f["referrer_contact"],
            description="The referrer's phone or email. Required unless referral_source is self.",
        ),
        "consent": {
            "type": "boolean",
            "enum": [True],
            "description": _label(f["consent"])
            + " Must be true: the referrer confirms the person agreed.",
        },
    }
    return {
        "type": "object",
        "additionalProperties": False,
        "required": list(_REQUIRED),
        "properties": properties,
        "example": _EXAMPLE,
    }


def _error(description: str, schema: str = "Error", headers: dict | None = None) -> dict:
    response = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }
    if headers:
        response["headers"] = headers
    return response


def openapi_document() -> dict:
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "inclusion referral API",
            "version": "1.0.0",
            "description": (
                "Send referrals from GP practice systems and partner services straight into "
                "an organisation's referral list. An admin of the organisation creates a key "
                "on the API keys page; send it as `Authorization: Bearer <key>` (or "
                "`X-API-Key: <key>`). Requests are rate limited per key. Errors are JSON; "
                'field errors come as `{"errors": {"field": ["message"]}}`.'
            ),
        },
        "paths": {
            "/api/referrals": {
                "post": {
                    "operationId": "createReferral",
                    "summary": "Refer a resident",
                    "description": (
                        "Creates a resident in state `referred` in the key's organisation, with "
                        "the same fields and checks as the public referral form."
                    ),
                    "security": [{"bearerAuth": []}, {"apiKeyHeader": []}],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/Referral"}
                            }
                        },
                    },
                    "responses": {
                        "201": {
                            "description": "Referred: the resident's reference.",
                            "headers": {
                                "Location": {
                                    "description": "The resident's page (for signed-in staff).",
                                    "schema": {"type": "string"},
                                }
                            },
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/ReferralCreated"}
                                }
                            },
                        },
                        "400": _error("The body is not a JSON object."),
                        "413": _error("The body is larger than 64 KB."),
                        "401": _error(
                            "No key, or a key that is unknown or revoked.",
                            headers={
                                "WWW-Authenticate": {
                                    "description": "How to authenticate.",
                                    "schema": {"type": "string"},
                                }
                            },
                        ),
                        "422": _error(
                            "Some fields need attention: a message per field.", "ValidationError"
                        ),
                        "429": _error(
                            "Too many requests with this key; wait a minute.",
                            headers={
                                "Retry-After": {
                                    "description": "Seconds until the key may send again.",
                                    "schema": {"type": "string", "pattern": "^[0-9]+$"},
                                }
                            },
                        ),
                    },
                }
            },
            "/api/referrals/{reference}/outcome": {
                "get": {
                    "operationId": "getReferralOutcome",
                    "summary": "The outcome summary of a referral this API sent",
                    "description": (
                        "Shaped by the PRSB Social Prescribing Information Standard's message "
                        "back to the referrer: the person, the referral (with its SNOMED CT "
                        "concept), the support given, the outcome measures at the start and "
                        "latest, and the case outcome. Only referrals made through the API by "
                        "the key's organisation; a null answer is 'prefers not to say'."
                    ),
                    "security": [{"bearerAuth": []}, {"apiKeyHeader": []}],
                    "parameters": [
                        {
                            "name": "reference",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string", "maxLength": 12},
                            "description": "The reference returned when referring (R-000123).",
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "The outcome summary.",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/ReferralOutcome"}
                                }
                            },
                        },
                        "401": _error(
                            "No key, or a key that is unknown or revoked.",
                            headers={
                                "WWW-Authenticate": {
                                    "description": "How to authenticate.",
                                    "schema": {"type": "string"},
                                }
                            },
                        ),
                        "404": _error("No referral with this reference came through the API."),
                        "429": _error(
                            "Too many requests with this key; wait a minute.",
                            headers={
                                "Retry-After": {
                                    "description": "Seconds until the key may send again.",
                                    "schema": {"type": "string", "pattern": "^[0-9]+$"},
                                }
                            },
                        ),
                    },
                }
            },
            "/api/openapi.json": {
                "get": {
                    "operationId": "getOpenApi",
                    "summary": "This document",
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "The OpenAPI document.",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API key made on the admin's API keys page.",
                },
                "apiKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            },
            "schemas": {
                "Referral": referral_schema(),
                "ReferralOutcome": {
                    "type": "object",
                    "required": [
                        "reference",
                        "referral",
                        "person",
                        "support",
                        "status",
                        "measures",
                    ],
                    "properties": {
                        "reference": {"type": "string"},
                        "referral": {"type": "object"},
                        "person": {"type": "object"},
                        "support": {"type": "object"},
                        "status": {"type": "string"},
                        "case_outcome": {"type": ["string", "null"]},
                        "case_outcome_snomed": {"type": ["object", "null"]},
                        "measures": {"type": "object"},
                    },
                },
                "ReferralCreated": {
                    "type": "object",
                    "required": ["reference", "status", "url"],
                    "properties": {
                        "reference": {
                            "type": "string",
                            "pattern": "^R-[0-9]{6,}$",
                            "example": "R-000123",
                        },
                        "status": {"type": "string", "enum": ["referred"]},
                        "url": {"type": "string", "description": "Same as the Location header."},
                    },
                },
                "Error": {
                    "type": "object",
                    "required": ["error", "message"],
                    "properties": {
                        "error": {"type": "string", "example": "unauthorized"},
                        "message": {"type": "string"},
                    },
                },
                "ValidationError": {
                    "type": "object",
                    "required": ["error", "message", "errors"],
                    "properties": {
                        "error": {"type": "string", "enum": ["invalid"]},
                        "message": {"type": "string"},
                        "errors": {
                            "type": "object",
                            "description": "Messages per field of the referral.",
                            "additionalProperties": {
                                "type": "array",
                                "items": {"type": "string"},
                            },
                            "example": {"postcode": ["Enter a UK postcode, like WV3 0AA."]},
                        },
                    },
                },
            },
        },
    }
