"""Read-side queries of devices/loans (scoped by the tenancy hook, never by hand)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from inclusion.clock import today
from inclusion.extensions import db
from inclusion.kept import kept_for_scope
from inclusion.residents.models import Resident
from inclusion.residents.service import open_case

from ..models import Device
from .models import DUE_SOON_DAYS, DataBundle, Loan, LoanExtension, WaitingListEntry


def bundle_list(q: str = "", status: str = "", kind: str = "", source: str = ""):
    """Bundles matching a search (reference, network, resident name) and filters, newest first."""
    stmt = select(DataBundle).options(joinedload(DataBundle.resident), joinedload(DataBundle.loan))
    q = (q or "").strip()
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.outerjoin(DataBundle.resident).where(
            or_(
                func.lower(DataBundle.reference).like(like),
                func.lower(DataBundle.network).like(like),
                func.lower(Resident.first_name + " " + Resident.last_name).like(like),
            )
        )
    if status:
        stmt = stmt.where(DataBundle.status == status)
    if kind:
        stmt = stmt.where(DataBundle.kind == kind)
    if source:
        stmt = stmt.where(DataBundle.source == source)
    return stmt.order_by(DataBundle.added_at.desc(), DataBundle.id.desc())


def loan_list(state: str = "open", q: str = ""):
    """Loans, open ones by due date; ``state``: open, overdue, ended or all."""
    stmt = select(Loan).options(joinedload(Loan.device), joinedload(Loan.resident))
    if state == "open":
        stmt = stmt.where(Loan.is_open).order_by(Loan.due_on, Loan.id)
    elif state == "overdue":
        stmt = stmt.where(Loan.is_open, Loan.due_on < today()).order_by(Loan.due_on, Loan.id)
    elif state == "ended":
        stmt = stmt.where(~Loan.is_open).order_by(Loan.ended_at.desc(), Loan.id.desc())
    else:
        stmt = stmt.order_by(Loan.lent_at.desc(), Loan.id.desc())
    q = (q or "").strip()
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.join(Loan.resident).where(
            or_(
                func.lower(Loan.reference).like(like),
                func.lower(Resident.first_name + " " + Resident.last_name).like(like),
                func.lower(Resident.reference).like(like),
            )
        )
    return stmt


def loan_by_reference(reference: str):
    return (
        select(Loan)
        .where(Loan.reference == (reference or "").strip().upper())
        .options(
            joinedload(Loan.device),
            joinedload(Loan.resident),
            joinedload(Loan.lent_by),
            joinedload(Loan.ended_by),
            selectinload(Loan.bundles),
            selectinload(Loan.extensions).joinedload(LoanExtension.by),
        )
    )


def loans_of_device_query(device_id: int):
    return (
        select(Loan)
        .where(Loan.device_id == device_id)
        .options(joinedload(Loan.resident), selectinload(Loan.bundles))
        .order_by(Loan.lent_at.desc(), Loan.id.desc())
    )


def loans_of_resident_query(resident_id: int):
    return (
        select(Loan)
        .where(Loan.resident_id == resident_id)
        .options(joinedload(Loan.device))
        .order_by(Loan.lent_at.desc(), Loan.id.desc())
    )


def bundles_of_resident_query(resident_id: int):
    return (
        select(DataBundle)
        .where(DataBundle.resident_id == resident_id)
        .order_by(DataBundle.issued_at.desc(), DataBundle.id.desc())
    )


def devices_lent_to(resident_id: int) -> list[tuple[int, str, bool]]:
    """The devices a resident has borrowed, as ``(device id, label, on loan now)``: the
    ones a practice session can have used. The device on loan now comes first."""
    rows = db.session.execute(
        select(
            Device.id,
            Device.asset_tag,
            Device.kind,
            Device.make,
            Device.model,
            func.max(case((Loan.is_open, 1), else_=0)).label("open"),
        )
        .join(Loan, Loan.device_id == Device.id)
        .where(Loan.resident_id == resident_id)
        .group_by(Device.id, Device.asset_tag, Device.kind, Device.make, Device.model)
        .order_by(func.max(case((Loan.is_open, 1), else_=0)).desc(), Device.asset_tag)
    ).all()
    choices = []
    for row in rows:
        what = " ".join(p for p in (row.make, row.model) if p) or row.kind
        label = f"{what} ({row.asset_tag})" + (", on loan now" if row.open else ", returned")
        choices.append((row.id, label, bool(row.open)))
    return choices


def waiting_list_query(limit: int | None = None):
    """Waiting entries of open cases in the order devices are offered: highest priority,
    then longest wait (a closed case waits for nothing)."""
    stmt = (
        select(WaitingListEntry)
        .join(WaitingListEntry.resident)
        .where(WaitingListEntry.status == "waiting", open_case())
        .options(contains_eager(WaitingListEntry.resident))
        .order_by(WaitingListEntry.priority, WaitingListEntry.joined_on, WaitingListEntry.id)
    )
    if limit:
        stmt = stmt.limit(limit)
    return stmt


# ---- what the registered templates show (template helpers of the same names) ------------------


def loan_panel_of(device) -> dict:
    """What templates/loans/_device_panel.html shows: the open loan and the loan history."""
    history = db.session.scalars(loans_of_device_query(device.id)).all()
    current = next((loan for loan in history if loan.is_open), None)
    return {"current": current, "history": history}


def loans_of_resident(resident) -> dict:
    """What templates/loans/_resident_section.html shows: loans, data and the waiting list."""
    return {
        "loans": db.session.scalars(loans_of_resident_query(resident.id)).all(),
        "bundles": db.session.scalars(bundles_of_resident_query(resident.id)).all(),
        "waiting": db.session.scalar(
            select(WaitingListEntry).where(
                WaitingListEntry.resident_id == resident.id, WaitingListEntry.status == "waiting"
            )
        ),
    }


def loans_dashboard() -> dict:
    """The numbers on a coordinator's home page (scoped to their organisation; kept until
    its next change)."""
    return kept_for_scope("loans-dashboard", _loans_dashboard)


def _loans_dashboard() -> dict:
    def count(stmt):
        return db.session.scalar(select(func.count()).select_from(stmt.subquery()))

    open_loans = select(Loan.id).where(Loan.is_open)
    return {
        "open": count(open_loans),
        "overdue": count(open_loans.where(Loan.due_on < today())),
        "due_soon": count(
            open_loans.where(
                Loan.due_on >= today(),
                Loan.due_on <= today() + timedelta(days=DUE_SOON_DAYS),
            )
        ),
        "in_stock": count(select(DataBundle.id).where(DataBundle.status == "in_stock")),
        "waiting": count(waiting_list_query()),
    }


def ready_devices(preferred_kinds=()):
    """Devices ready to lend: those of ``preferred_kinds`` (what suits the resident) first,
    then by kind and tag."""
    order = [Device.kind, Device.asset_tag]
    if preferred_kinds:
        order.insert(0, case((Device.kind.in_(list(preferred_kinds)), 0), else_=1))
    return select(Device).where(Device.status == "ready").order_by(*order, Device.id)


def overdue_loans(limit: int = 5) -> tuple[list[Loan], int]:
    """The loans most overdue first (at most ``limit``) and how many are overdue in all:
    the top of a coordinator's home page."""
    stmt = loan_list("overdue")
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    return list(db.session.scalars(stmt.limit(limit)).unique()), total or 0
