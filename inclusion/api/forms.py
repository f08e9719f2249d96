"""Forms of the referral API: naming a key, and the public referral form fed from JSON.

A referral sent by a partner system goes through :class:`ApiReferralForm`, which *is* the
public referral form (same fields, same validators, consent required) plus the referral
source a partner system knows. JSON is first checked for types, then handed to the form
as form data, so every rule about a referral lives once, in the residents package.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length

from ..residents.forms import PublicReferralForm
from ..residents.models import SOURCES


class ApiKeyForm(FlaskForm):
    name = StringField(
        "Name",
        description="Who will use it, e.g. “Whitmore Road Surgery (EMIS)”. Shown in this list only.",
        validators=[DataRequired("Enter a name for the key."), Length(max=100)],
    )


class RevokeKeyForm(FlaskForm):
    """Nothing but the CSRF token: the confirmation is the button on the confirm page."""


class ApiReferralForm(PublicReferralForm):
    """The public referral form, as a partner system sends it."""

    class Meta:
        csrf = False

    referral_source = SelectField(
        "Referral source",
        choices=list(SOURCES.items()),
        validators=[InputRequired("Choose where the referral came from.")],
    )


# JSON property -> form field(s). Lists of needs become the form's checkboxes.
NEEDS = {"device": "needs_device", "data": "needs_data", "skills": "needs_skills"}
ACCESS_NEEDS = {
    "sight": "access_sight",
    "hearing": "access_hearing",
    "dexterity": "access_dexterity",
    "memory": "access_memory",
    "learning": "access_learning",
    "other": "access_other",
}
LISTS = {"needs": NEEDS, "access_needs": ACCESS_NEEDS}
STRINGS = (
    "first_name",
    "last_name",
    "phone",
    "email",
    "postcode",
    "preferred_language",
    "access_notes",
    "referral_reason",
    "referral_source",
    "referrer_name",
    "referrer_organisation",
    "referrer_contact",
)
BOOLEANS = ("interpreter_needed", "consent")
# Where the form reports an error on a field the JSON does not have.
_ERROR_FIELD = {
    **{f: "needs" for f in NEEDS.values()},
    **{f: "access_needs" for f in ACCESS_NEEDS.values()},
    "on_behalf": "referral_source",
}


def api_field(form_field: str | None) -> str:
    """The JSON property an error on ``form_field`` belongs to ("referral" for the whole)."""
    if not form_field:
        return "referral"
    return _ERROR_FIELD.get(form_field, form_field)


def check_referral(payload: dict, organisation) -> tuple[ApiReferralForm, dict[str, list[str]]]:
    """Check a JSON referral with the public form's rules.

    Returns the validated form and the errors per JSON property (empty when it is valid).
    """
    errors: dict[str, list[str]] = {}
    formdata = MultiDict()
    for name, value in payload.items():
        if name in STRINGS:
            if not isinstance(value, str):
                errors[name] = ["Send this as text."]
            elif name == "email" and not value.strip():
                # The form takes a blank box as "no email"; in JSON, leave the property out.
                errors[name] = ["Enter an email address like name@example.org, or leave it out."]
            else:
                formdata.add(name, value)
        elif name in BOOLEANS:
            if not isinstance(value, bool):
                errors[name] = ["Send true or false."]
            elif value:
                formdata.add(name, "y")
        elif name in LISTS:
            choices = LISTS[name]
            if not isinstance(value, list) or not all(
                isinstance(item, str) and item in choices for item in value
            ):
                errors[name] = ["Send a list of any of: " + ", ".join(choices) + "."]
            else:
                for item in value:
                    formdata.add(choices[item], "y")
        else:
            errors[name] = ["This is not a field of a referral."]
    # A partner refers someone else unless the person referred themself through it.
    formdata["on_behalf"] = "self" if formdata.get("referral_source") == "self" else "other"
    formdata["organisation"] = str(organisation.id)
    form = ApiReferralForm(formdata=formdata)
    form.organisation.choices = [(organisation.id, organisation.name)]
    form.validate()
    type_errors = set(errors)
    for field, messages in form.errors.items():
        name = api_field(field)
        if name not in type_errors:  # a type error says more than "enter …"
            errors.setdefault(name, []).extend(messages)
    return form, {name: list(dict.fromkeys(messages)) for name, messages in errors.items()}
