"""Two desks changing one device's status at the same moment, on two real PostgreSQL
connections (``pg_two_sessions``; generated for PostgreSQL only). Every status change locks
the device row and decides on the status as it is, so one desk wins and the other is told
why; the device's history stays one unbroken chain."""

from __future__ import annotations

import secrets
import threading
import time
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from devices import service
from devices.models import Device, DeviceStatusChange, Wipe
from inclusion.extensions import db
from tests.factories import DeviceFactory, OrganisationFactory


def _second(ready) -> None:
    """Wait with the other desk, then let it start first (see test_loans_concurrency)."""
    ready()
    time.sleep(0.3)


def _chain(session, device_id: int) -> list[tuple[str | None, str]]:
    steps = session.scalars(
        select(DeviceStatusChange)
        .where(DeviceStatusChange.device_id == device_id)
        .order_by(DeviceStatusChange.at, DeviceStatusChange.id)
    ).all()
    moves = [(s.from_status, s.to_status) for s in steps]
    assert all(b[0] == a[1] for a, b in zip(moves, moves[1:], strict=False)), moves
    return moves


def _device_at(status: str):
    org = OrganisationFactory()
    return DeviceFactory(organisation=org, status=status)


@pytest.mark.parametrize("hand_move", ["in_repair", "retired"])
def test_a_wipe_and_a_status_change_at_once_leave_one_consistent_device(pg_two_sessions, hand_move):
    with pg_two_sessions.committed():
        device = _device_at("awaiting_wipe")
        device_id, tag = device.id, device.asset_tag

    def wipe(ready):
        device = db.session.get(Device, device_id)
        assert device.status == "awaiting_wipe"
        ready()
        service.record_wipe(device, method="nist_clear", wiped_by="Wendy")

    def move(ready):
        device = db.session.get(Device, device_id)
        assert device.status == "awaiting_wipe"  # what the status form offered from
        _second(ready)
        service.change_device_status(device, hand_move, note="Cracked screen")

    outcomes = pg_two_sessions.race(wipe, move)

    assert outcomes[0] == "done", outcomes
    # the wipe made it ready first: a ready device may still go to repair or retire, but
    # the move is decided on "ready", not on the stale "awaiting wipe"
    assert outcomes[1] == "done", outcomes
    with pg_two_sessions.reading() as session:
        moves = _chain(session, device_id)
        assert moves[-2:] == [("awaiting_wipe", "ready"), ("ready", hand_move)]
        device = session.get(Device, device_id)
        assert device.status == hand_move and tag


def test_a_retirement_and_a_wipe_at_once_never_make_a_retired_device_ready(pg_two_sessions):
    with pg_two_sessions.committed():
        device = _device_at("awaiting_wipe")
        device_id = device.id

    def retire(ready):
        device = db.session.get(Device, device_id)
        ready()
        service.change_device_status(device, "retired", note="Beyond repair")

    def wipe(ready):
        device = db.session.get(Device, device_id)
        assert device.status == "awaiting_wipe"
        _second(ready)
        service.record_wipe(device, method="nist_clear", wiped_by="Wendy")

    outcomes = pg_two_sessions.race(retire, wipe)

    assert outcomes == ["done", "A retired device cannot be wiped now."], outcomes
    with pg_two_sessions.reading() as session:
        assert session.get(Device, device_id).status == "retired"
        assert session.scalars(select(Wipe).where(Wipe.device_id == device_id)).all() == []
        assert _chain(session, device_id)[-1] == ("awaiting_wipe", "retired")


def test_two_hand_moves_at_once_are_decided_one_after_the_other(pg_two_sessions):
    with pg_two_sessions.committed():
        device = _device_at("ready")
        device_id = device.id

    def move(status, then):
        def desk(ready):
            device = db.session.get(Device, device_id)
            assert device.status == "ready"
            then(ready)
            service.change_device_status(device, status)

        return desk

    outcomes = pg_two_sessions.race(move("retired", lambda r: r()), move("lost", _second))

    assert outcomes == ["done", "Cannot move from retired to lost."], outcomes
    with pg_two_sessions.reading() as session:
        assert session.get(Device, device_id).status == "retired"
        assert _chain(session, device_id)[-1] == ("ready", "retired")


