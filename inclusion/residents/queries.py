"""Read-side queries for residents (scoped by the tenancy hook, never by hand)."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from .models import Resident, StatusChange

NEEDS = {
    "device": Resident.needs_device,
    "data": Resident.needs_data,
    "skills": Resident.needs_skills,
}


def resident_list(q: str = "", status: str = "", source: str = "", need: str = ""):
    """Residents matching a free-text search and filters, newest referral first."""
    stmt = select(Resident)
    q = (q or "").strip()
    if q:
        like = f"%{q.lower()}%"
        compact = q.replace(" ", "").upper()
        stmt = stmt.where(
            or_(
                func.lower(Resident.first_name + " " + Resident.last_name).like(like),
                func.lower(Resident.last_name).like(like),
                func.upper(Resident.reference).like(f"%{compact}%"),
                func.replace(Resident.postcode, " ", "").like(f"{compact}%"),
            )
        )
    if status:
        stmt = stmt.where(Resident.status == status)
    if source:
        stmt = stmt.where(Resident.referral_source == source)
    if need in NEEDS:
        stmt = stmt.where(NEEDS[need].is_(True))
    return stmt.order_by(Resident.referral_date.desc(), Resident.id.desc())


def resident_by_reference(reference: str):
    return (
        select(Resident)
        .where(Resident.reference == (reference or "").upper())
        .options(selectinload(Resident.history).joinedload(StatusChange.by))
    )
