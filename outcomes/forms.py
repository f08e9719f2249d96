"""Forms of outcomes: one sitting of the questions (every question answered, "prefers not to
say" an answer of its own), the follow-up schedule."""

from __future__ import annotations

from flask_babel import lazy_gettext as _
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, RadioField, SelectField, StringField
from wtforms.validators import InputRequired, Optional

from .measures import DIRECT, DIRECT_ANSWERS, HOW_ASKED, UCLA, UCLA_ANSWERS, WELLBEING

DECLINED = "declined"
DECLINED_LABEL = _("Prefers not to say")


def _radio(item, choices):
    return RadioField(
        item.question,
        choices=[*choices, (DECLINED, DECLINED_LABEL)],
        validators=[InputRequired(_("Choose an answer, or prefers not to say."))],
        description=item.hint,
    )


def answers_form(occasions: list[tuple[str, str]], **kwargs) -> FlaskForm:
    """The questionnaire, with the occasions the organisation asks at."""

    class AnswersForm(FlaskForm):
        occasion = SelectField(
            _("Which time is this?"), choices=occasions, validators=[InputRequired()]
        )
        method = RadioField(
            _("How were the questions asked?"),
            choices=list(HOW_ASKED.items()),
            validators=[InputRequired(_("Choose how the questions were asked."))],
        )
        asked_on = DateField(_("Date asked"), validators=[Optional()])

    for item in WELLBEING:
        setattr(AnswersForm, item.key, _radio(item, [(str(v), str(v)) for v in range(11)]))
    for item in UCLA:
        setattr(AnswersForm, item.key, _radio(item, [(str(k), v) for k, v in UCLA_ANSWERS.items()]))
    setattr(
        AnswersForm, DIRECT.key, _radio(DIRECT, [(str(k), v) for k, v in DIRECT_ANSWERS.items()])
    )
    return AnswersForm(**kwargs)


def answer_values(form) -> dict:
    """The answers for the service: "prefers not to say" becomes None."""
    keys = [i.key for i in (*WELLBEING, *UCLA, DIRECT)]
    return {k: (None if form[k].data == DECLINED else form[k].data) for k in keys}


class ScheduleForm(FlaskForm):
    months = StringField(
        "Months after support starts",
        description="Whole months separated by commas, like 3, 6.",
        validators=[InputRequired("Enter the months, like 3, 6.")],
    )
    at_closure = BooleanField("Also ask when the case closes")

    def month_list(self) -> list[int] | None:
        try:
            return [int(m) for m in self.months.data.replace(" ", "").split(",") if m]
        except ValueError:
            return None


class PeriodForm(FlaskForm):
    """The period of the outcomes report: follow-ups asked from ``start`` to ``end``
    (both included); the last twelve months unless chosen. A GET form (no CSRF)."""

    class Meta:
        csrf = False

    start = DateField("From", validators=[Optional()], description="The first day.")
    end = DateField("To", validators=[Optional()], description="The last day, included.")

    def validate_end(self, field):
        if field.data and self.start.data and field.data < self.start.data:
            from wtforms.validators import ValidationError

            raise ValidationError("The last day must be on or after the first day.")

    def chosen(self):
        from inclusion.clock import today
        from inclusion.reports.periods import Period

        end = self.end.data or today()
        start = self.start.data or last_twelve_months(end).start
        return Period(start, end, "custom")


def last_twelve_months(on):
    """What the outcomes report and the programme page show unless asked (``chosen``)."""
    from datetime import timedelta

    from inclusion.reports.periods import Period

    return Period(on - timedelta(days=365), on, "custom")
