from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from ..residents.forms import LANGUAGES
from .models import CHANNELS


class ContactPreferenceForm(FlaskForm):
    by_sms = BooleanField("Text messages to their mobile")
    by_email = BooleanField("E-mail")
    by_letter = BooleanField("Letters by post")
    preferred = SelectField(
        "The one they prefer",
        choices=[("", "No preference"), *CHANNELS.items()],
        validators=[Optional()],
    )
    postal_address = TextAreaField(
        "Postal address for letters",
        description="As it goes on the envelope: name, street, town, postcode, one per line.",
        validators=[Optional(), Length(max=500, message="Keep the address to 500 characters.")],
    )
    no_messages = BooleanField("No messages at all (they asked us not to)")


class MessageTextForm(FlaskForm):
    language = SelectField("Language", choices=[(x, x) for x in LANGUAGES], default="English")
    subject = StringField("Subject (e-mail)", validators=[Optional(), Length(max=200)])
    body = TextAreaField("Message", validators=[Length(max=4000)], render_kw={"rows": 8})


class EmptyForm(FlaskForm):
    """Only the CSRF token, for one-button actions."""
