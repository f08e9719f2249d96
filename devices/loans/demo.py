"""Demo data for devices/loans (idempotent), called from devices/demo.py.

Bundles in stock, issued and expired; open, overdue and returned loans; a waiting list.
Each part is skipped when the organisation already has records of that kind.
"""

from __future__ import annotations

import base64
import io
import math
from datetime import timedelta

from PIL import Image, ImageDraw
from sqlalchemy import func, select

from inclusion.clock import now, today
from inclusion.extensions import db
from inclusion.residents.models import Resident
from inclusion.residents.service import open_case
from inclusion.tenancy import scoped_to

from . import service
from .models import DataBundle, Loan, WaitingListEntry

NETWORKS = ["Vodafone", "Three", "O2", "EE"]


def demo_signature() -> str:
    """A drawn signature as the signature pad posts it (a PNG data URL): a looped line
    on a transparent background."""
    image = Image.new("RGBA", (600, 200), (0, 0, 0, 0))
    points = [(40 + t * 5, 110 - 45 * math.sin(t / 6) - 20 * math.cos(t / 2.5)) for t in range(100)]
    ImageDraw.Draw(image).line(points, fill=(11, 12, 12, 255), width=4, joint="curve")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def _count(model, org_id) -> int:
    return db.session.scalar(
        select(func.count()).select_from(model).where(model.organisation_id == org_id)
    )


def _ready_devices(org, coordinator, wanted: int):
    """Ready devices of the organisation; tablets are registered and wiped when too few."""
    from devices.models import Device
    from devices.service import create_device, record_wipe

    ready = db.session.scalars(
        select(Device)
        .where(Device.organisation_id == org.id, Device.status == "ready")
        .order_by(Device.id)
    ).all()
    for i in range(len(ready), wanted):
        kind = ["tablet", "tablet", "laptop", "smartphone", "chromebook"][i % 5]
        device = create_device(
            org.id,
            dict(
                kind=kind,
                make={
                    "tablet": "Samsung",
                    "laptop": "Lenovo",
                    "smartphone": "Motorola",
                    "chromebook": "Acer",
                }[kind],
                model={
                    "tablet": "Galaxy Tab A8",
                    "laptop": "ThinkPad T480",
                    "smartphone": "Moto G32",
                    "chromebook": "Chromebook 314",
                }[kind],
                condition_grade="B",
                accessories="Charger, cable" + (", case" if kind == "tablet" else ""),
                storage_location="Desk cupboard",
            ),
            by=coordinator,
            note="Registered for the lending demo",
        )
        record_wipe(
            device,
            method="factory_reset_encrypted",
            wiped_by=coordinator.name,
            certificate_reference=f"FR-{device.asset_tag}",
            by=coordinator,
        )
        ready.append(device)
    return ready


