"""Messages routes: the outbox (coordinators), letters, message texts (admins), residents'
contact preferences, and "forgot your password?" (everyone)."""

from __future__ import annotations

from inclusion.messages.models import Message
from tests.factories import ResidentFactory

from . import MISSING, Route, admin_only, public, staff

# GOV.UK Notify's delivery receipts: public (no session), but only with the callback
# token Notify was given; everyone else, signed in or not, gets 401.
NO_TOKEN = "HTTP 401"


def arrange(world) -> None:
    from inclusion.extensions import db

    resident = ResidentFactory(organisation=world.org)
    world.contact_ref = resident.reference
    message = Message(
        organisation_id=world.org.id,
        recipient_kind="resident",
        recipient_id=resident.id,
        resident_id=resident.id,
        channel="sms",
        purpose="loan.overdue",
        address="+447911123456",
        body="Hello",
        idempotency_key="matrix:1",
    )
    db.session.add(message)
    db.session.flush()
    world.message_id = message.id
    world.reset_token = "not-a-real-token"


ROUTES = [
    staff("messages.index", "/messages"),
    staff("messages.detail", "/messages/{message_id}", record=True),
    staff("messages.retry", "/messages/{message_id}/retry", "POST", record=True),
    staff("messages.cancel", "/messages/{message_id}/cancel", "POST", record=True),
    staff("messages.resolve", "/messages/{message_id}/resolve", "POST", record=True),
    staff("messages.letters", "/messages/letters"),
    staff("messages.letters_pdf", "/messages/letters.pdf"),
    staff("messages.letters_posted", "/messages/letters/posted", "POST"),
    staff("messages.contact", "/residents/{contact_ref}/contact", record=True),
    staff("messages.contact", "/residents/{contact_ref}/contact", "POST", record=True),
    admin_only("messages.texts", "/admin/message-texts"),
    admin_only("messages.edit_text", "/admin/message-texts/loan.overdue/sms"),
    admin_only("messages.edit_text", "/admin/message-texts/loan.overdue/sms", "POST"),
    public("accounts.forgot_password", "/password-reset"),
    public("accounts.forgot_password", "/password-reset", "POST"),
    # an unknown token is "not found" for everyone
    Route(
        "accounts.reset_password",
        "/password-reset/{reset_token}",
        anon=MISSING,
        admin=MISSING,
        coordinator=MISSING,
        buddy=MISSING,
        donor=MISSING,
        other=MISSING,
        commissioner=MISSING,
    ),
    Route(
        "accounts.reset_password",
        "/password-reset/{reset_token}",
        "POST",
        anon=MISSING,
        admin=MISSING,
        coordinator=MISSING,
        buddy=MISSING,
        donor=MISSING,
        other=MISSING,
        commissioner=MISSING,
    ),
    Route(
        "messages.delivery_receipt",
        "/messages/delivery-receipts",
        "POST",
        anon=NO_TOKEN,
        admin=NO_TOKEN,
        coordinator=NO_TOKEN,
        buddy=NO_TOKEN,
        donor=NO_TOKEN,
        other=NO_TOKEN,
        commissioner=NO_TOKEN,
    ),
]
