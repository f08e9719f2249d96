"""Finding a person in free text: their names (whole words, any case), their phone
number however it is written, their email and their date of birth in its common
written forms. Used by erasure to replace every mention in other records."""

from __future__ import annotations

import re
from datetime import date

import phonenumbers
from phonenumbers import Leniency, PhoneNumberFormat
from sqlalchemy import or_, true

#: What replaces one mention of an erased person inside someone else's text.
ERASED = "[erased]"
#: Names shorter than this are not swept (an initial would erase every "A").
MIN_NAME = 2
REGION = "GB"

MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def e164(number: str, region: str = REGION) -> str | None:
    try:
        parsed = phonenumbers.parse(number or "", region)
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.format_number(parsed, PhoneNumberFormat.E164)


def _date_patterns(day: date) -> list[str]:
    d, m, y = day.day, day.month, day.year
    dd = f"0?{d}"
    mm = f"0?{m}"
    yy = f"(?:{y}|{y % 100:02d})"
    sep = r"\s*[/.\-]\s*"
    month = MONTHS[m - 1]
    month_names = f"(?:{month}|{month[:3]}{'|Sept' if m == 9 else ''})\\.?"
    nth = r"(?:st|nd|rd|th)?"
    return [
        rf"{dd}{sep}{mm}{sep}{yy}",  # 14/03/1950, 14.3.50, 14-03-1950
        rf"{y}{sep}{mm}{sep}{dd}",  # 1950-03-14
        rf"{dd}{nth}\s+(?:of\s+)?{month_names},?\s+{y}",  # 14th of March 1950, 14 Mar 1950
        rf"{month_names}\s+{dd}{nth},?\s+{y}",  # March 14, 1950
    ]


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class Mentions:
    """The ways one person can be mentioned; ``erase(text)`` replaces each mention."""

    def __init__(self, *, names=(), phones=(), emails=(), dates=()):
        self.inputs = dict(names=list(names), phones=list(phones), emails=list(emails))
        self.inputs["dates"] = [d for d in dates if d is not None]
        words = {n.strip() for n in names if n and len(n.strip()) >= MIN_NAME}
        self._words = sorted({w.lower() for w in words})
        self._emails = sorted({e.strip().lower() for e in emails if e and "@" in e})
        self._dates = self.inputs["dates"]
        literal = [re.escape(w) for w in sorted(words, key=len, reverse=True)]
        literal += [re.escape(e.strip()) for e in emails if e and "@" in e]
        for day in self._dates:
            literal += _date_patterns(day)
        # Whole words only: "Ann" is not in "Annual"; a date is not part of a longer number.
        self.pattern = (
            re.compile(rf"(?<![\w])(?:{'|'.join(literal)})(?![\w])", re.IGNORECASE)
            if literal
            else None
        )
        self.phones = {n for n in (e164(p) for p in phones if p) if n}
        self._national = sorted({str(phonenumbers.parse(n).national_number) for n in self.phones})
        # Every written form keeps the digits in order: a text whose digits do not
        # contain the national number's last six cannot mention it (cheap pre-check).
        self._digits = {n[-6:] for n in self.phones}

    def candidates(self, column, dialect: str = "sqlite"):
        """A SQL condition true for every value of ``column`` that may mention the person
        (a superset the database finds fast; ``erase`` decides). Names and emails are
        compared in any case, phone numbers by their last two digits (however a number
        is grouped, those are written side by side), dates by their year."""
        # Each word of each name (a phrase like "Mary Ann" contains "mary").
        words = sorted({t for w in self._words for t in w.split() if len(t) >= MIN_NAME})
        if any(all(len(t) < MIN_NAME for t in w.split()) for w in self._words):
            return true()
        words += self._emails
        if any(not w.isascii() for w in words):
            return true()  # SQLite's LIKE ignores the case of ASCII only: Python looks
        # SQLite's LIKE already ignores ASCII case; PostgreSQL's ILIKE does.
        like = column.like if dialect == "sqlite" else column.ilike
        conditions = [like(f"%{_escape(w)}%", escape="\\") for w in words]
        conditions += [column.contains(n[-2:]) for n in self._national]
        for day in self._dates:
            year, short = str(day.year), f"{day.year % 100:02d}"
            conditions.append(column.contains(year))
            conditions += [column.contains(sep + short) for sep in "/.-"]
        return or_(*conditions) if conditions else None

    @classmethod
    def combined(cls, many: list[Mentions]) -> Mentions:
        """Anyone of ``many`` (one pattern for a retention batch)."""
        if len(many) == 1:
            return many[0]
        inputs = {key: [v for m in many for v in m.inputs[key]] for key in many[0].inputs}
        return cls(**inputs)

    def __bool__(self) -> bool:
        return self.pattern is not None or bool(self.phones)

    def erase(self, text: str | None) -> str | None:
        """``text`` with every mention replaced by ``ERASED`` (the same object when none)."""
        if not text:
            return text
        result = text
        if self.phones:
            digits = re.sub(r"\D", "", result)
            if any(tail in digits for tail in self._digits):
                spans = [
                    (m.start, m.end)
                    for m in phonenumbers.PhoneNumberMatcher(
                        result, REGION, leniency=Leniency.POSSIBLE
                    )
                    if phonenumbers.format_number(m.number, PhoneNumberFormat.E164) in self.phones
                ]
                for start, end in reversed(spans):
                    result = result[:start] + ERASED + result[end:]
        if self.pattern is not None:
            result = self.pattern.sub(ERASED, result)
        return text if result == text else result
