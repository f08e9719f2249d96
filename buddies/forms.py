"""Forms of the buddies package; they validate and never write."""

from __future__ import annotations

from flask_babel import lazy_gettext as _
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
from inclusion.residents.forms import LANGUAGE_NAMES, LANGUAGES
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


# The volunteer form's words, in the applicant's language (the models' labels stay the staff
# pages' English).
DAY_NAMES = {
    "mon": _("Monday"),
    "tue": _("Tuesday"),
    "wed": _("Wednesday"),
    "thu": _("Thursday"),
    "fri": _("Friday"),
    "sat": _("Saturday"),
    "sun": _("Sunday"),
}
# Three-letter days for the availability grid on a phone (the full name stays for
# screen readers).
DAY_SHORT_NAMES = {
    "mon": _("Mon"),
    "tue": _("Tue"),
    "wed": _("Wed"),
    "thu": _("Thu"),
    "fri": _("Fri"),
    "sat": _("Sat"),
    "sun": _("Sun"),
}
PART_NAMES = {"morning": _("morning"), "afternoon": _("afternoon"), "evening": _("evening")}
PUBLIC_SKILLS = {
    "foundation": _("Foundation skills (switch on, Wi-Fi, passwords)"),
    "communicating": _("Communicating (messages, video calls)"),
    "information": _("Handling information and content (search, judge a result)"),
    "transacting": _("Transacting (NHS App, bills, online forms)"),
    "problem_solving": _("Problem solving"),
    "safety": _("Being safe and legal online (scams)"),
}
PUBLIC_ACCESS = {
    "bsl": _("British Sign Language (BSL)"),
    "screen_reader": _("Screen readers"),
    "large_print": _("Large print and magnification"),
    "hearing_loop": _("Hearing loops"),
    "dementia": _("Dementia-friendly support"),
    "learning_disability": _("Learning disability"),
}
PUBLIC_VISITS = {
    "home": _("Home visit"),
    "venue": _("Community venue"),
    "phone": _("Phone"),
    "video": _("Video call"),
}


class _SlotLabel:
    """ "Tuesday morning" in the page's language, rendered when the form is drawn."""

    def __init__(self, day: str, part: str):
        self.day, self.part = day, part

    def __str__(self) -> str:
        return str(_("%(day)s %(part)s", day=DAY_NAMES[self.day], part=PART_NAMES[self.part]))

    def __html__(self) -> str:
        from markupsafe import escape

        return str(escape(str(self)))


SLOT_CHOICES = [(f"{d}_{p}", _SlotLabel(d, p)) for d in DAYS for p in PARTS]


def slot_day(slot: str) -> str:
    """The day of an availability slot ("tue_morning" → "Tuesday"), for the grid's rows."""
    return str(DAY_NAMES.get(slot.split("_")[0], slot))


def slot_day_short(slot: str) -> str:
    """The day of a slot, in three letters ("wed_morning" → "Wed")."""
    return str(DAY_SHORT_NAMES.get(slot.split("_")[0], slot))


def _not_future(form, field):
    if field.data and field.data > today():
        raise ValidationError("This date cannot be in the future.")


class _ProfileFields(FlaskForm):
    name = StringField(
        _("Full name"), validators=[DataRequired(_("Enter your name.")), Length(max=200)]
    )
    email = EmailField(
        _("Email address"),
        validators=[
            DataRequired(_("Enter your email address.")),
            Email(_("Enter an email address like name@example.org.")),
            Length(max=254),
        ],
    )
    phone = StringField(
        _("Phone number"),
        validators=[DataRequired(_("Enter a phone number we can call.")), PhoneNumber()],
    )
    areas = StringField(
        _("Areas you can cover"),
        description=_("Postcode districts, separated by commas, e.g. WV3, WV4."),
        validators=[DataRequired(_("Enter at least one postcode district, like WV3.")), District()],
    )
    languages = MultiCheckboxField(
        _("Languages you speak"),
        choices=[(x, LANGUAGE_NAMES.get(x, x)) for x in LANGUAGES],
        validators=[DataRequired(_("Choose at least one language you speak."))],
    )
    skills = MultiCheckboxField(
        _("Skills you could help with"),
        choices=[(k, PUBLIC_SKILLS.get(k, v)) for k, v in SKILL_AREAS.items()],
        validators=[DataRequired(_("Choose at least one skill you could help with."))],
    )
    access_experience = MultiCheckboxField(
        _("Access experience (optional)"),
        choices=[(k, PUBLIC_ACCESS.get(k, v)) for k, v in ACCESS_EXPERIENCE.items()],
        validators=[Optional()],
    )
    availability = MultiCheckboxField(
        _("When you are usually free"),
        choices=SLOT_CHOICES,
        validators=[DataRequired(_("Tick at least one time you are usually free."))],
    )
    visit_modes = MultiCheckboxField(
        _("How you could meet people"),
        choices=[(k, PUBLIC_VISITS.get(k, v)) for k, v in VISIT_MODES.items()],
        validators=[DataRequired(_("Choose at least one way of meeting."))],
    )
    caseload_limit = IntegerField(
        _("How many people could you support at once?"),
        default=2,
        validators=[
            InputRequired(_("Enter a number from 1 to 20.")),
            NumberRange(1, 20, _("Enter a number from 1 to 20.")),
        ],
    )
    about = TextAreaField(
        _("Anything else you would like to tell us (optional)"),
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
        _("Which scheme would you like to volunteer with?"),
        coerce=organisation_choice,
        validators=[DataRequired("Choose the scheme you would like to volunteer with.")],
    )
    agree = BooleanField(
        _("I agree that the scheme keeps these details to consider my application"),
        validators=[DataRequired(_("Tick to agree, so we can keep your application."))],
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
