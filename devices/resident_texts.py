"""What devices writes to residents by e-mail and letter (the texts only; their purposes
are in ``devices.messages``), translated through the catalogues into the resident's
language. They say only what the reminder needs: the first name, the kind of device, a
date, the loan, the organisation's phone number; never a health detail or why they were
referred."""

from __future__ import annotations

from flask_babel import lazy_gettext as _

LOAN_DUE_SOON_EMAIL_SUBJECT = _("Your ((device)) is due back on ((due_date))")
LOAN_DUE_SOON_EMAIL = _(
    "Hello ((first_name)),\n\nThe ((device)) you borrowed from ((organisation)) "
    "is due back on ((due_date)) (loan ((loan))).\n\nPlease bring it back, with "
    "its charger, or call us on ((organisation_phone)) if you need it for longer."
)

LOAN_DUE_SOON_LETTER_SUBJECT = _("Your ((device)) is due back on ((due_date))")
LOAN_DUE_SOON_LETTER = _(
    "Dear ((first_name)),\n\nThe ((device)) you borrowed from us is due back on "
    "((due_date)) (loan ((loan))).\n\nPlease bring it back, with its charger. If "
    "you need it for longer, please call us on ((organisation_phone)).\n\n"
    "With best wishes,\n((organisation))"
)

LOAN_OVERDUE_EMAIL_SUBJECT = _("Your ((device)) was due back on ((due_date))")
LOAN_OVERDUE_EMAIL = _(
    "Hello ((first_name)),\n\nThe ((device)) you borrowed from ((organisation)) "
    "was due back on ((due_date)) (loan ((loan))).\n\nPlease call us on "
    "((organisation_phone)) so we can arrange its return, or more time if you "
    "need it."
)

LOAN_OVERDUE_LETTER_SUBJECT = _("Your ((device)) was due back on ((due_date))")
LOAN_OVERDUE_LETTER = _(
    "Dear ((first_name)),\n\nThe ((device)) you borrowed from us was due back on "
    "((due_date)) (loan ((loan))).\n\nPlease call us on ((organisation_phone)) so "
    "we can arrange its return, or more time if you need it.\n\n"
    "With best wishes,\n((organisation))"
)

BUNDLE_EXPIRING_EMAIL_SUBJECT = _("Your data runs out on ((expiry_date))")
BUNDLE_EXPIRING_EMAIL = _(
    "Hello ((first_name)),\n\nThe ((network)) data you have from ((organisation)) "
    "runs out on ((expiry_date)).\n\nIf you still need data, call us on "
    "((organisation_phone))."
)

BUNDLE_EXPIRING_LETTER_SUBJECT = _("Your data runs out on ((expiry_date))")
BUNDLE_EXPIRING_LETTER = _(
    "Dear ((first_name)),\n\nThe ((network)) data you have from us runs out on "
    "((expiry_date)).\n\nIf you still need data, please call us on "
    "((organisation_phone)).\n\nWith best wishes,\n((organisation))"
)

#: The kinds of device as a text to a resident names them, mid-sentence (translated).
DEVICE_WORDS = {
    "tablet": _("tablet"),
    "laptop": _("laptop"),
    "smartphone": _("smartphone"),
    "chromebook": _("Chromebook"),
    "hotspot": _("mobile hotspot"),
}
DEVICE = _("device")
