"""Two desks on one shelf at the same moment, on two real PostgreSQL connections
(``pg_two_sessions``; generated for PostgreSQL only). Saving locks the stocktake row and
decides on its status as it is, so a stocktake is saved once; the partial unique index
lets one stocktake of a location be open, whoever starts first."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from devices.shelf import service
from devices.shelf.models import Stocktake, StocktakeLine
from inclusion.audit import AuditEvent
from inclusion.extensions import db
from tests.factories import DeviceFactory, OrganisationFactory


def _second(ready) -> None:
    """Wait with the other desk, then let it start first (see test_loans_concurrency)."""
    ready()
    time.sleep(0.3)


def test_two_desks_saving_one_stocktake_save_it_once(pg_two_sessions):
    with pg_two_sessions.committed():
        org = OrganisationFactory()
        here = DeviceFactory(organisation=org, storage_location="Cupboard A")
        DeviceFactory(organisation=org, storage_location="Cupboard A")
        elsewhere = DeviceFactory(organisation=org, storage_location="Cupboard B")
        stocktake = service.start_stocktake(org.id, "Cupboard A")
        service.record_scan(stocktake, here.asset_tag)
        service.record_scan(stocktake, elsewhere.asset_tag)
        stocktake_id, elsewhere_id = stocktake.id, elsewhere.id

    def desk(move, wait):
        def act(ready):
            stocktake = db.session.get(Stocktake, stocktake_id)
            assert stocktake.status == "open"  # what the page showed
            wait(ready)
            service.save_stocktake(stocktake, move_misplaced=move)

        return act

    outcomes = pg_two_sessions.race(desk(False, lambda ready: ready()), desk(True, _second))

    assert outcomes[0] == "done", outcomes
    assert outcomes[1].startswith("This stocktake was already saved"), outcomes
    with pg_two_sessions.reading() as session:
        stocktake = session.get(Stocktake, stocktake_id)
        assert stocktake.status == "saved" and not stocktake.moved_misplaced
        outcomes = session.scalars(
            select(StocktakeLine.outcome)
            .where(StocktakeLine.stocktake_id == stocktake_id)
            .order_by(StocktakeLine.outcome)
        ).all()
        assert outcomes == ["found", "misplaced", "missing"]  # one missing line, not two
        saves = session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "stocktake.saved", AuditEvent.entity_id == stocktake_id)
        )
        assert saves == 1
        from devices.models import Device

        assert session.get(Device, elsewhere_id).storage_location == "Cupboard B"


def test_two_desks_starting_the_same_shelf_get_one_open_stocktake(pg_two_sessions):
    with pg_two_sessions.committed():
        org = OrganisationFactory()
        DeviceFactory(organisation=org, storage_location="Cupboard A")
        org_id = org.id

    def start(ready):
        ready()
        service.start_stocktake(org_id, "Cupboard A")

    outcomes = pg_two_sessions.race(start, start)

    assert outcomes.count("done") == 1, outcomes
    refused = next(o for o in outcomes if o != "done")
    assert refused.startswith("A stocktake of Cupboard A") and "carry on with it" in refused
    with pg_two_sessions.reading() as session:
        open_ones = session.scalar(
            select(func.count())
            .select_from(Stocktake)
            .where(Stocktake.organisation_id == org_id, Stocktake.status == "open")
        )
        assert open_ones == 1


def test_two_desks_wiping_one_donation_at_once_wipe_each_device_once(pg_two_sessions):
    from devices.models import Device, Wipe
    from inclusion.errors import RuleBroken
    from tests.factories import DonationFactory

    with pg_two_sessions.committed():
        org = OrganisationFactory()
        donation = DonationFactory(organisation=org)
        ids = [
            DeviceFactory(organisation=org, donation=donation, status="received").id
            for _ in range(6)
        ]

    def desk(order, wait):
        def act(ready):
            devices = [db.session.get(Device, i) for i in order]
            wait(ready)
            try:
                service.bulk_record_wipe(devices, method="nist_clear", wiped_by="Wendy")
            except service.BulkRefused as err:
                raise RuleBroken(f"{len(err.errors)} refused") from None

        return act

    # the second desk lists the devices the other way round: locks are taken in id order,
    # so neither waits on the other in a ring
    outcomes = pg_two_sessions.race(
        desk(ids, lambda ready: ready()), desk(list(reversed(ids)), _second)
    )

    assert outcomes == ["done", "6 refused"], outcomes
    with pg_two_sessions.reading() as session:
        wipes = session.scalar(
            select(func.count()).select_from(Wipe).where(Wipe.device_id.in_(ids))
        )
        assert wipes == 6
        assert {session.get(Device, i).status for i in ids} == {"ready"}
