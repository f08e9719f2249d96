"""Devices and wipes: the rules of the device register.

Functions change objects, audit and flush; the request or CLI command commits.
"""

from __future__ import annotations

import re
import secrets

from flask import current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from inclusion import audit
from inclusion.clock import now
from inclusion.errors import RuleBroken
from inclusion.extensions import db
from inclusion.workflow import transition

from .models import (
    CONDITION_GRADES,
    DEVICE_KINDS,
    DEVICE_TRANSITIONS,
    WIPE_METHODS,
    Device,
    DeviceStatusChange,
    Wipe,
)

# Base 32 without 0/O/1/I: easy to read aloud and to type from a label.
TAG_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
TAG_LENGTH = 4
_TAG_IN_TEXT = re.compile(r"(?:/d/)?([A-Za-z]{1,6})-?([2-9A-Za-z]{4,8})/?(?:[?#].*)?$")

DEVICE_FIELDS = (
    "kind", "make", "model", "serial", "condition_grade", "accessories", "storage_location", "notes",
)


def tag_prefix() -> str:
    if has_app_context():
        return current_app.config.get("ASSET_TAG_PREFIX", "IN")
    return "IN"


def new_asset_tag() -> str:
    """A fresh tag like IN-7KQ4, unique in the deployment (checked across organisations)."""
    prefix = tag_prefix()
    length = TAG_LENGTH
    for attempt in range(40):
        if attempt and attempt % 10 == 0:
            length += 1  # the space is getting crowded: use a longer tag
        tag = f"{prefix}-" + "".join(secrets.choice(TAG_ALPHABET) for _ in range(length))
        taken = db.session.scalar(
            select(Device.id)
            .where(Device.asset_tag == tag)
            .execution_options(all_organisations=True)
        )
        if taken is None:
            return tag
    raise RuntimeError("could not find a free asset tag")  # pragma: no cover


def normalise_tag(text: str) -> str | None:
    """The asset tag in what a scanner or a person typed: ``in-7kq4``, ``IN7KQ4`` or the label URL."""
    text = (text or "").strip()
    if not text:
        return None
    match = _TAG_IN_TEXT.search(text)
    if not match:
        return None
    prefix, body = match.group(1).upper(), match.group(2).upper()
    return f"{prefix}-{body}"


def device_by_tag(tag: str):
    """A select of the device with this tag (scoped to the signed-in organisation by tenancy).

    Use ``db.session.scalar(device_by_tag(tag))`` or ``inclusion.web.get_or_404(...)``.
    """
    return (
        select(Device)
        .where(Device.asset_tag == (normalise_tag(tag) or (tag or "").strip().upper()))
        .options(joinedload(Device.donation))
    )


def _clean_device(data: dict) -> dict:
    values = {k: v for k, v in data.items() if k in DEVICE_FIELDS}
    if values.get("kind") not in DEVICE_KINDS:
        raise RuleBroken("Choose what kind of device it is.", "kind")
    if values.get("condition_grade", "B") not in CONDITION_GRADES:
        raise RuleBroken("Choose a condition grade.", "condition_grade")
    for key in ("make", "model", "accessories", "storage_location", "notes"):
        if key in values:
            values[key] = (values[key] or "").strip()
    if "serial" in values:
        values["serial"] = re.sub(r"\s+", "", values["serial"] or "").upper() or None
    return values


def _check_serial(organisation_id: int, serial: str | None, device_id: int | None = None) -> None:
    if not serial:
        return
    stmt = select(Device.id).where(
        Device.organisation_id == organisation_id, Device.serial == serial
    )
    if device_id:
        stmt = stmt.where(Device.id != device_id)
    if db.session.scalar(stmt.execution_options(all_organisations=True)) is not None:
        raise RuleBroken("Another device already has this serial number or IMEI.", "serial")


