"""Donations: the public pledge form, the receipt, coordinators' handling, donors following."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from devices import service
from devices.models import Device, Donation, DonationItem, Donor, DonorAccount
from inclusion.audit import AuditEvent
from inclusion.clock import today
from tests.conftest import row_counts
from tests.factories import DonationFactory, DonorFactory, UserFactory

MODELS = (Donation, DonationItem, Donor, AuditEvent)


def _pledge(org, **changes):
    data = {
        "organisation": str(org.id),
        "business_name": "Acme Builders Ltd",
        "contact_name": "Priya Shah",
        "email": "Priya@Acme.example.com",
        "phone": "01902 555777",
        "items-0-kind": "tablet",
        "items-0-quantity": "4",
        "items-0-make": "Apple",
        "items-0-model": "iPad 7th gen",
        "items-0-approx_age": "3_4",
        "items-0-condition": "good",
        "items-0-chargers_included": "y",
        "items-1-kind": "laptop",
        "items-1-quantity": "2",
        "items-1-make": "Dell",
        "items-1-model": "Latitude",
        "items-1-approx_age": "5_plus",
        "items-1-condition": "worn",
        "handover": "drop_off",
        "notes": "Ask for Priya at reception.",
    }
    for n in range(2, 5):
        data.update(
            {
                f"items-{n}-kind": "",
                f"items-{n}-quantity": "",
                f"items-{n}-approx_age": "unknown",
                f"items-{n}-condition": "unknown",
            }
        )
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(data)).pages)


def test_public_pledge_gets_reference_confirmation_and_receipt(client, db, org):
    response = client.post("/donate", data=_pledge(org), follow_redirects=True)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    donation = db.session.scalar(select(Donation))
    assert donation.reference == "D-0001" and donation.reference in page
    assert donation.status == "pledged" and donation.donor.email == "priya@acme.example.com"
    assert [(i.kind, i.quantity, i.chargers_included) for i in donation.items] == [
        ("tablet", 4, True),
        ("laptop", 2, False),
    ]
    assert donation.receipt_token in page and "/donate/receipts/" in page
    receipt = client.get(f"/donate/receipts/{donation.receipt_token}.pdf")
    assert receipt.status_code == 200 and receipt.mimetype == "application/pdf"
    text = _pdf_text(receipt.data)
    assert "D-0001" in text and "Acme Builders Ltd" in text and "Apple iPad 7th gen" in text
    # the guessable reference opens nothing for a signed-out visitor
    assert client.get("/donations/D-0001/receipt.pdf").status_code == 302
    assert client.get("/donate/receipts/D-0001.pdf").status_code == 404
    assert client.get("/donate/receipts/" + "x" * 32 + ".pdf").status_code == 404


def test_same_business_pledging_again_is_one_donor(client, db, org):
    client.post("/donate", data=_pledge(org))
    client.post("/donate", data=_pledge(org, business_name="ACME BUILDERS LTD"))
    assert row_counts(Donor, Donation) == {"donor": 1, "donation": 2}
    assert db.session.scalars(select(Donation.reference).order_by(Donation.id)).all() == [
        "D-0001",
        "D-0002",
    ]


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"business_name": ""}, "business_name", "Enter the business name."),
        ({"email": "not-an-email"}, "email", "Enter an email address like"),
        ({"phone": "12"}, "phone", "Enter a phone number"),
        (
            {
                "items-0-kind": "",
                "items-0-quantity": "",
                "items-0-make": "",
                "items-0-model": "",
                "items-1-kind": "",
                "items-1-quantity": "",
                "items-1-make": "",
                "items-1-model": "",
            },
            "items-0-kind",
            "Add at least one line",
        ),
        ({"items-1-kind": ""}, "items-1-kind", "Choose what kind of device."),
        ({"items-0-quantity": "0"}, "items-0-quantity", "Enter a number from 1 to 500."),
        ({"items-0-quantity": "lots"}, "items-0-quantity", "Not a valid integer"),
        ({"items-0-kind": "toaster"}, "items-0-kind", "Not a valid choice"),
        ({"donor_wiped": "y"}, "wipe_certificate", "Say how the devices were wiped"),
        ({"handover": "collection"}, "collection_address", "Enter the address to collect from."),
        ({"preferred_from": "2020-01-01"}, "preferred_from", "Choose a date from today on."),
        (
            {
                "preferred_from": str(today() + timedelta(days=5)),
                "preferred_to": str(today() + timedelta(days=2)),
            },
            "preferred_to",
            "on or after",
        ),
    ],
)
def test_bad_pledge_changes_nothing(client, db, org, changes, field, message):
    before = row_counts(*MODELS)
    response = client.post("/donate", data=_pledge(org, **changes))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page and message in page
    assert row_counts(*MODELS) == before


def test_coordinator_schedules_receives_and_processes_into_devices(coordinator, db, org):
    donation = DonationFactory(organisation=org, items=3)
    ref = donation.reference
    when = today() + timedelta(days=3)
    assert (
        coordinator.post(
            f"/donations/{ref}/schedule", data={"scheduled_for": str(when)}
        ).status_code
        == 302
    )
    donation = db.session.scalar(select(Donation).where(Donation.reference == ref))
    assert (donation.status, donation.scheduled_for) == ("scheduled", when)
    item = donation.items[0]
    assert (
        coordinator.post(f"/donations/{ref}/receive", data={f"item_{item.id}": "2"}).status_code
        == 302
    )
    donation = db.session.scalar(select(Donation).where(Donation.reference == ref))
    assert donation.status == "received" and donation.items[0].quantity_received == 2
    response = coordinator.post(
        f"/donations/{ref}/process",
        data={f"grade_{item.id}": "A", f"location_{item.id}": "Shelf 2"},
    )
    assert response.status_code == 302
    donation = db.session.scalar(select(Donation).where(Donation.reference == ref))
    assert donation.status == "processed"
    devices = db.session.scalars(select(Device).where(Device.donation_id == donation.id)).all()
    assert len(devices) == 2
    assert {
        (d.kind, d.make, d.model, d.condition_grade, d.storage_location, d.status) for d in devices
    } == {("tablet", "Samsung", "Galaxy Tab A7", "A", "Shelf 2", "received")}
    assert all(d.asset_tag.startswith("IN-") for d in devices)
    page = coordinator.get(f"/donations/{ref}").get_data(as_text=True)
    assert devices[0].asset_tag in page and "Print labels for all 2" in page


@pytest.mark.parametrize(
    "path, data, field",
    [
        ("schedule", {"scheduled_for": ""}, "scheduled_for"),
        ("schedule", {"scheduled_for": "2020-01-01"}, "scheduled_for"),
        ("receive", {"item_ID": "-1"}, "item_ID"),
        ("receive", {"item_ID": ""}, "item_ID"),
        ("receive", {"item_ID": "0"}, None),
        ("decline", {"reason": ""}, "reason"),
    ],
)
def test_bad_donation_handling_changes_nothing(coordinator, db, org, path, data, field):
    donation = DonationFactory(organisation=org)
    item_key = f"item_{donation.items[0].id}"
    data = {k.replace("item_ID", item_key): v for k, v in data.items()}
    before = row_counts(Donation, DonationItem, Device, AuditEvent)
    response = coordinator.post(f"/donations/{donation.reference}/{path}", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    if field:
        assert f'id="{field.replace("item_ID", item_key)}-error"' in page
    else:
        assert "Nothing arrived? Decline the donation instead." in page
    assert row_counts(Donation, DonationItem, Device, AuditEvent) == before
    assert db.session.get(Donation, donation.id).status == "pledged"


def test_processing_twice_is_refused(coordinator, db, org, coordinator_user):
    donation = DonationFactory(organisation=org, items=1)
    service.receive_donation(donation, {donation.items[0].id: 1}, by=coordinator_user)
    service.process_donation(donation, {}, by=coordinator_user)
    item = donation.items[0]
    before = row_counts(Device)
    response = coordinator.post(
        f"/donations/{donation.reference}/process", data={f"grade_{item.id}": "B"}
    )
    assert response.status_code == 422
    assert row_counts(Device) == before


def test_decline_needs_a_reason_and_shows_to_donor(coordinator, donor, donor_user, db, org):
    donation = DonationFactory(organisation=org)
    service.link_donor_account(donation.donor, donor_user)
    response = coordinator.post(
        f"/donations/{donation.reference}/decline", data={"reason": "We cannot take CRT monitors."}
    )
    assert response.status_code == 302
    assert db.session.get(Donation, donation.id).status == "declined"
    page = donor.get("/my-donations").get_data(as_text=True)
    assert donation.reference in page and "We cannot take CRT monitors." in page


def test_donor_sees_only_their_business(donor, donor_user, db, org):
    mine = DonationFactory(organisation=org)
    theirs = DonationFactory(organisation=org)
    service.link_donor_account(mine.donor, donor_user)
    page = donor.get("/my-donations").get_data(as_text=True)
    assert mine.reference in page and theirs.reference not in page
    assert donor.get(f"/donations/{mine.reference}/receipt.pdf").status_code == 200
    assert donor.get(f"/donations/{theirs.reference}/receipt.pdf").status_code == 403
    assert donor.get(f"/donations/{mine.reference}").status_code == 403
    assert donor.get("/devices").status_code == 403


def test_give_donor_account_invites_and_links(coordinator, db, org):
    donation = DonationFactory(
        organisation=org, donor=DonorFactory(organisation=org, email="new@acme.example.com")
    )
    response = coordinator.post(f"/donations/{donation.reference}/account")
    assert response.status_code == 200 and "/invitations/" in response.get_data(as_text=True)
    link = db.session.scalar(select(DonorAccount))
    assert link.donor_id == donation.donor_id and link.user.role == "donor"


def test_link_refuses_a_non_donor_or_a_second_business(db, org, coordinator_user, donor_user):
    from inclusion.errors import RuleBroken

    first, second = DonorFactory(organisation=org), DonorFactory(organisation=org)
    with pytest.raises(RuleBroken):
        service.link_donor_account(first, coordinator_user)
    service.link_donor_account(first, donor_user)
    with pytest.raises(RuleBroken):
        service.link_donor_account(second, donor_user)
    other = UserFactory(role="donor")
    with pytest.raises(RuleBroken):
        service.link_donor_account(first, other)


def test_donation_list_takes_constant_queries(coordinator, db, org, count_queries):
    for _ in range(3):
        DonationFactory(organisation=org)
    with count_queries() as few:
        assert coordinator.get("/donations").status_code == 200
    for _ in range(6):
        DonationFactory(organisation=org)
    with count_queries() as many:
        assert coordinator.get("/donations").status_code == 200
    assert many.count == few.count


def test_other_organisation_cannot_find_donation(other_coordinator, db, org):
    donation = DonationFactory(organisation=org)
    assert other_coordinator.get(f"/donations/{donation.reference}").status_code == 404
    assert donation.reference not in other_coordinator.get("/donations").get_data(as_text=True)


def test_more_lines_open_when_used(client, db, org):
    closed = client.get("/donate").get_data(as_text=True)
    assert '<details class="govuk-details more-items">' in closed
    page = client.post("/donate", data=_pledge(org, **{"items-1-kind": ""})).get_data(as_text=True)
    assert '<details class="govuk-details more-items" open>' in page


def test_two_desks_processing_one_donation_at_once_make_one_set_of_devices(pg_two_sessions):
    """PostgreSQL only: both desks read a received donation, then both press Process."""
    from devices.models import DeviceStatusChange
    from inclusion.extensions import db
    from tests.factories import OrganisationFactory

    with pg_two_sessions.committed():
        org = OrganisationFactory()
        donation = DonationFactory(organisation=org, items=3)
        service.receive_donation(donation, {donation.items[0].id: 3})
        donation_id, reference = donation.id, donation.reference

    def process(ready):
        donation = db.session.get(Donation, donation_id)
        assert donation.status == "received" and donation.items
        ready()
        service.process_donation(donation, {})

    outcomes = pg_two_sessions.race(process, process)

    assert sorted(outcomes) == [
        f"{reference} has already been processed into devices.",
        "done",
    ], outcomes
    with pg_two_sessions.reading() as session:
        devices = session.scalars(select(Device).where(Device.donation_id == donation_id)).all()
        assert len(devices) == 3
        assert session.get(Donation, donation_id).status == "processed"
        history = session.scalars(
            select(DeviceStatusChange).where(
                DeviceStatusChange.device_id.in_([d.id for d in devices])
            )
        ).all()
        assert len(history) == 3
