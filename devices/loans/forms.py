"""Forms of devices/loans; they take their context and validate, and never write."""

from __future__ import annotations

from datetime import timedelta

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    DateField,
    DecimalField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from devices.models import CONDITION_GRADES
from inclusion.clock import today

from .models import (
    AGREEMENT_METHODS,
    BUNDLE_KINDS,
    BUNDLE_OUTCOMES,
    BUNDLE_SOURCES,
    BUNDLE_STATUS_LABELS,
    CALL_OUTCOMES,
    END_KINDS,
    ENDS_WITHOUT_RETURN,
    MAX_ALLOWANCE_GB,
    VALIDITY_DAYS,
    WAITING_PRIORITIES,
    WAITING_REASONS,
)

VALIDITY_MESSAGE = (
    f"Enter how many days it lasts once issued, from {VALIDITY_DAYS[0]} to {VALIDITY_DAYS[1]}."
)
_KIND_CHOICES = list(BUNDLE_KINDS.items())
_SOURCE_CHOICES = list(BUNDLE_SOURCES.items())


class BundleFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField("Search", description="Reference, network or resident")
    status = SelectField(
        "Status", choices=[("", "Any status"), *BUNDLE_STATUS_LABELS.items()], default=""
    )
    kind = SelectField("Kind", choices=[("", "Any kind"), *_KIND_CHOICES], default="")
    source = SelectField("Source", choices=[("", "Any source"), *_SOURCE_CHOICES], default="")


class _BundleValues(FlaskForm):
    kind = SelectField("Kind", choices=_KIND_CHOICES, default="sim")
    network = StringField(
        "Network",
        validators=[DataRequired("Enter the network, like Vodafone or Three."), Length(max=60)],
    )
    allowance_gb = DecimalField(
        "Allowance (GB)",
        places=None,
        validators=[
            InputRequired("Enter the allowance in GB, like 20 or 0.5."),
            NumberRange(
                min=0.01, max=MAX_ALLOWANCE_GB, message="Enter the allowance in GB, like 20 or 0.5."
            ),
        ],
    )
    validity_days = IntegerField(
        "Lasts (days once issued)",
        default=30,
        validators=[
            InputRequired(VALIDITY_MESSAGE),
            NumberRange(min=VALIDITY_DAYS[0], max=VALIDITY_DAYS[1], message=VALIDITY_MESSAGE),
        ],
    )
    source = SelectField("Where it came from", choices=_SOURCE_CHOICES, default="national_scheme")


class BundleForm(_BundleValues):
    reference = StringField(
        "ICCID or code",
        description="Printed on the SIM card or the voucher",
        validators=[DataRequired("Enter the ICCID or code."), Length(max=60)],
    )
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=2000)])


class BundleImportForm(_BundleValues):
    rows = TextAreaField(
        "References",
        description=(
            "One ICCID or code per line, or a CSV with a header row naming any of: "
            "reference, kind, network, allowance_gb, validity_days, source, notes. "
            "Columns you leave out take the values above."
        ),
    )
    upload = FileField("Or upload a CSV file")


class IssueBundleForm(FlaskForm):
    resident = StringField(
        "Resident",
        description="Type a name, R- reference or postcode",
        validators=[Length(max=200)],
    )


class ChooseDeviceForm(FlaskForm):
    """The first step of lending from a resident's page: scan the device (or type its tag,
    serial number or IMEI). A GET form: choosing changes nothing."""

    class Meta:
        csrf = False

    q = StringField(
        "Scan the device or type its tag, serial number or IMEI",
        description="A USB scanner types it and presses Enter for you.",
        validators=[Length(max=200)],
    )


