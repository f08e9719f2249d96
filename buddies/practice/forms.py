"""Forms of practice. The session and baseline forms get one level field per task
of the organisation, built for the request (``session_form(tasks, ...)``)."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from .models import AREAS, LEVELS, SESSION_MODES

LEVEL_CHOICES = [(str(v), f"{v} · {label}") for v, label in LEVELS.items()]


class _Levels:
    """Mixin: the per-task fields and the levels they hold."""

    task_list: list = []

    def practised(self) -> dict[int, int]:
        """task id -> level, for the tasks ticked as practised (or, without a tick box,
        given a level)."""
        out = {}
        for task in self.task_list:
            tick = getattr(self, f"practised_{task.id}", None)
            level = getattr(self, f"level_{task.id}")
            if (tick is None and level.data not in (None, "")) or (tick is not None and tick.data):
                out[task.id] = int(level.data)
        return out


def _level_validator(form, field):
    tick = getattr(form, field.name.replace("level_", "practised_"), None)
    if tick is not None and not tick.data:
        return  # not practised today: the level is ignored
    if field.data in (None, ""):
        if tick is not None:
            raise ValidationError("Choose a level for a task you practised.")
        return
    if field.data not in {c for c, _ in LEVEL_CHOICES}:
        raise ValidationError("Choose a level from 0 to 4.")


class MinutesField(IntegerField):
    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as err:
            raise ValueError("Enter how long it lasted, in minutes (a number).") from err


class VisitDateField(DateField):
    """A planned visit's date, from the phone's date picker (``<input type="date">``);
    empty means nothing is planned."""

    def process_formdata(self, valuelist):
        if not valuelist or not (valuelist[0] or "").strip():
            self.data = None
            return
        try:
            super().process_formdata(valuelist)
        except ValueError as err:
            raise ValueError(_("Enter the date of the next visit, for example 17 3 2027.")) from err


class SessionFields(FlaskForm):
    token = HiddenField()
    held_on = DateField("Date", validators=[InputRequired("Enter the date of the session.")])
    minutes = MinutesField(
        "How long (minutes)",
        validators=[
            InputRequired("Enter how long it lasted, in minutes."),
            NumberRange(5, 480, "Enter how long it lasted, from 5 to 480 minutes."),
        ],
    )
    mode = RadioField(
        "How you met",
        choices=list(SESSION_MODES.items()),
        validators=[InputRequired("Choose how you met.")],
        validate_choice=False,
    )
    place = StringField(
        "Where",
        validators=[Optional(), Length(max=200)],
        description="For example: at home, the library, the community hub.",
    )
    device_id = SelectField(
        "Device used",
        choices=[],
        validate_choice=False,
        description="The lent device you practised on, if any.",
    )
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=4000)])
    next_steps = TextAreaField("Next steps", validators=[Optional(), Length(max=2000)])
    next_visit_on = VisitDateField(
        _l("Next visit"),
        validators=[Optional()],
        description=_l("When you plan to see them next. Leave it empty if not planned yet."),
    )
    safeguarding_concern = BooleanField("I have a safeguarding concern")
    safeguarding_description = TextAreaField(
        "Describe the concern",
        validators=[Optional(), Length(max=4000)],
        description="What you saw or heard, and when. A coordinator will act on it today.",
    )

    def validate_mode(self, field):
        if field.data not in SESSION_MODES:
            raise ValidationError("Choose how you met.")

    def validate_safeguarding_description(self, field):
        if self.safeguarding_concern.data and not (field.data or "").strip():
            raise ValidationError(
                "Describe the safeguarding concern so a coordinator can act on it."
            )

    def validate_device_id(self, field):
        if (field.data or "") not in {value for value, _ in field.choices}:
            raise ValidationError("Choose one of the devices lent to this resident, or none.")

    def session_data(self) -> dict:
        data = {
            name: getattr(self, name).data
            for name in (
                "held_on",
                "minutes",
                "mode",
                "place",
                "notes",
                "next_steps",
                "safeguarding_concern",
                "safeguarding_description",
                "next_visit_on",
            )
        }
        data["device_id"] = int(self.device_id.data) if self.device_id.data else None
        return data


def session_form(task_list, last_levels: dict[int, int], devices=(), **kwargs):
    """A session form with, per task, a "practised" tick box and a level pre-filled
    with the resident's last level (0 when never assessed), and the devices lent to
    the resident (``(id, label, on loan now)``) to say which one was used."""

    class SessionForm(_Levels, SessionFields):
        pass

    SessionForm.task_list = task_list
    for task in task_list:
        setattr(SessionForm, f"practised_{task.id}", BooleanField(task.name))
        setattr(
            SessionForm,
            f"level_{task.id}",
            SelectField(
                f"Confidence: {task.name}",
                choices=LEVEL_CHOICES,
                default=str(last_levels.get(task.id, 0)),
                validators=[_level_validator],
            ),
        )
    form = SessionForm(**kwargs)
    form.device_id.choices = [("", "None, or their own device")] + [
        (str(device_id), label) for device_id, label, _ in devices
    ]
    return form


def baseline_form(task_list, **kwargs):
    """The first assessment: a level per task, "not assessed" allowed."""

    class BaselineForm(_Levels, FlaskForm):
        def validate(self, extra_validators=None):
            ok = super().validate(extra_validators)
            if ok and not self.practised():
                self.form_errors.append("Choose a level for at least one task.")
                return False
            return ok

    BaselineForm.task_list = task_list
    for task in task_list:
        setattr(
            BaselineForm,
            f"level_{task.id}",
            SelectField(
                task.name,
                choices=[("", "Not assessed")] + LEVEL_CHOICES,
                default="",
                validators=[_level_validator],
            ),
        )
    return BaselineForm(**kwargs)


class TaskForm(FlaskForm):
    area = SelectField(
        "Skill area",
        choices=[("", "Choose an area")] + list(AREAS.items()),
        validators=[InputRequired("Choose one of the skill areas.")],
    )
    name = StringField(
        "Task",
        validators=[InputRequired("Enter what the task is."), Length(max=200)],
        description="An everyday task, e.g. “Order a food shop online”.",
    )

    def validate_area(self, field):
        if field.data not in AREAS:
            raise ValidationError("Choose one of the skill areas.")


class ActionForm(FlaskForm):
    action = TextAreaField(
        "Action taken",
        validators=[
            InputRequired("Describe the action taken."),
            Length(
                min=5,
                max=4000,
                message="Describe the action taken (who was told, what happens next).",
            ),
        ],
    )


class ProgrammeFilterForm(FlaskForm):
    class Meta:
        csrf = False

    task = SelectField("Task", choices=[("", "All tasks")], validate_choice=False)
    group = SelectField(
        "Compare",
        choices=[
            ("", "Everyone"),
            ("age", "Age band"),
            ("access", "Access need"),
            ("language", "Language"),
        ],
        validate_choice=False,
    )


class NextVisitForm(FlaskForm):
    """The buddy or a coordinator plans the next visit of an active match."""

    next_visit_on = VisitDateField(
        _l("Next visit"),
        validators=[Optional()],
        description=_l("Leave it empty if no visit is planned yet."),
    )


class EmptyForm(FlaskForm):
    """CSRF only (retire, restore)."""
