"""Organisations, user accounts, roles, sign-in and user administration."""

from __future__ import annotations


def init_app(app) -> None:
    """Declare the long text columns of organisations and accounts: none is about a
    resident, but notes typed by people anywhere are swept when a resident is erased."""
    from inclusion import personal_data
    from inclusion.registry import registry

    from .messages import PURPOSES
    from .models import Organisation, User

    for purpose in PURPOSES:
        registry(app).add_message_purpose(purpose)

    personal_data.declare(
        app,
        Organisation,
        organisation_column="id",
        free_text=("return_address",),
        not_free_text=("name", "contact_email"),
    )
    personal_data.declare(app, User, not_free_text=("email", "name", "password_hash"))
