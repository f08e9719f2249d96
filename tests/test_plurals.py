"""Counts on screen are plurals of the language (``ngettext``), for one and for many:
messages to phone about, letters to print, SMS segments, device labels."""

from __future__ import annotations

from datetime import timedelta

from devices import messages as device_messages
from inclusion.clock import today
from inclusion.extensions import db
from inclusion.messages.models import Message
from inclusion.messages.service import FAILED
from tests.factories import DeviceFactory, DonationFactory, LoanFactory, ResidentFactory
from tests.test_messages import agree


def _texting(org, by):
    resident = ResidentFactory(organisation=org, phone="+44 7911 123456")
    agree(resident, by, by_sms=True, preferred="sms")
    return resident


def test_messages_that_did_not_reach_someone_one_and_many(coordinator, coordinator_user, org):
    for n in (1, 2):
        loan = LoanFactory(organisation=org, resident=_texting(org, coordinator_user))
        device_messages.queue_due_soon(loan)
        for message in db.session.query(Message).all():
            message.status, message.failure_reason = FAILED, "Gave up after 3 attempts"
        db.session.flush()
        page = coordinator.get("/messages").get_data(as_text=True)
        if n == 1:
            assert "1 message did not reach someone: phone them instead." in page
        else:
            assert "2 messages did not reach someone: phone them instead." in page


def test_letters_to_print_one_and_many(coordinator, coordinator_user, org):
    for n in (1, 2):
        resident = ResidentFactory(organisation=org)
        agree(resident, coordinator_user, by_letter=True, postal_address="1 Road\nWV3 0AA")
        loan = LoanFactory(organisation=org, resident=resident, due_on=today() - timedelta(1))
        device_messages.queue_overdue(loan, today())
        page = coordinator.get("/messages/letters").get_data(as_text=True)
        if n == 1:
            assert "1 letter to print, one a page" in page and "envelope, in the resident" in page
        else:
            assert "2 letters to print, one a page" in page and "each in the resident" in page


def test_labels_one_and_many(coordinator, org):
    donation = DonationFactory(organisation=org)
    device = DeviceFactory(organisation=org, donation=donation)
    page = coordinator.get(f"/labels?tag={device.asset_tag}").get_data(as_text=True)
    assert "1 label:" in page
    page = coordinator.get(f"/labels?donation={donation.reference}").get_data(as_text=True)
    assert f"1 label for donation {donation.reference}:" in page
    DeviceFactory(organisation=org, donation=donation)
    page = coordinator.get(f"/labels?donation={donation.reference}").get_data(as_text=True)
    assert f"2 labels for donation {donation.reference}:" in page
