from __future__ import annotations

from flask_babel import lazy_gettext as _
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional, ValidationError

from ..clock import today
from ..fields import DateInputField
from ..public_links import organisation_choice
from ..validators import PhoneNumber, UKPostcode
from .models import (
    CONSENT_METHODS,
    DUPLICATE_RESOLUTIONS,
    OUTCOMES,
    REFERRER_SOURCES,
    SOURCES,
    STATUSES,
)

LANGUAGES = [
    "English",
    "Arabic",
    "Bengali",
    "British Sign Language",
    "Cantonese",
    "Farsi",
    "French",
    "Gujarati",
    "Hindi",
    "Kurdish",
    "Mandarin",
    "Pashto",
    "Polish",
    "Portuguese",
    "Punjabi",
    "Romanian",
    "Somali",
    "Spanish",
    "Tamil",
    "Tigrinya",
    "Turkish",
    "Ukrainian",
    "Urdu",
    "Welsh",
]

# How the public forms name each language, in the page's language (the stored value stays
# the English name above).
LANGUAGE_NAMES = {
    "English": _("English"),
    "Arabic": _("Arabic"),
    "Bengali": _("Bengali"),
    "British Sign Language": _("British Sign Language"),
    "Cantonese": _("Cantonese"),
    "Farsi": _("Farsi"),
    "French": _("French"),
    "Gujarati": _("Gujarati"),
    "Hindi": _("Hindi"),
    "Kurdish": _("Kurdish"),
    "Mandarin": _("Mandarin"),
    "Pashto": _("Pashto"),
    "Polish": _("Polish"),
    "Portuguese": _("Portuguese"),
    "Punjabi": _("Punjabi"),
    "Romanian": _("Romanian"),
    "Somali": _("Somali"),
    "Spanish": _("Spanish"),
    "Tamil": _("Tamil"),
    "Tigrinya": _("Tigrinya"),
    "Turkish": _("Turkish"),
    "Ukrainian": _("Ukrainian"),
    "Urdu": _("Urdu"),
    "Welsh": _("Welsh"),
}


def _not_future(form, field):
    if field.data and field.data > today():
        raise ValidationError("This date cannot be in the future.")


class _PersonFields(FlaskForm):
    first_name = StringField(
        _("First name"), validators=[DataRequired(_("Enter their first name.")), Length(max=100)]
    )
    last_name = StringField(
        _("Last name"), validators=[DataRequired(_("Enter their last name.")), Length(max=100)]
    )
    phone = StringField(
        _("Phone number"),
        description=_("Most people we help have no email, so we phone them."),
        validators=[DataRequired(_("Enter a phone number we can call.")), PhoneNumber()],
    )
    email = EmailField(
        _("Email address (optional)"),
        validators=[
            Optional(),
            Email(_("Enter an email address like name@example.org.")),
            Length(max=254),
        ],
    )
    postcode = StringField(
        _("Postcode"), validators=[DataRequired(_("Enter their postcode.")), UKPostcode()]
    )
    preferred_language = SelectField(
        _("Preferred language"),
        choices=[(x, LANGUAGE_NAMES[x]) for x in LANGUAGES],
        default="English",
    )
    interpreter_needed = BooleanField(_("Needs an interpreter"))
    access_sight = BooleanField(_("Sight"))
    access_hearing = BooleanField(_("Hearing"))
    access_dexterity = BooleanField(_("Dexterity"))
    access_memory = BooleanField(_("Memory or cognition"))
    access_learning = BooleanField(_("Learning disability"))
    access_other = BooleanField(_("Other"))
    access_notes = TextAreaField(
        _("Anything that would help us support them"),
        validators=[Optional(), Length(max=2000)],
    )
    needs_device = BooleanField(_("A device (tablet, laptop or phone)"))
    needs_data = BooleanField(_("Data or internet access"))
    needs_skills = BooleanField(_("Help to learn skills and build confidence"))
    referral_reason = TextAreaField(
        _("What would they like to be able to do?"),
        validators=[
            DataRequired(_("Tell us briefly what they would like help with.")),
            Length(max=4000),
        ],
    )

    def validate_needs_skills(self, field):
        if not (self.needs_device.data or self.needs_data.data or field.data):
            raise ValidationError(_("Choose at least one kind of help."))


# The sources as the public form names them, in the visitor's language.
REFERRER_SOURCE_LABELS = {
    "gp": _("GP practice"),
    "social_care": _("Social care"),
    "housing": _("Housing"),
    "family": _("Family or friend"),
    "other": _("Other"),
}


