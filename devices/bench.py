"""The devices' part of the benchmark organisation: donors, their donations and line items,
and the devices (donated, bought or from national schemes) with their wipes and status
histories. Registered in ``devices.init_app``: donations and devices are planned at step 30;
the lending desk (``devices/loans/bench.py``, step 40) moves them through their loans, and
they are written at step 60."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from inclusion.bench import DAYS, Bench, at_time, weighted

ROWS_AT_SCALE_1 = {"devices": 5_000, "donations": 1_000, "donors": 400}
KINDS = (("tablet", 45), ("laptop", 20), ("smartphone", 20), ("chromebook", 10), ("hotspot", 5))
MODELS = {
    "tablet": [
        ("Samsung", "Galaxy Tab A8"),
        ("Apple", "iPad 9th generation"),
        ("Amazon", "Fire HD 10"),
    ],
    "laptop": [("Lenovo", "ThinkPad T480"), ("Dell", "Latitude 5490"), ("HP", "ProBook 440 G5")],
    "smartphone": [("Motorola", "Moto G32"), ("Samsung", "Galaxy A14"), ("Google", "Pixel 4a")],
    "chromebook": [("Acer", "Chromebook 314"), ("Lenovo", "100e Chromebook")],
    "hotspot": [("Huawei", "E5576 mobile Wi-Fi"), ("TP-Link", "M7350")],
}
DONATION_STATES = (
    ("processed", 75),
    ("received", 5),
    ("scheduled", 5),
    ("pledged", 7),
    ("declined", 8),
)


def asset_tag(n: int) -> str:
    alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # devices.service.TAG_ALPHABET
    return "BN-" + "".join(alphabet[(n // 32**i) % 32] for i in range(5))


@dataclass(slots=True)
class DevicePlan:
    """One device's life: its status moves, and the wipe before each time it is ready."""

    id: int
    kind: str
    created: date
    donation_id: int | None
    events: list = field(default_factory=list)  # (datetime, from, to)
    wipes: list = field(default_factory=list)  # datetimes
    status: str = "received"
    wiped: bool = False

    def move(self, at: datetime, to: str) -> None:
        self.events.append((at, self.status if self.events else None, to))
        self.status = to
        if to == "awaiting_wipe":
            self.wiped = False


def wipe_cycle(bench: Bench, device: DevicePlan, at: datetime) -> date | None:
    """Awaiting wipe at ``at``, wiped and ready a few days later; the first day it can be
    lent, or None when that is still to come."""
    if at.date() > bench.today:
        return None
    device.move(at, "awaiting_wipe")
    wiped = at + bench.random_days(1, 8)
    if wiped.date() > bench.today:
        return None
    device.wipes.append(wiped)
    device.wiped = True
    device.move(wiped + timedelta(minutes=5), "ready")
    return wiped.date() + timedelta(days=1)  # lent from the next day on


