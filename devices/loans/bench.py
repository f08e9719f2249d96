"""The lending desk of the benchmark organisation (registered in ``devices.loans.init_app``):
waiting residents are lent the next ready device in the order they joined the list (step
40), so a loan starts after its resident joined the waiting list, a device has at most one
open loan and is wiped before every lend, and a resident's case stays open while they hold a
device. Loans, extensions, the waiting list and data bundles are written at step 70.

Leaves ``bench.plans["devices_lent"]`` (resident id -> (lent on, back on, device id)) for the
practice sessions held on a lent device."""

from __future__ import annotations

import heapq
from datetime import timedelta

from devices.bench import DevicePlan, wipe_cycle
from inclusion.bench import Bench, at_time

ROWS_AT_SCALE_1 = {"bundles_in_stock": 400}
NETWORKS = ("Vodafone", "Three", "O2", "EE")
FIRST_LOAN_DAYS = 56  # eight weeks at first; many residents need longer
EXTENSION_DAYS = 28


def _end_kind(fate: float) -> str:
    if fate < 0.03:
        return "lost"
    if fate < 0.05:
        return "not_returned"
    if fate < 0.12:
        return "gifted"
    return "returned"


def plan_lending_desk(bench: Bench) -> None:
    """``bench.plans["lending"]``: loans, waiting-list entries, extensions, and who still
    holds a device today."""
    rng, today = bench.rng, bench.today
    devices: list[DevicePlan] = bench.plans["devices"]
    ready: list = []
    for d in devices:
        d.move(at_time(d.created, rng), "received")
        if rng.random() < 0.04:  # broken on arrival: repaired later, or retired
            d.move(at_time(d.created, rng, 14), rng.choice(["in_repair", "retired"]))
            continue
        day = wipe_cycle(bench, d, at_time(d.created + timedelta(days=1), rng))
        if day is not None:
            heapq.heappush(ready, (day, d.id, d))
    waiting = sorted(
        (
            r
            for r in bench.plans["residents"]
            if r.needs_device and r.assessed and r.assessed <= today
        ),
        key=lambda r: (r.assessed, r.id),
    )
    loans, entries, extensions, holding = [], [], [], set()
    for r in waiting:
        entry = dict(resident=r, joined=r.assessed, status="waiting", changed=r.assessed, loan=None)
        entries.append(entry)
        if not ready:
            continue
        ready_day, _, d = ready[0]
        lent_on = max(ready_day, r.assessed) + bench.random_days(0, 3)
        if r.close and r.close <= lent_on:
            entry.update(status="removed", changed=r.close)
            continue
        if lent_on > today:
            continue
        heapq.heappop(ready)
        lent_at = at_time(lent_on, rng)
        d.move(lent_at, "on_loan")
        due = lent_on + timedelta(days=FIRST_LOAN_DAYS)
        end_kind = _end_kind(rng.random())
        length = {"returned": (90, 365), "gifted": (120, 365)}.get(end_kind, (30, 200))
        ended_on = lent_on + bench.random_days(*length)
        loan = dict(
            id=None, device=d, resident=r, lent_at=lent_at, due=due, end_kind=None, ended_at=None
        )
        for _ in range(3):
            if min(ended_on, today) <= loan["due"] or rng.random() > 0.6:
                break
            extensions.append(
                dict(
                    loan=loan,
                    previous=loan["due"],
                    new=loan["due"] + timedelta(days=EXTENSION_DAYS),
                    at=at_time(loan["due"] - bench.random_days(0, 5), rng),
                )
            )
            loan["due"] += timedelta(days=EXTENSION_DAYS)
        if ended_on <= today:
            ended_at = at_time(ended_on, rng)
            loan.update(end_kind=end_kind, ended_at=ended_at)
            if end_kind == "returned":
                d.move(ended_at, "returned")
                day = wipe_cycle(bench, d, ended_at + timedelta(minutes=2))
                if day is not None:
                    heapq.heappush(ready, (day, d.id, d))
            else:
                d.move(ended_at, {"gifted": "gifted"}.get(end_kind, "lost"))
            # A resident's case stays open while they hold a device.
            if r.close and r.close < ended_on:
                r.close = ended_on + bench.random_days(1, 14)
        else:
            holding.add(r.id)
            if r.close and r.close <= today:
                r.close = None
        r.supported = min(r.supported, lent_on) if r.supported else lent_on
        entry.update(status="lent", changed=lent_on, loan=loan)
        loans.append(loan)
    for entry in entries:  # who closed while waiting leaves the list
        r = entry["resident"]
        if entry["status"] == "waiting" and r.close and r.close <= today:
            entry.update(status="removed", changed=r.close)
    loans.sort(key=lambda x: x["lent_at"])
    bench.plans["lending"] = dict(
        loans=loans, entries=entries, extensions=extensions, holding=holding
    )
    bench.plans["devices_lent"] = {
        loan["resident"].id: (
            loan["lent_at"].date(),
            loan["ended_at"].date() if loan["ended_at"] else today,
            loan["device"].id,
        )
        for loan in loans
    }


