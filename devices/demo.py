"""Demo data for the devices package, loaded by `flask inclusion demo` (idempotent).

Donors and donations in every state, about 25 devices across the statuses (not *on loan*:
the loans demo lends some of the ready ones), wipes, and the demo donor's account linked
to Acme Builders. Natural keys: the donor's business name, the device's serial.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from inclusion.clock import now, today
from inclusion.extensions import db

from . import service
from .models import Device, Donor

ACME = "Acme Builders Ltd"

# business, contact, email, the items, and how far along the donation is
DONATIONS = [
    (
        ACME,
        "Dana Donor",
        "donor@acme.example.com",
        [
            ("tablet", 10, "Samsung Galaxy Tab A7", True),
            ("laptop", 4, "Dell Latitude 5490", True),
            ("smartphone", 2, "Motorola G8", False),
        ],
        "processed",
    ),
    (
        "Brightside Accountancy",
        "Ravi Patel",
        "office@brightside.example.co.uk",
        [("laptop", 3, "Lenovo ThinkPad T470", True)],
        "received",
    ),
    (
        "Canal Street Cafe",
        "Jo Evans",
        "jo@canalcafe.example.com",
        [("smartphone", 2, "Apple iPhone 8", False), ("tablet", 1, "Amazon Fire HD 8", True)],
        "scheduled",
    ),
    (
        "Wolverhampton Print Works",
        "Sam Okafor",
        "sam@printworks.example.com",
        [("chromebook", 5, "Acer Chromebook 314", True)],
        "pledged",
    ),
    (
        "Old Town Dental",
        "Mina Kaur",
        "mina@oldtowndental.example.com",
        [("laptop", 6, "Toshiba Satellite (2011)", False)],
        "declined",
    ),
]

# Where each kind of donated device is kept, so a stocktake has shelves to check.
LOCATIONS = {"tablet": "Cupboard A", "laptop": "Cupboard B", "smartphone": "Phone drawer"}
# Where the processed devices end up (counted in order over Acme's 16 devices).
PROCESSED_FATES = ["ready"] * 9 + ["awaiting_wipe"] * 3 + ["in_repair", "gifted", "lost", "retired"]

# Devices that came another way (a purchase, a national scheme): kind, make, model, serial, status
OTHER_DEVICES = [
    ("hotspot", "Huawei", "E5576 mobile Wi-Fi", "DEMO-HS-0001", "ready"),
    ("hotspot", "Huawei", "E5576 mobile Wi-Fi", "DEMO-HS-0002", "ready"),
    ("chromebook", "Lenovo", "100e Chromebook", "DEMO-CB-0001", "awaiting_wipe"),
    ("tablet", "Apple", "iPad 9th generation", "DEMO-IP-0001", "received"),
    ("laptop", "HP", "ProBook 440 G5", "DEMO-HP-0001", "in_repair"),
]


def _move(device, status, coordinator) -> None:
    """Walk a new device to ``status`` along the allowed transitions, wiping where needed."""
    if status == "received":
        return
    if status in ("ready", "gifted", "lost"):
        service.record_wipe(
            device,
            method="nist_clear",
            wiped_by=coordinator.name,
            certificate_reference=f"WIPE-{device.id:05d}",
            by=coordinator,
        )
        if status != "ready":
            service.change_device_status(device, status, by=coordinator)
    elif status == "awaiting_wipe":
        service.change_device_status(device, "awaiting_wipe", by=coordinator)
    elif status in ("in_repair", "retired"):
        service.change_device_status(device, status, by=coordinator, note="Demo")


def _donations(org, coordinator, rng) -> None:
    for days_ago, (business, contact, email, items, state) in zip(
        (60, 20, 9, 3, 30), DONATIONS, strict=True
    ):
        exists = db.session.scalar(
            select(Donor.id).where(Donor.organisation_id == org.id, Donor.business_name == business)
        )
        if exists:
            continue
        donation = service.pledge_donation(
            org.id,
            {
                "business_name": business,
                "contact_name": contact,
                "email": email,
                "phone": "01902 555" + str(100 + days_ago),
            },
            [
                {
                    "kind": k,
                    "quantity": q,
                    "make_model": mm,
                    "approx_age": "3_4",
                    "condition": "good",
                    "chargers_included": ch,
                }
                for k, q, mm, ch in items
            ],
            donor_wiped=business == ACME,
            wipe_certificate="Blancco report 2026-0917" if business == ACME else "",
            handover="collection" if state == "scheduled" else "drop_off",
            collection_address="12 Canal Street, Wolverhampton WV1 1AA"
            if state == "scheduled"
            else "",
            wants_account=business == ACME,
        )
        donation.pledged_at = now() - timedelta(days=days_ago)
        if state == "declined":
            service.decline_donation(
                donation,
                "We cannot lend laptops this old: they cannot run a supported operating system.",
                by=coordinator,
            )
        if state == "scheduled":
            service.schedule_donation(donation, today() + timedelta(days=4), by=coordinator)
        if state in ("received", "processed"):
            service.receive_donation(
                donation, {i.id: i.quantity for i in donation.items}, by=coordinator
            )
        if state == "processed":
            grades = {
                i.id: {
                    "condition_grade": rng.choice("AABBC"),
                    "storage_location": LOCATIONS.get(i.kind, "Cupboard A"),
                }
                for i in donation.items
            }
            devices = service.process_donation(donation, grades, by=coordinator)
            for device, fate in zip(devices, PROCESSED_FATES, strict=False):
                _move(device, fate, coordinator)


def _other_devices(org, coordinator, specs) -> None:
    for kind, make, model, serial, status in specs:
        exists = db.session.scalar(
            select(Device.id).where(Device.organisation_id == org.id, Device.serial == serial)
        )
        if exists:
            continue
        device = service.create_device(
            org.id,
            {
                "kind": kind,
                "make": make,
                "model": model,
                "serial": serial,
                "condition_grade": "A",
                "storage_location": "Desk drawer",
            },
            by=coordinator,
            note="Bought with a grant",
        )
        _move(device, status, coordinator)


def _link_donor(org, users) -> None:
    user = users.get("donor@acme.example.com")
    donor = db.session.scalar(
        select(Donor).where(Donor.organisation_id == org.id, Donor.business_name == ACME)
    )
    if user is not None and donor is not None and user.organisation_id == org.id:
        service.link_donor_account(donor, user)


def load(context) -> None:
    """Add this package's demo records; `context` holds the demo organisations and users."""
    wdi = context.organisations["WDI"]
    dlw = context.organisations["DLW"]
    _donations(wdi, context.users["coordinator@wdi.example.org"], context.rng)
    _other_devices(wdi, context.users["coordinator@wdi.example.org"], OTHER_DEVICES)
    _link_donor(wdi, context.users)
    _other_devices(
        dlw,
        context.users["coordinator@dlw.example.org"],
        [
            ("tablet", "Samsung", "Galaxy Tab A8", "DEMO-DLW-0001", "ready"),
            ("tablet", "Samsung", "Galaxy Tab A8", "DEMO-DLW-0002", "ready"),
            ("smartphone", "Google", "Pixel 4a", "DEMO-DLW-0003", "awaiting_wipe"),
        ],
    )
    db.session.flush()

    from .loans import demo as loans_demo
    from .shelf import demo as shelf_demo

    loans_demo.load(context)
    shelf_demo.load(context)
