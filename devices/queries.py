"""Read-side queries for devices and donations (scoped by the tenancy hook, never by hand)."""

from __future__ import annotations

import re

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from inclusion.extensions import db
from inclusion.kept import kept_for_scope
from inclusion.residents.models import Resident

from .models import Device, DeviceStatusChange, Donation, DonorAccount, Wipe


def donation_by_receipt_token(token: str) -> Donation | None:
    """The donation a receipt link names (its random token is the key)."""
    return db.session.scalar(select(Donation).where(Donation.receipt_token == token))


def device_list(q: str = "", status: str = "", kind: str = "", donation_id: int | None = None):
    """Devices matching a search (tag, make, model, serial) and filters, newest first."""
    stmt = select(Device).options(joinedload(Device.donation))
    q = (q or "").strip()
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(
            or_(
                func.lower(Device.asset_tag).like(like),
                func.lower(Device.make + " " + Device.model).like(like),
                func.lower(Device.serial).like(like),
                func.lower(Device.storage_location).like(like),
            )
        )
    if status:
        stmt = stmt.where(Device.status == status)
    if kind:
        stmt = stmt.where(Device.kind == kind)
    if donation_id:
        stmt = stmt.where(Device.donation_id == donation_id)
    return stmt.order_by(Device.created_at.desc(), Device.id.desc())


def device_page(tag: str):
    """The device with everything its page shows, in a fixed number of queries."""
    from .service import device_by_tag

    return device_by_tag(tag).options(
        selectinload(Device.history).joinedload(DeviceStatusChange.by),
        selectinload(Device.wipes).joinedload(Wipe.recorded_by),
    )


def donation_list(status: str = "", q: str = ""):
    stmt = select(Donation).options(joinedload(Donation.donor), selectinload(Donation.items))
    if status:
        stmt = stmt.where(Donation.status == status)
    q = (q or "").strip()
    if q:
        from .models import Donor

        like = f"%{q.lower()}%"
        stmt = stmt.join(Donation.donor).where(
            or_(
                func.lower(Donor.business_name).like(like),
                func.lower(Donation.reference).like(like),
            )
        )
    return stmt.order_by(Donation.pledged_at.desc(), Donation.id.desc())


def donation_by_reference(reference: str):
    return (
        select(Donation)
        .where(Donation.reference == (reference or "").strip().upper())
        .options(
            joinedload(Donation.donor),
            selectinload(Donation.items),
            selectinload(Donation.devices),
        )
    )


def donations_of_user(user):
    """The donations of the business a donor-role user follows (none if not linked)."""
    donor_ids = select(DonorAccount.donor_id).where(DonorAccount.user_id == user.id)
    return (
        select(Donation)
        .where(Donation.donor_id.in_(donor_ids))
        .options(
            joinedload(Donation.donor), selectinload(Donation.items), selectinload(Donation.devices)
        )
        .order_by(Donation.pledged_at.desc(), Donation.id.desc())
    )


def devices_dashboard() -> dict:
    """Counts for the coordinator's home page: devices by status, donations needing action
    (kept until the organisation's next change)."""
    return kept_for_scope("devices-dashboard", _devices_dashboard)


def _devices_dashboard() -> dict:
    from .models import DEVICE_STATUSES

    by_status = dict(
        db.session.execute(select(Device.status, func.count()).group_by(Device.status)).all()
    )
    donations = dict(
        db.session.execute(
            select(Donation.status, func.count())
            .where(Donation.status.in_(("pledged", "scheduled", "received")))
            .group_by(Donation.status)
        ).all()
    )
    return {
        "devices": {s: by_status[s] for s in DEVICE_STATUSES if by_status.get(s)},
        "donations": donations,
    }


def normalise_serial(text: str) -> str:
    """A serial number or IMEI as it is stored: no spaces, upper case (``devices.service``
    stores serials the same way)."""
    return re.sub(r"\s+", "", text or "").upper()


def device_by_serial(text: str) -> Device | None:
    """The device of the signed-in organisation whose serial number or IMEI is exactly
    ``text`` (what a scanner reads off the box or the back of a phone), or None."""
    serial = normalise_serial(text)
    if not serial:
        return None
    return db.session.scalar(select(Device).where(Device.serial == serial))


SCAN_RESULTS = 20  # the scan's fall-back search shows this many devices, then links the list


def scan_matches(q: str):
    """What a scan that named no tag or serial may have meant: devices whose tag, serial or
    IMEI, make or model contains it (newest first, at most ``SCAN_RESULTS`` and the total),
    and residents with that reference."""
    stmt = device_list(q)
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    devices = db.session.scalars(stmt.limit(SCAN_RESULTS)).unique().all()
    residents = []
    reference = _resident_reference(q)
    if reference:
        residents = db.session.scalars(
            select(Resident).where(
                Resident.reference == reference, Resident.anonymised_at.is_(None)
            )
        ).all()
    return devices, total, residents


def _resident_reference(q: str) -> str | None:
    match = re.fullmatch(r"\s*R-?\s*(\d{1,6})\s*", q or "", re.IGNORECASE)
    return f"R-{int(match.group(1)):06d}" if match else None
