"""Forms of the buddies package; they validate and never write."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from inclusion.clock import today
from inclusion.public_links import organisation_choice
from inclusion.residents.forms import LANGUAGES
from inclusion.validators import District, PhoneNumber

from .models import (
    ACCESS_EXPERIENCE,
    DAYS,
    DBS_LEVELS,
    END_REASONS,
    PARTS,
    SKILL_AREAS,
    TRAINING_KINDS,
    VISIT_MODES,
)


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes whose data is a list of keys."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


SLOT_CHOICES = [(f"{d}_{p}", f"{DAYS[d]} {p}") for d in DAYS for p in PARTS]


def _not_future(form, field):
    if field.data and field.data > today():
        raise ValidationError("This date cannot be in the future.")


class _ProfileFields(FlaskForm):
    name = StringField("Full name", validators=[DataRequired("Enter your name."), Length(max=200)])
    email = EmailField(
        "Email address",
        validators=[
            DataRequired("Enter your email address."),
            Email("Enter an email address like name@example.org."),
            Length(max=254),
        ],
    )
    phone = StringField(
        "Phone number",
        validators=[DataRequired("Enter a phone number we can call."), PhoneNumber()],
    )
    areas = StringField(
        "Areas you can cover",
        description="Postcode districts, separated by commas, e.g. WV3, WV4.",
        validators=[DataRequired("Enter at least one postcode district, like WV3."), District()],
    )
    languages = MultiCheckboxField(
        "Languages you speak",
        choices=[(x, x) for x in LANGUAGES],
        validators=[DataRequired("Choose at least one language you speak.")],
    )
    skills = MultiCheckboxField(
        "Skills you could help with",
        choices=list(SKILL_AREAS.items()),
        validators=[DataRequired("Choose at least one skill you could help with.")],
    )
    access_experience = MultiCheckboxField(
        "Access experience (optional)",
        choices=list(ACCESS_EXPERIENCE.items()),
        validators=[Optional()],
    )
    availability = MultiCheckboxField(
        "When you are usually free",
        choices=SLOT_CHOICES,
        validators=[DataRequired("Tick at least one time you are usually free.")],
    )
    visit_modes = MultiCheckboxField(
        "How you could meet people",
        choices=list(VISIT_MODES.items()),
        validators=[DataRequired("Choose at least one way of meeting.")],
    )
    caseload_limit = IntegerField(
        "How many people could you support at once?",
        default=2,
        validators=[
            InputRequired("Enter a number from 1 to 20."),
            NumberRange(1, 20, "Enter a number from 1 to 20."),
        ],
    )
    about = TextAreaField(
        "Anything else you would like to tell us (optional)",
        validators=[Optional(), Length(max=2000)],
    )

    def profile_data(self) -> dict:
        data = {
            name: self[name].data
            for name in (
                "name",
                "email",
                "phone",
                "languages",
                "skills",
                "access_experience",
                "availability",
                "visit_modes",
                "caseload_limit",
                "about",
            )
        }
        data["areas"] = [a.strip() for a in (self.areas.data or "").split(",") if a.strip()]
        data["about"] = data["about"] or ""
        return data


class VolunteerForm(_ProfileFields):
    """The public application to become an IT buddy."""

    # Only on the shared form of a deployment with several organisations; no default.
    organisation = SelectField(
        "Which scheme would you like to volunteer with?",
        coerce=organisation_choice,
        validators=[DataRequired("Choose the scheme you would like to volunteer with.")],
    )
    agree = BooleanField(
        "I agree that the scheme keeps these details to consider my application",
        validators=[DataRequired("Tick to agree, so we can keep your application.")],
    )


class ProfileEditForm(_ProfileFields):
    pass


class DbsForm(FlaskForm):
    level = SelectField(
        "DBS level",
        choices=[("", "Choose…"), *DBS_LEVELS.items()],
        validators=[DataRequired("Choose the level of the check.")],
    )
    certificate = StringField(
        "Certificate number",
        description="12 digits, on the certificate.",
        validators=[DataRequired("Enter the certificate number."), Length(max=20)],
    )
    issued_on = DateField(
        "Issue date", validators=[InputRequired("Enter the issue date."), _not_future]
    )

    def validate_certificate(self, field):
        value = (field.data or "").replace(" ", "")
        if not (value.isdigit() and len(value) == 12):
            raise ValidationError("A DBS certificate number has 12 digits.")
        field.data = value


class TrainingForm(FlaskForm):
    kind = SelectField(
        "Training",
        choices=[("", "Choose…"), *TRAINING_KINDS.items()],
        validators=[DataRequired("Choose the training.")],
    )
    completed_on = DateField(
        "Completed on", validators=[InputRequired("Enter the date it was completed."), _not_future]
    )
    provider = StringField("Provider (optional)", validators=[Optional(), Length(max=200)])


class BuddyStatusForm(FlaskForm):
    status = SelectField("Move to", choices=[], validators=[DataRequired("Choose a status.")])

    def __init__(self, *args, allowed: list[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.status.choices = [(s, s.title()) for s in (allowed or [])]


class BuddyFilterForm(FlaskForm):
    class Meta:
        csrf = False

    status = SelectField(
        "Status",
        choices=[
            ("", "Any"),
            ("applicant", "Applicant"),
            ("active", "Active"),
            ("paused", "Paused"),
            ("left", "Left"),
        ],
        validators=[Optional()],
    )


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


class ProposeForm(FlaskForm):
    buddy_id = HiddenField(validators=[DataRequired("Choose a buddy.")])


class EndMatchForm(FlaskForm):
    reason = SelectField(
        "Why does it end?",
        choices=[("", "Choose…"), *END_REASONS.items()],
        validators=[DataRequired("Choose why the match ends.")],
    )
    note = TextAreaField("Note (optional)", validators=[Optional(), Length(max=2000)])


class MatchingNeedsForm(FlaskForm):
    availability = MultiCheckboxField(
        "When they are usually free", choices=SLOT_CHOICES, validators=[Optional()]
    )
    visit_modes = MultiCheckboxField(
        "How they would like to meet", choices=list(VISIT_MODES.items()), validators=[Optional()]
    )
    skills = MultiCheckboxField(
        "What they want to learn", choices=list(SKILL_AREAS.items()), validators=[Optional()]
    )
    interpreter_available = BooleanField("An interpreter can join sessions")
