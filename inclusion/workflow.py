"""State machines as data: one ``transition()`` that checks, changes, stamps and audits."""

from __future__ import annotations

from collections.abc import Mapping

from . import audit
from .errors import RuleBroken


def allowed_next(transitions: Mapping[str, set[str] | frozenset[str]], current: str) -> list[str]:
    return sorted(transitions.get(current, ()))


def transition(
    obj,
    new_status: str,
    transitions: Mapping[str, set[str] | frozenset[str]],
    *,
    action: str,
    field: str = "status",
    extra_changed: list[str] | None = None,
    label: str = "status",
    actor=None,
):
    """Move ``obj.<field>`` to ``new_status`` if ``transitions`` allows it, and audit it.

    ``actor`` defaults to the signed-in user. Raises :class:`RuleBroken` for a move the machine does not allow; nothing changes.
    Returns the previous status.
    """
    old = getattr(obj, field)
    if new_status not in transitions.get(old, ()):
        raise RuleBroken(
            f"Cannot move from {old.replace('_', ' ')} to {new_status.replace('_', ' ')}.",
            field=label,
        )
    setattr(obj, field, new_status)
    audit.record(action, obj, changed=[field, *(extra_changed or [])], actor=actor)
    return old
