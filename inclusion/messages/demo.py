"""Demo: contact preferences for the first organisation's residents (texts for most,
letters for some, "no messages" for one in seven), then the day's reminders, so the
Messages page has the demo's due and overdue loans in it. Idempotent."""

from __future__ import annotations

from sqlalchemy import select

from ..extensions import db
from ..residents.models import Resident
from ..residents.service import open_case
from ..tenancy import scope_session
from . import service
from .reminders import queue_reminders


def load(ctx) -> None:
    org = ctx.organisations["WDI"]
    coordinator = ctx.users["coordinator@wdi.example.org"]
    scope_session(db.session, org.id)
    residents = db.session.scalars(
        select(Resident)
        .where(Resident.organisation_id == org.id, open_case())
        .order_by(Resident.id)
    ).all()
    for i, resident in enumerate(residents):
        if service.preference_of(resident) is not None:
            continue
        address = f"{resident.full_name}\n{10 + i} Demo Street\nWolverhampton\n{resident.postcode}"
        if i % 7 == 6:
            data = {"by_sms": True, "no_messages": True}
        elif i % 4 == 3 or service.mobile_e164(resident.phone) is None:
            data = {"by_letter": True, "preferred": "letter", "postal_address": address}
        else:
            data = {
                "by_sms": True,
                "by_letter": True,
                "preferred": "sms",
                "postal_address": address,
            }
        service.save_contact_preference(resident, data, by=coordinator)
    scope_session(db.session, None)
    queue_reminders()
