"""What the device waiting list does when the core says something happened.

Connected in ``devices.loans.init_app``; the core never imports this package.
"""

from __future__ import annotations

from sqlalchemy import select

from inclusion.clock import now
from inclusion.extensions import db
from inclusion.workflow import transition

from .models import WAITING_TRANSITIONS, WaitingListEntry

#: The audit action of a waiting-list place given up because the case was closed
#: (a manual removal is ``waiting_list.removed``).
REMOVED_CASE_CLOSED = "waiting_list.removed_case_closed"


def take_closed_case_off_waiting_list(resident, *, by=None, **_) -> None:
    """Receiver of ``inclusion.signals.case_closed``: a closed case waits for no device.

    The resident's waiting entry becomes *removed*, audited with the actor and the
    reason "case closed"; it runs inside the closing transaction.
    """
    entries = db.session.scalars(
        select(WaitingListEntry)
        .where(WaitingListEntry.resident_id == resident.id, WaitingListEntry.status == "waiting")
        .with_for_update()
    ).all()
    for entry in entries:
        transition(
            entry,
            "removed",
            WAITING_TRANSITIONS,
            action=REMOVED_CASE_CLOSED,
            extra_changed=["status_changed_at"],
            actor=by,
        )
        entry.status_changed_at = now()
    db.session.flush()
