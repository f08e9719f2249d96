"""Devices routes: donations (public pledge, staff handling, donor following), devices, labels, scanning."""

from __future__ import annotations

from tests.factories import DeviceFactory, DonationFactory

from . import DENY, LOGIN, MISSING, OK, Route, public, staff


def arrange(world) -> None:
    device = DeviceFactory(organisation=world.org, status="received")
    world.device_tag = device.asset_tag
    donation = DonationFactory(organisation=world.org)
    world.donation_ref = donation.reference
    world.receipt_token = donation.receipt_token
    from devices.shelf.service import start_stocktake

    world.stocktake_id = start_stocktake(world.org.id, device.storage_location).id


def donor_or_staff(endpoint, url, **kw) -> Route:
    """Staff of the organisation and donors who follow it (the world's donor does not)."""
    base = dict(anon=LOGIN, admin=OK, coordinator=OK, buddy=DENY, donor=DENY, other=MISSING)
    base.update(kw)
    return Route(endpoint, url, **base)


def donor_only(endpoint, url, **kw) -> Route:
    base = dict(anon=LOGIN, admin=DENY, coordinator=DENY, buddy=DENY, donor=OK, other=DENY)
    base.update(kw)
    return Route(endpoint, url, **base)


ROUTES = [
    # public
    public("devices.pledge", "/donate"),
    public("devices.pledge", "/donate", "POST"),
    public("devices.pledge", "/o/{org_code}/donate"),
    public("devices.pledge", "/o/{org_code}/donate", "POST"),
    public("devices.pledge_received", "/donate/thanks"),
    public("devices.public_receipt", "/donate/receipts/{receipt_token}.pdf"),
    # staff of the device's organisation are sent to the device page; everyone else sees
    # the public page (other coordinators included: the label is public).
    public("devices.public_device", "/d/{device_tag}"),
    # scanning
    staff("devices.scan", "/scan"),
    # a scan finds only the organisation's own device (another one's search finds nothing)
    staff("devices.scan", "/scan?q={device_tag}", record=True),
    staff("devices.scan_camera", "/scan/camera"),
    # devices
    staff("devices.index", "/devices"),
    staff("devices.new", "/devices/new"),
    staff("devices.new", "/devices/new", "POST"),
    staff("devices.detail", "/devices/{device_tag}", record=True),
    staff("devices.edit", "/devices/{device_tag}/edit", record=True),
    staff("devices.edit", "/devices/{device_tag}/edit", "POST", record=True),
    staff("devices.change_status", "/devices/{device_tag}/status", "POST", record=True),
    staff("devices.wipe", "/devices/{device_tag}/wipe", record=True),
    staff("devices.wipe", "/devices/{device_tag}/wipe", "POST", record=True),
    staff("devices.device_label", "/devices/{device_tag}/label.pdf", record=True),
    # labels
    staff("devices.labels", "/labels?tag={device_tag}"),
    staff("devices.labels_pdf", "/labels/pdf?tag={device_tag}&layout=3x7&start=1"),
    # the shelf: stocktakes, bulk work, import (cancel last: it closes the stocktake)
    staff("shelf.stocktakes", "/stocktakes"),
    staff("shelf.start_stocktake", "/stocktakes", "POST"),
    staff("shelf.stocktake", "/stocktakes/{stocktake_id}", record=True),
    staff("shelf.scan", "/stocktakes/{stocktake_id}/scans", "POST", record=True),
    staff("shelf.save_stocktake", "/stocktakes/{stocktake_id}/save", "POST", record=True),
    staff("shelf.cancel_stocktake", "/stocktakes/{stocktake_id}/cancel", "POST", record=True),
    staff("shelf.bulk", "/devices/bulk?tag={device_tag}"),
    staff("shelf.bulk_wipe", "/devices/bulk/wipe", "POST"),
    staff("shelf.bulk_status", "/devices/bulk/status", "POST"),
    staff("shelf.import_devices", "/devices/import"),
    staff("shelf.import_devices", "/devices/import", "POST"),
    # donations
    staff("devices.donations", "/donations"),
    staff("devices.donation", "/donations/{donation_ref}", record=True),
    staff("devices.schedule", "/donations/{donation_ref}/schedule", "POST", record=True),
    staff("devices.receive", "/donations/{donation_ref}/receive", "POST", record=True),
    staff("devices.process", "/donations/{donation_ref}/process", "POST", record=True),
    staff("devices.decline", "/donations/{donation_ref}/decline", "POST", record=True),
    staff("devices.donor_account", "/donations/{donation_ref}/account", "POST", record=True),
    donor_or_staff("devices.receipt", "/donations/{donation_ref}/receipt.pdf"),
    Route(
        "devices.my_donations",
        "/my-donations",
        anon=LOGIN,
        admin=DENY,
        coordinator=DENY,
        buddy=DENY,
        donor=OK,
        other=DENY,
    ),
    # donor impact (donors only; the world's donor follows no business, so one donation is refused)
    donor_only("devices.impact", "/impact"),
    donor_only("devices.impact_csv", "/impact.csv"),
    donor_only("devices.impact_report_pdf", "/impact.pdf"),
    donor_only("devices.donation_impact", "/impact/{donation_ref}", donor=DENY),
]
