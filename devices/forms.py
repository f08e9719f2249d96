"""Forms of the devices package. They check shape; the service decides the rules."""

from __future__ import annotations

from flask_babel import lazy_gettext as _
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    EmailField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    RadioField,
    SelectField,
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

from inclusion.clock import today
from inclusion.public_links import organisation_choice
from inclusion.validators import PhoneNumber

from .labels import LAYOUTS
from .models import (
    CONDITION_GRADES,
    DEVICE_KINDS,
    DEVICE_STATUS_LABELS,
    DONATION_STATUSES,
    HANDOVER,
    ITEM_AGES,
    ITEM_CONDITIONS,
    WIPE_METHODS,
)
from .service import MAX_ITEMS


class DeviceFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField("Search", description="Tag, make, model, serial or location")
    status = SelectField(
        "Status", choices=[("", "Any status"), *DEVICE_STATUS_LABELS.items()], default=""
    )
    kind = SelectField("Kind", choices=[("", "Any kind"), *DEVICE_KINDS.items()], default="")


class DonationFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField("Search", description="Business or reference")
    status = SelectField(
        "Status",
        choices=[("", "Any status")] + [(s, s.capitalize()) for s in DONATION_STATUSES],
        default="",
    )


# ---- public pledge -------------------------------------------------------------------

# The choices as the public pledge names them, in the donor's language (the models' labels
# stay the staff pages' English).
PUBLIC_KINDS = {
    "tablet": _("Tablet"),
    "laptop": _("Laptop"),
    "smartphone": _("Smartphone"),
    "chromebook": _("Chromebook"),
    "hotspot": _("Mobile hotspot"),
}
PUBLIC_AGES = {
    "under_1": _("Under a year"),
    "1_2": _("1 to 2 years"),
    "3_4": _("3 to 4 years"),
    "5_plus": _("5 years or more"),
    "unknown": _("Not sure"),
}
PUBLIC_CONDITIONS = {
    "good": _("Working, good condition"),
    "worn": _("Working, worn"),
    "faulty": _("Faulty or damaged"),
    "unknown": _("Not sure"),
}
PUBLIC_HANDOVER = {"drop_off": _("We will drop them off"), "collection": _("Please collect them")}


def _labelled(values: dict, labels: dict) -> list[tuple]:
    return [(key, labels.get(key, label)) for key, label in values.items()]


class ItemForm(Form):
    """One line of the pledge; a line left empty is ignored."""

    kind = SelectField(
        _("Kind of device"), choices=[("", _("Choose…")), *_labelled(DEVICE_KINDS, PUBLIC_KINDS)]
    )
    quantity = IntegerField(
        _("How many"),
        validators=[Optional(), NumberRange(1, 500, _("Enter a number from 1 to 500."))],
    )
    make = StringField(
        _("Make (optional)"), description=_("For example, Apple"), validators=[Length(max=100)]
    )
    model = StringField(
        _("Model (optional)"),
        description=_("For example, iPad 9th generation"),
        validators=[Length(max=100)],
    )
    approx_age = SelectField(
        _("Roughly how old"), choices=_labelled(ITEM_AGES, PUBLIC_AGES), default="unknown"
    )
    condition = SelectField(
        _("Condition"), choices=_labelled(ITEM_CONDITIONS, PUBLIC_CONDITIONS), default="unknown"
    )
    chargers_included = BooleanField(_("Chargers included"))

    def is_empty(self) -> bool:
        return not (
            self.kind.data
            or self.quantity.raw_data
            and self.quantity.raw_data[0]
            or (self.make.data or "").strip()
            or (self.model.data or "").strip()
        )

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if self.is_empty():
            return ok
        if not self.kind.data:
            self.kind.errors = [*self.kind.errors, _("Choose what kind of device.")]
            ok = False
        if self.quantity.data is None and not self.quantity.errors:
            self.quantity.errors = [*self.quantity.errors, _("Enter how many.")]
            ok = False
        return ok


class PledgeForm(FlaskForm):
    # Only on the shared form of a deployment with several organisations; no default.
    organisation = SelectField(
        _("Which scheme are you donating to?"),
        coerce=organisation_choice,
        validators=[DataRequired("Choose the scheme you are donating to.")],
    )
    business_name = StringField(
        _("Business name"),
        validators=[DataRequired(_("Enter the business name.")), Length(max=200)],
    )
    contact_name = StringField(
        _("Contact name"), validators=[DataRequired(_("Enter a contact name.")), Length(max=200)]
    )
    email = EmailField(
        _("Email address"),
        validators=[
            DataRequired(_("Enter an email address.")),
            Email(_("Enter an email address like name@example.com.")),
            Length(max=254),
        ],
    )
    phone = StringField(_("Phone number (optional)"), validators=[Optional(), PhoneNumber()])
    items = FieldList(FormField(ItemForm), min_entries=MAX_ITEMS, max_entries=MAX_ITEMS)
    donor_wiped = BooleanField(_("We have already wiped the devices"))
    wipe_certificate = StringField(
        _("How they were wiped, or the certificate number"),
        description=_("We wipe every device again before lending it."),
        validators=[Length(max=200)],
    )
    handover = RadioField(
        _("Drop-off or collection"),
        choices=_labelled(HANDOVER, PUBLIC_HANDOVER),
        default="drop_off",
        validators=[InputRequired(_("Choose drop-off or collection."))],
    )
    preferred_from = DateField(_("Earliest date that suits you"), validators=[Optional()])
    preferred_to = DateField(_("Latest date that suits you"), validators=[Optional()])
    collection_address = TextAreaField(
        _("Address to collect from"),
        validators=[Length(max=500)],
        description=_("Only needed for a collection."),
    )
    notes = TextAreaField(_("Anything else we should know"), validators=[Length(max=2000)])
    wants_account = BooleanField(
        _("I'd like an account to follow this donation"),
        description=_("A coordinator will send you a link to set a password."),
    )

    def validate_items(self, field):
        if all(entry.form.is_empty() for entry in field.entries):
            first = field.entries[0].form.kind
            first.errors = [
                *first.errors,
                _("Add at least one line: the kind of device and how many."),
            ]
            raise ValidationError(_("Add at least one line: the kind of device and how many."))

    def validate_wipe_certificate(self, field):
        if self.donor_wiped.data and not (field.data or "").strip():
            raise ValidationError(
                _("Say how the devices were wiped, or give the certificate number.")
            )

    def validate_collection_address(self, field):
        if self.handover.data == "collection" and not (field.data or "").strip():
            raise ValidationError(_("Enter the address to collect from."))

    def validate_preferred_from(self, field):
        if field.data and field.data < today():
            raise ValidationError(_("Choose a date from today on."))

    def validate_preferred_to(self, field):
        if field.data and self.preferred_from.data and field.data < self.preferred_from.data:
            raise ValidationError(_("The latest date must be on or after the earliest."))

    def item_dicts(self) -> list[dict]:
        return [{k: f.data for k, f in entry.form._fields.items()} for entry in self.items.entries]


