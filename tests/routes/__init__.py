"""The role-access matrix: every route of the app, with what each role gets.

Each package has a module here (``core``, ``devices``, ``buddies``, ``reports``)
with ``ROUTES`` (a list of :class:`Route`) and ``arrange(world)`` that creates
the records its URLs need in ``world.org`` (and in ``world.other_org`` when a
record of another organisation is needed). ``tests/test_access_matrix.py``
checks that every rule in ``app.url_map`` appears here, then requests each one
as every role.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Expected outcomes
OK = "ok"  # served: 2xx, 3xx (not to sign-in), or 400/422 for an empty form post
LOGIN = "login"  # redirected to the sign-in page
DENY = "deny"  # 403
MISSING = "missing"  # 404: another organisation's record is not found

ROLES = ("anon", "admin", "coordinator", "buddy", "donor", "other", "commissioner")


@dataclass
class Route:
    endpoint: str
    url: str  # a format string filled from the world, e.g. "/residents/{resident_ref}"
    method: str = "GET"
    anon: str = LOGIN
    admin: str = OK
    coordinator: str = OK
    buddy: str = DENY
    donor: str = DENY
    other: str = OK  # a coordinator of another organisation
    # reads a programme's aggregates only: refused everywhere else
    commissioner: str = DENY
    data: dict = field(default_factory=dict)

    def expect(self, role: str) -> str:
        return getattr(self, role)


def public(endpoint, url, method="GET", **kw) -> Route:
    """Open to everyone, signed in or not."""
    base = dict(anon=OK, admin=OK, coordinator=OK, buddy=OK, donor=OK, other=OK, commissioner=OK)
    base.update(kw)
    return Route(endpoint, url, method, **base)


def staff(endpoint, url, method="GET", record=False, **kw) -> Route:
    """Admins and coordinators of the organisation; ``record``: a record URL other orgs cannot find."""
    base = dict(
        anon=LOGIN,
        admin=OK,
        coordinator=OK,
        buddy=DENY,
        donor=DENY,
        other=MISSING if record else OK,
    )
    base.update(kw)
    return Route(endpoint, url, method, **base)


def admin_only(endpoint, url, method="GET", record=False, **kw) -> Route:
    base = dict(anon=LOGIN, admin=OK, coordinator=DENY, buddy=DENY, donor=DENY, other=DENY)
    base.update(kw)
    return Route(endpoint, url, method, **base)


def signed_in(endpoint, url, method="GET", **kw) -> Route:
    base = dict(anon=LOGIN, admin=OK, coordinator=OK, buddy=OK, donor=OK, other=OK, commissioner=OK)
    base.update(kw)
    return Route(endpoint, url, method, **base)


class World:
    """Records the matrix URLs point at; attributes are filled by each module's ``arrange``."""

    def __init__(self, org, other_org, users):
        self.org = org
        self.other_org = other_org
        self.users = users

    def url(self, route: Route) -> str:
        return route.url.format(**vars(self))
