"""Devices routes: donations (public pledge, staff handling, donor following), devices, labels, scanning."""

from __future__ import annotations

from tests.factories import DeviceFactory, DonationFactory

from . import DENY, LOGIN, OK, Route, staff


def arrange(world) -> None:
    world.device_tag = DeviceFactory(organisation=world.org).asset_tag
    world.donation_ref = DonationFactory(organisation=world.org).reference


ROUTES = [
    staff("devices.index", "/devices"),
    staff("devices.detail", "/devices/{device_tag}", record=True),
    staff("devices.donations", "/donations"),
    Route("devices.my_donations", "/my-donations", anon=LOGIN, admin=DENY, coordinator=DENY,
          buddy=DENY, donor=OK, other=DENY),
]