def _first_draw_forced(monkeypatch, body: str) -> str:
    """Test setup: each desk's first asset tag draw is ``body`` (then random again), so
    two desks draw the same free tag at the same moment."""
    drawn = threading.local()

    def choice(alphabet):
        drawn.n = getattr(drawn, "n", 0) + 1
        return body[drawn.n - 1] if drawn.n <= len(body) else secrets.choice(alphabet)

    monkeypatch.setattr(
        service, "secrets", SimpleNamespace(choice=choice, token_urlsafe=secrets.token_urlsafe)
    )
    return f"IN-{body}"


def _register(organisation_id: int, then, serial: str = "", hold: float = 0.0):
    def desk(ready):
        then(ready)
        data = {"kind": "laptop", "make": "Dell", "model": "E7450", "serial": serial}
        service.create_device(organisation_id, data)
        time.sleep(hold)  # not committed yet when the other desk inserts

    return desk


def test_two_desks_drawing_the_same_asset_tag_both_register_a_device(pg_two_sessions, monkeypatch):
    body = "".join(secrets.choice(service.TAG_ALPHABET) for _ in range(service.TAG_LENGTH))
    tag = _first_draw_forced(monkeypatch, body)
    with pg_two_sessions.committed():
        org_id = OrganisationFactory().id

    outcomes = pg_two_sessions.race(
        _register(org_id, lambda r: r(), hold=0.5), _register(org_id, _second)
    )

    assert outcomes == ["done", "done"], outcomes
    with pg_two_sessions.reading() as session:
        tags = session.scalars(select(Device.asset_tag).where(Device.organisation_id == org_id))
        tags = sorted(tags)
        assert tag in tags and len(set(tags)) == 2


def test_two_desks_registering_one_serial_at_once_make_one_device(pg_two_sessions):
    with pg_two_sessions.committed():
        org_id = OrganisationFactory().id

    outcomes = pg_two_sessions.race(
        _register(org_id, lambda r: r(), serial="5CG123", hold=0.5),
        _register(org_id, _second, serial="5CG123"),
    )

    assert outcomes == ["done", "Another device already has this serial number or IMEI."]
    with pg_two_sessions.reading() as session:
        devices = session.scalars(select(Device).where(Device.organisation_id == org_id)).all()
        assert [d.serial for d in devices] == ["5CG123"]


def test_a_serial_typed_into_an_edit_while_another_desk_registers_it_is_told(pg_two_sessions):
    with pg_two_sessions.committed():
        org = OrganisationFactory()
        device = DeviceFactory(organisation=org)
        org_id, device_id = org.id, device.id

    def edit(ready):
        device = db.session.get(Device, device_id)
        _second(ready)
        service.update_device(device, {"kind": device.kind, "serial": "5CG999"})

    outcomes = pg_two_sessions.race(
        _register(org_id, lambda r: r(), serial="5CG999", hold=0.5), edit
    )

    assert outcomes == ["done", "Another device already has this serial number or IMEI."]
    with pg_two_sessions.reading() as session:
        assert session.get(Device, device_id).serial != "5CG999"


def test_one_donor_account_linked_to_two_businesses_at_once_follows_one(pg_two_sessions):
    """Two desks link the same donor account, each to another business, at the same moment:
    the account row is locked, so the second waits and is told it already follows the
    first's business (before, it met the unique constraint: an error page)."""
    from devices.models import Donor, DonorAccount
    from inclusion.accounts.models import User
    from inclusion.audit import AuditEvent
    from tests.factories import DonorFactory, UserFactory

    with pg_two_sessions.committed():
        org = OrganisationFactory()
        donors = [DonorFactory(organisation=org), DonorFactory(organisation=org)]
        user = UserFactory(organisation=org, role="donor")
        donor_ids, user_id, org_id = [d.id for d in donors], user.id, org.id

    def link(index, later):
        def desk(ready):
            donor, account = db.session.get(Donor, donor_ids[index]), db.session.get(User, user_id)
            ready()
            if later:
                time.sleep(0.1)
            service.link_donor_account(donor, account)
            if not later:
                time.sleep(0.5)  # still in its transaction while the other desk links

        return desk

    outcomes = pg_two_sessions.race(link(0, False), link(1, True))
    assert outcomes == ["done", "That account already follows another business."], outcomes
    with pg_two_sessions.reading() as session:
        links = session.scalars(select(DonorAccount).where(DonorAccount.user_id == user_id)).all()
        assert [link.donor_id for link in links] == [donor_ids[0]]
        events = session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "donor.account_linked", AuditEvent.organisation_id == org_id
            )
        ).all()
        assert len(events) == 1
