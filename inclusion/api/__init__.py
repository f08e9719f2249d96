"""The referral API for GP and partner systems: per-organisation keys, JSON, OpenAPI."""

from __future__ import annotations


def init_app(app) -> None:
    """Register the API blueprint (added with the referral endpoint)."""
