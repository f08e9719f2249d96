from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
)
from wtforms.widgets import CheckboxInput, ListWidget

from ..i18n import LANGUAGES
from ..validators import District, PhoneNumber
from .models import COMMISSIONER, ROLE_LABELS

# A commissioner is set up with their programme (``flask inclusion add-commissioner``),
# never from the users page: an account there belongs to one organisation's records.
ASSIGNABLE_ROLES = {k: v for k, v in ROLE_LABELS.items() if k != COMMISSIONER}


class SignInForm(FlaskForm):
    email = EmailField("Email address", validators=[DataRequired("Enter your email address.")])
    password = PasswordField("Password", validators=[DataRequired("Enter your password.")])


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        "Email address",
        validators=[
            DataRequired("Enter your email address."),
            Email("Enter an email address like name@example.org."),
            Length(max=254),
        ],
    )


class InviteForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Enter their name."), Length(max=200)])
    email = EmailField(
        "Email address",
        validators=[
            DataRequired("Enter their email address."),
            Email("Enter an email address like name@example.org."),
            Length(max=254),
        ],
    )
    # No role is preselected: giving someone access, admin above all, is a decision.
    role = SelectField(
        "Role",
        choices=[("", "Choose a role")] + list(ASSIGNABLE_ROLES.items()),
        default="",
        validators=[InputRequired("Choose a role.")],
    )


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=list(ASSIGNABLE_ROLES.items()))


class EmptyForm(FlaskForm):
    """A form with nothing but the CSRF token, for one-button actions."""


class SetPasswordForm(FlaskForm):
    password = PasswordField(
        "New password",
        description="At least 12 characters. A few unrelated words make a good one.",
        validators=[DataRequired("Choose a password.")],
    )
    confirm = PasswordField(
        "Type it again",
        validators=[
            DataRequired("Type the password again."),
            EqualTo("password", "The two passwords differ."),
        ],
    )


class MultiCheckboxField(SelectMultipleField):
    """Checkboxes (the type name the field macro draws as checkboxes) of the languages an organisation offers, stored as "cy,pa,ur"."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def process_data(self, value):
        super().process_data([c for c in (value or "").split(",") if c])

    def populate_obj(self, obj, name):
        setattr(obj, name, ",".join(self.data or []))


class DistrictsField(StringField):
    """Postcode districts typed as "WV1, WV3", kept as a list."""

    def _value(self):
        if isinstance(self.data, list):
            return ", ".join(self.data)
        return super()._value()


class OrganisationForm(FlaskForm):
    name = StringField(
        "Organisation name", validators=[DataRequired("Enter a name."), Length(max=200)]
    )
    contact_phone = StringField(
        "Contact phone",
        description="Shown on the public page of every device label.",
        validators=[DataRequired("Enter a phone number."), PhoneNumber()],
    )
    contact_email = EmailField(
        "Contact email",
        validators=[Optional(), Email("Enter an email address like name@example.org.")],
    )
    return_address = TextAreaField(
        "Where to return devices",
        description="Shown on the public page of every device label.",
        validators=[DataRequired("Enter an address."), Length(max=1000)],
    )
    default_loan_days = IntegerField(
        "Default loan length (days)",
        validators=[
            DataRequired("Enter a number of days."),
            NumberRange(1, 366, "Between 1 and 366 days."),
        ],
    )
    areas = DistrictsField(
        "Areas you serve (optional)",
        description="Postcode districts, like WV1, WV3. The shared public forms tell people "
        "with these postcodes that you cover their area; they still choose.",
        validators=[Optional(), District()],
    )
    retention_months = IntegerField(
        "Keep closed cases for (months)",
        description="After this, closed cases are anonymised by the retention task.",
        validators=[
            DataRequired("Enter a number of months."),
            NumberRange(1, 240, "Between 1 and 240 months."),
        ],
    )
    languages = MultiCheckboxField(
        "Languages we offer residents besides English",
        description="Public pages, loan agreements, letters and texts. A language whose "
        "translation is incomplete is not offered even when chosen.",
        choices=[
            (c, f"{lang.native} ({lang.english})") for c, lang in LANGUAGES.items() if c != "en"
        ],
        validators=[Optional()],
    )
