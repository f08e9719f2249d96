"""Form fields the Design System has and WTForms does not."""

from __future__ import annotations

from datetime import date

from werkzeug.datastructures import MultiDict
from wtforms import DateField
from wtforms.utils import unset_value

PARTS = ("day", "month", "year")


class DateInputField(DateField):
    """A date typed as day, month and year in three boxes (GOV.UK's date input, for dates a
    person knows, like a date of birth). The three parts arrive as ``<name>-day``,
    ``<name>-month`` and ``<name>-year``; a single ``<name>=YYYY-MM-DD`` is accepted too,
    so API clients and older pages still work. ``parts`` holds what was typed, to show it
    again when the form is refused."""

    def __init__(self, label=None, validators=None, *, example="27 3 1958", **kwargs):
        super().__init__(label, validators, **kwargs)
        self.example = example
        self.parts: tuple[str, str, str] = ("", "", "")

    def process(self, formdata, data=unset_value, extra_filters=None):
        if formdata is not None and not formdata.getlist(self.name):
            parts = tuple(formdata.get(f"{self.name}-{p}", "").strip() for p in PARTS)
            if any(parts):
                self.parts = parts
                formdata = MultiDict([(self.name, _iso(parts))])
        super().process(formdata, data, extra_filters)
        if not any(self.parts) and isinstance(self.data, date):
            self.parts = (str(self.data.day), str(self.data.month), str(self.data.year))

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as refused:
            raise ValueError(
                f"Enter a real date with the day, month and year, for example {self.example}."
            ) from refused


def _iso(parts: tuple[str, str, str]) -> str:
    day, month, year = parts
    if not (day.isdigit() and month.isdigit() and year.isdigit() and len(year) == 4):
        return "not-a-date"
    return f"{year}-{int(month):02d}-{int(day):02d}"
