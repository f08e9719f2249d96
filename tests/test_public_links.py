"""Public forms never guess the organisation: each has its own links, the shared forms ask.

Also: the referral source a referrer chooses is recorded, and the links are printed on
what the public sees (the device label page, the donation receipt).
"""

from __future__ import annotations

from io import BytesIO

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from buddies.models import BuddyProfile
from devices.models import Donation, Donor
from inclusion.audit import AuditEvent
from inclusion.residents.models import Resident, StatusChange
from tests.conftest import row_counts
from tests.factories import DeviceFactory, DonationFactory
from tests.test_buddies import _application
from tests.test_donations import _pledge
from tests.test_residents import _public


def _link(org, form):
    return f"/o/{org.code.lower()}/{form}"


# ---- referrals ------------------------------------------------------------------------


def test_a_referral_sent_from_an_organisations_own_link_lands_there(client, db, org, other_org):
    # Even with the other organisation's id slipped into the post, the link decides.
    page = client.get(_link(other_org, "refer")).get_data(as_text=True)
    assert other_org.name in page and 'name="organisation"' not in page
    response = client.post(_link(other_org, "refer"), data=_public(org))
    assert response.status_code == 302
    resident = db.session.scalar(select(Resident).where(Resident.last_name == "Hughes"))
    assert resident.organisation_id == other_org.id


def test_the_link_code_is_not_case_sensitive_and_an_unknown_code_is_not_found(
    client, org, other_org
):
    assert client.get(f"/o/{org.code.upper()}/refer").status_code == 200
    assert client.get("/o/nosuch/refer").status_code == 404
    assert client.get("/o/nosuch/donate").status_code == 404
    assert client.get("/o/nosuch/volunteer").status_code == 404


