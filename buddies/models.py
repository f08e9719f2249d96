"""SQLAlchemy models of the buddies package."""

from __future__ import annotations