class LendForm(FlaskForm):
    resident = StringField(
        "Resident",
        description="Type a name, R- reference or postcode",
        validators=[Length(max=200)],
    )
    choice = RadioField("Choose the resident", choices=[], validate_choice=False)
    due_on = DateField("Due back", validators=[InputRequired("Enter the date it is due back.")])
    bundle = SelectField("Data bundle", choices=[], coerce=str, validate_choice=True)
    agreement_method = RadioField(
        "How the loan agreement was accepted",
        choices=list(AGREEMENT_METHODS.items()),
        validators=[InputRequired("Choose how the loan agreement was accepted.")],
    )
    # The signature pad's drawing (a PNG data URL), when the agreement is signed on screen;
    # devices.loans.service.signature_png checks it.
    signature = HiddenField("The resident's signature")
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=2000)])

    def __init__(self, *args, device=None, bundles=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.device = device
        # Only bundles that fit the device are offered, and none is chosen for the
        # coordinator: data is given by a decision, never by default.
        self.bundle.choices = [("", "No data bundle")] + [(str(b.id), b.label) for b in bundles]
        if not self.is_submitted():
            self.bundle.data = ""


class ExtendForm(FlaskForm):
    new_due_on = DateField("New due date", validators=[InputRequired("Enter the new due date.")])
    reason = TextAreaField("Why", validators=[Optional(), Length(max=2000)])

    def __init__(self, *args, loan=None, **kwargs):
        super().__init__(*args, **kwargs)
        if loan is not None and not self.is_submitted() and self.new_due_on.data is None:
            self.new_due_on.data = max(loan.due_on, today()) + timedelta(days=28)


def _bundle_outcome_field():
    return RadioField(
        "What happens to the data bundle issued with this loan",
        choices=list(BUNDLE_OUTCOMES.items()),
        validators=[InputRequired("Say what happens to the data bundle.")],
    )


class _AsksAboutBundles:
    """A loan's end asks what became of its issued data bundle, only when it has one."""

    def _drop_bundle_question_unless(self, issued_bundles) -> None:
        self.issued_bundles = list(issued_bundles)
        if not self.issued_bundles:
            del self.bundle_outcome


class ReturnForm(_AsksAboutBundles, FlaskForm):
    condition = SelectField(
        "Condition it came back in",
        choices=[("", "Choose…"), *CONDITION_GRADES.items()],
        validators=[DataRequired("Choose the condition it came back in.")],
    )
    accessories_back = StringField(
        "Accessories back", description="What came back with it", validators=[Length(max=500)]
    )
    received_by = StringField(
        "Received by", validators=[DataRequired("Say who received the device."), Length(max=200)]
    )
    bundle_outcome = _bundle_outcome_field()
    note = TextAreaField("Notes", validators=[Optional(), Length(max=2000)])

    def __init__(self, *args, issued_bundles=(), **kwargs):
        super().__init__(*args, **kwargs)
        self._drop_bundle_question_unless(issued_bundles)


class EndLoanForm(_AsksAboutBundles, FlaskForm):
    end_kind = RadioField(
        "How the loan ended",
        choices=[(k, END_KINDS[k]) for k in ENDS_WITHOUT_RETURN],
        validators=[InputRequired("Choose how the loan ended.")],
    )
    bundle_outcome = _bundle_outcome_field()
    note = TextAreaField("What happened", validators=[Optional(), Length(max=2000)])

    def __init__(self, *args, issued_bundles=(), **kwargs):
        super().__init__(*args, **kwargs)
        self._drop_bundle_question_unless(issued_bundles)


class CallForm(FlaskForm):
    resident = StringField("Resident reference", validators=[DataRequired("Choose the resident.")])
    outcome = SelectField(
        "Outcome",
        choices=[("", "Choose…"), *CALL_OUTCOMES.items()],
        validators=[DataRequired("Choose what happened on the call.")],
    )
    note = StringField("Note", validators=[Optional(), Length(max=500)])


class WaitingListForm(FlaskForm):
    resident = StringField(
        "Resident",
        description="Type a name, R- reference or postcode",
        validators=[Length(max=200)],
    )
    priority = SelectField(
        "Priority",
        coerce=int,
        choices=list(WAITING_PRIORITIES.items()),
        default=3,
    )
    reason = SelectField(
        "Main reason",
        choices=[("", "Choose…"), *WAITING_REASONS.items()],
        validators=[DataRequired("Choose the main reason.")],
    )
    joined_on = DateField("Joined the list on", validators=[Optional()])
    note = TextAreaField("Notes", validators=[Optional(), Length(max=2000)])
