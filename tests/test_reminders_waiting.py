"""Reminders as call lists, and the device waiting list with its suggestion."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from devices.loans import service
from devices.loans.models import ReminderCall, WaitingListEntry
from inclusion.audit import AuditEvent
from inclusion.clock import today
from inclusion.extensions import db
from tests.conftest import row_counts
from tests.factories import (
    DataBundleFactory,
    DeviceFactory,
    LoanFactory,
    ResidentFactory,
    WaitingListEntryFactory,
)


def _call_list_world(org):
    overdue = LoanFactory(organisation=org, due_on=today() - timedelta(days=3))
    soon = LoanFactory(organisation=org, due_on=today() + timedelta(days=5))
    LoanFactory(organisation=org, due_on=today() + timedelta(days=30))  # not yet
    bundle = DataBundleFactory(organisation=org, validity_days=10)
    service.issue_bundle(bundle, soon.resident)  # same resident: one row
    late_bundle = DataBundleFactory(organisation=org, validity_days=60)
    service.issue_bundle(late_bundle, ResidentFactory(organisation=org))  # not yet
    soon.resident.preferred_language = "Punjabi"
    soon.resident.interpreter_needed = True
    db.session.flush()
    return overdue, soon, bundle


def test_call_list_groups_by_resident_most_urgent_first(coordinator, org):
    overdue, soon, bundle = _call_list_world(org)
    rows = service.call_list()
    assert [r.resident.id for r in rows] == [overdue.resident_id, soon.resident_id]
    assert rows[0].overdue and not rows[1].overdue
    assert rows[1].loans == [soon] and rows[1].bundles == [bundle]
    page = coordinator.get("/reminders").get_data(as_text=True)
    assert overdue.resident.full_name in page and "overdue" in page
    # The phone number in national format, and each resident's case status as a tag.
    assert soon.resident.phone == "+44 7911 123456" and "07911 123456" in page
    assert "Punjabi (interpreter)" in page
    row = page.split(f'id="call-{soon.resident.reference}"', 1)[1].split("</tr>", 1)[0]
    assert 'govuk-tag--yellow tag tag-referred">Referred<' in row
    assert page.index(overdue.resident.full_name) < page.index(soon.resident.full_name)


def test_call_list_csv(coordinator, org):
    overdue, soon, bundle = _call_list_world(org)
    response = coordinator.get("/reminders.csv")
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["Reference"] for r in rows] == [overdue.resident.reference, soon.resident.reference]
    assert "(overdue)" in rows[0]["To discuss"]
    assert rows[1]["Preferred language"] == "Punjabi" and rows[1]["Interpreter"] == "yes"
    assert bundle.reference in rows[1]["To discuss"]


def test_logging_a_call_shows_who_called_when(coordinator, org, coordinator_user):
    overdue, soon, _ = _call_list_world(org)
    response = coordinator.post(
        "/reminders/calls",
        data={
            "resident": overdue.resident.reference,
            "outcome": "spoke_returning",
            "note": "Bringing it Friday",
        },
    )
    assert response.status_code == 302
    call = db.session.scalars(select(ReminderCall)).one()
    assert call.resident_id == overdue.resident_id and call.called_by_id == coordinator_user.id
    page = coordinator.get("/reminders").get_data(as_text=True)
    row = page.split(f'id="call-{overdue.resident.reference}"')[1].split("</tr>")[0]
    assert "Spoke to them: bringing it back" in row and coordinator_user.name in row
    assert "Bringing it Friday" in row
    other_row = page.split(f'id="call-{soon.resident.reference}"')[1].split("</tr>")[0]
    assert "Not called yet" in other_row


@pytest.mark.parametrize(
    "data, message",
    [
        ({"outcome": "no_answer"}, "Choose the resident."),
        ({"resident": "R-999999", "outcome": "no_answer"}, "Choose a resident on the list."),
        ({"resident": "__R__", "outcome": ""}, "Choose what happened on the call."),
    ],
)
def test_bad_call_log_is_refused(coordinator, org, data, message):
    data = dict(data)
    overdue, _, _ = _call_list_world(org)
    if data.get("resident") == "__R__":
        data["resident"] = overdue.resident.reference
    before = row_counts(ReminderCall, AuditEvent)
    response = coordinator.post("/reminders/calls", data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert row_counts(ReminderCall, AuditEvent) == before


def test_call_list_takes_a_constant_number_of_queries(coordinator, org, count_queries):
    _call_list_world(org)
    with count_queries() as few:
        coordinator.get("/reminders")
    for _ in range(5):
        loan = LoanFactory(organisation=org, due_on=today() + timedelta(days=1))
        service.log_call(loan.resident, "no_answer")
    with count_queries() as many:
        coordinator.get("/reminders")
    assert many.count == few.count


# ---- waiting list -----------------------------------------------------------------------


def test_a_resident_joins_the_waiting_list(coordinator, org):
    resident = ResidentFactory(organisation=org, needs_device=True)
    response = coordinator.post(
        "/waiting-list/new",
        data={
            "resident": resident.reference,
            "priority": "1",
            "reason": "isolated",
            "note": "Lives alone",
        },
    )
    assert response.status_code == 302
    entry = db.session.scalars(select(WaitingListEntry)).one()
    assert entry.resident_id == resident.id and entry.priority == 1 and entry.joined_on == today()
    assert resident.full_name in coordinator.get("/waiting-list").get_data(as_text=True)
    assert "On the device waiting list" in coordinator.get(
        f"/residents/{resident.reference}"
    ).get_data(as_text=True)


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"resident": ""}, "resident", "Choose the resident"),
        ({"reason": ""}, "reason", "Choose the main reason."),
        ({"priority": "9"}, "priority", "Not a valid choice."),
        ({"joined_on": "2999-01-01"}, "joined_on", "cannot be in the future"),
        ({"needs_device": False}, "resident", "Only residents whose needs include a device"),
        ({"twice": True}, "resident", "is already on the waiting list"),
    ],
)
def test_bad_waiting_list_input_is_refused(coordinator, org, overrides, field, message):
    overrides = dict(overrides)  # the parameters are shared by both databases' runs
    resident = ResidentFactory(organisation=org, needs_device=overrides.pop("needs_device", True))
    if overrides.pop("twice", False):
        WaitingListEntryFactory(organisation=org, resident=resident)
    before = row_counts(WaitingListEntry, AuditEvent)
    data = {"resident": resident.reference, "priority": "2", "reason": "health", **overrides}
    response = coordinator.post("/waiting-list/new", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page and f'id="{field}-error"' in page
    assert row_counts(WaitingListEntry, AuditEvent) == before


def test_the_lend_page_suggests_the_longest_waiting_highest_priority_resident_who_fits(
    coordinator, org
):
    long_ago = today() - timedelta(days=90)
    # Highest priority and longest waiting, but has sight needs: a smartphone does not fit.
    sight = WaitingListEntryFactory(
        organisation=org, priority=1, joined_on=long_ago, resident__access_sight=True
    )
    newer = WaitingListEntryFactory(
        organisation=org, priority=1, joined_on=today() - timedelta(days=10)
    )
    older_low = WaitingListEntryFactory(organisation=org, priority=3, joined_on=long_ago)
    fits = WaitingListEntryFactory(
        organisation=org, priority=1, joined_on=today() - timedelta(days=40)
    )
    phone = DeviceFactory(organisation=org, kind="smartphone")
    tablet = DeviceFactory(organisation=org, kind="tablet")
    assert service.suggest_resident(phone).id == fits.id
    assert service.suggest_resident(tablet).id == sight.id
    page = coordinator.get(f"/devices/{phone.asset_tag}/lend").get_data(as_text=True)
    assert fits.resident.full_name in page.split('id="suggestion"')[1].split("</p>")[0]
    assert f'value="{fits.resident.reference} {fits.resident.full_name}"' in page
    del newer, older_low


def test_a_resident_with_a_device_on_loan_is_not_suggested(db, org):
    entry = WaitingListEntryFactory(organisation=org)
    LoanFactory(organisation=org, resident=entry.resident)
    assert service.suggest_resident(DeviceFactory(organisation=org)) is None


def test_removing_from_the_waiting_list(coordinator, org):
    entry = WaitingListEntryFactory(organisation=org)
    assert coordinator.post(f"/waiting-list/{entry.id}/remove").status_code == 302
    assert db.session.get(WaitingListEntry, entry.id).status == "removed"
    coordinator.get("/waiting-list")  # the flash message names them once
    assert entry.resident.full_name not in coordinator.get("/waiting-list").get_data(as_text=True)


@pytest.mark.parametrize(
    "status, message",
    [
        ("lent", "A device has just been lent to them: they are off the waiting list."),
        ("removed", "They have already been taken off the waiting list."),
    ],
)
def test_an_entry_already_off_the_list_is_not_removed_again(coordinator, org, status, message):
    """The waiting list page was stale: a desk lent them a device, or removed them, since."""
    entry = WaitingListEntryFactory(organisation=org, status=status)
    before = row_counts(WaitingListEntry, AuditEvent)
    response = coordinator.post(f"/waiting-list/{entry.id}/remove", follow_redirects=True)
    assert message in response.get_data(as_text=True)
    assert db.session.get(WaitingListEntry, entry.id).status == status
    assert row_counts(WaitingListEntry, AuditEvent) == before


def test_the_dashboard_shows_lending_numbers(coordinator, buddy, org):
    LoanFactory(organisation=org, due_on=today() - timedelta(days=1))
    LoanFactory(organisation=org, due_on=today() + timedelta(days=2))
    DataBundleFactory(organisation=org)
    WaitingListEntryFactory(organisation=org)
    page = coordinator.get("/dashboard").get_data(as_text=True)
    section = page.split('id="loans-dash-h"')[1].split("</section>")[0]
    for text in (
        "2</span> devices on loan",
        "1</span> overdue",
        "1</span> due this week",
        "1</span> data bundles in stock",
        "1</span> waiting for a device",
    ):
        assert text in section
    assert 'id="loans-dash-h"' not in buddy.get("/dashboard").get_data(as_text=True)


def test_waiting_list_takes_a_constant_number_of_queries(coordinator, org, count_queries):
    WaitingListEntryFactory(organisation=org)
    with count_queries() as few:
        coordinator.get("/waiting-list")
    for _ in range(5):
        WaitingListEntryFactory(organisation=org)
    with count_queries() as many:
        coordinator.get("/waiting-list")
    assert many.count == few.count


def test_a_call_logged_without_an_outcome_keeps_the_note_and_marks_its_row(coordinator, org):
    overdue, soon, _ = _call_list_world(org)
    before = row_counts(ReminderCall, AuditEvent)
    response = coordinator.post(
        "/reminders/calls",
        data={"resident": overdue.resident.reference, "outcome": "", "note": "Said call back 3pm"},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert '<h1 class="govuk-heading-l">Call list</h1>' in page  # still on the call list
    ref = overdue.resident.reference
    row = page.split(f'id="call-{ref}"')[1].split("</tr>")[0]
    assert row.startswith(' class="govuk-table__row overdue needs-outcome"')
    assert f'id="outcome-{ref}-error"' in row and "Choose what happened on the call." in row
    assert 'aria-invalid="true"' in row
    assert 'value="Said call back 3pm"' in row
    # the summary above the list links to that row's outcome
    assert f'href="#outcome-{ref}"' in page.split("<table")[0]
    other = page.split(f'id="call-{soon.resident.reference}"')[1].split("</tr>")[0]
    assert "needs-outcome" not in other and "Said call back 3pm" not in other
    assert row_counts(ReminderCall, AuditEvent) == before


def test_the_call_list_is_paginated_in_a_constant_number_of_queries(
    coordinator, org, count_queries, app, monkeypatch
):
    monkeypatch.setitem(app.config, "PER_PAGE", 3)
    loans = [
        LoanFactory(organisation=org, due_on=today() + timedelta(days=i % 7)) for i in range(4)
    ]
    service.log_call(loans[0].resident, "no_answer")
    with count_queries() as few:
        first = coordinator.get("/reminders").get_data(as_text=True)
    for i in range(6):
        loan = LoanFactory(organisation=org, due_on=today() + timedelta(days=i % 7))
        service.log_call(loan.resident, "no_answer")
    with count_queries() as many:
        assert coordinator.get("/reminders").status_code == 200
    assert many.count == few.count
    assert "Page 1 of 2" in first and first.count('class="call-form"') == 3
    second = coordinator.get("/reminders?page=2").get_data(as_text=True)
    on_first = {r.resident.reference for r in service.call_list()[:3]}
    rest = {r.resident.reference for r in service.call_list()[3:6]}
    assert all(f'id="call-{ref}"' in second for ref in rest)
    assert not any(f'id="call-{ref}"' in second for ref in on_first)
    # A page past the last shows the last; the CSV keeps every resident.
    assert 'id="call-' in coordinator.get("/reminders?page=999").get_data(as_text=True)
    csv_rows = list(csv.DictReader(io.StringIO(coordinator.get("/reminders.csv").text)))
    assert len(csv_rows) == 10


def test_a_call_logged_from_page_two_goes_back_there_and_keeps_the_note_when_refused(
    coordinator, org, app, monkeypatch
):
    monkeypatch.setitem(app.config, "PER_PAGE", 2)
    for i in range(3):
        LoanFactory(organisation=org, due_on=today() + timedelta(days=i))
    last = service.call_list()[2].resident
    page = coordinator.get("/reminders?page=2").get_data(as_text=True)
    assert 'action="/reminders/calls?page=2"' in page
    before = row_counts(ReminderCall, AuditEvent)
    refused = coordinator.post(
        "/reminders/calls?page=2",
        data={"resident": last.reference, "outcome": "", "note": "Ring after six"},
    )
    assert refused.status_code == 422 and row_counts(ReminderCall, AuditEvent) == before
    text = refused.get_data(as_text=True)
    assert 'value="Ring after six"' in text and f'href="#outcome-{last.reference}"' in text
    done = coordinator.post(
        "/reminders/calls?page=2",
        data={"resident": last.reference, "outcome": "no_answer", "note": "Ring after six"},
    )
    assert done.headers["Location"].endswith(f"/reminders?page=2#call-{last.reference}")