def _load_org(org, coordinator, rng, scale: int = 1) -> None:
    with scoped_to(org.id):
        # Closed cases are offered nothing: the demo lends and gives data to open ones only.
        residents = db.session.scalars(
            select(Resident)
            .where(
                Resident.organisation_id == org.id,
                open_case(),
            )
            .order_by(Resident.id)
        ).all()
        if len(residents) < 4:
            return
        if _count(DataBundle, org.id) == 0:
            for i in range(18 * scale):
                kind = "sim" if i % 3 else "voucher"
                reference = (
                    f"894410{org.id:02d}{i:012d}" if kind == "sim" else f"NDB-{org.code}-{1000 + i}"
                )
                service.add_bundle(
                    org.id,
                    dict(
                        kind=kind,
                        network=NETWORKS[i % len(NETWORKS)],
                        allowance_gb=[20, 30, 15, 0.5][i % 4],
                        validity_days=[30, 60, 90][i % 3],
                        source=["national_scheme", "donation", "purchase"][i % 3],
                        reference=reference,
                    ),
                    by=coordinator,
                )
        if _count(Loan, org.id) == 0:
            devices = _ready_devices(org, coordinator, 9 * scale)
            borrowers = [
                r for r in residents if r.needs_device and r.anonymised_at is None
            ] or residents
            stock = iter(
                db.session.scalars(
                    select(DataBundle)
                    .where(
                        DataBundle.organisation_id == org.id,
                        DataBundle.status == "in_stock",
                        DataBundle.kind == "sim",
                    )
                    .order_by(DataBundle.id)
                ).all()
            )
            # 0-1 returned, 2-3 overdue, 4 due this week, 5 open later; the rest stay ready.
            plan = ["returned", "returned", "overdue", "overdue", "due_soon", "open"]
            for step, (device, resident) in enumerate(
                zip(devices[: len(plan) * scale], borrowers, strict=False)
            ):
                kind = plan[step % len(plan)]
                loan = service.lend_device(
                    device,
                    resident,
                    due_on=today() + timedelta(days=56),
                    agreement_method=["paper", "phone", "screen"][step % 3],
                    signature=demo_signature() if step % 3 == 2 else None,
                    bundle=(
                        next(stock, None)
                        if step % 2 == 0 and service.bundle_fits("sim", device.kind)
                        else None
                    ),
                    by=coordinator,
                )
                if kind in ("returned", "overdue"):
                    # Back-date the demo so the call list has overdue loans and history.
                    loan.lent_at = now() - timedelta(days=70 + step)
                    loan.due_on = today() - timedelta(days=14 - step)
                    for bundle in loan.bundles:
                        bundle.issued_at = loan.lent_at
                        bundle.expires_on = loan.lent_at.date() + timedelta(
                            days=bundle.validity_days
                        )
                if kind == "due_soon":
                    loan.due_on = today() + timedelta(days=3)
                if kind == "returned":
                    service.return_device(
                        loan,
                        condition="B",
                        accessories_back=loan.accessories,
                        received_by=coordinator.name,
                        bundle_outcome="kept" if loan.bundles else None,
                        by=coordinator,
                    )
                db.session.flush()
            # Data on its own for two residents, running out within a fortnight.
            vouchers = db.session.scalars(
                select(DataBundle)
                .where(
                    DataBundle.organisation_id == org.id,
                    DataBundle.status == "in_stock",
                    DataBundle.kind == "voucher",
                    DataBundle.validity_days == 30,
                )
                .order_by(DataBundle.id)
                .limit(2)
            ).all()
            data_only = [r for r in residents if r.needs_data and not r.needs_device] or residents[
                -2:
            ]
            for days_ago, (bundle, resident) in zip(
                (20, 25), zip(vouchers, data_only, strict=False), strict=False
            ):
                service.issue_bundle(bundle, resident, by=coordinator)
                bundle.issued_at = now() - timedelta(days=days_ago)
                bundle.expires_on = bundle.issued_at.date() + timedelta(days=bundle.validity_days)
            service.expire_bundles(org.id, by=coordinator)
            # One call already logged, so the call list shows who called when.
            first_overdue = db.session.scalar(
                select(Loan)
                .where(Loan.organisation_id == org.id, Loan.is_open, Loan.due_on < today())
                .order_by(Loan.id)
            )
            if first_overdue is not None:
                service.log_call(
                    first_overdue.resident,
                    "left_message",
                    note="Left a voicemail about the tablet",
                    by=coordinator,
                )
        if _count(WaitingListEntry, org.id) == 0:
            on_loan = set(
                db.session.scalars(select(Loan.resident_id).where(Loan.organisation_id == org.id))
            )
            waiting = [r for r in residents if r.needs_device and r.id not in on_loan][: 8 * scale]
            for i, resident in enumerate(waiting):
                service.join_waiting_list(
                    resident,
                    priority=[1, 2, 3, 2][i % 4],
                    reason=["isolated", "health", "no_other_access", "job_seeking"][i % 4],
                    joined_on=today() - timedelta(days=rng.randint(3, 120)),
                    by=coordinator,
                )
        db.session.flush()


def load(context) -> None:
    """Add this package's demo records; `context` holds the demo organisations and users."""
    _load_org(
        context.organisations["WDI"], context.users["coordinator@wdi.example.org"], context.rng
    )
    if "coordinator@dlw.example.org" in context.users:
        _load_org(
            context.organisations["DLW"], context.users["coordinator@dlw.example.org"], context.rng
        )
