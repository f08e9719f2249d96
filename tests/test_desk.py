"""The coordinator's desk: the menu by job, what is urgent first, steps with their dates,
one way of writing statuses and phone numbers, and what a new user tripped on."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from devices.models import Device, Donation, DonationItem, Donor
from inclusion.audit import AuditEvent
from inclusion.clock import today
from inclusion.registry import Registry, registry
from inclusion.residents.models import Resident, StatusChange
from inclusion.templating import phone_label, status_label
from tests.conftest import row_counts
from tests.factories import (
    DeviceFactory,
    LoanFactory,
    PracticeSessionFactory,
    ResidentFactory,
    WaitingListEntryFactory,
)

# ---- the menu, grouped by job ----------------------------------------------------------


def _menu_of(page: str) -> list[str]:
    top = page.split('id="navigation"', 1)[1].split("</ul>\n        </nav>", 1)[0]
    items = re.findall(
        r'<li class="govuk-service-navigation__item[^"]*">\s*<a [^>]*>(?:<strong[^>]*>)?([^<]+)',
        top,
    )
    return [label.strip() for label in items]


def test_a_coordinator_sees_the_groups_and_each_group_s_pages(coordinator, db, org):
    page = coordinator.get("/devices").get_data(as_text=True)
    assert _menu_of(page) == ["Home", "Residents", "Devices and data", "Buddies", "Reports"]
    row = page.split('<nav class="app-subnav" aria-label="Devices and data">', 1)[1]
    row = row.split("</nav>", 1)[0]
    labels = re.findall(r'class="govuk-link[^"]*app-subnav__link" href="[^"]+"[^>]*>([^<]+)<', row)
    assert labels[:2] == ["Devices", "Donations"]
    assert {"Loans", "Data", "Call list", "Waiting list"} <= set(labels)
    assert 'aria-current="page">Devices<' in row
    # the page of a device (not in the menu) belongs to its group too
    device = DeviceFactory(organisation=org)
    page = coordinator.get(f"/devices/{device.asset_tag}").get_data(as_text=True)
    assert 'aria-label="Devices and data"' in page


def test_the_reports_group_links_to_reports_and_holds_outcomes_and_messages(coordinator):
    page = coordinator.get("/reports/").get_data(as_text=True)
    row = page.split('<nav class="app-subnav" aria-label="Reports">', 1)[1].split("</nav>")[0]
    labels = re.findall(r"app-subnav__link\" href=\"[^\"]+\"[^>]*>([^<]+)<", row)
    assert labels[0] == "Reports" and {"Outcomes", "Messages"} <= set(labels)


def test_an_admin_has_settings_and_a_buddy_has_their_own_pages(admin, buddy):
    assert _menu_of(admin.get("/dashboard").get_data(as_text=True))[-1] == "Settings"
    page = admin.get("/admin/users").get_data(as_text=True)
    row = page.split('aria-label="Settings"', 1)[1].split("</nav>")[0]
    assert "Users" in row and "API keys" in row and "Message texts" in row
    # a group a buddy has one page of is shown as that page; no row under the menu
    page = buddy.get("/my-residents", follow_redirects=True).get_data(as_text=True)
    assert _menu_of(page) == ["Home", "My residents", "Follow-ups"]
    assert "app-subnav" not in page


def test_a_feature_joins_one_of_the_core_s_groups_only():
    reg = Registry()
    reg.add_navigation("reports.view", "x.page", "X", group="reports")
    reg.add_navigation("users.manage", "y.page", "Y", admin=True)
    assert [(e.label, e.group) for e in reg.navigation + reg.admin_navigation] == [
        ("X", "reports"),
        ("Y", "settings"),
    ]
    with pytest.raises(ValueError, match="not one of the core's"):
        reg.add_navigation("reports.view", "z.page", "Z", group="gadgets")


# ---- the dashboard: what needs doing today first -------------------------------------


def test_safeguarding_alerts_and_overdue_loans_are_at_the_top(coordinator, db, org):
    session = PracticeSessionFactory(
        match__organisation=org,
        safeguarding_concern=True,
        safeguarding_description="Seemed frightened of a caller.",
    )
    loan = LoanFactory(organisation=org, due_on=today() - timedelta(days=3))
    page = coordinator.get("/dashboard").get_data(as_text=True)
    safeguarding = page.index('id="safeguarding-h"')
    overdue = page.index('id="overdue-dash-h"')
    counts = page.index('id="referrals-h"')
    assert safeguarding < counts and overdue < counts
    assert safeguarding < page.index('id="loans-dash-h"')
    assert session.resident.full_name in page[safeguarding:counts]
    panel = page[overdue:counts]
    assert loan.resident.full_name in panel and loan.device.name in panel
    assert "07911 123456" in panel  # the phone to call, in national format
    assert safeguarding < overdue  # a person at risk comes before a device
    assert registry(coordinator.application).urgent_dashboard_panels == [
        "practice/_dashboard.html",
        "loans/_overdue_dashboard.html",
    ]


def test_no_overdue_panel_when_nothing_is_overdue(coordinator, db, org):
    LoanFactory(organisation=org)
    assert 'id="overdue-loans"' not in coordinator.get("/dashboard").get_data(as_text=True)


# ---- several status steps at once, each with its date --------------------------------


def _steps(**days: date | str) -> dict:
    data = {}
    for status, day in days.items():
        if isinstance(day, str):
            d, m, y = (day.split() + ["", "", ""])[:3]
        else:
            d, m, y = str(day.day), str(day.month), str(day.year)
        data.update({f"{status}_on-day": d, f"{status}_on-month": m, f"{status}_on-year": y})
    return data


@pytest.fixture
def referred(org):
    return ResidentFactory(organisation=org, referral_date=today() - timedelta(days=20))


def test_contacted_then_assessed_in_one_step_with_the_date_of_each(
    coordinator, db, referred, coordinator_user
):
    page = coordinator.get(f"/residents/{referred.reference}").get_data(as_text=True)
    assert 'id="status-steps"' in page
    for status in ("contacted", "assessed", "supported"):
        assert f'id="{status}_on-day"' in page and f"Date {status}" in page
    contacted, assessed = today() - timedelta(days=10), today() - timedelta(days=3)
    response = coordinator.post(
        f"/residents/{referred.reference}/steps",
        data=_steps(contacted=contacted, assessed=assessed),
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "is now assessed: 2 steps recorded" in response.get_data(as_text=True)
    db.session.refresh(referred)
    assert referred.status == "assessed"
    steps = [h for h in referred.history if h.from_status]
    assert sorted((h.from_status, h.to_status, h.at.date(), h.by_id) for h in steps) == [
        ("contacted", "assessed", assessed, coordinator_user.id),
        ("referred", "contacted", contacted, coordinator_user.id),
    ]
    assert referred.status_changed_at.date() == assessed
    events = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.entity_type == "Resident",
            AuditEvent.entity_id == referred.id,
            AuditEvent.action == "resident.status_changed",
        )
    ).all()
    assert len(events) == 2 and {e.actor_id for e in events} == {coordinator_user.id}


def test_one_step_dated_today(coordinator, db, referred):
    coordinator.post(f"/residents/{referred.reference}/steps", data=_steps(contacted=today()))
    db.session.refresh(referred)
    assert referred.status == "contacted" and referred.history[-1].at.date() == today()


@pytest.mark.parametrize(
    "days, field, message",
    [
        ({}, "contacted_on", "Enter the date they were contacted."),
        (
            {"contacted": today() + timedelta(days=1)},
            "contacted_on",
            "The date cannot be in the future.",
        ),
        (
            {"contacted": today() - timedelta(days=2), "assessed": today() - timedelta(days=5)},
            "assessed_on",
            "on or after the date they were contacted",
        ),
        (
            {"contacted": today() - timedelta(days=30)},
            "contacted_on",
            "on or after the date they were referred",
        ),
        (
            {"assessed": today() - timedelta(days=2)},
            "contacted_on",
            "Enter the date they were contacted first",
        ),
        ({"contacted": "31 2 2026"}, "contacted_on", "Enter a real date"),
        ({"contacted": "1 1"}, "contacted_on", "Enter a real date"),
    ],
)
def test_bad_step_dates_change_nothing(coordinator, db, referred, days, field, message):
    before = row_counts(Resident, StatusChange, AuditEvent)
    response = coordinator.post(f"/residents/{referred.reference}/steps", data=_steps(**days))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page and message in page
    assert f'href="#{field}-day"' in page  # the error summary links to the date
    assert 'id="status-steps" open' in page
    assert row_counts(Resident, StatusChange, AuditEvent) == before
    db.session.refresh(referred)
    assert referred.status == "referred"


def test_no_steps_form_once_supported(coordinator, db, org):
    resident = ResidentFactory(organisation=org, status="supported")
    page = coordinator.get(f"/residents/{resident.reference}").get_data(as_text=True)
    assert 'id="status-steps"' not in page
    response = coordinator.post(
        f"/residents/{resident.reference}/steps", data=_steps(contacted=today())
    )
    assert response.status_code == 422 and resident.status == "supported"


# ---- one way of writing statuses and phone numbers -----------------------------------


@pytest.mark.parametrize(
    "typed, shown",
    [
        ("07911123408", "07911 123408"),
        ("+447911123408", "07911 123408"),
        ("+44 (0)7911 123 408", "07911 123408"),
        ("01902555123", "01902 555123"),
        ("+33 1 23 45 67 89", "+33 1 23 45 67 89"),
        ("ask at reception", "ask at reception"),
        ("", ""),
        (None, ""),
    ],
)
def test_a_phone_number_is_written_one_way(typed, shown):
    assert phone_label(typed) == shown


def test_a_status_is_written_in_sentence_case():
    assert [status_label(s) for s in ("on_loan", "awaiting_wipe", "referred", None)] == [
        "On loan",
        "Awaiting wipe",
        "Referred",
        "",
    ]


def test_case_status_and_phone_on_the_resident_and_waiting_list(coordinator, db, org):
    resident = ResidentFactory(organisation=org, status="contacted", phone="07911123408")
    WaitingListEntryFactory(organisation=org, resident=resident)
    page = coordinator.get(f"/residents/{resident.reference}").get_data(as_text=True)
    assert "07911 123408" in page and "07911123408" not in page
    page = coordinator.get("/waiting-list").get_data(as_text=True)
    assert 'govuk-tag--light-blue tag tag-contacted">Contacted<' in page
    page = coordinator.get("/dashboard").get_data(as_text=True)
    assert re.search(r'<span class="stat">\d+</span> Contacted</a>', page)


# ---- what a new user tripped on ------------------------------------------------------


@pytest.mark.parametrize("path", ["/devices", "/donations", "/bundles", "/residents", "/loans"])
def test_a_list_opened_from_the_menu_shows_no_error(coordinator, path):
    response = coordinator.get(path)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Not a valid choice" not in page and "govuk-error-message" not in page


def test_a_filter_given_a_value_it_does_not_know_still_says_so(coordinator):
    page = coordinator.get("/devices?status=bogus").get_data(as_text=True)
    assert "Not a valid choice" in page


def _pledge(org, **changes):
    data = {
        "organisation": str(org.id),
        "business_name": "Acme Builders Ltd",
        "contact_name": "Priya Shah",
        "email": "priya@acme.example.com",
        "items-0-kind": "tablet",
        "items-0-quantity": "2",
        "items-0-make": "Apple",
        "items-0-model": "iPad 9th gen",
        "items-0-approx_age": "3_4",
        "items-0-condition": "good",
        "handover": "drop_off",
    }
    for n in range(1, 5):
        data.update(
            {
                f"items-{n}-kind": "",
                f"items-{n}-quantity": "",
                f"items-{n}-approx_age": "unknown",
                f"items-{n}-condition": "unknown",
            }
        )
    data.update(changes)
    return data


def test_the_pledge_keeps_make_and_model_apart_into_the_devices(client, coordinator, db, org):
    client.post("/donate", data=_pledge(org))
    item = db.session.scalar(select(DonationItem))
    assert (item.make, item.model, item.make_model) == (
        "Apple",
        "iPad 9th gen",
        "Apple iPad 9th gen",
    )
    # a line with a model only ("iPad 9th gen") keeps it whole as the model
    client.post("/donate", data=_pledge(org, **{"items-0-make": ""}))
    last = db.session.scalars(select(DonationItem).order_by(DonationItem.id.desc())).first()
    assert (last.make, last.model) == ("", "iPad 9th gen")
    donation = db.session.scalar(select(Donation).order_by(Donation.id))
    coordinator.post(f"/donations/{donation.reference}/receive", data={f"item_{item.id}": "2"})
    coordinator.post(
        f"/donations/{donation.reference}/process",
        data={f"grade_{item.id}": "A", f"location_{item.id}": "Shelf 1"},
    )
    devices = db.session.scalars(select(Device).where(Device.donation_id == donation.id)).all()
    assert {(d.make, d.model) for d in devices} == {("Apple", "iPad 9th gen")}


def test_the_pledge_s_error_summary_names_each_line_and_field_and_links_to_it(client, db, org):
    before = row_counts(Donation, DonationItem, Donor)
    response = client.post(
        "/donate",
        data=_pledge(
            org,
            **{"items-0-quantity": "0", "items-2-kind": "laptop", "items-2-quantity": ""},
        ),
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    summary = page.split('class="govuk-error-summary"', 1)[1].split("</ul>", 1)[0]
    assert "{" not in summary and "[" not in summary
    assert (
        '<a href="#items-0-quantity">Line 1, How many: Enter a number from 1 to 500.</a>' in summary
    )
    assert '<a href="#items-2-quantity">Line 3, How many: Enter how many.</a>' in summary
    assert row_counts(Donation, DonationItem, Donor) == before


def test_an_empty_pledge_s_summary_links_to_its_first_line(client, db, org):
    response = client.post(
        "/donate",
        data=_pledge(
            org,
            **{"items-0-kind": "", "items-0-quantity": "", "items-0-model": "", "items-0-make": ""},
        ),
    )
    summary = response.get_data(as_text=True).split('class="govuk-error-summary"', 1)[1]
    summary = summary.split("</ul>", 1)[0]
    assert "{" not in summary
    assert summary.count("Add at least one line") == 1
    assert 'href="#items-0-kind"' in summary


def test_a_line_with_no_kind_is_named_in_the_summary_not_shown_as_data(client, db, org):
    before = row_counts(Donation, DonationItem, Donor)
    data = _pledge(org, **{"items-1-quantity": "3"})
    del data["items-1-kind"]  # a line posted without its kind at all
    response = client.post("/donate", data=data)
    page = response.get_data(as_text=True)
    assert "{'" not in page and "['" not in page
    summary = page.split('class="govuk-error-summary"', 1)[1].split("</ul>", 1)[0]
    assert "Line 2" in summary
    assert row_counts(Donation, DonationItem, Donor) == before
