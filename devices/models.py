"""SQLAlchemy models of the devices package."""

from __future__ import annotations