def test_old_org_query_links_go_to_the_organisations_own_link(client, org, other_org):
    response = client.get(f"/refer?org={other_org.code}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(_link(other_org, "refer"))


def test_the_shared_form_offers_every_organisation_with_none_chosen(client, org, other_org):
    page = client.get("/refer").get_data(as_text=True)
    select_html = page.split('name="organisation"')[1].split("</select>")[0]
    assert '<option selected value="">Choose…</option>' in select_html
    assert org.name in select_html and other_org.name in select_html
    assert select_html.count("selected") == 1


def test_the_shared_form_with_no_choice_is_refused_next_to_the_field(client, db, org, other_org):
    before = row_counts(Resident, StatusChange, AuditEvent)
    response = client.post("/refer", data=_public(org, organisation=""))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    error = page.split('id="organisation-error"')[1].split("</p>")[0]
    assert "Choose the scheme that covers where they live." in error
    assert row_counts(Resident, StatusChange, AuditEvent) == before
    # an id that is no organisation is refused the same way
    response = client.post("/refer", data=_public(org, organisation="99999"))
    assert response.status_code == 422 and 'id="organisation-error"' in response.text
    assert row_counts(Resident, StatusChange, AuditEvent) == before
    # with a choice it goes where the person chose
    assert client.post("/refer", data=_public(other_org)).status_code == 302
    resident = db.session.scalar(select(Resident).where(Resident.last_name == "Hughes"))
    assert resident.organisation_id == other_org.id


def test_with_one_organisation_the_shared_form_goes_to_it(client, db, org):
    page = client.get("/refer").get_data(as_text=True)
    assert 'name="organisation"' not in page and org.name in page
    response = client.post("/refer", data=_public(org, organisation=None))
    assert response.status_code == 302
    resident = db.session.scalar(select(Resident).where(Resident.last_name == "Hughes"))
    assert resident.organisation_id == org.id


# ---- the source of a referral -----------------------------------------------------------


# ("other" is what every public referral on behalf was stored as before.)
@pytest.mark.parametrize("source", ["gp", "social_care", "housing", "family"])
def test_a_referral_on_behalf_records_the_source_chosen(client, db, org, source):
    response = client.post(
        "/refer",
        data=_public(
            org,
            on_behalf="other",
            referrer_name="Sam Link",
            referrer_contact="07911 222333",
            referral_source=source,
        ),
    )
    assert response.status_code == 302
    resident = db.session.scalar(select(Resident).where(Resident.last_name == "Hughes"))
    assert resident.referral_source == source


def test_a_referral_on_behalf_must_say_where_it_comes_from(client, db, org):
    page = client.get("/refer").get_data(as_text=True)
    assert "Where are you referring them from?" in page and 'value="gp"' in page
    before = row_counts(Resident, StatusChange, AuditEvent)
    data = _public(
        org, on_behalf="other", referrer_name="Sam Link", referrer_contact="07911 222333"
    )
    for source in (None, "self", "nonsense"):
        if source:
            data["referral_source"] = source
        response = client.post("/refer", data=data)
        assert response.status_code == 422
        assert 'id="referral_source-error"' in response.text
        assert "Choose where you are referring them from." in response.text
    assert row_counts(Resident, StatusChange, AuditEvent) == before
    # someone referring themself is a self-referral, whatever source is posted
    response = client.post("/refer", data=_public(org, referral_source="gp"))
    assert response.status_code == 302
    resident = db.session.scalar(select(Resident).where(Resident.last_name == "Hughes"))
    assert resident.referral_source == "self"


def test_referrals_by_source_counts_the_gp_referrals_from_the_public_form(client, coordinator, org):
    for last_name in ("Hughes", "Patel"):
        client.post(
            "/refer",
            data=_public(
                org,
                last_name=last_name,
                on_behalf="other",
                referrer_name="Dr Shah",
                referrer_contact="01902 555000",
                referral_source="gp",
            ),
        )
    page = coordinator.get("/reports/").get_data(as_text=True)
    assert (
        '<th class="govuk-table__header" scope="row">GP practice</th><td class="govuk-table__cell govuk-table__cell--numeric">2</td>'
        in page
    )


# ---- donations and volunteers --------------------------------------------------------------


def test_a_donation_from_an_organisations_own_link_lands_there(client, db, org, other_org):
    assert 'name="organisation"' not in client.get(_link(other_org, "donate")).text
    response = client.post(_link(other_org, "donate"), data=_pledge(org))
    assert response.status_code == 302
    donation = db.session.scalars(select(Donation)).one()
    assert donation.organisation_id == other_org.id


def test_the_shared_donation_form_with_no_choice_is_refused(client, org, other_org):
    page = client.get("/donate").text
    assert '<option selected value="">Choose…</option>' in page
    before = row_counts(Donation, Donor, AuditEvent)
    response = client.post("/donate", data=_pledge(org, organisation=""))
    assert response.status_code == 422
    error = response.text.split('id="organisation-error"')[1].split("</p>")[0]
    assert "Choose the scheme you are donating to." in error
    assert row_counts(Donation, Donor, AuditEvent) == before


def test_an_application_from_an_organisations_own_link_lands_there(client, db, org, other_org):
    assert 'name="organisation"' not in client.get(_link(other_org, "volunteer")).text
    response = client.post(_link(other_org, "volunteer"), data=_application(org))
    assert response.status_code == 302
    profile = db.session.scalars(select(BuddyProfile)).one()
    assert profile.organisation_id == other_org.id


def test_the_shared_volunteer_form_with_no_choice_is_refused(client, org, other_org):
    assert '<option selected value="">Choose…</option>' in client.get("/volunteer").text
    before = row_counts(BuddyProfile, AuditEvent)
    response = client.post("/volunteer", data=_application(org, organisation=""))
    assert response.status_code == 422
    error = response.text.split('id="organisation-error"')[1].split("</p>")[0]
    assert "Choose the scheme you would like to volunteer with." in error
    assert row_counts(BuddyProfile, AuditEvent) == before


# ---- where the links are shown ----------------------------------------------------------------


def test_the_settings_page_shows_the_code_and_the_full_links(app, admin, org):
    app.config["PUBLIC_BASE_URL"] = "https://inclusion.example.org"
    try:
        page = admin.get("/admin/settings").get_data(as_text=True)
    finally:
        app.config["PUBLIC_BASE_URL"] = ""
    links = page.split('id="public-links"')[1].split("</section>")[0]
    code = org.code.lower()
    assert f"<strong>{org.code}</strong>" in links
    for form in ("refer", "donate", "volunteer"):
        assert f'href="https://inclusion.example.org/o/{code}/{form}"' in links


def test_the_device_label_page_links_to_its_organisations_forms(client, org, other_org):
    device = DeviceFactory(organisation=other_org)
    page = client.get(f"/d/{device.asset_tag}").get_data(as_text=True)
    links = page.split('id="public-links"')[1].split("</section>")[0]
    assert f"/o/{other_org.code.lower()}/refer" in links
    assert f"/o/{other_org.code.lower()}/donate" in links
    assert f"/o/{org.code.lower()}/" not in links


def test_the_donation_receipt_prints_the_organisations_donation_link(app, coordinator, org):
    donation = DonationFactory(organisation=org)
    app.config["PUBLIC_BASE_URL"] = "https://inclusion.example.org"
    try:
        pdf = coordinator.get(f"/donations/{donation.reference}/receipt.pdf").data
    finally:
        app.config["PUBLIC_BASE_URL"] = ""
    text = "".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages)
    assert f"https://inclusion.example.org/o/{org.code.lower()}/donate" in text.replace("\n", "")


def test_the_shared_form_names_the_organisation_serving_the_postcode_but_never_chooses(
    client, admin, db, org, other_org
):
    response = admin.post(
        "/admin/settings",
        data={
            "name": org.name,
            "contact_phone": org.contact_phone,
            "contact_email": org.contact_email,
            "return_address": org.return_address,
            "areas": "wv3, WV4 wv3",
            "default_loan_days": "56",
            "retention_months": "24",
        },
    )
    assert response.status_code == 302
    db.session.refresh(org)
    assert org.areas == ["WV3", "WV4"]
    assert 'value="WV3, WV4"' in admin.get("/admin/settings").text
    before = row_counts(Resident)
    response = client.post("/refer", data=_public(org, organisation="", postcode="wv3 0aa"))
    assert response.status_code == 422
    hint = response.text.split('id="organisation-hint"')[1].split("</p>")[0]
    assert f"WV3 0AA is in the area served by {org.name}." in hint
    select_html = response.text.split('name="organisation"')[1].split("</select>")[0]
    assert '<option selected value="">Choose…</option>' in select_html
    assert row_counts(Resident) == before
