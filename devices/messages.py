"""What devices sends: loan and data reminders to residents, receipts and news to donors.

The purposes live here; the texts to residents are in ``devices.sms`` (text messages) and
``devices.resident_texts`` (e-mails and letters), translated through the catalogues into
the resident's language; the donors' texts are here. Admins may replace any of them per
organisation and language. Texts to residents say only what the reminder
needs: their first name, the kind of device, a date, the organisation's phone number;
never a health detail or why they were referred.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask_babel import lazy_gettext as _
from sqlalchemy import select

from inclusion.accounts.models import Organisation
from inclusion.extensions import db
from inclusion.messages import service as messages
from inclusion.messages.texts import Purpose, Text

from . import resident_texts, sms

#: Loan reminders go this many days before the due date, at 10:00 local time.
DUE_SOON_DAYS = 3
#: Data bundle reminders go this many days before the data runs out.
BUNDLE_DAYS = 3
REMINDER_HOUR = time(10, 0)

_RESIDENT = {
    "first_name": ("Their first name", "Maximilianus"),
    "device": ("The kind of device", "chromebook"),
    "due_date": ("The day it is due back", "Wednesday 30 September"),
    "loan": ("The loan's reference", "L-00007"),
}
_BUNDLE = {
    "first_name": ("Their first name", "Maximilianus"),
    "network": ("The mobile network", "Vodafone"),
    "expiry_date": ("The day the data runs out", "Wednesday 30 September"),
}
_DONOR = {
    "contact_name": ("The donor's contact", "Bartholomew Featherstonehaugh-Smith"),
    "business": ("The business", "Acme Builders and Sons Limited"),
    "reference": ("The donation's reference", "D-0042"),
}

LOAN_DUE_SOON = Purpose(
    key="loan.due_soon",
    label="A loan is due back soon",
    audience="resident",
    placeholders=_RESIDENT,
    texts={
        "sms": Text(sms.LOAN_DUE_SOON),
        "email": Text(
            subject=resident_texts.LOAN_DUE_SOON_EMAIL_SUBJECT,
            body=resident_texts.LOAN_DUE_SOON_EMAIL,
        ),
        "letter": Text(
            subject=resident_texts.LOAN_DUE_SOON_LETTER_SUBJECT,
            body=resident_texts.LOAN_DUE_SOON_LETTER,
        ),
    },
)

LOAN_OVERDUE = Purpose(
    key="loan.overdue",
    label="A loan is overdue",
    audience="resident",
    placeholders=_RESIDENT,
    texts={
        "sms": Text(sms.LOAN_OVERDUE),
        "email": Text(
            subject=resident_texts.LOAN_OVERDUE_EMAIL_SUBJECT,
            body=resident_texts.LOAN_OVERDUE_EMAIL,
        ),
        "letter": Text(
            subject=resident_texts.LOAN_OVERDUE_LETTER_SUBJECT,
            body=resident_texts.LOAN_OVERDUE_LETTER,
        ),
    },
)

BUNDLE_EXPIRING = Purpose(
    key="bundle.expiring",
    label="Data is about to run out",
    audience="resident",
    placeholders=_BUNDLE,
    texts={
        "sms": Text(sms.BUNDLE_EXPIRING),
        "email": Text(
            subject=resident_texts.BUNDLE_EXPIRING_EMAIL_SUBJECT,
            body=resident_texts.BUNDLE_EXPIRING_EMAIL,
        ),
        "letter": Text(
            subject=resident_texts.BUNDLE_EXPIRING_LETTER_SUBJECT,
            body=resident_texts.BUNDLE_EXPIRING_LETTER,
        ),
    },
)

DONATION_RECEIPT = Purpose(
    key="donation.receipt",
    label="Receipt for a pledged donation",
    audience="donor",
    placeholders={
        **_DONOR,
        "receipt_link": ("The link to the PDF receipt", "https://inclusion.example.org/r"),
    },
    required=("receipt_link",),
    texts={
        "email": Text(
            subject=_("Thank you: your donation ((reference)) to ((organisation))"),
            body=_(
                "Dear ((contact_name)),\n\nThank you for pledging devices from ((business)) "
                "to ((organisation)). Your reference is ((reference)).\n\nYour receipt: "
                "((receipt_link))\n\nWe will be in touch to arrange the drop-off or "
                "collection. Questions? Call us on ((organisation_phone))."
            ),
        )
    },
)

DONATION_RECEIVED = Purpose(
    key="donation.received",
    label="A donation has arrived",
    audience="donor",
    placeholders={**_DONOR, "count": ("How many devices arrived", "120")},
    texts={
        "email": Text(
            subject=_("We have received your donation ((reference))"),
            body=_(
                "Dear ((contact_name)),\n\nThe ((count)) devices of donation ((reference)) "
                "from ((business)) have arrived at ((organisation)). We will wipe and check "
                "each one before it is lent to someone who needs it.\n\nThank you."
            ),
        )
    },
)

DONATION_FIRST_LENT = Purpose(
    key="donation.first_lent",
    label="A donated device is lent for the first time",
    audience="donor",
    placeholders=_DONOR,
    texts={
        "email": Text(
            subject=_("Your donation ((reference)) is helping someone get online"),
            body=_(
                "Dear ((contact_name)),\n\nThe first device from donation ((reference)) "
                "has just been lent to a resident by ((organisation)), to help them get "
                "online.\n\nThank you from all of us."
            ),
        )
    },
)

PURPOSES = (
    LOAN_DUE_SOON,
    LOAN_OVERDUE,
    BUNDLE_EXPIRING,
    DONATION_RECEIPT,
    DONATION_RECEIVED,
    DONATION_FIRST_LENT,
)


def _morning(day: date) -> datetime:
    """10:00 local time on ``day``, as naive UTC."""
    from datetime import UTC

    at = datetime.combine(day, REMINDER_HOUR, tzinfo=messages._zone())
    return at.astimezone(UTC).replace(tzinfo=None)


def _organisation(organisation_id: int) -> Organisation:
    return db.session.get(
        Organisation, organisation_id, execution_options={"all_organisations": True}
    )


def _loan_values(loan) -> dict:
    return {
        "first_name": loan.resident.first_name,
        "device": resident_texts.DEVICE_WORDS.get(loan.device.kind, resident_texts.DEVICE),
        # a date: written out in the resident's language when the text is rendered
        "due_date": loan.due_on,
        "loan": loan.reference,
    }


def loan_key(loan) -> str:
    return f"loan:{loan.reference}:"


def queue_due_soon(loan, *, by=None):
    """The reminder a few days before the due date, queued when the due date is set (a
    lend, an extension) to go at 10:00 that day; keyed by the due date, so a new due
    date gets its own reminder and the same one is never queued twice."""
    send_at = max(_morning(loan.due_on - timedelta(days=DUE_SOON_DAYS)), messages.now())
    return messages.queue(
        _organisation(loan.organisation_id),
        purpose=LOAN_DUE_SOON.key,
        key=f"{loan_key(loan)}due:{loan.due_on.isoformat()}",
        to=messages.to_resident(loan.resident),
        values=_loan_values(loan),
        send_at=send_at,
        by=by,
    )


def queue_overdue(loan, as_of: date, *, by=None):
    """At most one overdue reminder a week: the key names the week of lateness."""
    week = (as_of - loan.due_on).days // 7
    return messages.queue(
        _organisation(loan.organisation_id),
        purpose=LOAN_OVERDUE.key,
        key=f"{loan_key(loan)}overdue:{loan.due_on.isoformat()}:week-{week}",
        to=messages.to_resident(loan.resident),
        values=_loan_values(loan),
        by=by,
    )


def cancel_loan_reminders(loan, *, by=None) -> int:
    """A loan returned, ended or given a new due date: its queued reminders must not go."""
    return messages.cancel_queued(loan.organisation_id, loan_key(loan), by=by)


def queue_bundle_expiring(bundle, *, by=None):
    return messages.queue(
        _organisation(bundle.organisation_id),
        purpose=BUNDLE_EXPIRING.key,
        key=f"bundle:{bundle.reference}:expiring:{bundle.expires_on.isoformat()}",
        to=messages.to_resident(bundle.resident),
        values={
            "first_name": bundle.resident.first_name,
            "network": bundle.network,
            "expiry_date": bundle.expires_on,
        },
        by=by,
    )


def queue_loan_reminders(as_of: date) -> int:
    """The daily reminder source: loans due within ``DUE_SOON_DAYS``, overdue loans
    (weekly), data running out within ``BUNDLE_DAYS``, in every organisation. Returns how
    many messages it queued (nothing twice, however often it runs)."""
    from sqlalchemy.orm import joinedload

    from .loans.models import DataBundle, Loan

    loans = db.session.scalars(
        select(Loan)
        .where(Loan.ended_at.is_(None), Loan.due_on <= as_of + timedelta(days=DUE_SOON_DAYS))
        .options(joinedload(Loan.resident), joinedload(Loan.device))
        .order_by(Loan.id)
        .execution_options(all_organisations=True)
    ).all()
    queued = 0
    for loan in loans:
        before = messages.count_queued_keys(loan.organisation_id, loan_key(loan))
        if loan.due_on < as_of:
            queue_overdue(loan, as_of)
        else:
            queue_due_soon(loan)
        queued += messages.count_queued_keys(loan.organisation_id, loan_key(loan)) - before
    bundles = db.session.scalars(
        select(DataBundle)
        .where(
            DataBundle.status == "issued",
            DataBundle.expires_on >= as_of,
            DataBundle.expires_on <= as_of + timedelta(days=BUNDLE_DAYS),
        )
        .options(joinedload(DataBundle.resident))
        .order_by(DataBundle.id)
        .execution_options(all_organisations=True)
    ).all()
    for bundle in bundles:
        key = f"bundle:{bundle.reference}:"
        before = messages.count_queued_keys(bundle.organisation_id, key)
        queue_bundle_expiring(bundle)
        queued += messages.count_queued_keys(bundle.organisation_id, key) - before
    return queued


queue_loan_reminders.label = "loan and data reminders"


# ---- donors -----------------------------------------------------------------------------


def _donor_values(donation) -> dict:
    donor = donation.donor
    return {
        "contact_name": donor.contact_name,
        "business": donor.business_name,
        "reference": donation.reference,
    }


def _to_donor(donation):
    donor = donation.donor
    return messages.to_contact("donor", donor.id, donor.contact_name, donor.email)


def queue_receipt(donation, *, by=None):
    from inclusion.messages.links import external_url

    return messages.queue(
        _organisation(donation.organisation_id),
        purpose=DONATION_RECEIPT.key,
        key=f"donation:{donation.reference}:receipt",
        to=_to_donor(donation),
        values={
            **_donor_values(donation),
            "receipt_link": external_url("devices.public_receipt", token=donation.receipt_token),
        },
        by=by,
    )


def queue_received(donation, *, by=None):
    return messages.queue(
        _organisation(donation.organisation_id),
        purpose=DONATION_RECEIVED.key,
        key=f"donation:{donation.reference}:received",
        to=_to_donor(donation),
        values={**_donor_values(donation), "count": str(donation.received_count)},
        by=by,
    )


def queue_first_lent(donation, *, by=None):
    """Queued at every lend of one of its devices; the key makes only the first count."""
    return messages.queue(
        _organisation(donation.organisation_id),
        purpose=DONATION_FIRST_LENT.key,
        key=f"donation:{donation.reference}:first-lent",
        to=_to_donor(donation),
        values=_donor_values(donation),
        by=by,
    )
