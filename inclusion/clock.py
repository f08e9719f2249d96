"""Time as the application sees it: naive UTC datetimes, identical on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def today() -> date:
    return now().date()
