"""Demo data of the devices shelf: one saved stocktake of the desk drawer (idempotent:
nothing is added when the organisation has a stocktake already)."""

from __future__ import annotations

from sqlalchemy import func, select

from inclusion.extensions import db
from inclusion.tenancy import scoped_to

from . import service
from .models import ON_SHELF_STATUSES, Stocktake

LOCATION = "Desk drawer"


def load(context) -> None:
    org = context.organisations["WDI"]
    coordinator = context.users["coordinator@wdi.example.org"]
    with scoped_to(org.id):
        if db.session.scalar(select(func.count()).select_from(Stocktake)):
            return
        if LOCATION not in service.storage_locations():
            return
        from devices.models import Device

        stocktake = service.start_stocktake(org.id, LOCATION, by=coordinator)
        tags = db.session.scalars(
            select(Device.asset_tag).where(
                Device.storage_location == LOCATION, Device.status.in_(ON_SHELF_STATUSES)
            )
        ).all()
        for tag in tags:
            service.record_scan(stocktake, tag, by=coordinator)
        service.record_scan(stocktake, "OLD-SIM-TRAY", by=coordinator)
        service.save_stocktake(stocktake, by=coordinator)
