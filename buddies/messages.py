"""What buddies sends: DBS renewal reminders to the buddy and the coordinators, 60, 30
and 7 days before the check is due (its texts in one place, editable per organisation)."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _
from sqlalchemy import select

from inclusion.accounts.models import COORDINATOR, Organisation, User
from inclusion.extensions import db
from inclusion.messages import service as messages
from inclusion.messages.texts import Purpose, Text

#: Days before the renewal date at which a reminder goes (the nearest one not yet passed).
DBS_REMINDER_DAYS = (60, 30, 7)

DBS_RENEWAL_DUE = Purpose(
    key="dbs.renewal_due",
    label="A buddy's DBS check is due for renewal",
    audience="user",
    placeholders={
        "name": ("Who it is sent to", "Bartholomew Featherstonehaugh-Smith"),
        "buddy": ("The buddy", "Bartholomew Featherstonehaugh-Smith"),
        "renewal_date": ("The day the check is due", "Wednesday 30 September 2026"),
        "days": ("Days left", "60"),
    },
    texts={
        "email": Text(
            subject=_("DBS check of ((buddy)) due on ((renewal_date))"),
            body=_(
                "Hello ((name)),\n\nThe DBS check of ((buddy)), IT buddy with "
                "((organisation)), is due for renewal on ((renewal_date)), in ((days)) "
                "days.\n\nPlease start the renewal now, so visits can go on without a break."
            ),
        )
    },
)

PURPOSES = (DBS_RENEWAL_DUE,)


def _threshold(days_left: int) -> int | None:
    due = [t for t in DBS_REMINDER_DAYS if days_left <= t]
    return min(due) if due else None


def queue_dbs_reminders(as_of: date) -> int:
    """The daily reminder source: for each active or paused buddy whose DBS check is due
    within 60 days, one e-mail to the buddy and one to each coordinator at each of 60, 30
    and 7 days (a missed day catches up, never twice). Returns how many it queued."""
    from .models import BuddyProfile

    buddies = db.session.scalars(
        select(BuddyProfile)
        .where(
            BuddyProfile.status.in_(("active", "paused")),
            BuddyProfile.dbs_renewal_due.is_not(None),
            BuddyProfile.dbs_renewal_due >= as_of,
        )
        .order_by(BuddyProfile.id)
        .execution_options(all_organisations=True)
    ).all()
    queued = 0
    for buddy in buddies:
        days_left = (buddy.dbs_renewal_due - as_of).days
        threshold = _threshold(days_left)
        if threshold is None:
            continue
        organisation = db.session.get(
            Organisation, buddy.organisation_id, execution_options={"all_organisations": True}
        )
        coordinators = db.session.scalars(
            select(User)
            .where(
                User.organisation_id == buddy.organisation_id,
                User.role == COORDINATOR,
                User.active.is_(True),
            )
            .order_by(User.id)
            .execution_options(all_organisations=True)
        ).all()
        key = f"dbs:buddy-{buddy.id}:{buddy.dbs_renewal_due.isoformat()}:{threshold}:"
        before = messages.count_queued_keys(buddy.organisation_id, key)
        values = {
            "buddy": buddy.name,
            "renewal_date": buddy.dbs_renewal_due.strftime("%A %-d %B %Y"),
            "days": str(days_left),
        }
        recipients = [messages.to_contact("buddy", buddy.id, buddy.name, buddy.email)]
        recipients += [messages.to_user(user) for user in coordinators]
        for recipient in recipients:
            messages.queue(
                organisation,
                purpose=DBS_RENEWAL_DUE.key,
                key=f"{key}{recipient.kind}-{recipient.id}",
                to=recipient,
                values={**values, "name": recipient.name},
            )
        queued += messages.count_queued_keys(buddy.organisation_id, key) - before
    return queued


queue_dbs_reminders.label = "DBS renewal reminders"
