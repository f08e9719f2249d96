"""The one CSV writer every download uses, safe to open in a spreadsheet.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula (and
some also after a leading tab or carriage return), so a resident named
``=HYPERLINK("http://x","y")`` on the public referral form would become a link, or worse,
on a coordinator's computer. Every text cell that starts with one of those characters is
written with a single quote in front, which spreadsheets show as text. Numbers the app
itself computed (``int``, ``float``, ``Decimal``) are written as they are, so totals stay
numbers. Phone numbers go through :func:`phone`, so a spreadsheet keeps their leading zero.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from decimal import Decimal

from .validators import display_phone

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class Phone(str):
    """A phone number cell, already written so a spreadsheet shows it as text."""


def phone(value: str | None, region: str = "GB") -> Phone:
    """A UK number as dialled at home (``07911 123456``: the space keeps it text and
    the leading zero); other numbers in international form, neutralised like any text."""
    value = (value or "").strip()
    if not value:
        return Phone("")
    shown = display_phone(value, region)
    if shown is not None:
        return Phone(safe_cell(shown))
    if value.isdigit():
        # Digits alone would lose their leading zero (or turn into 7.9E+09).
        return Phone("'" + value)
    return Phone(safe_cell(value))


def safe_cell(value) -> str | int | float | Decimal:
    """One cell as written: numbers of the app as numbers, everything else as safe text."""
    if value is None:
        return ""
    if isinstance(value, Phone):
        return str(value)
    if isinstance(value, int | float | Decimal):
        return value
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


class SafeCsvWriter:
    """``csv.writer`` whose every cell goes through :func:`safe_cell`."""

    def __init__(self, out, **options):
        options.setdefault("lineterminator", "\r\n")
        self._writer = csv.writer(out, **options)

    def writerow(self, row: Iterable) -> None:
        self._writer.writerow([safe_cell(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable]) -> None:
        for row in rows:
            self.writerow(row)


def write_csv(rows: Iterable[Iterable], header: Iterable[str] | None = None) -> str:
    """The text of a CSV file: ``header`` (if given) then ``rows``, every cell made safe."""
    out = io.StringIO()
    writer = SafeCsvWriter(out)
    if header is not None:
        writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


# ---- reading an imported file ----------------------------------------------------------


class CsvUnreadable(Exception):
    """A line of an imported file the CSV reader cannot read: the file is refused whole."""

    def __init__(self, line: int):
        self.line = line
        self.message = (
            f"This line cannot be read: a value is longer than "
            f"{csv.field_size_limit() // 1024} KB, or the line is not valid CSV."
        )
        super().__init__(self.message)


def csv_rows(text_value: str) -> Iterable[tuple[int, list[str]]]:
    """``(line number, cells)`` of every row of pasted or uploaded CSV that is not blank.

    A line the reader cannot read (a value over its field size limit, a NUL byte) raises
    :class:`CsvUnreadable` naming it: an import takes a file whole or not at all."""
    reader = csv.reader(io.StringIO((text_value or "").lstrip("\ufeff")))
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error:
            raise CsvUnreadable(reader.line_num) from None
        if any(c.strip() for c in cells):
            yield reader.line_num, cells


def column_name(cell: str) -> str:
    """A header cell as a column key: ``Validity days`` → ``validity_days``."""
    return cell.strip().lower().replace(" ", "_")