def create_device(organisation_id: int, data: dict, *, donation=None, by=None, note: str = "") -> Device:
    """Register a device in state *received* with a fresh asset tag; serials are unique when given."""
    values = _clean_device(data)
    _check_serial(organisation_id, values.get("serial"))
    device = Device(
        organisation_id=organisation_id,
        asset_tag=new_asset_tag(),
        status="received",
        status_changed_at=now(),
        donation_id=donation.id if donation is not None else None,
        **values,
    )
    db.session.add(device)
    db.session.flush()
    db.session.add(
        DeviceStatusChange(
            organisation_id=organisation_id,
            device_id=device.id,
            from_status=None,
            to_status="received",
            note=note or (f"Received with donation {donation.reference}" if donation else "Registered"),
            by_id=by.id if by else None,
        )
    )
    audit.record("device.created", device, changed=["asset_tag", "status", *values], actor=by)
    db.session.flush()
    return device


def update_device(device: Device, data: dict, *, by=None) -> list[str]:
    """Edit a device's description; the status only moves through change_device_status."""
    values = _clean_device(data)
    _check_serial(device.organisation_id, values.get("serial"), device.id)
    for key, value in values.items():
        setattr(device, key, value)
    changed = audit.changed_fields(device, list(values))
    if changed:
        audit.record("device.updated", device, changed=changed, actor=by)
        db.session.flush()
    return changed


def change_device_status(device: Device, new_status: str, *, note: str = "", by=None) -> str:
    """Move a device along DEVICE_TRANSITIONS and write its history row.

    Ready needs a wipe recorded since the device last entered awaiting wipe; entering
    awaiting wipe (after every return) forgets the previous wipe. Returns the old status.
    """
    if new_status == "ready" and not device.wiped:
        raise RuleBroken("Record a wipe before marking the device ready.", "status")
    extra = ["status_changed_at"]
    if new_status == "awaiting_wipe" and device.wiped:
        extra.append("wiped")
    old = transition(
        device,
        new_status,
        DEVICE_TRANSITIONS,
        action="device.status_changed",
        extra_changed=extra,
        actor=by,
    )
    if new_status == "awaiting_wipe":
        device.wiped = False
    device.status_changed_at = now()
    db.session.add(
        DeviceStatusChange(
            organisation_id=device.organisation_id,
            device_id=device.id,
            from_status=old,
            to_status=new_status,
            note=(note or "").strip(),
            by_id=by.id if by else None,
        )
    )
    db.session.flush()
    return old


def record_wipe(
    device: Device,
    *,
    method: str,
    wiped_by: str,
    wiped_at=None,
    certificate_reference: str = "",
    notes: str = "",
    mark_ready: bool = True,
    by=None,
) -> Wipe:
    """Record a data wipe; a device just received or returned first moves to awaiting wipe.

    With ``mark_ready`` the device becomes ready in the same transaction.
    """
    if method not in WIPE_METHODS:
        raise RuleBroken("Choose how the device was wiped.", "method")
    wiped_by = (wiped_by or "").strip()
    if not wiped_by:
        raise RuleBroken("Say who wiped the device.", "wiped_by")
    wiped_at = wiped_at or now()
    if wiped_at > now():
        raise RuleBroken("The wipe cannot be in the future.", "wiped_at")
    if device.status in ("received", "returned", "in_repair"):
        change_device_status(device, "awaiting_wipe", note="Wipe recorded", by=by)
    if device.status != "awaiting_wipe":
        raise RuleBroken(
            f"A {device.status_label.lower()} device cannot be wiped now.", "method"
        )
    wipe = Wipe(
        organisation_id=device.organisation_id,
        device_id=device.id,
        method=method,
        wiped_by=wiped_by,
        wiped_at=wiped_at,
        certificate_reference=(certificate_reference or "").strip(),
        notes=(notes or "").strip(),
        recorded_by_id=by.id if by else None,
    )
    db.session.add(wipe)
    device.wiped = True
    audit.record("device.wiped", device, changed=["wiped"], actor=by)
    db.session.flush()
    audit.record("wipe.recorded", wipe, changed=["method", "wiped_by", "wiped_at"], actor=by)
    if mark_ready:
        change_device_status(device, "ready", note="Wiped and ready to lend", by=by)
    db.session.flush()
    return wipe
