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
    from inclusion.public_links import register_public_form

    register_public_form(app, "devices.pledge", "Offer a donation of devices")
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

    from . import loans

    loans.init_app(app)


def _donor_impact_headline():
    from flask_login import current_user

    from .impact import donor_headline

    return donor_headline(current_user)