class PublicReferralForm(_PersonFields):
    """Signed-out referral, by the person themself or someone on their behalf."""

    # Only on the shared form of a deployment with several organisations; no default.
    organisation = SelectField(
        _("Which scheme covers where they live?"),
        coerce=organisation_choice,
        validators=[DataRequired(_("Choose the scheme that covers where they live."))],
    )
    on_behalf = RadioField(
        _("Who is filling in this form?"),
        choices=[("self", _("I am referring myself")), ("other", _("I am referring someone else"))],
        default="self",
        validators=[InputRequired(_("Tell us who is filling in the form."))],
    )
    referral_source = RadioField(
        _("Where are you referring them from?"),
        choices=[(key, REFERRER_SOURCE_LABELS[key]) for key in REFERRER_SOURCES],
        validate_choice=False,  # only asked when referring someone else: checked below
    )
    # No Optional(): it would stop the chain before the "someone else" checks below.
    referrer_name = StringField(_("Your name"), validators=[Length(max=200)])
    referrer_organisation = StringField(
        _("Your organisation (if any)"), validators=[Optional(), Length(max=200)]
    )
    referrer_contact = StringField(_("Your phone or email"), validators=[Length(max=254)])
    consent = BooleanField(
        _(
            "The person being referred agrees that we keep these details to contact them "
            "about borrowing a device, getting data and learning with a volunteer."
        ),
        validators=[DataRequired(_("We can only take the referral with the person's agreement."))],
    )

    def validate_referral_source(self, field):
        if self.on_behalf.data == "other" and field.data not in REFERRER_SOURCES:
            raise ValidationError(_("Choose where you are referring them from."))

    def validate_referrer_name(self, field):
        if self.on_behalf.data == "other" and not (field.data or "").strip():
            raise ValidationError(_("Enter your name, as you are referring someone else."))

    def validate_referrer_contact(self, field):
        if self.on_behalf.data == "other" and not (field.data or "").strip():
            raise ValidationError(_("Enter a phone number or email so we can reach you."))


class IntakeForm(_PersonFields):
    """Coordinator's intake: a referral taken on the phone, at a desk or from a partner."""

    date_of_birth = DateInputField(
        "Date of birth (optional)",
        description="For example, 27 3 1958",
        validators=[Optional(), _not_future],
    )
    nhs_number = StringField(
        "NHS number (optional)",
        description="10 digits, on letters from the GP or the NHS App.",
        validators=[Optional(), Length(max=14)],
    )
    referral_source = SelectField(
        "Referral source",
        choices=[("", "Choose…"), *SOURCES.items()],
        validators=[DataRequired("Choose where the referral came from.")],
    )
    referrer_name = StringField("Referrer name", validators=[Optional(), Length(max=200)])
    referrer_organisation = StringField(
        "Referrer organisation", validators=[Optional(), Length(max=200)]
    )
    referrer_contact = StringField(
        "Referrer phone or email", validators=[Optional(), Length(max=254)]
    )
    referral_date = DateField(
        "Referral date",
        default=today,
        validators=[DataRequired("Enter the referral date."), _not_future],
    )
    consent_given = BooleanField("The person has agreed that we keep their details")
    consent_method = SelectField(
        "How they agreed", choices=[("", "Choose…"), *CONSENT_METHODS.items()]
    )
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=4000)])
    # Set by the "create a new referral anyway" button: the reference of the open case
    # the coordinator was shown and decided this is not.
    create_anyway = HiddenField()

    def validate_consent_method(self, field):
        if self.consent_given.data and not field.data:
            raise ValidationError("Say how the person agreed.")


class ResidentEditForm(IntakeForm):
    pass


class DuplicateForm(FlaskForm):
    """A coordinator settles a referral flagged as a possible duplicate."""

    resolution = RadioField(
        "What should happen to this referral?",
        choices=list(DUPLICATE_RESOLUTIONS.items()),
        validators=[InputRequired("Choose whether to keep both or close this one.")],
    )


class StatusForm(FlaskForm):
    status = SelectField("Move to", choices=[(s, s.title()) for s in STATUSES])
    outcome = SelectField(
        "Outcome (when closing)",
        choices=[("", "Choose…"), *OUTCOMES.items()],
        validators=[Optional()],
    )
    note = TextAreaField("Note (optional)", validators=[Optional(), Length(max=2000)])

    def __init__(self, *args, allowed: list[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if allowed is not None:
            self.status.choices = [(s, s.title()) for s in allowed]

    def validate_outcome(self, field):
        if self.status.data == "closed" and not field.data:
            raise ValidationError("Choose an outcome to close the case.")


def status_steps_form(steps: list[str], formdata=None) -> FlaskForm:
    """A date for each step still to come (``contacted_on``, ``assessed_on``, …): the steps
    recorded are the ones given a date, from the first (``service.record_steps``)."""

    class StatusStepsForm(FlaskForm):
        pass

    example = f"{today():%-d %-m %Y}"
    for status in steps:
        setattr(
            StatusStepsForm,
            f"{status}_on",
            DateInputField(
                f"Date {status}",
                description=f"For example, {example}",
                validators=[Optional()],
                example=example,
            ),
        )
    form = StatusStepsForm(formdata=formdata)
    form.steps = steps
    return form


class ResidentFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField("Search name, reference or postcode", validators=[Optional()])
    status = SelectField(
        "Status",
        choices=[("", "Any"), *[(s, s.title()) for s in STATUSES]],
        validators=[Optional()],
    )
    source = SelectField("Source", choices=[("", "Any"), *SOURCES.items()], validators=[Optional()])
    need = SelectField(
        "Need",
        choices=[("", "Any"), ("device", "Device"), ("data", "Data"), ("skills", "Skills")],
        validators=[Optional()],
    )
