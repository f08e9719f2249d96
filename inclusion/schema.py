"""Small helpers for writing schema constraints once."""

from __future__ import annotations

from collections.abc import Iterable


def sql_list(values: Iterable[str]) -> str:
    """The values as an SQL list for a check constraint: ``'a', 'b'`` (keys are ours, never
    user input, so quoting is enough)."""
    return ", ".join(f"'{v}'" for v in values)
