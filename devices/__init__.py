"""Donors and donations, devices and wipes, data bundles, loans, QR labels and PDFs."""

from __future__ import annotations

NAVIGATION_ENTRIES = [
    ("devices.manage", "devices.index", "Devices"),
    ("donations.manage", "devices.donations", "Donations"),
    ("donations.follow", "devices.my_donations", "My donations"),
    ("impact.view", "devices.impact", "Your impact"),
]


def init_app(app) -> None:
    """Register the blueprint and this package's entries in the shared navigation."""
    from inclusion.templating import NAVIGATION

    from .views import bp

    app.register_blueprint(bp)
    for entry in NAVIGATION_ENTRIES:
        if entry not in NAVIGATION:
            NAVIGATION.append(entry)
    from .queries import dashboard_summary

    app.jinja_env.globals["devices_dashboard"] = dashboard_summary
    app.jinja_env.globals["donor_impact_headline"] = _donor_impact_headline
    panels = app.extensions.setdefault("inclusion.dashboard_panels", [])
    for panel in ("devices/_dashboard.html", "devices/_impact_dashboard.html"):
        if panel not in panels:
            panels.append(panel)

    _declare_personal_data(app)

    from . import loans

    loans.init_app(app)


def _declare_personal_data(app) -> None:
    """Nothing here is about a resident, but people type in these fields: a resident's
    name or phone in a device note is swept when they are erased."""
    from inclusion.personal_data import declare

    from .models import Device, DeviceStatusChange, Donation, DonationItem, Donor, Wipe

    declare(app, Donor, not_free_text=("business_name", "contact_name", "email"))
    declare(
        app,
        Donation,
        free_text=("collection_address", "notes", "decline_reason"),
        not_free_text=("wipe_certificate",),
    )
    declare(app, DonationItem, not_free_text=("make_model",))
    declare(app, Device, free_text=("accessories", "notes"))
    declare(app, DeviceStatusChange, free_text=("note",))
    declare(app, Wipe, free_text=("notes",), not_free_text=("wiped_by",))


def _donor_impact_headline():
    from flask_login import current_user

    from .impact import donor_headline

    return donor_headline(current_user)
