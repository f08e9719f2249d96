from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import ValidationError


class EraseForm(FlaskForm):
    """Erasure is confirmed by typing the resident's reference."""

    reference = StringField("Type the reference to confirm")

    def __init__(self, *args, resident, **kwargs):
        super().__init__(*args, **kwargs)
        self.resident = resident
        self.reference.label.text = f"Type the reference {resident.reference} to confirm"

    def validate_reference(self, field):
        typed = (field.data or "").strip().upper()
        if typed != self.resident.reference.upper():
            raise ValidationError(
                f"Type {self.resident.reference} exactly as shown: nothing has been changed."
            )


class ExportForm(FlaskForm):
    """A button: the export writes an audit event, so it is a POST with a CSRF token."""
