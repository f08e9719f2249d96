"""The device register: adding, editing, wipes, the status machine, the public label page, scanning."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from devices import service
from devices.models import DEVICE_STATUSES, DEVICE_TRANSITIONS, Device, DeviceStatusChange, Wipe
from inclusion.audit import AuditEvent
from inclusion.errors import RuleBroken
from inclusion.extensions import db as _db
from tests.conftest import row_counts
from tests.factories import DeviceFactory, DonationFactory, OrganisationFactory

MODELS = (Device, DeviceStatusChange, Wipe, AuditEvent)
NEW = {
    "kind": "laptop",
    "make": "Lenovo",
    "model": "ThinkPad T480",
    "serial": "pf-1abc 23",
    "condition_grade": "A",
    "accessories": "Charger",
    "storage_location": "Cupboard B",
    "notes": "",
}


def test_add_device_gets_tag_and_history(coordinator, db, org):
    response = coordinator.post("/devices/new", data=NEW)
    assert response.status_code == 302
    device = db.session.scalar(select(Device))
    assert response.headers["Location"].endswith(f"/devices/{device.asset_tag}")
    assert device.serial == "PF-1ABC23" and device.status == "received"
    assert [h.to_status for h in device.history] == ["received"]
    page = coordinator.get(f"/devices/{device.asset_tag}").get_data(as_text=True)
    assert "ThinkPad T480" in page and "Record a wipe" in page


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"kind": ""}, "kind"),
        ({"kind": "toaster"}, "kind"),
        ({"condition_grade": "Z"}, "condition_grade"),
        ({"make": "x" * 101}, "make"),
        ({"serial": "DUPLICATE1"}, "serial"),
    ],
)
def test_bad_device_changes_nothing(coordinator, db, org, changes, field):
    DeviceFactory(organisation=org, serial="DUPLICATE1")
    before = row_counts(*MODELS)
    response = coordinator.post("/devices/new", data=dict(NEW, **changes))
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    assert row_counts(*MODELS) == before


def test_edit_device(coordinator, db, org):
    device = DeviceFactory(organisation=org)
    response = coordinator.post(
        f"/devices/{device.asset_tag}/edit", data=dict(NEW, storage_location="Van")
    )
    assert response.status_code == 302
    assert db.session.get(Device, device.id).storage_location == "Van"
    other = DeviceFactory(organisation=org, serial="TAKEN")
    bad = coordinator.post(f"/devices/{device.asset_tag}/edit", data=dict(NEW, serial="taken"))
    assert bad.status_code == 422 and 'id="serial-error"' in bad.get_data(as_text=True)
    assert db.session.get(Device, other.id).serial == "TAKEN"


def test_serial_unique_in_database_per_organisation(app, db, org, other_org):
    DeviceFactory(organisation=org, serial="IMEI-1")
    DeviceFactory(organisation=org, serial=None)
    DeviceFactory(organisation=org, serial=None)  # many devices without a serial
    DeviceFactory(organisation=other_org, serial="IMEI-1")  # another organisation may hold it
    with pytest.raises(IntegrityError):
        with _db.session.begin_nested():
            DeviceFactory(organisation=org, serial="IMEI-1")


def test_asset_tags_are_unique_in_the_deployment(db, org, other_org):
    first = DeviceFactory(organisation=org, asset_tag="IN-2345")
    assert first.asset_tag == "IN-2345"
    with pytest.raises(IntegrityError):
        with _db.session.begin_nested():
            DeviceFactory(organisation=other_org, asset_tag="IN-2345")
    # Unsaved draws may repeat (about a 2 % chance among 200 of 32**4 tags); uniqueness is
    # checked against the saved devices, and a tag saved is never drawn again.
    tags = {service.new_asset_tag() for _ in range(200)}
    assert len(tags) >= 195 and "IN-2345" not in tags
    for tag in tags:
        assert not set(tag[3:]) & set("01OI")


def test_wipe_then_ready(coordinator, db, org):
    device = DeviceFactory(organisation=org, status="received")
    response = coordinator.post(
        f"/devices/{device.asset_tag}/wipe",
        data={
            "method": "nist_purge",
            "wiped_by": "Sam Volunteer",
            "certificate_reference": "BL-99",
            "mark_ready": "y",
        },
    )
    assert response.status_code == 302
    device = db.session.get(Device, device.id)
    assert device.status == "ready" and device.wiped
    assert [w.certificate_reference for w in device.wipes][-1] == "BL-99"
    assert [h.to_status for h in device.history] == ["received", "awaiting_wipe", "ready"]
    page = coordinator.get(f"/devices/{device.asset_tag}").get_data(as_text=True)
    assert "NIST SP 800-88 Purge" in page and "Sam Volunteer" in page


@pytest.mark.parametrize(
    "data, field",
    [
        ({"method": "", "wiped_by": "Sam"}, "method"),
        ({"method": "magnet", "wiped_by": "Sam"}, "method"),
        ({"method": "nist_clear", "wiped_by": ""}, "wiped_by"),
        ({"method": "nist_clear", "wiped_by": "Sam", "wiped_at": "2999-01-01T10:00"}, "wiped_at"),
        ({"method": "nist_clear", "wiped_by": "Sam", "wiped_at": "yesterday"}, "wiped_at"),
    ],
)
def test_bad_wipe_changes_nothing(coordinator, db, org, data, field):
    device = DeviceFactory(organisation=org, status="awaiting_wipe")
    before = row_counts(*MODELS)
    response = coordinator.post(f"/devices/{device.asset_tag}/wipe", data=data)
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    assert row_counts(*MODELS) == before
    assert db.session.get(Device, device.id).status == "awaiting_wipe"


def test_wipe_refused_for_a_device_on_loan(coordinator, db, org):
    device = DeviceFactory(organisation=org, status="on_loan")
    before = row_counts(*MODELS)
    response = coordinator.post(
        f"/devices/{device.asset_tag}/wipe", data={"method": "nist_clear", "wiped_by": "Sam"}
    )
    assert response.status_code == 422 and "cannot be wiped" in response.get_data(as_text=True)
    assert row_counts(*MODELS) == before


def test_status_change_form(coordinator, db, org):
    device = DeviceFactory(organisation=org, status="ready")
    response = coordinator.post(
        f"/devices/{device.asset_tag}/status",
        data={"status": "in_repair", "note": "Cracked screen"},
    )
    assert response.status_code == 302
    device = db.session.get(Device, device.id)
    assert device.status == "in_repair" and device.history[-1].note == "Cracked screen"
    before = row_counts(*MODELS)
    bad = coordinator.post(f"/devices/{device.asset_tag}/status", data={"status": "on_loan"})
    assert bad.status_code == 422 and 'id="status-error"' in bad.get_data(as_text=True)
    assert row_counts(*MODELS) == before


def test_database_refuses_ready_without_wipe(db, org):
    with pytest.raises(IntegrityError):
        with _db.session.begin_nested():
            DeviceFactory(organisation=org, status="ready", wiped=False)
    with pytest.raises(IntegrityError):
        with _db.session.begin_nested():
            DeviceFactory(organisation=org, status="borrowed")


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    moves=st.lists(
        st.tuples(st.sampled_from(DEVICE_STATUSES + ("wipe",)), st.booleans()), max_size=25
    )
)
def test_status_machine_never_leaves_allowed_transitions(db, moves):
    """Whatever is asked, the device only ever moves along DEVICE_TRANSITIONS; ready needs a wipe."""
    org = OrganisationFactory()
    device = DeviceFactory(organisation=org, status="received")
    for target, ready_after in moves:
        before = device.status
        try:
            if target == "wipe":
                service.record_wipe(
                    device, method="nist_clear", wiped_by="Sam", mark_ready=ready_after
                )
            else:
                service.change_device_status(device, target)
        except RuleBroken:
            assert device.status == before
        assert device.status in DEVICE_STATUSES
        assert device.status != "ready" or device.wiped
    steps = _db.session.scalars(
        select(DeviceStatusChange)
        .where(DeviceStatusChange.device_id == device.id)
        .order_by(DeviceStatusChange.id)
    ).all()
    assert steps[0].from_status is None
    for step in steps[1:]:
        assert step.to_status in DEVICE_TRANSITIONS[step.from_status]
    for a, b in zip(steps, steps[1:], strict=False):
        assert b.from_status == a.to_status
    assert steps[-1].to_status == device.status


def test_device_list_filters_and_constant_queries(coordinator, db, org, count_queries):
    donation = DonationFactory(organisation=org)
    for _ in range(3):
        DeviceFactory(organisation=org, donation=donation)
    with count_queries() as few:
        assert coordinator.get("/devices").status_code == 200
    for _ in range(6):
        DeviceFactory(organisation=org, donation=donation, status="awaiting_wipe")
    with count_queries() as many:
        page = coordinator.get("/devices").get_data(as_text=True)
    assert many.count == few.count and donation.reference in page
    filtered = coordinator.get("/devices?status=awaiting_wipe").get_data(as_text=True)
    assert filtered.count('name="tag"') == 6


def test_public_device_page_reveals_no_holder(client, db, org):
    device = DeviceFactory(organisation=org, status="on_loan")
    page = client.get(f"/d/{device.asset_tag}").get_data(as_text=True)
    assert org.name in page and "01902 555123" in page and device.asset_tag in page
    assert "on loan" not in page.lower() and "on_loan" not in page
    assert client.get("/d/IN-ZZZZ").status_code == 404


def test_public_url_sends_own_staff_to_device_page(coordinator, other_coordinator, db, org):
    device = DeviceFactory(organisation=org)
    response = coordinator.get(f"/d/{device.asset_tag}")
    assert response.status_code == 302 and response.headers["Location"].endswith(
        f"/devices/{device.asset_tag}"
    )
    other = other_coordinator.get(f"/d/{device.asset_tag}")
    assert other.status_code == 200 and "sign in" in other.get_data(as_text=True).lower()


@pytest.mark.parametrize(
    "typed", ["{tag}", "{low}", "{compact}", "http://localhost/d/{tag}", " {tag} "]
)
def test_scan_box_opens_device(coordinator, db, org, typed):
    device = DeviceFactory(organisation=org)
    tag = device.asset_tag
    q = typed.format(tag=tag, low=tag.lower(), compact=tag.replace("-", ""))
    response = coordinator.get("/scan", query_string={"q": q})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/devices/{tag}")


def test_scan_unknown_tag_and_other_org(coordinator, other_coordinator, db, org):
    device = DeviceFactory(organisation=org)
    response = coordinator.get("/scan?q=IN-ZZZZ")
    assert response.status_code == 404 and "IN-ZZZZ" in response.get_data(as_text=True)
    assert other_coordinator.get(f"/scan?q={device.asset_tag}").status_code == 404


def test_scan_box_only_for_staff(coordinator, buddy, db):
    assert 'action="/scan"' in coordinator.get("/devices").get_data(as_text=True)
    assert 'action="/scan"' not in buddy.get("/").get_data(as_text=True)


def test_camera_page_loads_vendored_decoder_without_inline_script(coordinator, db, app):
    page = coordinator.get("/scan/camera").get_data(as_text=True)
    assert "vendor/jsqr/jsQR.js" in page and "devices.js" in page
    assert (
        "<script>" not in page and "http" not in page.split("vendor/jsqr")[0].rsplit("src=", 1)[-1]
    )
    assert coordinator.get("/static/vendor/jsqr/jsQR.js").status_code == 200


def test_dashboard_panel_counts(coordinator, buddy, db, org):
    DeviceFactory(organisation=org, status="ready")
    DeviceFactory(organisation=org, status="ready")
    DonationFactory(organisation=org)
    page = coordinator.get("/dashboard").get_data(as_text=True)
    assert 'id="devices-dash-h"' in page and "/devices?status=ready" in page
    assert "/donations?status=pledged" in page
    assert 'id="devices-dash-h"' not in buddy.get("/dashboard").get_data(as_text=True)


def test_pledges_are_rate_limited(client, db, org, app):
    app.config["PLEDGE_LIMIT"] = "2 per hour"
    try:
        codes = [
            client.post("/donate", data={"organisation": str(org.id)}).status_code for _ in range(3)
        ]
    finally:
        app.config.pop("PLEDGE_LIMIT")
    assert codes == [422, 422, 429]


def test_wiped_device_can_be_made_ready_by_hand(coordinator, db, org, coordinator_user):
    device = DeviceFactory(organisation=org, status="awaiting_wipe")
    page = coordinator.get(f"/devices/{device.asset_tag}").get_data(as_text=True)
    assert 'value="ready"' not in page
    service.record_wipe(
        device, method="nist_clear", wiped_by="Sam", mark_ready=False, by=coordinator_user
    )
    assert 'value="ready"' in coordinator.get(f"/devices/{device.asset_tag}").get_data(as_text=True)
    assert (
        coordinator.post(
            f"/devices/{device.asset_tag}/status", data={"status": "ready"}
        ).status_code
        == 302
    )
    assert db.session.get(Device, device.id).status == "ready"


def test_a_device_on_loan_leaves_on_loan_only_through_its_loan(db, org):
    """A hand move (the status form, or a page read before the device was lent) cannot
    gift, lose or repair a device that is on loan: its loan must end first."""
    from devices.loans.models import Loan
    from tests.factories import LoanFactory

    loan = LoanFactory(organisation=org)
    device = loan.device
    for status in ("gifted", "lost", "returned"):
        with pytest.raises(RuleBroken, match="on loan: return it or end its loan first"):
            service.change_device_status(device, status, note="by hand")
    assert db.session.get(Device, device.id).status == "on_loan"
    assert db.session.get(Loan, loan.id).is_open
    ready = DeviceFactory(organisation=org)
    with pytest.raises(RuleBroken, match="from its lend page"):
        service.change_device_status(ready, "on_loan")
