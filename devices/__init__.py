"""Donors and donations, devices and wipes, data bundles, loans, QR labels and PDFs."""

from __future__ import annotations


def init_app(app) -> None:
    """Register the blueprint and what this package adds to the core (inclusion/registry.py)."""
    from flask_babel import lazy_gettext as _

    from inclusion.registry import registry

    from . import bench, demo, models  # noqa: F401  (models: complete metadata for Alembic)
    from .queries import devices_dashboard
    from .views import bp

    app.register_blueprint(bp)
    reg = registry(app)
    reg.add_navigation("devices.manage", "devices.index", "Devices", group="devices")
    reg.add_navigation("donations.manage", "devices.donations", "Donations", group="devices")
    reg.add_navigation("donations.follow", "devices.my_donations", "My donations")
    reg.add_navigation("impact.view", "devices.impact", "Your impact")
    reg.add_dashboard_panel("devices/_dashboard.html")
    reg.add_dashboard_panel("devices/_impact_dashboard.html")
    reg.add_header_tool("devices/_scan_box.html")
    reg.add_public_navigation("devices/_public_nav.html")
    reg.add_home_card("devices/_home_card.html")
    reg.add_template_helper("devices_dashboard", devices_dashboard)
    reg.add_template_helper("donor_impact_headline", _donor_impact_headline)
    reg.add_demo_loader("devices", demo.load)
    bench.register(reg)
    reg.add_public_form("devices.pledge", _("Offer a donation of devices"))
    from .messages import PURPOSES, queue_loan_reminders

    for purpose in PURPOSES:
        reg.add_message_purpose(purpose)
    reg.add_reminder_source(queue_loan_reminders)

    _declare_personal_data(app)

    from . import loans, shelf

    loans.init_app(app)
    shelf.init_app(app)


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
    declare(app, DonationItem, not_free_text=("make", "model"))
    declare(app, Device, free_text=("accessories", "notes"))
    declare(app, DeviceStatusChange, free_text=("note",))
    declare(app, Wipe, free_text=("notes",), not_free_text=("wiped_by",))


def _donor_impact_headline():
    from flask_login import current_user

    from .impact import donor_headline

    return donor_headline(current_user)
