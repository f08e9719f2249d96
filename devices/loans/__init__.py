"""Data bundles, loans at a desk, returns, reminders as call lists, the device waiting list."""

from __future__ import annotations

NAVIGATION_ENTRIES = [
    ("devices.manage", "loans.loans", "Loans"),
    ("devices.manage", "loans.bundles", "Data"),
    ("devices.manage", "loans.reminders", "Call list"),
    ("devices.manage", "loans.waiting_list", "Waiting list"),
]


def init_app(app) -> None:
    """Register the blueprint, navigation, the resident page section and template helpers."""
    from inclusion.templating import NAVIGATION

    from .views import bp, dashboard_summary, device_panel, resident_loans

    app.register_blueprint(bp)
    for entry in NAVIGATION_ENTRIES:
        if entry not in NAVIGATION:
            NAVIGATION.append(entry)
    sections = app.extensions.setdefault("inclusion.resident_sections", [])
    if "loans/_resident_section.html" not in sections:
        sections.append("loans/_resident_section.html")
    app.jinja_env.globals["loan_panel_of"] = device_panel
    app.jinja_env.globals["loans_of_resident"] = resident_loans
    app.jinja_env.globals["loans_dashboard"] = dashboard_summary
    panels = app.extensions.setdefault("inclusion.dashboard_panels", [])
    if "loans/_dashboard.html" not in panels:
        panels.append("loans/_dashboard.html")

    from inclusion.signals import case_closed

    from .subscribers import take_closed_case_off_waiting_list

    case_closed.connect(take_closed_case_off_waiting_list, weak=False)

    from inclusion.cli import cli

    from .cli import expire_bundles_command

    cli.add_command(expire_bundles_command)
