from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField

from .models import DEVICE_KINDS, DEVICE_STATUS_LABELS, DONATION_STATUSES


class DeviceFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField("Search", description="Tag, make, model, serial or location")
    status = SelectField("Status", choices=[("", "Any status"), *DEVICE_STATUS_LABELS.items()])
    kind = SelectField("Kind", choices=[("", "Any kind"), *DEVICE_KINDS.items()])


class DonationFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField("Search", description="Business or reference")
    status = SelectField(
        "Status", choices=[("", "Any status")] + [(s, s.capitalize()) for s in DONATION_STATUSES]
    )
