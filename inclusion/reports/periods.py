"""Reporting periods: this month, last quarter, a financial year (April to March), or custom.

Every period is a pair of dates, both inclusive. Financial years are named by the
year they start in: 2026 is 1 April 2026 to 31 March 2027.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import ngettext

PERIODS = {
    "month": "This month",
    "quarter": "Last quarter",
    "year": "Financial year (April to March)",
    "custom": "Choose dates",
}
FY_START_MONTH = 4


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    kind: str = "custom"

    @property
    def label(self) -> str:
        return f"{_long(self.start)} to {_long(self.end)}"

    @property
    def slug(self) -> str:
        return f"{self.start.isoformat()}-to-{self.end.isoformat()}"

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def whole_months(self) -> int | None:
        """How many calendar months the period is, when it is whole months (else None)."""
        if self.start.day != 1 or self.end != month_end(self.end):
            return None
        return (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1

    @property
    def these(self) -> str:
        """The period's length as a report says it: "these 4 months", "this month",
        "these 45 days"."""
        months = self.whole_months
        if months is not None:
            return ngettext("this month", "these %(num)d months", months)
        return ngettext("this day", "these %(num)d days", self.days)


def _long(d: date) -> str:
    return f"{d.day} {d.strftime('%B %Y')}"


def month_end(d: date) -> date:
    first_next = (d.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first_next - timedelta(days=1)


def this_month(on: date) -> Period:
    return Period(on.replace(day=1), month_end(on), "month")


def last_quarter(on: date) -> Period:
    """The last complete calendar quarter before ``on`` (also a financial-year quarter)."""
    first_month = 3 * ((on.month - 1) // 3) + 1
    this_quarter_start = on.replace(month=first_month, day=1)
    end = this_quarter_start - timedelta(days=1)
    start = end.replace(month=end.month - 2, day=1)
    return Period(start, end, "quarter")


def financial_year_of(d: date) -> int:
    """The financial year (named by its starting year) that ``d`` falls in."""
    return d.year if d.month >= FY_START_MONTH else d.year - 1


def financial_year(year: int) -> Period:
    return Period(
        date(year, FY_START_MONTH, 1), date(year + 1, FY_START_MONTH, 1) - timedelta(days=1), "year"
    )


def financial_year_label(year: int) -> str:
    return f"{year}–{(year + 1) % 100:02d}"
