"""What the loans package relies on: Device, its status machine, change_device_status, device_by_tag."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from devices import service
from devices.models import DEVICE_KINDS, DEVICE_TRANSITIONS, Device, DeviceStatusChange
from inclusion.errors import RuleBroken
from inclusion.extensions import db
from inclusion.tenancy import scope_session
from tests.factories import DeviceFactory, LoanFactory


def test_lend_return_cycle_writes_history(org, coordinator_user):
    """A device goes on loan and comes back only with its loan (``loan=``)."""
    device = DeviceFactory(organisation=org, status="ready")
    loan = LoanFactory(organisation=org, device=device)
    with pytest.raises(RuleBroken, match="lend page"):
        service.change_device_status(device, "on_loan", note="Lent", by=coordinator_user)
    service.change_device_status(device, "on_loan", note="Lent", by=coordinator_user, loan=loan)
    with pytest.raises(RuleBroken, match="end its loan first"):
        service.change_device_status(device, "returned", by=coordinator_user)
    service.change_device_status(device, "returned", by=coordinator_user, loan=loan)
    service.change_device_status(device, "awaiting_wipe", by=coordinator_user)
    assert device.status == "awaiting_wipe" and not device.wiped
    steps = db.session.scalars(
        select(DeviceStatusChange.to_status)
        .where(DeviceStatusChange.device_id == device.id)
        .order_by(DeviceStatusChange.id)
    ).all()
    assert steps == ["ready", "on_loan", "returned", "awaiting_wipe"]
    with pytest.raises(RuleBroken, match="wipe"):
        service.change_device_status(device, "ready")


def test_forbidden_move_changes_nothing(org):
    device = DeviceFactory(organisation=org, status="received")
    with pytest.raises(RuleBroken):
        service.change_device_status(device, "on_loan")
    assert device.status == "received"


def test_record_wipe_makes_ready(org, coordinator_user):
    device = service.create_device(org.id, {"kind": "laptop", "make": "Dell", "model": "E7450"})
    assert device.asset_tag.startswith("IN-") and len(device.asset_tag) == 7
    service.record_wipe(device, method="nist_clear", wiped_by="Sam", by=coordinator_user)
    assert device.status == "ready" and device.wiped and len(device.wipes) == 1


def test_device_by_tag_is_scoped_and_forgiving(org, other_org):
    device = DeviceFactory(organisation=org)
    tag = device.asset_tag
    assert db.session.scalar(service.device_by_tag(tag.lower())) == device
    assert db.session.scalar(service.device_by_tag(tag.replace("-", ""))) == device
    assert db.session.scalar(service.device_by_tag(f"https://x.example/d/{tag}")) == device
    scope_session(db.session, other_org.id)
    try:
        assert db.session.scalar(service.device_by_tag(tag)) is None
    finally:
        scope_session(db.session, None)


def test_kinds_and_transitions_are_consistent():
    assert set(DEVICE_KINDS) >= {"tablet", "laptop", "smartphone", "chromebook", "hotspot"}
    for targets in DEVICE_TRANSITIONS.values():
        assert targets <= set(DEVICE_TRANSITIONS)
    assert Device.__tablename__ == "device"
