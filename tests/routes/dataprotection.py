"""Data protection routes: subject access export and erasure of one resident."""

from __future__ import annotations

from tests.factories import ResidentFactory

from . import staff


def arrange(world) -> None:
    world.dp_resident_ref = ResidentFactory(organisation=world.org).reference


ROUTES = [
    # An empty POST downloads the export (it only reads, and audits that it did).
    staff("dataprotection.export", "/residents/{dp_resident_ref}/export.zip", "POST", record=True),
    staff("dataprotection.erase", "/residents/{dp_resident_ref}/erase", record=True),
    # An empty POST is refused (422: the reference was not typed), so nothing is erased.
    staff("dataprotection.erase", "/residents/{dp_resident_ref}/erase", "POST", record=True),
]
