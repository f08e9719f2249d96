"""Signals the core sends so features can act without the core importing them.

The core knows no feature: ``devices`` and ``buddies`` subscribe in their own
``init_app`` through ``registry(app).add_receiver(signal, receiver)`` (as Indico's
``indico/core/signals`` are used), so only the features of the current application
receive them. Each is sent inside the transaction of the change, so what receivers
write commits or rolls back with it; a receiver that refuses raises ``RuleBroken``
and the whole change is refused. Receivers get ``by`` (the person acting, or
``None``) and pass it on to the services they call, so their audit events name the
actor too.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: ``case_closed.send(resident, by=user)``: a resident's case has just been closed
#: (status *closed*, with an outcome), in the closing transaction, after the flush.
#: Nothing may be offered to a closed case any more: features take the resident off
#: what they are waiting for (the device waiting list, the buddy waiting list and
#: proposed or active matches), audited with the actor ``by`` and the reason
#: "case closed".
case_closed = _signals.signal("case-closed")

#: ``organisation_created.send(org, by=user_or_None)``: a new organisation exists
#: (e.g. the practice package seeds its skill taxonomy, so no page load has to).
organisation_created = _signals.signal("organisation-created")