# ---- coordinators: donations ---------------------------------------------------------


class ScheduleForm(FlaskForm):
    scheduled_for = DateField(
        "Date agreed with the donor", validators=[InputRequired("Choose the date.")]
    )


class DeclineForm(FlaskForm):
    reason = TextAreaField(
        "Why is it declined?",
        description="The donor may see this.",
        validators=[DataRequired("Say why the donation is declined."), Length(max=1000)],
    )


def receive_form(donation, formdata):
    """How many of each line arrived (defaults to what was pledged)."""

    class ReceiveForm(FlaskForm):
        pass

    for item in donation.items:
        setattr(
            ReceiveForm,
            f"item_{item.id}",
            IntegerField(
                f"Line {item.position}: {item.kind_label} {item.make_model} (pledged {item.quantity})",
                default=item.quantity,
                validators=[
                    InputRequired("Enter how many arrived (0 if none)."),
                    NumberRange(0, 500, "Enter a number from 0 to 500."),
                ],
            ),
        )
    return ReceiveForm(formdata=formdata)


def process_form(donation, formdata):
    """The grade and storage place of the devices each received line becomes."""

    class ProcessForm(FlaskForm):
        pass

    for item in donation.items:
        if not item.quantity_received:
            continue
        label = (
            f"Line {item.position}: {item.quantity_received} × {item.kind_label} {item.make_model}"
        )
        setattr(
            ProcessForm,
            f"grade_{item.id}",
            SelectField(
                f"{label}: condition grade", choices=list(CONDITION_GRADES.items()), default="B"
            ),
        )
        setattr(
            ProcessForm,
            f"location_{item.id}",
            StringField(f"{label}: where they are kept", validators=[Length(max=100)]),
        )
    return ProcessForm(formdata=formdata)


# ---- devices ------------------------------------------------------------------------


class DeviceForm(FlaskForm):
    kind = SelectField(
        "Kind",
        choices=[("", "Choose…"), *DEVICE_KINDS.items()],
        validators=[DataRequired("Choose what kind of device it is.")],
    )
    make = StringField("Make", validators=[Length(max=100)])
    model = StringField("Model", validators=[Length(max=100)])
    serial = StringField(
        "Serial number or IMEI",
        description="Optional; unique when given.",
        validators=[Length(max=64)],
    )
    condition_grade = SelectField(
        "Condition grade", choices=list(CONDITION_GRADES.items()), default="B"
    )
    accessories = StringField(
        "Accessories", validators=[Length(max=500)], description="e.g. charger, case, stylus"
    )
    storage_location = StringField("Where it is kept", validators=[Length(max=100)])
    notes = TextAreaField("Notes", validators=[Length(max=2000)])

    def data_dict(self) -> dict:
        return {k: f.data for k, f in self._fields.items() if k != "csrf_token"}


class DeviceStatusForm(FlaskForm):
    status = SelectField("Move to", validators=[DataRequired("Choose the new status.")])
    note = StringField("Note", validators=[Length(max=500)])


class WipeForm(FlaskForm):
    method = SelectField(
        "Method",
        choices=[("", "Choose…"), *WIPE_METHODS.items()],
        validators=[DataRequired("Choose how the device was wiped.")],
    )
    wiped_by = StringField(
        "Wiped by", validators=[DataRequired("Say who wiped the device."), Length(max=200)]
    )
    wiped_at = DateTimeLocalField(
        "When",
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
        validators=[Optional()],
        description="Leave empty for now.",
    )
    certificate_reference = StringField(
        "Certificate reference",
        validators=[Length(max=100)],
        description="From the erasure software, if any.",
    )
    notes = StringField("Notes", validators=[Length(max=500)])
    mark_ready = BooleanField("Mark the device ready to lend", default=True)


class LabelForm(FlaskForm):
    class Meta:
        csrf = False

    layout = RadioField(
        "Label layout",
        choices=[(k, v.label) for k, v in LAYOUTS.items()]
        + [("single", "Single labels, 62 × 29 mm (label printer)")],
        default="3x7",
    )
    start = IntegerField(
        "Start at position",
        default=1,
        description="On a part-used sheet, the first free label, counting across from the top left.",
        validators=[Optional(), NumberRange(1, 65, "Enter a position from 1 to 65.")],
    )

    def validate_start(self, field):
        spec = LAYOUTS.get(self.layout.data)
        if spec and field.data and field.data > spec.per_sheet:
            raise ValidationError(f"This layout has {spec.per_sheet} labels per sheet.")
