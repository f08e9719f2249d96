"""The text messages devices sends to residents, in a module of their own: the catalogue
checks know every message here as an SMS (``inclusion.i18n.is_sms``), so a translation
must fit two segments in its encoding (UCS-2 for Gurmukhi, Bengali, Urdu and Arabic, and
for Welsh, Polish or Romanian letters outside the GSM alphabet: 67 characters a segment)
with the longest names filled in. Keep translations short; keep every ((placeholder)).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _

LOAN_DUE_SOON = _(
    "Hello ((first_name)), the ((device)) you borrowed from ((organisation)) is due "
    "back on ((due_date)). Please bring it back, or call ((organisation_phone)) if "
    "you need it for longer."
)
LOAN_OVERDUE = _(
    "Hello ((first_name)), the ((device)) you borrowed from ((organisation)) was due "
    "back on ((due_date)). Please call us on ((organisation_phone)) so we can arrange "
    "its return or more time."
)
BUNDLE_EXPIRING = _(
    "Hello ((first_name)), the ((network)) data you have from ((organisation)) runs "
    "out on ((expiry_date)). Call us on ((organisation_phone)) if you still need data."
)
