"""Demo data for the devices package, loaded by `flask inclusion demo` (idempotent)."""

from __future__ import annotations


def load(context) -> None:
    """Add this package's demo records; `context` holds the demo organisations and users."""
    from .loans import demo as loans_demo

    loans_demo.load(context)
