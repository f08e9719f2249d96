"""The devices shelf: a stocktake of a storage location, bulk work on many devices, and
importing devices from a CSV file. Each refusal leaves the database as it was."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from devices.models import Device, DeviceStatusChange, Wipe
from devices.shelf import service
from devices.shelf.models import Stocktake, StocktakeLine
from inclusion.audit import AuditEvent
from inclusion.errors import RuleBroken
from tests.conftest import row_counts
from tests.factories import DeviceFactory, DonationFactory

SHELF = (Stocktake, StocktakeLine, AuditEvent)
DEVICES = (Device, DeviceStatusChange, Wipe, AuditEvent)


def _events(db, action: str, entity_type: str = "Device") -> list[int]:
    return list(
        db.session.scalars(
            select(AuditEvent.entity_id).where(
                AuditEvent.action == action, AuditEvent.entity_type == entity_type
            )
        )
    )


@pytest.fixture
def shelf(org):
    """Cupboard A holds three devices (one of them lent); a fourth is kept in Cupboard B."""
    return dict(
        here=DeviceFactory(organisation=org, storage_location="Cupboard A", serial="SN-HERE"),
        gone=DeviceFactory(organisation=org, storage_location="Cupboard A"),
        lent=DeviceFactory(organisation=org, storage_location="Cupboard A", status="on_loan"),
        other=DeviceFactory(organisation=org, storage_location="Cupboard B"),
    )


# ---- stocktake: the service ----------------------------------------------------------------


def test_a_stocktake_finds_missing_misplaced_and_never_seen(db, org, coordinator_user, shelf):
    stocktake = service.start_stocktake(org.id, "Cupboard A", by=coordinator_user)
    found = service.record_scan(stocktake, "sn-here", by=coordinator_user)  # by serial
    misplaced = service.record_scan(stocktake, shelf["other"].asset_tag.lower())
    unknown = service.record_scan(stocktake, "  ZZ 999 ")
    again = service.record_scan(stocktake, shelf["here"].asset_tag)  # scanned twice: one line

    assert (found.outcome, misplaced.outcome, unknown.outcome) == ("found", "misplaced", "unknown")
    assert again.id == found.id and unknown.code == "ZZ999"
    assert misplaced.recorded_where == "Cupboard B"
    live = service.stocktake_result(stocktake)
    # the lent device is not expected on the shelf
    assert [d.asset_tag for d in live.missing] == [shelf["gone"].asset_tag]

    service.save_stocktake(stocktake, by=coordinator_user)

    assert stocktake.status == "saved" and stocktake.saved_at is not None
    counts = (
        stocktake.found_count,
        stocktake.missing_count,
        stocktake.misplaced_count,
        stocktake.unknown_count,
    )
    assert counts == (1, 1, 1, 1)
    lines = {line.code: line.outcome for line in stocktake.lines}
    assert lines[shelf["gone"].asset_tag] == "missing"
    assert shelf["other"].storage_location == "Cupboard B"  # not moved: the default
    checked = {shelf[k].id for k in ("here", "gone", "other")}
    assert set(_events(db, "device.stocktaken")) == checked
    assert _events(db, "stocktake.saved", "Stocktake") == [stocktake.id]
    last = service.last_stocktakes([shelf[k] for k in shelf])
    assert last[shelf["gone"].id].outcome == "missing"
    assert last[shelf["here"].id].at == stocktake.saved_at
    assert shelf["lent"].id not in last


def test_saving_can_move_the_misplaced_devices_here(db, org, coordinator_user, shelf):
    lent_elsewhere = DeviceFactory(organisation=org, storage_location="Van", status="on_loan")
    stocktake = service.start_stocktake(org.id, "Cupboard A")
    service.record_scan(stocktake, shelf["other"].asset_tag)
    service.record_scan(stocktake, lent_elsewhere.asset_tag)

    service.save_stocktake(stocktake, move_misplaced=True, by=coordinator_user)

    assert shelf["other"].storage_location == "Cupboard A"
    assert lent_elsewhere.storage_location == "Van"  # on loan: returned through its loan
    moved = {line.code: line.moved for line in stocktake.lines if line.outcome == "misplaced"}
    assert moved == {shelf["other"].asset_tag: True, lent_elsewhere.asset_tag: False}
    assert _events(db, "device.updated") == [shelf["other"].id]


def test_one_open_stocktake_per_location_and_a_saved_one_is_final(db, org, shelf):
    stocktake = service.start_stocktake(org.id, "Cupboard A")
    with pytest.raises(RuleBroken, match="already open"):
        service.start_stocktake(org.id, "Cupboard A")
    with pytest.raises(RuleBroken, match="Choose a storage location"):
        service.start_stocktake(org.id, "The moon")
    service.save_stocktake(stocktake)
    with pytest.raises(RuleBroken, match="already saved"):
        service.save_stocktake(stocktake)
    with pytest.raises(RuleBroken, match="already saved"):
        service.record_scan(stocktake, shelf["here"].asset_tag)
    again = service.start_stocktake(org.id, "Cupboard A")  # the shelf can be checked again
    service.cancel_stocktake(again)
    assert again.status == "cancelled"
    service.start_stocktake(org.id, "Cupboard A")


# ---- stocktake: the pages ------------------------------------------------------------------


def test_a_coordinator_checks_a_shelf(coordinator, db, org, shelf):
    page = coordinator.get("/stocktakes").get_data(as_text=True)
    assert "Cupboard A" in page and "Cupboard B" in page
    response = coordinator.post("/stocktakes", data={"location": "Cupboard A"})
    assert response.status_code == 302
    stocktake = db.session.scalar(select(Stocktake))
    url = f"/stocktakes/{stocktake.id}"
    assert response.headers["Location"].endswith(url)

    coordinator.post(f"{url}/scans", data={"code": shelf["here"].asset_tag})
    response = coordinator.post(
        f"{url}/scans", data={"code": shelf["other"].asset_tag}, follow_redirects=True
    )
    page = response.get_data(as_text=True)
    assert "is misplaced: it is recorded at Cupboard B" in page
    assert 'id="count-missing">1<' in page and shelf["gone"].asset_tag in page
    assert "autofocus" in page  # a USB scanner types straight into the box

    response = coordinator.post(f"{url}/save", data={"move_misplaced": "no"}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "1 found, 1 missing, 1 misplaced, 0 never seen" in page
    assert "scan-form" not in page  # a saved stocktake takes no more scans

    detail = coordinator.get(f"/devices/{shelf['gone'].asset_tag}").get_data(as_text=True)
    assert "Last stocktake" in detail and "(missing)" in detail
    listing = coordinator.get("/devices").get_data(as_text=True)
    assert "Last stocktake" in listing and f"{stocktake.saved_at:%d %b %Y}" in listing
    past = coordinator.get("/stocktakes").get_data(as_text=True)
    assert f'href="{url}"' in past


@pytest.mark.parametrize(
    "path, data, field",
    [
        ("/stocktakes", {"location": ""}, "location"),
        ("/stocktakes", {"location": "The moon"}, "location"),
        ("scans", {"code": ""}, "code"),
        ("scans", {"code": "   "}, "code"),
        ("scans", {"code": "x" * 201}, "code"),
        ("save", {"move_misplaced": "perhaps"}, "move_misplaced"),
    ],
)
def test_bad_stocktake_input_changes_nothing(coordinator, db, org, shelf, path, data, field):
    stocktake = service.start_stocktake(org.id, "Cupboard B")
    db.session.flush()
    if not path.startswith("/"):
        path = f"/stocktakes/{stocktake.id}/{path}"
    before = row_counts(*SHELF)
    response = coordinator.post(path, data=data)
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    assert row_counts(*SHELF) == before
    assert stocktake.status == "open"


def test_a_saved_stocktake_refuses_a_second_save_on_the_page(coordinator, db, org, shelf):
    stocktake = service.start_stocktake(org.id, "Cupboard A")
    service.save_stocktake(stocktake)
    before = row_counts(*SHELF)
    response = coordinator.post(f"/stocktakes/{stocktake.id}/save", data={"move_misplaced": "no"})
    assert response.status_code == 422
    assert "already saved" in response.get_data(as_text=True)
    assert row_counts(*SHELF) == before


def test_the_stocktake_list_is_paginated_in_constant_queries(coordinator, db, org, count_queries):
    for n in range(3):
        DeviceFactory(organisation=org, storage_location=f"Shelf {n}")
        service.save_stocktake(service.start_stocktake(org.id, f"Shelf {n}"))
    with count_queries() as few:
        assert coordinator.get("/stocktakes").status_code == 200
    for n in range(3, 30):
        DeviceFactory(organisation=org, storage_location=f"Shelf {n}")
        service.save_stocktake(service.start_stocktake(org.id, f"Shelf {n}"))
    with count_queries() as many:
        page = coordinator.get("/stocktakes").get_data(as_text=True)
    assert many.count == few.count
    assert "Page 1 of" in page


# ---- bulk work -----------------------------------------------------------------------------


def _donation_of(org, n=16, status="received"):
    donation = DonationFactory(organisation=org)
    devices = [
        DeviceFactory(organisation=org, donation=donation, status=status, kind="laptop")
        for _ in range(n)
    ]
    return donation, devices


def test_one_wipe_for_all_sixteen_laptops_of_a_donation(coordinator, db, org):
    donation, devices = _donation_of(org)
    response = coordinator.post(
        "/devices/bulk/wipe",
        data={
            "donation": donation.reference,
            "method": "nist_purge",
            "wiped_by": "Wendy",
            "certificate_reference": "BLANCCO-16",
            "mark_ready": "y",
        },
        follow_redirects=True,
    )
    assert "Wipe recorded for 16 devices." in response.get_data(as_text=True)
    assert {d.status for d in devices} == {"ready"}
    wipes = db.session.scalars(select(Wipe)).all()
    assert len(wipes) == 16 and {w.certificate_reference for w in wipes} == {"BLANCCO-16"}
    assert sorted(_events(db, "device.wiped")) == sorted(d.id for d in devices)


def test_a_bulk_wipe_with_one_device_that_cannot_be_wiped_changes_nothing(coordinator, db, org):
    donation, devices = _donation_of(org, 3)
    lent = DeviceFactory(organisation=org, donation=donation, status="on_loan")
    before = row_counts(*DEVICES)
    response = coordinator.post(
        "/devices/bulk/wipe",
        data={"donation": donation.reference, "method": "nist_clear", "wiped_by": "Wendy"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Nothing was changed" in page and lent.asset_tag in page
    assert "cannot be wiped now" in page
    assert row_counts(*DEVICES) == before
    db.session.expire_all()
    assert {d.status for d in devices} == {"received"}


def test_bulk_status_change_of_ticked_devices(coordinator, db, org):
    a = DeviceFactory(organisation=org, status="ready")
    b = DeviceFactory(organisation=org, status="awaiting_wipe")
    response = coordinator.post(
        "/devices/bulk/status",
        data={"tag": [a.asset_tag, b.asset_tag], "status": "in_repair", "note": "Batteries"},
        follow_redirects=True,
    )
    assert "2 devices moved to a new status." in response.get_data(as_text=True)
    assert (a.status, b.status) == ("in_repair", "in_repair")
    assert sorted(_events(db, "device.status_changed")) == sorted([a.id, b.id])


def test_a_bulk_status_change_refused_for_one_device_changes_none(coordinator, db, org):
    a = DeviceFactory(organisation=org, status="ready")
    gifted = DeviceFactory(organisation=org, status="gifted")
    before = row_counts(*DEVICES)
    response = coordinator.post(
        "/devices/bulk/status", data={"tag": [a.asset_tag, gifted.asset_tag], "status": "retired"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert gifted.asset_tag in page and "Cannot move from gifted to retired." in page
    assert row_counts(*DEVICES) == before
    db.session.expire_all()
    assert a.status == "ready"


@pytest.mark.parametrize(
    "path, data, field",
    [
        ("/devices/bulk/wipe", {"method": "", "wiped_by": "W"}, "method"),
        ("/devices/bulk/wipe", {"method": "shredder", "wiped_by": "W"}, "method"),
        ("/devices/bulk/wipe", {"method": "nist_clear", "wiped_by": ""}, "wiped_by"),
        (
            "/devices/bulk/wipe",
            {"method": "nist_clear", "wiped_by": "W", "wiped_at": "2999-01-01T10:00"},
            "wiped_at",
        ),
        ("/devices/bulk/status", {"status": ""}, "status"),
        ("/devices/bulk/status", {"status": "on_loan"}, "status"),
    ],
)
def test_bad_bulk_input_changes_nothing(coordinator, db, org, path, data, field):
    device = DeviceFactory(organisation=org, status="received")
    before = row_counts(*DEVICES)
    response = coordinator.post(path, data={"tag": device.asset_tag, **data})
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    assert row_counts(*DEVICES) == before


def test_a_bulk_action_with_no_device_chosen_is_refused(coordinator, db, org):
    before = row_counts(*DEVICES)
    response = coordinator.post("/devices/bulk/status", data={"status": "retired"})
    assert response.status_code == 422
    assert row_counts(*DEVICES) == before
    assert "No device is selected" in coordinator.get("/devices/bulk").get_data(as_text=True)


def test_the_bulk_page_links_to_the_labels_of_the_same_devices(coordinator, db, org):
    donation, _ = _donation_of(org, 2)
    page = coordinator.get(f"/devices/bulk?donation={donation.reference}").get_data(as_text=True)
    assert f"/labels?donation={donation.reference}" in page
    assert "All 2 devices of" in page


# ---- import from CSV -----------------------------------------------------------------------

GOOD = (
    "make,model,serial,kind,grade,location\n"
    "Dell,Latitude 5490,DL-001,laptop,A,Cupboard B\n"
    "Apple,iPad 9th generation,ip 002,Tablet,,Cupboard A\n"
)


def test_import_devices_from_csv(coordinator, db, org):
    data = {"upload": (io.BytesIO(("\ufeff" + GOOD).encode()), "devices.csv"), "rows": ""}
    response = coordinator.post("/devices/import", data=data, follow_redirects=True)
    assert "2 devices added" in response.get_data(as_text=True)
    devices = {d.serial: d for d in db.session.scalars(select(Device))}
    assert set(devices) == {"DL-001", "IP002"}
    assert devices["IP002"].kind == "tablet" and devices["IP002"].condition_grade == "B"
    assert devices["DL-001"].storage_location == "Cupboard B"
    assert len(_events(db, "device.created")) == 2


@pytest.mark.parametrize(
    "text, expected",
    [
        (GOOD + "HP,ProBook,,toaster,A,Shelf\n", [(4, "kind")]),
        (GOOD + "HP,ProBook,,laptop,Z,Shelf\n", [(4, "grade")]),
        (GOOD + "HP,ProBook,DL-001,laptop,A,Shelf\n", [(4, "serial")]),
        (GOOD + "HP,ProBook,TAKEN-1,laptop,A,Shelf\n", [(4, "serial")]),
        (
            GOOD + f"HP,{'x' * 101},,laptop,A,Shelf\n" + ",,,,,\nHP,,,,B,\n",
            [(4, "model"), (6, "kind")],
        ),
        ("make,model\nDell,Latitude\n", [(1, "kind")]),
    ],
)
def test_a_bad_row_adds_no_device(coordinator, db, org, text, expected):
    DeviceFactory(organisation=org, serial="TAKEN-1")
    before = row_counts(*DEVICES)
    response = coordinator.post("/devices/import", data={"rows": text})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Nothing was added" in page
    for row, column in expected:
        assert (
            f'<td class="govuk-table__cell">{row}</td><td class="govuk-table__cell">{column}</td>'
            in page
        )
    assert row_counts(*DEVICES) == before


def test_an_empty_or_unreadable_import_adds_nothing(coordinator, db, org):
    before = row_counts(*DEVICES)
    assert coordinator.post("/devices/import", data={"rows": ""}).status_code == 422
    latin = {"upload": (io.BytesIO("make,kind\nCaf\xe9,laptop\n".encode("latin-1")), "x.csv")}
    response = coordinator.post("/devices/import", data=latin)
    assert response.status_code == 422 and "UTF-8" in response.get_data(as_text=True)
    nul = coordinator.post("/devices/import", data={"rows": "make,kind\nA\0B,laptop\n"})
    assert nul.status_code == 422 and "not text" in nul.get_data(as_text=True)
    assert row_counts(*DEVICES) == before
    assert db.session.scalar(select(func.count()).select_from(Device)) == 0
