"""Demo data for buddies/practice (idempotent), called from buddies/demo.py."""

from __future__ import annotations


def load(context) -> None:
    """Add this package's demo records; `context` holds the demo organisations and users."""
