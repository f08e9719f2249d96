"""Forms of the reports page: the period chooser (a GET form) and the yearly targets."""

from __future__ import annotations

from datetime import date

from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, RadioField, SelectField
from wtforms.validators import Optional, ValidationError

from inclusion.clock import today

from .models import TARGET_MAX, TARGET_MEASURES
from .periods import (
    PERIODS,
    Period,
    financial_year,
    financial_year_label,
    financial_year_of,
    last_quarter,
    this_month,
)

MAX_YEARS = 10


def year_choices(on: date | None = None) -> list[tuple[int, str]]:
    """Financial years to choose from: five back, and the next one."""
    current = financial_year_of(on or today())
    return [(y, financial_year_label(y)) for y in range(current + 1, current - 6, -1)]


class ReportDateField(DateField):
    """A date input that may be left empty, and whose error says what to type."""

    def process_formdata(self, valuelist):
        if not valuelist or not "".join(valuelist).strip():
            self.data = None
            return
        try:
            super().process_formdata(valuelist)
        except ValueError as err:
            raise ValueError("Enter a real date, for example 2026-04-01.") from err


class PeriodForm(FlaskForm):
    """Which period the report covers. Read from the query string (no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    period = RadioField("Period", choices=list(PERIODS.items()), default="year")
    year = SelectField(
        "Financial year",
        coerce=int,
        validate_choice=False,
        description="April to March; used when the period is a financial year.",
    )
    start = ReportDateField("From", description="The first day, when you choose dates.")
    end = ReportDateField("To", description="The last day, included.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.year.choices = year_choices()
        if self.year.data in (None, ""):
            self.year.data = financial_year_of(today())

    def validate_period(self, field):
        if field.data not in PERIODS:
            raise ValidationError("Choose one of the periods.")

    def validate_year(self, field):
        if field.data not in {y for y, _ in self.year.choices}:
            raise ValidationError("Choose a financial year from the list.")

    def validate_start(self, field):
        if self.period.data == "custom" and field.data is None and not field.errors:
            raise ValidationError("Enter the first day of the report.")

    def validate_end(self, field):
        if self.period.data != "custom":
            return
        if field.data is None:
            if not field.errors:
                raise ValidationError("Enter the last day of the report.")
            return
        start = self.start.data
        if start and field.data < start:
            raise ValidationError("The last day must be on or after the first day.")
        if start and (field.data - start).days > 366 * MAX_YEARS:
            raise ValidationError(f"Choose a period of at most {MAX_YEARS} years.")

    def chosen(self) -> Period:
        """The period asked for (call after ``validate()``)."""
        on = today()
        kind = self.period.data
        if kind == "month":
            return this_month(on)
        if kind == "quarter":
            return last_quarter(on)
        if kind == "custom":
            return Period(self.start.data, self.end.data, "custom")
        return financial_year(self.year.data)


class TargetField(IntegerField):
    """A whole number; "7,200" and "7 200" are read as 7200."""

    def process_formdata(self, valuelist):
        if valuelist:
            valuelist = [str(v).replace(",", "").replace(" ", "") for v in valuelist]
        try:
            super().process_formdata(valuelist)
        except ValueError as err:
            raise ValueError("Enter a whole number, like 7200, or leave it empty.") from err


def _in_range(form, field):
    # Skipped when the number could not be read: that error is already shown.
    if field.data is not None and not 0 <= field.data <= TARGET_MAX:
        raise ValidationError(f"Enter a number from 0 to {TARGET_MAX:,}.")


class TargetsForm(FlaskForm):
    """Targets for one financial year: one optional number per measure."""

    year = SelectField("Financial year", coerce=int, validate_choice=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.year.choices = year_choices()

    def validate_year(self, field):
        if field.data not in {y for y, _ in self.year.choices}:
            raise ValidationError("Choose a financial year from the list.")

    def measure_fields(self):
        return [getattr(self, f"target_{m}") for m in TARGET_MEASURES]

    def values(self) -> dict[str, int | None]:
        return {m: getattr(self, f"target_{m}").data for m in TARGET_MEASURES}


for _measure, (_label, _where) in TARGET_MEASURES.items():
    setattr(
        TargetsForm,
        f"target_{_measure}",
        TargetField(
            _label,
            validators=[Optional(), _in_range],
            description="Leave empty for no target.",
        ),
    )
