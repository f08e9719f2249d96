"""Each organisation's data version: a counter every committed change to its rows raises.

Whatever is computed from an organisation's rows (the reports' figures) may be kept under
``(organisation, data_version)`` and stays right until the next change: a flush that adds,
changes or deletes an org-scoped row (or an ORM bulk UPDATE/DELETE) marks the organisation,
and the commit raises its ``organisation.data_version`` in the same transaction, so the new
figures and the new version become visible together.

The UPDATE runs just before COMMIT, after everything else the transaction locked: the
organisation row is held only while committing and always last, so two desks can never
wait on each other through it (no lock cycle), and a page that only reads bumps nothing.
Rows written with Core ``insert()`` outside the ORM (``bench-data``) bump nothing: start
from a fresh process or call :func:`bump` after such a load.
"""

from __future__ import annotations

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from .accounts.models import Organisation
from .tenancy import current_scope

CHANGED = "inclusion.changed_organisations"
READ = "inclusion.data_versions_read"
EVERY = "*"  # a bulk change whose organisation is not known: raise every version
_installed = False


def _organisation_of(obj):
    if isinstance(obj, Organisation):
        return obj.id
    return getattr(obj, "organisation_id", None)


def _after_flush(session, flush_context) -> None:
    changed = session.info.setdefault(CHANGED, set())
    for obj in (*session.new, *session.dirty, *session.deleted):
        org = _organisation_of(obj)
        if org is not None:
            changed.add(org)


def _on_orm_execute(state) -> None:
    if not (state.is_update or state.is_delete) or state.session.info.get("bumping"):
        return
    mapper = state.bind_arguments.get("mapper")
    if mapper is not None and "organisation_id" not in mapper.columns:
        return
    scope = current_scope(state.session)
    state.session.info.setdefault(CHANGED, set()).add(EVERY if scope is None else scope)


def _before_commit(session) -> None:
    # The commit flushes what is still pending only after this hook: flush it now, so a
    # change made just before ``commit()`` (no query in between) raises the version too.
    if session.new or session.dirty or session.deleted:
        session.flush()
    changed = session.info.pop(CHANGED, None)
    if not changed:
        return
    stmt = update(Organisation.__table__).values(
        data_version=Organisation.__table__.c.data_version + 1
    )
    if EVERY not in changed:
        stmt = stmt.where(Organisation.__table__.c.id.in_(sorted(changed)))
    session.info["bumping"] = True
    try:
        session.execute(stmt)
    finally:
        session.info.pop("bumping", None)


def _after_rollback(session) -> None:
    session.info.pop(CHANGED, None)


def _after_transaction_end(session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(READ, None)


def init_data_version() -> None:
    """Listen on every ORM session (once per process)."""
    global _installed
    if _installed:
        return
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "do_orm_execute", _on_orm_execute)
    event.listen(Session, "before_commit", _before_commit)
    event.listen(Session, "after_rollback", _after_rollback)
    event.listen(Session, "after_transaction_end", _after_transaction_end)
    _installed = True


def has_uncommitted_changes(session) -> bool:
    """Changes of this transaction that no version counts yet (figures must be computed)."""
    return bool(session.info.get(CHANGED) or session.new or session.dirty or session.deleted)


def data_version(session, organisation_id: int) -> int:
    """The organisation's version as this transaction first read it (a page keeping several
    figures asks once): read before any figure is computed, so a value computed later is
    never kept under a version newer than the rows it read."""
    read = session.info.setdefault(READ, {})
    if organisation_id not in read:
        read[organisation_id] = session.scalar(
            select(Organisation.data_version).where(Organisation.id == organisation_id)
        )
    return read[organisation_id]


def bump(session, organisation_id: int) -> None:
    """Mark ``organisation_id`` changed (after a load that bypassed the ORM)."""
    session.info.setdefault(CHANGED, set()).add(organisation_id)