def write_lending(bench: Bench) -> None:
    """Loans, their extensions, the waiting list, then the data bundles."""
    rng, desk = bench.rng, bench.plans["lending"]
    loans = desk["loans"]
    for number, (loan, loan_id) in enumerate(
        zip(loans, bench.new_ids("loan", len(loans)), strict=True), 1
    ):
        loan["id"] = loan_id
        returned = loan["end_kind"] == "returned"
        bench.add(
            "loan",
            dict(
                id=loan_id,
                reference=f"L-{number:05d}",
                device_id=loan["device"].id,
                resident_id=loan["resident"].id,
                lent_at=loan["lent_at"],
                lent_by_id=None,
                due_on=loan["due"],
                agreement_method=rng.choice(["paper", "phone", "screen"]),
                accessories="Charger, cable",
                notes="",
                ended_at=loan["ended_at"],
                end_kind=loan["end_kind"],
                received_by="Bench coordinator" if returned else "",
                return_condition=rng.choice("ABC") if returned else None,
                accessories_back="Charger, cable" if returned else "",
                end_note="",
                ended_by_id=None,
            ),
        )
    extensions = desk["extensions"]
    for ext, ext_id in zip(
        extensions, bench.new_ids("loan_extension", len(extensions)), strict=True
    ):
        bench.add(
            "loan_extension",
            dict(
                id=ext_id,
                loan_id=ext["loan"]["id"],
                previous_due_on=ext["previous"],
                new_due_on=ext["new"],
                reason="Needs longer to finish the course.",
                at=ext["at"],
                by_id=None,
            ),
        )
    entries = desk["entries"]
    for entry, entry_id in zip(
        entries, bench.new_ids("waiting_list_entry", len(entries)), strict=True
    ):
        bench.add(
            "waiting_list_entry",
            dict(
                id=entry_id,
                resident_id=entry["resident"].id,
                priority=rng.choice([1, 2, 3, 3, 3]),
                reason=rng.choice(
                    ["isolated", "health", "no_other_access", "job_seeking", "other"]
                ),
                joined_on=entry["joined"],
                note="",
                status=entry["status"],
                status_changed_at=at_time(entry["changed"], rng),
                loan_id=entry["loan"]["id"] if entry["loan"] else None,
                added_by_id=None,
            ),
        )
    write_bundles(bench)


def write_bundles(bench: Bench) -> None:
    """SIMs with about half the loans of devices that take one, vouchers for residents who
    need data only (topped up until their case closes), and some stock."""
    rng, today, desk = bench.rng, bench.today, bench.plans["lending"]
    issued = []  # (resident, loan_id, kind, day)
    for loan in desk["loans"]:
        if loan["device"].kind in ("tablet", "smartphone", "hotspot") and rng.random() < 0.5:
            kind = "hotspot_topup" if loan["device"].kind == "hotspot" else "sim"
            issued.append((loan["resident"], loan["id"], kind, loan["lent_at"].date()))
    for r in bench.plans["residents"]:
        if r.needs_data and r.id not in desk["holding"] and r.assessed and r.assessed < today:
            day = r.assessed + bench.random_days(1, 10)
            for _ in range(rng.randint(1, 4)):
                if day > today or (r.close and day >= r.close):
                    break
                issued.append((r, None, "voucher", day))
                day += timedelta(days=rng.choice([30, 60, 90]))
    n_stock = bench.counts["bundles_in_stock"]
    ids = bench.new_ids("data_bundle", len(issued) + n_stock)
    for n, bundle_id in enumerate(ids):
        validity = rng.choice([30, 60, 90, 180])
        kind = issued[n][2] if n < len(issued) else rng.choice(["sim", "voucher", "esim"])
        row = dict(
            id=bundle_id,
            kind=kind,
            network=rng.choice(NETWORKS),
            allowance_gb=rng.choice([10, 20, 30, 50]),
            validity_days=validity,
            reference=(
                f"894410{bundle_id:013d}" if kind in ("sim", "esim") else f"BN-V{bundle_id:09d}"
            ),
            source=rng.choice(["national_scheme", "national_scheme", "donation", "purchase"]),
            notes="",
        )
        if n < len(issued):
            resident, loan_id, _, day = issued[n]
            expires = day + timedelta(days=validity)
            status = "issued" if expires >= today else "expired"
            row.update(
                status=status,
                status_changed_at=at_time(day if status == "issued" else expires, rng),
                resident_id=resident.id,
                loan_id=loan_id,
                issued_at=at_time(day, rng),
                issued_by_id=None,
                expires_on=expires,
                added_at=at_time(day - bench.random_days(5, 60), rng),
            )
        else:
            added = today - bench.random_days(0, 120)
            row.update(
                status="in_stock",
                status_changed_at=at_time(added, rng),
                resident_id=None,
                loan_id=None,
                issued_at=None,
                issued_by_id=None,
                expires_on=None,
                added_at=at_time(added, rng),
            )
        bench.add("data_bundle", row)


def register(reg) -> None:
    reg.add_bench_loader(
        "loans: the lending desk", plan_lending_desk, order=40, rows_at_scale_1=ROWS_AT_SCALE_1
    )
    reg.add_bench_loader("loans: write", write_lending, order=70)