def plan_donations_and_devices(bench: Bench) -> None:
    """Donors and donations (written now: nothing later changes them), their devices, then
    devices bought or from national schemes: ``bench.plans["devices"]``."""
    rng, counts = bench.rng, bench.counts
    n_devices, n_donations = counts["devices"], counts["donations"]
    donor_ids = list(bench.new_ids("donor", counts["donors"]))
    for n, donor_id in enumerate(donor_ids, start=1):
        bench.add(
            "donor",
            dict(
                id=donor_id,
                business_name=f"Bench Business {n} Ltd",
                contact_name=f"Contact {n}",
                email=f"contact{n}@business{n}.bench.example.com",
                phone="",
                created_at=at_time(bench.start, rng),
            ),
        )
    donation_ids = list(bench.new_ids("donation", n_donations))
    states = [weighted(rng, DONATION_STATES) for _ in donation_ids]
    processed = [i for i, s in enumerate(states) if s == "processed"] or [0]
    states[processed[0]] = "processed"
    donated = round(n_devices * 0.8)
    # Split the donated devices over the processed donations, each at least one.
    shares = [1] * len(processed)
    for _ in range(max(0, donated - len(processed))):
        shares[rng.randrange(len(processed))] += 1
    per_donation = dict(zip(processed, shares, strict=True)) if donated >= len(processed) else {}
    device_ids = iter(bench.new_ids("device", n_devices))
    item_next = bench.new_ids("donation_item", 0).start  # grown as items are written
    devices: list[DevicePlan] = []
    for i, (donation_id, state) in enumerate(zip(donation_ids, states, strict=True)):
        pledged = bench.start + timedelta(days=rng.randint(0, DAYS - 30))
        received = (
            pledged + bench.random_days(3, 20) if state in ("received", "processed") else None
        )
        processed_at = received + bench.random_days(1, 10) if state == "processed" else None
        if state in ("pledged", "scheduled"):  # still to come: recent pledges
            pledged = bench.today - bench.random_days(1, 25)
        devices_here = per_donation.get(i, 0)  # only processed donations have devices
        kinds: dict[str, int] = {}
        for _ in range(devices_here or rng.randint(1, 12)):
            kind = weighted(rng, KINDS)
            kinds[kind] = kinds.get(kind, 0) + 1
        bench.add(
            "donation",
            dict(
                id=donation_id,
                reference=f"D-{i + 1:04d}",
                donor_id=rng.choice(donor_ids),
                receipt_token=f"bench{bench.organisation_id}-{donation_id}-{rng.getrandbits(64):016x}",
                status=state,
                status_changed_at=at_time(processed_at or received or pledged, rng),
                donor_wiped=rng.random() < 0.3,
                wipe_certificate="",
                handover="drop_off" if rng.random() < 0.7 else "collection",
                preferred_from=None,
                preferred_to=None,
                collection_address="",
                notes="",
                wants_account=False,
                scheduled_for=pledged + bench.random_days(5, 20) if state == "scheduled" else None,
                decline_reason="Too old to run a supported system." if state == "declined" else "",
                pledged_at=at_time(pledged, rng),
                received_at=at_time(received, rng) if received else None,
                processed_at=at_time(processed_at, rng) if processed_at else None,
            ),
        )
        for position, (kind, quantity) in enumerate(sorted(kinds.items()), start=1):
            make, model = rng.choice(MODELS[kind])
            bench.add(
                "donation_item",
                dict(
                    id=item_next,
                    donation_id=donation_id,
                    position=position,
                    kind=kind,
                    quantity=min(quantity, 500),
                    make=make,
                    model=model,
                    approx_age=rng.choice(["1_2", "3_4", "3_4", "5_plus"]),
                    condition=rng.choice(["good", "good", "worn"]),
                    chargers_included=rng.random() < 0.7,
                    quantity_received=min(quantity, 500) if received else None,
                ),
            )
            item_next += 1
            if devices_here:
                for _ in range(quantity):
                    devices.append(DevicePlan(next(device_ids), kind, processed_at, donation_id))
    bench.next_ids["donation_item"] = item_next
    while len(devices) < n_devices:  # bought with grants or from a national scheme
        created = bench.start + timedelta(days=rng.randint(0, DAYS))
        devices.append(DevicePlan(next(device_ids), weighted(rng, KINDS), created, None))
    bench.plans["devices"] = devices


def write_devices(bench: Bench) -> None:
    """The devices as their loans left them, their status histories and wipes."""
    rng = bench.rng
    change_next = bench.new_ids("device_status_change", 0).start
    wipe_next = bench.new_ids("wipe", 0).start
    for d in bench.plans["devices"]:
        make, model = rng.choice(MODELS[d.kind])
        bench.add(
            "device",
            dict(
                id=d.id,
                asset_tag=asset_tag(d.id),
                kind=d.kind,
                make=make,
                model=model,
                serial=f"BN{d.id:010d}" if rng.random() < 0.7 else None,
                condition_grade=rng.choice("AABBBC"),
                accessories="Charger, cable",
                storage_location="Store room",
                notes="",
                donation_id=d.donation_id,
                status=d.status,
                status_changed_at=d.events[-1][0],
                wiped=d.wiped,
                created_at=d.events[0][0],
            ),
        )
        for at, from_status, to_status in d.events:
            bench.add(
                "device_status_change",
                dict(
                    id=change_next,
                    device_id=d.id,
                    from_status=from_status,
                    to_status=to_status,
                    note="",
                    at=at,
                    by_id=None,
                ),
            )
            change_next += 1
        for at in d.wipes:
            bench.add(
                "wipe",
                dict(
                    id=wipe_next,
                    device_id=d.id,
                    method=rng.choice(["factory_reset_encrypted", "nist_clear"]),
                    wiped_by="Bench volunteer",
                    wiped_at=at,
                    certificate_reference=f"W-{wipe_next}",
                    notes="",
                    recorded_by_id=None,
                    recorded_at=at,
                ),
            )
            wipe_next += 1
    bench.next_ids["device_status_change"] = change_next
    bench.next_ids["wipe"] = wipe_next


def register(reg) -> None:
    reg.add_bench_loader(
        "devices: donations and devices",
        plan_donations_and_devices,
        order=30,
        rows_at_scale_1=ROWS_AT_SCALE_1,
    )
    reg.add_bench_loader("devices: write", write_devices, order=60)
