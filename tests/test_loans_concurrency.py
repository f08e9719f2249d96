"""Two desks lend the same device at the same moment: exactly one loan results (PostgreSQL).

This test cannot live inside the rolled-back test transaction: each thread needs its own
connection and must see the other's committed work. It commits its own records and removes
them afterwards (audit events too, which needs the append-only triggers set aside).
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from devices.loans import service
from devices.loans.models import Loan
from devices.models import Device
from inclusion.clock import today
from inclusion.errors import RuleBroken
from inclusion.extensions import db
from inclusion.residents.models import Resident
from tests.factories import DeviceFactory, OrganisationFactory, ResidentFactory, UserFactory

# Children before parents.
_CLEANUP = [
    "DELETE FROM audit_event WHERE organisation_id = :org",
    "DELETE FROM waiting_list_entry WHERE organisation_id = :org",
    "DELETE FROM data_bundle WHERE organisation_id = :org",
    "DELETE FROM loan_extension WHERE organisation_id = :org",
    "DELETE FROM loan WHERE organisation_id = :org",
    "DELETE FROM device_status_change WHERE organisation_id = :org",
    "DELETE FROM wipe WHERE organisation_id = :org",
    "DELETE FROM device WHERE organisation_id = :org",
    "DELETE FROM resident_status_change WHERE organisation_id = :org",
    "DELETE FROM resident WHERE organisation_id = :org",
    "DELETE FROM reference_counter WHERE organisation_id = :org",
    'DELETE FROM "user" WHERE organisation_id = :org',
    "DELETE FROM organisation WHERE id = :org",
]


def _cleanup(app, org_id: int) -> None:
    with app.app_context():
        with db.engine.begin() as conn:
            # Audit events are append-only by trigger; a test's own events may go.
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            for statement in _CLEANUP:
                conn.execute(text(statement), {"org": org_id})


def test_two_concurrent_lends_make_exactly_one_loan(app):
    if app.backend != "postgresql":
        pytest.skip("needs two real connections to PostgreSQL")
    with app.app_context():
        org = OrganisationFactory(code="CONC1", name="Concurrency Test Org")
        user = UserFactory(organisation=org, role="coordinator")
        device = DeviceFactory(organisation=org)
        residents = [ResidentFactory(organisation=org) for _ in range(2)]
        ids = dict(
            org=org.id,
            user=user.id,
            device=device.id,
            tag=device.asset_tag,
            residents=[r.id for r in residents],
        )
        db.session.commit()
        db.session.remove()
    try:
        barrier = threading.Barrier(2, timeout=20)
        outcomes: list[str] = []

        def desk(resident_id: int) -> None:
            with app.app_context():
                try:
                    device = db.session.get(Device, ids["device"])
                    resident = db.session.get(Resident, resident_id)
                    assert device.status == "ready"
                    barrier.wait()
                    service.lend_device(
                        device,
                        resident,
                        due_on=today() + timedelta(days=28),
                        agreement_method="paper",
                    )
                    db.session.commit()
                    outcomes.append("lent")
                except RuleBroken as err:
                    db.session.rollback()
                    outcomes.append(err.message)
                except Exception as err:  # noqa: BLE001 - reported by the assertion below
                    db.session.rollback()
                    outcomes.append(f"error: {err!r}")
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=desk, args=(rid,)) for rid in ids["residents"]]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sorted(outcomes, key=lambda o: o != "lent") == [
            "lent",
            f"{ids['tag']} is already on loan. Return it first.",
        ], outcomes
        with app.app_context():
            loans = db.session.scalar(
                select(func.count()).select_from(Loan).where(Loan.device_id == ids["device"])
            )
            assert loans == 1
            assert db.session.get(Device, ids["device"]).status == "on_loan"
            db.session.remove()
    finally:
        _cleanup(app, ids["org"])
        with app.app_context():
            assert db.session.get(Device, ids["device"]) is None
            db.session.remove()
