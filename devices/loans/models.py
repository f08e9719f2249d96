"""SQLAlchemy models of devices/loans."""

from __future__ import annotations
