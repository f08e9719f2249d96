"""Data bundles, loans at a desk, returns, reminders as call lists, the device waiting list."""

from __future__ import annotations


def init_app(app) -> None:
    """Register the blueprint, navigation, the resident page section and template helpers."""
    from inclusion.registry import registry
    from inclusion.signals import case_closed

    from . import bench, models  # noqa: F401
    from .cli import expire_bundles_command
    from .queries import devices_lent_to
    from .report import DEVICES_SECTION, WAITING_LIST_SECTION
    from .subscribers import take_closed_case_off_waiting_list
    from .views import bp, dashboard_summary, device_panel, resident_loans

    app.register_blueprint(bp)
    reg = registry(app)
    reg.add_navigation("devices.manage", "loans.loans", "Loans")
    reg.add_navigation("devices.manage", "loans.bundles", "Data")
    reg.add_navigation("devices.manage", "loans.reminders", "Call list")
    reg.add_navigation("devices.manage", "loans.waiting_list", "Waiting list")
    reg.add_resident_section("loans/_resident_section.html")
    reg.add_dashboard_panel("loans/_dashboard.html")
    reg.add_template_helper("loan_panel_of", device_panel)
    reg.add_template_helper("loans_of_resident", resident_loans)
    reg.add_template_helper("loans_dashboard", dashboard_summary)
    reg.add_command(expire_bundles_command)
    reg.add_receiver(case_closed, take_closed_case_off_waiting_list)
    reg.provide("devices_lent_to", devices_lent_to)
    reg.add_report_section(DEVICES_SECTION)
    reg.add_report_section(WAITING_LIST_SECTION)
    bench.register(reg)
