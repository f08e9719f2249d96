"""Signals the core sends so features can act without the core knowing them.

Each is sent inside the transaction of the change, so what receivers write commits
or rolls back with it; receivers get ``by`` (the person acting, or ``None``) and pass
it on to the services they call, so their audit events name the actor too.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: ``organisation_created.send(org, by=user_or_None)``: a new organisation exists
#: (e.g. the practice package seeds its skill taxonomy, so no page load has to).
organisation_created = _signals.signal("organisation-created")
