"""Lending at a desk: lend, extend, return or end; one open loan per device, on both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from devices.loans import service
from devices.loans.models import DataBundle, Loan, LoanExtension, WaitingListEntry
from devices.models import Device, DeviceStatusChange
from inclusion.audit import AuditEvent
from inclusion.clock import now, today
from inclusion.errors import RuleBroken
from inclusion.extensions import db
from tests.conftest import row_counts
from tests.factories import (
    DataBundleFactory,
    DeviceFactory,
    LoanFactory,
    ResidentFactory,
    WaitingListEntryFactory,
)


def _lend_data(who, **overrides):
    data = {
        "resident": who.reference,
        "due_on": (today() + timedelta(days=56)).isoformat(),
        "bundle": "",
        "agreement_method": "paper",
        "notes": "",
    }
    data.update(overrides)
    return data


def test_lend_form_is_prefilled_and_lending_changes_device_loan_and_bundle(
    coordinator, org, coordinator_user
):
    device = DeviceFactory(organisation=org, accessories="Charger, case")
    resident = ResidentFactory(organisation=org, first_name="Irene", last_name="Walsh")
    bundle = DataBundleFactory(organisation=org, validity_days=30)
    org.default_loan_days = 42
    db.session.flush()

    page = coordinator.get(f"/devices/{device.asset_tag}/lend").get_data(as_text=True)
    assert (today() + timedelta(days=42)).isoformat() in page  # due date from the organisation
    assert f'value="{bundle.id}"' in page  # offered, but never chosen for the coordinator
    assert f'<option selected value="{bundle.id}"' not in page
    assert f'value="{bundle.id}" selected' not in page

    response = coordinator.post(
        f"/devices/{device.asset_tag}/lend",
        data=_lend_data(resident, bundle=str(bundle.id), agreement_method="phone"),
    )
    assert response.status_code == 302
    loan = db.session.scalars(select(Loan)).one()
    assert response.headers["Location"].endswith(f"/loans/{loan.reference}?lent=1")
    assert loan.resident_id == resident.id and loan.agreement_method == "phone"
    assert loan.accessories == "Charger, case" and loan.lent_by_id == coordinator_user.id
    assert db.session.get(Device, device.id).status == "on_loan"
    bundle = db.session.get(DataBundle, bundle.id)
    assert (
        bundle.status == "issued"
        and bundle.resident_id == resident.id
        and bundle.loan_id == loan.id
    )
    assert bundle.expires_on == today() + timedelta(days=30)
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"loan.created", "device.status_changed", "data_bundle.issued"} <= actions

    confirmation = coordinator.get(response.headers["Location"]).get_data(as_text=True)
    assert "Open the loan agreement (PDF)" in confirmation
    pdf = coordinator.get(f"/loans/{loan.reference}/agreement.pdf")
    assert pdf.mimetype == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(__import__("io").BytesIO(pdf.data)).pages)
    for expected in (
        "Irene Walsh",
        device.asset_tag,
        "Charger, case",
        org.contact_phone,
        loan.due_on.strftime("%d %B %Y"),
        "Read aloud and agreed by phone",
    ):
        assert expected in text


def test_the_device_page_shows_lend_then_the_current_loan(coordinator, org):
    device = DeviceFactory(organisation=org)
    page = coordinator.get(f"/devices/{device.asset_tag}").get_data(as_text=True)
    assert f"/devices/{device.asset_tag}/lend" in page
    loan = LoanFactory(organisation=org)
    page = coordinator.get(f"/devices/{loan.device.asset_tag}").get_data(as_text=True)
    assert loan.resident.full_name in page and f"/devices/{loan.device.asset_tag}/return" in page


def test_resident_is_found_by_name_postcode_or_reference_and_ambiguity_asks_to_choose(
    coordinator, org
):
    device = DeviceFactory(organisation=org)
    a = ResidentFactory(organisation=org, first_name="Gwen", last_name="Evans", postcode="WV6 0QJ")
    ResidentFactory(organisation=org, first_name="Gareth", last_name="Evans", postcode="WV1 1AA")
    before = row_counts(Loan)
    response = coordinator.post(
        f"/devices/{device.asset_tag}/lend", data=_lend_data(a, resident="Evans")
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Several residents match" in page and 'id="resident-error"' in page
    assert 'name="choice"' in page and a.reference in page
    assert row_counts(Loan) == before
    response = coordinator.post(
        f"/devices/{device.asset_tag}/lend",
        data=_lend_data(a, resident="Evans", choice=a.reference),
    )
    assert response.status_code == 302
    assert db.session.scalars(select(Loan)).one().resident_id == a.id
    assert [r.id for r in service.search_residents("wv60qj")] == [a.id]
    assert [r.id for r in service.search_residents("gwen ev")] == [a.id]


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("resident", "", "Choose the resident"),
        ("resident", "Nobody Likethis", "No resident matches"),
        ("due_on", "", "Enter the date it is due back."),
        ("due_on", "2001-01-01", "The due date must be after today."),
        ("due_on", "not a date", "Not a valid date value."),
        ("agreement_method", "", "Choose how the loan agreement was accepted."),
        ("bundle", "999999", "Not a valid choice."),
    ],
)
def test_bad_lend_input_is_refused_next_to_the_field(coordinator, org, field, value, message):
    device = DeviceFactory(organisation=org)
    resident = ResidentFactory(organisation=org)
    DataBundleFactory(organisation=org)
    before = row_counts(Loan, DataBundle, AuditEvent, DeviceStatusChange)
    data = _lend_data(resident, **{field: value})
    if value == "":
        data.pop(field)
    response = coordinator.post(f"/devices/{device.asset_tag}/lend", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page and f'id="{field}-error"' in page
    assert row_counts(Loan, DataBundle, AuditEvent, DeviceStatusChange) == before
    assert db.session.get(Device, device.id).status == "ready"


def test_a_second_lend_of_the_same_device_fails_cleanly(coordinator, org):
    device = DeviceFactory(organisation=org)
    first, second = ResidentFactory(organisation=org), ResidentFactory(organisation=org)
    assert (
        coordinator.post(f"/devices/{device.asset_tag}/lend", data=_lend_data(first)).status_code
        == 302
    )
    before = row_counts(Loan, AuditEvent)
    response = coordinator.post(f"/devices/{device.asset_tag}/lend", data=_lend_data(second))
    assert response.status_code == 409  # the page that says why, not the form again
    assert "is already on loan" in response.get_data(as_text=True)
    assert row_counts(Loan, AuditEvent) == before
    assert db.session.scalars(select(Loan)).one().resident_id == first.id


def test_the_database_refuses_a_second_open_loan_even_past_the_service(app, db, org):
    loan = LoanFactory(organisation=org)
    other = ResidentFactory(organisation=org)
    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            db.session.add(
                Loan(
                    organisation_id=org.id,
                    reference="L-99999",
                    device_id=loan.device_id,
                    resident_id=other.id,
                    due_on=today() + timedelta(days=3),
                    agreement_method="paper",
                )
            )
            db.session.flush()
    # once the first loan ends, the device may be lent again
    loan.ended_at, loan.end_kind = now(), "returned"
    db.session.add(
        Loan(
            organisation_id=org.id,
            reference="L-99998",
            device_id=loan.device_id,
            resident_id=other.id,
            due_on=today() + timedelta(days=3),
            agreement_method="paper",
        )
    )
    db.session.flush()
    assert len(db.session.scalars(select(Loan).where(Loan.device_id == loan.device_id)).all()) == 2


def test_the_service_refuses_a_device_that_is_not_ready(db, org):
    device = DeviceFactory(organisation=org, status="awaiting_wipe")
    with pytest.raises(RuleBroken, match="not ready to lend"):
        service.lend_device(
            device,
            ResidentFactory(organisation=org),
            due_on=today() + timedelta(days=7),
            agreement_method="paper",
        )


def test_return_ends_the_loan_and_sends_the_device_to_wipe(coordinator, org, coordinator_user):
    loan = LoanFactory(organisation=org)
    bundle = DataBundleFactory(organisation=org)
    service.issue_bundle(bundle, loan.resident, loan=loan)
    tag = loan.device.asset_tag
    form = coordinator.get(f"/devices/{tag}/return").get_data(as_text=True)
    assert coordinator_user.name in form  # received by, pre-filled
    response = coordinator.post(
        f"/devices/{tag}/return",
        data={
            "condition": "C",
            "accessories_back": "Charger",
            "received_by": "Cleo",
            "note": "Cracked case",
            "bundle_outcome": "kept",
        },
    )
    assert response.status_code == 302
    loan = db.session.get(Loan, loan.id)
    assert loan.end_kind == "returned" and loan.ended_at is not None and loan.received_by == "Cleo"
    assert loan.return_condition == "C" and loan.accessories_back == "Charger"
    device = db.session.get(Device, loan.device_id)
    assert device.status == "awaiting_wipe" and device.condition_grade == "C" and not device.wiped
    steps = [c.to_status for c in device.history]
    assert steps[-2:] == ["returned", "awaiting_wipe"]
    # the coordinator said the data stays with the resident: it does, and the loan says so
    assert db.session.get(DataBundle, bundle.id).status == "issued"
    assert loan.bundle_outcome == "kept"
    assert "loan.returned" in set(db.session.scalars(select(AuditEvent.action)))
    # a second return finds no open loan
    assert coordinator.get(f"/devices/{tag}/return").status_code == 302


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("condition", "", "Choose the condition it came back in."),
        ("condition", "Z", "Not a valid choice."),
        ("received_by", "", "Say who received the device."),
    ],
)
def test_bad_return_input_is_refused_next_to_the_field(coordinator, org, field, value, message):
    loan = LoanFactory(organisation=org)
    before = row_counts(Loan, DeviceStatusChange, AuditEvent)
    data = {"condition": "B", "accessories_back": "", "received_by": "Cleo", field: value}
    response = coordinator.post(f"/devices/{loan.device.asset_tag}/return", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page and f'id="{field}-error"' in page
    assert row_counts(Loan, DeviceStatusChange, AuditEvent) == before
    assert db.session.get(Loan, loan.id).ended_at is None


def test_extension_moves_the_due_date_and_keeps_the_old_one(coordinator, org):
    loan = LoanFactory(organisation=org, due_on=today() + timedelta(days=3))
    new_due = today() + timedelta(days=31)
    response = coordinator.post(
        f"/loans/{loan.reference}/extend",
        data={"new_due_on": new_due.isoformat(), "reason": "Still learning"},
    )
    assert response.status_code == 302
    loan = db.session.get(Loan, loan.id)
    assert loan.due_on == new_due
    extension = db.session.scalars(select(LoanExtension)).one()
    assert (
        extension.previous_due_on == today() + timedelta(days=3)
        and extension.reason == "Still learning"
    )


@pytest.mark.parametrize(
    "value, message",
    [("", "Enter the new due date."), ("2001-01-01", "Choose a date after the current due date")],
)
def test_bad_extension_is_refused(coordinator, org, value, message):
    loan = LoanFactory(organisation=org)
    before = row_counts(LoanExtension, AuditEvent)
    response = coordinator.post(f"/loans/{loan.reference}/extend", data={"new_due_on": value})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page and 'id="new_due_on-error"' in page
    assert row_counts(LoanExtension, AuditEvent) == before


@pytest.mark.parametrize(
    "end_kind, device_status", [("gifted", "gifted"), ("lost", "lost"), ("not_returned", "lost")]
)
def test_a_loan_can_end_without_a_return(coordinator, org, end_kind, device_status):
    loan = LoanFactory(organisation=org)
    response = coordinator.post(
        f"/loans/{loan.reference}/end", data={"end_kind": end_kind, "note": "Told us"}
    )
    assert response.status_code == 302
    loan = db.session.get(Loan, loan.id)
    assert loan.end_kind == end_kind and loan.ended_at is not None
    assert db.session.get(Device, loan.device_id).status == device_status


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({}, "end_kind", "Choose how the loan ended."),
        ({"end_kind": "lost"}, "note", "Say what happened"),
    ],
)
def test_bad_end_is_refused(coordinator, org, data, field, message):
    loan = LoanFactory(organisation=org)
    before = row_counts(Loan, DeviceStatusChange, AuditEvent)
    response = coordinator.post(f"/loans/{loan.reference}/end", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page and f'id="{field}-error"' in page
    assert row_counts(Loan, DeviceStatusChange, AuditEvent) == before


def test_lending_takes_the_resident_off_the_waiting_list(db, org):
    entry = WaitingListEntryFactory(organisation=org)
    loan = service.lend_device(
        DeviceFactory(organisation=org),
        entry.resident,
        due_on=today() + timedelta(days=7),
        agreement_method="phone",
    )
    entry = db.session.get(WaitingListEntry, entry.id)
    assert entry.status == "lent" and entry.loan_id == loan.id


def test_other_organisations_cannot_see_or_lend(other_coordinator, org):
    device = DeviceFactory(organisation=org)
    loan = LoanFactory(organisation=org)
    assert other_coordinator.get(f"/devices/{device.asset_tag}/lend").status_code == 404
    assert other_coordinator.get(f"/loans/{loan.reference}").status_code == 404
    assert other_coordinator.get(f"/loans/{loan.reference}/agreement.pdf").status_code == 404
    assert loan.resident.last_name not in other_coordinator.get("/loans").get_data(as_text=True)


def test_loan_list_takes_a_constant_number_of_queries(coordinator, org, count_queries):
    LoanFactory(organisation=org)
    with count_queries() as few:
        assert coordinator.get("/loans").status_code == 200
    for _ in range(6):
        LoanFactory(organisation=org)
    with count_queries() as many:
        assert coordinator.get("/loans").status_code == 200
    assert many.count == few.count


def test_the_resident_page_shows_their_loans_and_data(coordinator, buddy, org):
    loan = LoanFactory(organisation=org)
    bundle = DataBundleFactory(organisation=org, network="Three")
    service.issue_bundle(bundle, loan.resident, loan=loan)
    page = coordinator.get(f"/residents/{loan.resident.reference}").get_data(as_text=True)
    section = page.split('id="resident-loans-h"')[1]
    assert loan.reference in section and loan.device.asset_tag in section
    assert bundle.reference in section and "Three" in section


def test_the_lend_page_of_a_lent_device_says_so_and_links_its_loan(coordinator, org):
    loan = LoanFactory(organisation=org)
    response = coordinator.get(f"/devices/{loan.device.asset_tag}/lend")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'name="agreement_method"' not in page
    assert f"/loans/{loan.reference}/end" in page and "is already on loan" in page


def test_resident_search_for_the_type_ahead(coordinator, org):
    resident = ResidentFactory(organisation=org, first_name="Winston", last_name="Campbell")
    rows = coordinator.get("/loans/residents.json?q=winst").get_json()
    assert [r["reference"] for r in rows] == [resident.reference]
