"""Demo data for data protection: old closed cases, one already anonymised and one
due for the retention task (``flask inclusion retention`` lists it)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from ..clock import now, today
from ..extensions import db
from ..residents import service as residents
from ..residents.models import Resident, StatusChange
from ..tenancy import scoped_to
from . import service

OLD_CASES = [
    dict(
        first_name="Arthur",
        last_name="Pennington",
        phone="07911 123480",
        postcode="WV4 6HG",
        referral_reason="Wanted to keep in touch with his brother in Canada.",
    ),
    dict(
        first_name="Nora",
        last_name="Fairclough",
        phone="07911 123481",
        postcode="WV6 0QJ",
        referral_reason="Needed to book GP appointments online.",
    ),
]


def load(ctx) -> None:
    org = ctx.organisations["WDI"]
    coordinator = ctx.users["coordinator@wdi.example.org"]
    with scoped_to(org.id):
        # The demo's other residents were referred within the last 200 days: older ones are these.
        long_ago = today() - timedelta(days=1000)
        if db.session.scalar(
            select(func.count()).where(
                Resident.organisation_id == org.id, Resident.referral_date <= long_ago
            )
        ):
            return
        for i, person in enumerate(OLD_CASES):
            resident = residents.create_referral(
                org,
                dict(
                    person,
                    referral_source="housing",
                    needs_skills=True,
                    referral_date=long_ago - timedelta(days=i),
                ),
                consent_given=True,
                consent_method="verbal",
                recorded_by=coordinator,
            )
            residents.change_status(resident, "closed", by=coordinator, outcome="moved_away")
            closed = now() - timedelta(days=31 * (org.retention_months + 6))
            resident.closed_at = resident.status_changed_at = closed
            db.session.execute(
                StatusChange.__table__.update()
                .where(StatusChange.resident_id == resident.id)
                .values(at=closed)
            )
            if i == 1:
                service.erase_resident(resident, by=coordinator)
        db.session.flush()
