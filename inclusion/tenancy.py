"""The one mechanism that scopes every query to the signed-in user's organisation.

Every model that belongs to an organisation mixes in :class:`OrgScoped`. While a
request is served for a signed-in user, :func:`scope_session` stores the user's
organisation on the session, and the ``do_orm_execute`` hook below adds
``organisation_id = :org`` to every ORM select that touches an org-scoped model,
including relationship loads. Views never filter by organisation by hand.

Code that must see across organisations (sign-in, a public page read by its random
token, a uniqueness check over every organisation, the reports that filter on their
organisation themselves) says so in one way: ``with unscoped(): ...``. The CLI and signed-out
requests simply have no scope; ``with scoped_to(org_id):`` gives a block (a demo loader) one.
(The older per-statement option ``all_organisations=True`` is still honoured while other
branches move to ``unscoped()``.)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from sqlalchemy import ForeignKey, event
from sqlalchemy.orm import (
    Mapped,
    Session,
    declared_attr,
    mapped_column,
    relationship,
    with_loader_criteria,
)

SCOPE_KEY = "organisation_id"


class OrgScoped:
    """Mixin for records that belong to one organisation."""

    @declared_attr
    def organisation_id(cls) -> Mapped[int]:  # noqa: N805
        return mapped_column(
            ForeignKey("organisation.id", ondelete="RESTRICT"), index=True, nullable=False
        )

    @declared_attr
    def organisation(cls):  # noqa: N805
        return relationship("Organisation")


def scope_session(session, organisation_id: int | None) -> None:
    """Scope (or, with ``None``, unscope) all later queries of ``session``."""
    if organisation_id is None:
        session.info.pop(SCOPE_KEY, None)
    else:
        session.info[SCOPE_KEY] = organisation_id


def scope_session_to_programme(session, organisation_ids) -> None:
    """The one deliberate path across organisations: a commissioner's aggregate queries see
    the rows of the programme's organisations (``organisation_id IN (...)``) and no other.
    Callers aggregate; they never return a record (``outcomes.programme``)."""
    session.info[SCOPE_KEY] = tuple(sorted(set(organisation_ids))) or (-1,)


def current_scope(session) -> int | tuple[int, ...] | None:
    return session.info.get(SCOPE_KEY)


@contextmanager
def unscoped(session=None) -> Iterator[None]:
    """Queries (and relationship loads) inside the block see every organisation; the scope
    in force before comes back after it, whatever happens inside."""
    with scoped_to(None, session):
        yield


@contextmanager
def scoped_to(organisation_id: int | None, session=None) -> Iterator[None]:
    """Queries inside the block are scoped to ``organisation_id`` (``None``: unscoped); the
    scope in force before comes back after it."""
    if session is None:
        from .extensions import db

        session = db.session
    before = current_scope(session)
    scope_session(session, organisation_id)
    try:
        yield
    finally:
        scope_session(session, before)


@event.listens_for(Session, "do_orm_execute")
def _add_organisation_criteria(execute_state):
    org_id = execute_state.session.info.get(SCOPE_KEY)
    if org_id is None or execute_state.is_column_load:
        return
    if execute_state.execution_options.get("all_organisations"):
        return
    if not execute_state.is_select:
        return
    execute_state.statement = execute_state.statement.options(_organisation_criteria(org_id))


@lru_cache(maxsize=1024)
def _organisation_criteria(org_id: int | tuple[int, ...]):
    """The loader criteria for one scope, built once per scope (an option is immutable and
    may be shared by every statement; building it and tracking its lambda took a good
    part of each query's cost)."""
    if isinstance(org_id, tuple):  # a programme: see scope_session_to_programme
        criteria = lambda cls: cls.organisation_id.in_(org_id)  # noqa: E731
    else:
        criteria = lambda cls: cls.organisation_id == org_id  # noqa: E731
    return with_loader_criteria(
        OrgScoped,
        criteria,
        include_aliases=True,
        track_closure_variables=True,
    )
