"""Demo data for the buddies package, loaded by `flask inclusion demo` (idempotent)."""

from __future__ import annotations


def load(context) -> None:
    """Add this package's demo records; `context` holds the demo organisations and users."""
    from .practice import demo as practice_demo

    practice_demo.load(context)
