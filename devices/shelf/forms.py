"""Forms of the devices shelf. They check shape; devices.shelf.service decides the rules."""

from __future__ import annotations

from flask_babel import lazy_gettext as _
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from devices.forms import WipeForm
from devices.models import DEVICE_STATUS_LABELS


class StartStocktakeForm(FlaskForm):
    location = SelectField(
        _("Storage location"),
        description=_("The shelf, cupboard or room you are about to check"),
        validators=[DataRequired(_("Choose a storage location."))],
    )

    def __init__(self, *args, locations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.location.choices = [("", _("Choose…"))] + [(loc, loc) for loc in locations]


class ScanForm(FlaskForm):
    code = StringField(
        _("Scan or type a tag, serial number or IMEI"),
        description=_("A USB scanner types the label and presses Enter for you"),
        validators=[
            DataRequired(_("Scan a label, or type a tag, serial number or IMEI.")),
            Length(max=200),
        ],
    )


class SaveStocktakeForm(FlaskForm):
    move_misplaced = RadioField(
        _("Record the misplaced devices at this location?"),
        choices=[
            ("no", _("No, leave them recorded where they were")),
            ("yes", _("Yes, they live here now")),
        ],
        default="no",
        validators=[DataRequired(_("Say whether to move the misplaced devices."))],
    )


class BulkWipeForm(WipeForm):
    """The one-device wipe form, for every selected device."""


# Lending and returning go through a loan, never through a bulk move.
BULK_STATUSES = {k: v for k, v in DEVICE_STATUS_LABELS.items() if k != "on_loan"}


class BulkStatusForm(FlaskForm):
    status = SelectField(
        _("Move them to"),
        choices=[("", _("Choose…")), *BULK_STATUSES.items()],
        validators=[DataRequired(_("Choose the new status."))],
    )
    note = StringField(_("Note"), validators=[Length(max=500)])


class ImportDevicesForm(FlaskForm):
    rows = TextAreaField(
        _("Devices as CSV"),
        description=_(
            "A header row naming the columns make, model, serial, kind, grade, location; "
            "then one row per device. Kind is one of tablet, laptop, smartphone, "
            "chromebook, hotspot; grade is A, B, C or parts (B when left empty)."
        ),
    )
    upload = FileField(_("Or upload a CSV file"))
