"""Reports for commissioners and funders: figures by SQL aggregation, charts, CSV and PDF."""

from __future__ import annotations


def init_app(app) -> None:
    """Register the reports blueprint (added with the reports page)."""
