"""The report as a zip of CSV files: one file per table, and a note on what they hold."""

from __future__ import annotations

import io
import zipfile

from inclusion.csvfile import write_csv
from inclusion.disclosure import SUPPRESSED


def csv_text(table) -> str:
    return write_csv(table.rows, header=table.columns)


def csv_zip(report, organisation_name: str) -> bytes:
    """One CSV per table (``referrals_by_source.csv`` …) and ``README.txt``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        notes = [
            f"{organisation_name}: report for {report.period.label}.",
            "For publication: every count from 1 to 4 is shown as "
            f'"{SUPPRESSED}", and so is any figure worked out from so few.'
            if report.publication
            else "For internal use: exact figures. Do not publish counts below 5.",
            "",
            "Files:",
        ]
        for table in report.all_tables:
            archive.writestr(f"{table.slug}.csv", csv_text(table))
            notes.append(f"  {table.slug}.csv  {table.title}")
        archive.writestr("README.txt", "\r\n".join(notes) + "\r\n")
    return buffer.getvalue()
