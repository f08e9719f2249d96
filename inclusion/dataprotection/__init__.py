"""Data protection: subject access export, erasure by anonymisation, retention, backup."""

from __future__ import annotations


def init_app(app) -> None:
    """Register the data-protection blueprint (added with subject access and erasure)."""
