"""Donors and donations, devices and wipes, data bundles, loans, QR labels and PDFs."""

from __future__ import annotations

NAVIGATION_ENTRIES = [
    ("devices.manage", "devices.index", "Devices"),
    ("donations.manage", "devices.donations", "Donations"),
    ("donations.follow", "devices.my_donations", "My donations"),
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
    panels = app.extensions.setdefault("inclusion.dashboard_panels", [])
    if "devices/_dashboard.html" not in panels:
        panels.append("devices/_dashboard.html")

    from . import loans

    loans.init_app(app)
