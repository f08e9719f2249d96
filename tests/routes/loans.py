"""Loans routes: data bundles, lending and returns, call lists, the device waiting list."""

from __future__ import annotations

from tests.factories import (
    DataBundleFactory,
    DeviceFactory,
    LoanFactory,
    ResidentFactory,
    WaitingListEntryFactory,
)

from . import staff


def arrange(world) -> None:
    world.lend_tag = DeviceFactory(organisation=world.org).asset_tag
    world.lend_resident_ref = ResidentFactory(organisation=world.org).reference
    loan = LoanFactory(organisation=world.org)
    world.loan_ref = loan.reference
    world.loan_tag = loan.device.asset_tag
    world.bundle_id = DataBundleFactory(organisation=world.org).id
    world.waiting_id = WaitingListEntryFactory(organisation=world.org).id


ROUTES = [
    staff("loans.bundles", "/bundles"),
    staff("loans.new_bundle", "/bundles/new"),
    staff("loans.new_bundle", "/bundles/new", "POST"),
    staff("loans.import_bundles", "/bundles/import"),
    staff("loans.import_bundles", "/bundles/import", "POST"),
    staff("loans.issue_bundle", "/bundles/{bundle_id}/issue", record=True),
    staff("loans.issue_bundle", "/bundles/{bundle_id}/issue", "POST", record=True),
    staff("loans.expire_bundles", "/bundles/expire", "POST"),
    staff("loans.lend", "/devices/{lend_tag}/lend", record=True),
    staff("loans.lend", "/devices/{lend_tag}/lend", "POST", record=True),
    staff("loans.lend_to_resident", "/residents/{lend_resident_ref}/lend", record=True),
    staff("loans.loans", "/loans"),
    staff("loans.loan", "/loans/{loan_ref}", record=True),
    staff("loans.agreement", "/loans/{loan_ref}/agreement.pdf", record=True),
    staff("loans.extend", "/loans/{loan_ref}/extend", record=True),
    staff("loans.extend", "/loans/{loan_ref}/extend", "POST", record=True),
    staff("loans.return_device", "/devices/{loan_tag}/return", record=True),
    staff("loans.return_device", "/devices/{loan_tag}/return", "POST", record=True),
    staff("loans.end", "/loans/{loan_ref}/end", record=True),
    staff("loans.end", "/loans/{loan_ref}/end", "POST", record=True),
    staff("loans.resident_search", "/loans/residents.json?q=Test"),
    staff("loans.reminders", "/reminders"),
    staff("loans.reminders_csv", "/reminders.csv"),
    staff("loans.log_call", "/reminders/calls", "POST"),
    staff("loans.waiting_list", "/waiting-list"),
    staff("loans.join_waiting_list", "/waiting-list/new"),
    staff("loans.join_waiting_list", "/waiting-list/new", "POST"),
    staff("loans.leave_waiting_list", "/waiting-list/{waiting_id}/remove", "POST", record=True),
]
