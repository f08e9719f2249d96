"""SQLAlchemy models of buddies/practice."""

from __future__ import annotations
