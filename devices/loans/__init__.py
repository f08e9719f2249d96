"""Data bundles, loans at a desk, returns, reminders as call lists, the device waiting list."""

from __future__ import annotations

import base64


def init_app(app) -> None:
    """Register the blueprint, navigation, the resident page section and template helpers."""
    from inclusion.registry import registry
    from inclusion.signals import case_closed

    from . import bench, models  # noqa: F401
    from .cli import expire_bundles_command
    from .queries import (
        devices_lent_to,
        loan_panel_of,
        loans_dashboard,
        loans_of_resident,
        overdue_loans,
    )
    from .report import DEVICES_SECTION, WAITING_LIST_SECTION
    from .subscribers import take_closed_case_off_waiting_list
    from .views import bp

    app.register_blueprint(bp)
    reg = registry(app)
    reg.add_navigation("devices.manage", "loans.loans", "Loans", group="devices")
    reg.add_navigation("devices.manage", "loans.bundles", "Data", group="devices")
    reg.add_navigation("devices.manage", "loans.reminders", "Call list", group="devices")
    reg.add_navigation("devices.manage", "loans.waiting_list", "Waiting list", group="devices")
    reg.add_resident_section("loans/_resident_section.html")
    reg.add_dashboard_panel("loans/_overdue_dashboard.html", urgent=True, order=20)
    reg.add_dashboard_panel("loans/_dashboard.html")
    reg.add_template_helper("loan_panel_of", loan_panel_of)
    reg.add_template_helper("loans_of_resident", loans_of_resident)
    reg.add_template_helper("loans_dashboard", loans_dashboard)
    reg.add_template_helper("overdue_loans", overdue_loans)
    reg.add_command(expire_bundles_command)
    reg.add_receiver(case_closed, take_closed_case_off_waiting_list)
    reg.provide("devices_lent_to", devices_lent_to)
    reg.add_report_section(DEVICES_SECTION)
    reg.add_report_section(WAITING_LIST_SECTION)
    bench.register(reg)
    _declare_personal_data(app)


def _declare_personal_data(app) -> None:
    """Loans, data, calls and the waiting list are about a resident: exported for a
    subject access request, their free text removed on erasure."""
    from inclusion.personal_data import declare, name_of

    from .models import (
        DataBundle,
        Loan,
        LoanExtension,
        LoanSignature,
        ReminderCall,
        WaitingListEntry,
    )

    declare(
        app,
        Loan,
        resident_column="resident_id",
        free_text=("accessories", "notes", "accessories_back", "end_note"),
        not_free_text=("received_by",),
        export="loans",
        export_extra=lambda loan: {
            "device_asset_tag": loan.device.asset_tag,
            "device": loan.device.name,
            "lent_by": name_of(loan.lent_by),
            "ended_by": name_of(loan.ended_by),
        },
        order_by=("lent_at", "id"),
        blocks_erasure=[
            (
                lambda: Loan.is_open,
                "A device is still on loan: record its return or end the loan first.",
            )
        ],
    )
    declare(
        app,
        LoanExtension,
        via=("loan_id", "loan"),
        free_text=("reason",),
        export="loan_extensions",
        export_extra=lambda e: {"by": name_of(e.by)},
        order_by=("at", "id"),
    )
    declare(
        app,
        LoanSignature,
        via=("loan_id", "loan"),
        export="loan_signatures",
        # The export is JSON: the PNG goes as the data URL a browser shows.
        export_extra=lambda s: {
            "png": "data:image/png;base64," + base64.b64encode(s.png).decode() if s.png else None
        },
        order_by=("signed_at", "id"),
        anonymise=_forget_signature,
    )
    declare(
        app,
        DataBundle,
        resident_column="resident_id",
        free_text=("notes",),
        export="data_bundles",
        export_extra=lambda b: {"issued_by": name_of(b.issued_by)},
    )
    declare(
        app,
        WaitingListEntry,
        resident_column="resident_id",
        free_text=("note",),
        export="waiting_list",
        export_extra=lambda w: {"added_by": name_of(w.added_by)},
        blocks_erasure=[
            (
                lambda: WaitingListEntry.status == "waiting",
                "They are on the device waiting list: remove them from it first.",
            )
        ],
    )
    declare(
        app,
        ReminderCall,
        resident_column="resident_id",
        free_text=("note",),
        export="reminder_calls",
        export_extra=lambda c: {"called_by": name_of(c.called_by)},
        order_by=("called_at", "id"),
    )


def _forget_signature(signature) -> list[str]:
    """An erased resident's signature is removed; when they signed stays."""
    if signature.png is None:
        return []
    signature.png = None
    return ["png"]
