"""One way of writing a phone number on screen (the ``|phone`` filter: ``07911 123456``),
one page per area: buddies, loans, outcomes, messages (practice: tests/test_practice.py)."""

from __future__ import annotations

from tests.factories import BuddyProfileFactory, LoanFactory, ResidentFactory
from tests.test_outcomes_reports import _supported_with_baseline


def test_a_buddys_page_writes_their_number_the_national_way(coordinator, org):
    profile = BuddyProfileFactory(organisation=org, phone="+447911123408")
    page = coordinator.get(f"/buddies/{profile.id}").get_data(as_text=True)
    assert "07911 123408" in page and "+447911123408" not in page


def test_a_loan_page_writes_the_residents_number_the_national_way(coordinator, org):
    loan = LoanFactory(organisation=org, resident=ResidentFactory(organisation=org))
    page = coordinator.get(f"/loans/{loan.reference}").get_data(as_text=True)
    assert loan.resident.phone == "+44 7911 123456"
    assert "07911 123456" in page and "+44 7911 123456" not in page


def test_the_follow_ups_due_write_the_number_the_national_way(coordinator, coordinator_user, org):
    resident = _supported_with_baseline(org, coordinator_user, 100, phone="+44 7911 123408")
    page = coordinator.get("/outcomes/follow-ups").get_data(as_text=True)
    assert 'href="tel:+447911123408">07911 123408</a>' in page
    record = coordinator.get(
        f"/outcomes/residents/{resident.reference}/answers?occasion=months_3"
    ).get_data(as_text=True)
    assert ">07911 123408</a>" in record and "+44 7911 123408" not in record


def test_the_contact_preferences_write_the_number_the_national_way(coordinator, org):
    resident = ResidentFactory(organisation=org, phone="+44 7911 123456")
    page = coordinator.get(f"/residents/{resident.reference}/contact").get_data(as_text=True)
    assert "Texts go to 07911 123456;" in page and "+44 7911 123456" not in page
