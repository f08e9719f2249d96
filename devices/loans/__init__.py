"""Data bundles, loans at a desk, returns, reminders as call lists, the device waiting list."""

from __future__ import annotations


def init_app(app) -> None:
    """Register the blueprint, navigation, the resident page section and template helpers."""
    from inclusion.registry import registry
    from inclusion.signals import case_closed

    from . import bench, models  # noqa: F401
    from .cli import expire_bundles_command
    from .queries import devices_lent_to, loan_panel_of, loans_dashboard, loans_of_resident
    from .report import DEVICES_SECTION, WAITING_LIST_SECTION
    from .subscribers import take_closed_case_off_waiting_list
    from .views import bp

    app.register_blueprint(bp)
    reg = registry(app)
    reg.add_navigation("devices.manage", "loans.loans", "Loans")
    reg.add_navigation("devices.manage", "loans.bundles", "Data")
    reg.add_navigation("devices.manage", "loans.reminders", "Call list")
    reg.add_navigation("devices.manage", "loans.waiting_list", "Waiting list")
    reg.add_resident_section("loans/_resident_section.html")
    reg.add_dashboard_panel("loans/_dashboard.html")
    reg.add_template_helper("loan_panel_of", loan_panel_of)
    reg.add_template_helper("loans_of_resident", loans_of_resident)
    reg.add_template_helper("loans_dashboard", loans_dashboard)
    reg.add_command(expire_bundles_command)
    reg.add_receiver(case_closed, take_closed_case_off_waiting_list)
    reg.provide("devices_lent_to", devices_lent_to)
    reg.add_report_section(DEVICES_SECTION)
    reg.add_report_section(WAITING_LIST_SECTION)
    bench.register(reg)
