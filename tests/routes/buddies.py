"""Buddies routes: volunteer applications, coordinator review, matching."""

from __future__ import annotations

from tests.factories import BuddyProfileFactory

from . import staff


def arrange(world) -> None:
    world.buddy_profile_id = BuddyProfileFactory(organisation=world.org).id


ROUTES = [
    staff("buddies.index", "/buddies"),
    staff("buddies.matching", "/matching"),
]
