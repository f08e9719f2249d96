"""Donor impact: what a business's gift achieved, as counts only, never a resident.

The seeded story (``_seed``): Acme (followed by the signed-in donor) gave two donations,
Brightside (another business of the same organisation) one. Devices from them were lent to
residents with distinctive personal details, who then held practice sessions.
"""

from __future__ import annotations

import importlib
import io
import pkgutil
from dataclasses import dataclass
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

import tests.routes as routes_pkg
from devices import service
from devices.impact import (
    Impact,
    impact_by_donation,
    impact_total,
    published,
    published_rows,
    what_became_of,
)
from inclusion.clock import now
from inclusion.disclosure import SUPPRESSED
from tests.conftest import sign_in
from tests.factories import (
    BuddyProfileFactory,
    DataBundleFactory,
    DeviceFactory,
    DonationFactory,
    DonorFactory,
    LoanFactory,
    MatchFactory,
    PracticeSessionFactory,
    ResidentFactory,
)
from tests.routes import OK, World

# Values that must never reach a donor: one distinctive set per resident.
FIRST_NAMES = [
    "Zephyrina",
    "Balthazarre",
    "Quintessa",
    "Marmaduke",
    "Ottoline",
    "Peregrina",
    "Wolfbrandt",
]


def _resident(org, i):
    return ResidentFactory(
        organisation=org,
        reference=f"R-77{i:04d}",
        first_name=FIRST_NAMES[i],
        last_name=f"Quillfeather{i}",
        phone=f"+44 7700 9{i:05d}",
        email=f"{FIRST_NAMES[i].lower()}.secret@private-mail.example",
        postcode=f"ZQ{i} 9XY",
        area=f"Hiddenvale{i}",
        notes=f"Confidential note {FIRST_NAMES[i]}",
        referral_reason=f"Private reason {FIRST_NAMES[i]}",
    )


def resident_values(resident) -> list[str]:
    return [
        resident.reference,
        resident.first_name,
        resident.last_name,
        resident.phone,
        resident.phone.replace(" ", ""),
        resident.email,
        resident.postcode,
        resident.area,
        resident.notes,
        resident.referral_reason,
    ]


@dataclass
class Story:
    acme: object
    first: object  # Acme's donation with six devices
    second: object  # Acme's donation with two devices
    theirs: object  # Brightside's donation
    residents: list
    devices: list


def _days(n):
    return now() - timedelta(days=n)


def _loan(org, device, resident, lent, ended=None):
    extra = {"ended_at": _days(ended), "end_kind": "returned"} if ended is not None else {}
    return LoanFactory(
        organisation=org, device=device, resident=resident, lent_at=_days(lent), **extra
    )


def _seed(org, donor_user) -> Story:
    acme = DonorFactory(organisation=org, business_name="Acme Builders Ltd")
    service.link_donor_account(acme, donor_user)
    first = DonationFactory(
        organisation=org, donor=acme, status="processed", received_at=_days(300)
    )
    second = DonationFactory(
        organisation=org, donor=acme, status="processed", received_at=_days(300)
    )
    theirs = DonationFactory(organisation=org, status="processed", received_at=_days(300))
    residents = [_resident(org, i) for i in range(7)]
    r = residents

    def device(donation, status="ready"):
        return DeviceFactory(organisation=org, donation=donation, status=status)

    d = [
        device(first, "on_loan"),
        device(first, "awaiting_wipe"),
        device(first, "on_loan"),
        device(first, "awaiting_wipe"),
        device(first, "awaiting_wipe"),
        device(first),
        device(second, "awaiting_wipe"),
        device(second, "awaiting_wipe"),
        device(theirs, "on_loan"),
    ]
    # Acme's first donation: five devices lent six times, to five residents.
    first_loan = _loan(org, d[0], r[0], 100, 40)  # 60 days
    _loan(org, d[0], r[1], 30)  # open: 30 days so far
    _loan(org, d[1], r[2], 200, 100)  # 100 days
    fourth = _loan(org, d[2], r[3], 91)  # open: 91 days
    _loan(org, d[3], r[4], 60, 30)  # 30 days
    _loan(org, d[4], r[0], 20, 10)  # 10 days, the same resident again
    for loan in (first_loan, fourth):
        DataBundleFactory(
            organisation=org,
            status="issued",
            resident=loan.resident,
            loan=loan,
            issued_at=loan.lent_at,
            expires_on=loan.lent_at.date(),
            allowance_gb=20,
        )
    # Acme's second donation: two devices, one of them to a resident of the first again.
    _loan(org, d[6], r[5], 50, 20)  # 30 days
    _loan(org, d[7], r[0], 30, 25)  # 5 days
    # Brightside's donation: one device to another resident.
    _loan(org, d[8], r[6], 40)

    buddy = BuddyProfileFactory(organisation=org, caseload_limit=10)
    matches = {res.id: MatchFactory(organisation=org, resident=res, buddy=buddy) for res in r}

    def sessions(resident, device, *days_ago):
        for n in days_ago:
            PracticeSessionFactory(
                match=matches[resident.id],
                held_on=_days(n).date(),
                device=device,
                minutes=60,
                notes=f"Session note about {resident.first_name}",
                place=f"{resident.first_name}'s kitchen",
            )

    sessions(r[0], d[0], 90, 50)
    sessions(r[0], None, 35)  # on their own phone: not the donor's device
    sessions(r[0], d[4], 15)
    sessions(r[1], d[0], 25, 5)
    sessions(r[1], None, 45)
    sessions(r[2], d[1], 150)
    sessions(r[4], d[3], 50)
    sessions(r[5], d[6], 40)  # the second donation
    sessions(r[6], d[8], 10, 5)  # Brightside's
    return Story(acme, first, second, theirs, residents, d)


FIRST = Impact(
    devices=6,
    devices_lent=5,
    on_loan_now=2,
    loans=6,
    residents=5,
    months_on_loan=11,  # 321 days
    sessions=7,
    practice_hours=7,
    bundles=2,
    data_gb=40.0,
)
SECOND = Impact(
    devices=2,
    devices_lent=2,
    on_loan_now=0,
    loans=2,
    residents=2,
    months_on_loan=1,  # 35 days
    sessions=1,
    practice_hours=1,
    bundles=0,
    data_gb=0.0,
)
ACME_TOTAL = Impact(
    devices=8,
    devices_lent=7,
    on_loan_now=2,
    loans=8,
    residents=6,
    months_on_loan=12,  # 356 days
    sessions=8,
    practice_hours=8,
    bundles=2,
    data_gb=40.0,
)


# ---- the figures ---------------------------------------------------------------------------


def test_figures_per_donation_and_in_total(db, org, donor_user):
    story = _seed(org, donor_user)
    ids = [story.first.id, story.second.id]
    assert impact_by_donation(ids) == {story.first.id: FIRST, story.second.id: SECOND}
    # A resident who borrowed from both donations counts once in the total.
    assert impact_total(ids) == ACME_TOTAL
    assert impact_by_donation([story.theirs.id])[story.theirs.id] == Impact(
        devices=1,
        devices_lent=1,
        on_loan_now=1,
        loans=1,
        residents=1,
        months_on_loan=1,
        sessions=2,
        practice_hours=2,
    )


def test_a_donation_not_yet_lent_has_zero_figures(db, org):
    donation = DonationFactory(organisation=org)
    assert impact_by_donation([donation.id]) == {donation.id: Impact()}
    assert impact_total([donation.id]) == Impact()


def test_the_donor_sees_figures_with_small_numbers_suppressed(donor, db, org, donor_user):
    story = _seed(org, donor_user)
    page = donor.get("/impact").get_data(as_text=True)
    assert "What your gift achieved" in page
    assert story.first.reference in page and story.second.reference in page
    assert f"/donations/{story.first.reference}/receipt.pdf" in page
    # Total: 6 residents and 8 sessions are shown; 2 devices on loan now are not.
    assert '<span class="stat">6</span> Residents supported' in page
    assert '<span class="stat">8</span> Practice sessions held' in page
    assert f'<span class="stat">{SUPPRESSED}</span> On loan now' in page
    assert f'<span class="stat">{SUPPRESSED}</span> Data bundles given' in page
    # 40 GB would reveal two 20 GB bundles: not shown with the count.
    total = page.split("Each donation")[0].split("In total")[1]
    assert '<span class="stat">not shown</span> Mobile data given (GB)' in total
    assert "40" not in total
    one = donor.get(f"/impact/{story.second.reference}").get_data(as_text=True)
    assert f'<span class="stat">{SUPPRESSED}</span> Residents supported' in one
    assert f'<span class="stat">{SUPPRESSED}</span> Devices lent' in one
    assert '<span class="stat">0</span> Data bundles given' in one  # none is not "a few"
    # The first donation's 7 sessions would give away the second's 1 (8 in total): hidden.
    first = donor.get(f"/impact/{story.first.reference}").get_data(as_text=True)
    assert '<span class="stat">5 or more</span> Practice sessions held' in first
    assert '<span class="stat">7</span>' not in first


def test_staff_see_exact_figures_on_the_donation_page(coordinator, db, org, donor_user):
    story = _seed(org, donor_user)
    page = coordinator.get(f"/donations/{story.second.reference}").get_data(as_text=True)
    assert "What this gift achieved" in page
    assert '<span class="stat">2</span> Residents supported' in page
    assert '<span class="stat">1</span> Practice sessions held' in page
    tiles = page.split("What this gift achieved")[1].split('<ul class="impact-stats">')[1]
    assert SUPPRESSED not in tiles.split("</ul>")[0]


def test_a_donor_cannot_see_another_business(donor, db, org, other_org, donor_user):
    story = _seed(org, donor_user)
    page = donor.get("/impact").get_data(as_text=True)
    assert story.theirs.reference not in page
    assert donor.get(f"/impact/{story.theirs.reference}").status_code == 403
    elsewhere = DonationFactory(organisation=other_org)
    assert donor.get(f"/impact/{elsewhere.reference}").status_code == 404
    csv_text = donor.get("/impact.csv").get_data(as_text=True)
    assert story.first.reference in csv_text and story.theirs.reference not in csv_text
    pdf_text = _pdf_text(donor.get("/impact.pdf").data)
    assert story.first.reference in pdf_text and story.theirs.reference not in pdf_text


def test_other_roles_cannot_open_impact(coordinator, buddy, db, org, donor_user):
    _seed(org, donor_user)
    for client in (coordinator, buddy):
        assert client.get("/impact").status_code == 403
        assert client.get("/impact.pdf").status_code == 403


def test_unlinked_donor_sees_an_empty_page(donor, db):
    page = donor.get("/impact").get_data(as_text=True)
    assert "No donations are linked to your account yet" in page
    assert "No donations are linked" in _pdf_text(donor.get("/impact.pdf").data)


def test_downloads_carry_the_same_suppressed_figures(donor, db, org, donor_user):
    story = _seed(org, donor_user)
    response = donor.get("/impact.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = response.get_data(as_text=True).splitlines()
    assert rows[0].startswith("Donation,Pledged on,Status,Devices received,Devices lent")
    second = next(r for r in rows if r.startswith(story.second.reference))
    assert second.endswith(
        f",processed,{SUPPRESSED},{SUPPRESSED},0,{SUPPRESSED},"
        f"{SUPPRESSED},{SUPPRESSED},{SUPPRESSED},{SUPPRESSED},0,0"
    )
    total = next(r for r in rows if r.startswith("Total"))
    assert total == f"Total,,,8,7,{SUPPRESSED},8,6,12,8,8,{SUPPRESSED},not shown"
    pdf = donor.get("/impact.pdf")
    assert pdf.mimetype == "application/pdf"
    text = _pdf_text(pdf.data)
    assert "What your gift achieved: Acme Builders Ltd" in text
    assert "Residents supported" in text and SUPPRESSED in text


def test_impact_pages_take_constant_queries(donor, db, org, donor_user, count_queries):
    story = _seed(org, donor_user)
    with count_queries() as few:
        assert donor.get("/impact").status_code == 200
    # More donations, devices, loans and sessions: the same number of queries.
    for _ in range(3):
        donation = DonationFactory(organisation=org, donor=story.acme)
        for resident in story.residents[:3]:
            device = DeviceFactory(organisation=org, donation=donation, status="on_loan")
            LoanFactory(organisation=org, device=device, resident=resident, lent_at=_days(9))
    with count_queries() as more:
        page = donor.get("/impact").get_data(as_text=True)
    assert page.count("Residents supported") == 6  # the total and five donations
    assert more.count == few.count
    for url in ("/impact.csv", "/impact.pdf", "/dashboard"):
        with count_queries() as download:
            donor.get(url)
        assert download.count <= few.count


def test_dashboard_and_navigation_lead_to_impact(donor, db, org, donor_user):
    _seed(org, donor_user)
    page = donor.get("/dashboard").get_data(as_text=True)
    assert 'href="/impact"' in page and "What your gift achieved" in page
    assert '<span class="stat">6</span> residents supported' in page
    assert 'href="/impact"' in donor.get("/my-donations").get_data(as_text=True)


# ---- the promise: nothing about a resident reaches a donor ------------------------------------


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def _donor_routes():
    for info in pkgutil.iter_modules(routes_pkg.__path__):
        module = importlib.import_module(f"tests.routes.{info.name}")
        yield module, [r for r in module.ROUTES if r.donor == OK and r.method == "GET"]


def test_no_resident_detail_on_any_donor_page_or_download(
    app,
    db,
    org,
    other_org,
    admin_user,
    coordinator_user,
    buddy_user,
    donor_user,
    other_coordinator_user,
):
    story = _seed(org, donor_user)
    users = {
        "admin": admin_user,
        "coordinator": coordinator_user,
        "buddy": buddy_user,
        "donor": donor_user,
        "other": other_coordinator_user,
    }
    world = World(org, other_org, users)
    modules = list(_donor_routes())
    for module, _ in modules:
        module.arrange(world)
    db.session.flush()
    secrets = [v for r in story.residents for v in resident_values(r)]
    assert all(len(v) >= 5 for v in secrets)

    urls = {world.url(route) for _, routes in modules for route in routes}
    urls |= {"/impact", "/impact.csv", "/impact.pdf", "/my-donations", "/dashboard"}
    for donation in (story.first, story.second):
        urls |= {
            f"/impact/{donation.reference}",
            f"/donations/{donation.reference}/receipt.pdf",
            f"/donate/receipts/{donation.receipt_token}.pdf",
        }
    urls |= {f"/d/{device.asset_tag}" for device in story.devices}  # the public label pages

    client = sign_in(app, donor_user)
    checked = 0
    for url in sorted(urls):
        response = client.get(url, follow_redirects=True)
        body = response.data
        text = _pdf_text(body) if body.startswith(b"%PDF") else body.decode("utf-8", "replace")
        leaked = [v for v in secrets if v.lower() in text.lower()]
        assert not leaked, f"{url} shows {leaked}"
        checked += response.status_code == 200
    assert checked >= 15, sorted(urls)
    print(len(urls), "donor URLs checked:", " ".join(sorted(urls)))
    # The pages really are the donor's: the figures are there, the people are not.
    assert story.first.reference in client.get("/impact").get_data(as_text=True)
    # And the check would catch a leak: staff pages do show these values.
    staff_page = sign_in(app, coordinator_user).get(f"/residents/{story.residents[0].reference}")
    assert all(
        v in staff_page.get_data(as_text=True)
        for v in (story.residents[0].first_name, story.residents[0].postcode)
    )


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([1, 7, 10], [SUPPRESSED, "5 or more", 10]),
        ([1, 2, 3, 20], [SUPPRESSED, SUPPRESSED, SUPPRESSED, 20]),
        ([1, 1, 9, 20], [SUPPRESSED, SUPPRESSED, "5 or more", 20]),
        ([2, 0], [SUPPRESSED, 0]),
        ([6, 8], [6, 8]),
    ],
)
def test_a_small_count_cannot_be_worked_out_from_the_total(values, expected):
    rows = published_rows({i: Impact(sessions=v) for i, v in enumerate(values)})
    assert [rows[i]["sessions"] for i in range(len(values))] == expected


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=40), min_size=1, max_size=8))
def test_hidden_figures_never_add_up_to_a_small_count(values):
    """Whatever the figures, what is hidden in a column (which a donor can work out as the
    total minus what is shown) is nothing, or at least two figures adding up to 5 or more,
    or everything (then the total itself is a published figure)."""
    rows = published_rows({i: Impact(loans=v) for i, v in enumerate(values)})
    hidden = [v for i, v in enumerate(values) if not isinstance(rows[i]["loans"], int)]
    positive = [v for v in values if v > 0]
    assert (
        not hidden or (len(hidden) >= 2 and sum(hidden) >= 5) or sorted(hidden) == sorted(positive)
    )
    for i, v in enumerate(values):
        assert rows[i]["loans"] in (v, SUPPRESSED if 0 < v < 5 else "5 or more")


@pytest.mark.parametrize("figure", ["residents", "sessions", "devices_lent"])
def test_every_count_from_one_to_four_is_suppressed(figure):
    for n in range(1, 5):
        assert published(Impact(**{figure: n}))[figure] == SUPPRESSED
    assert published(Impact(**{figure: 5}))[figure] == 5
    assert published(Impact(**{figure: 0}))[figure] == 0


# ---- what became of the devices, in words --------------------------------------------------


@pytest.mark.parametrize(
    "status, states, lent, words",
    [
        ("processed", {"on_loan": 3}, 3, "Received. All its devices are on loan to residents."),
        ("processed", {"ready": 1}, 0, "Received. Its device is ready to be lent."),
        (
            "processed",
            {"received": 2, "awaiting_wipe": 1},
            0,
            "Received. All its devices are being wiped.",
        ),
        (
            "processed",
            {"awaiting_wipe": 2},
            2,
            "Received. Its devices have been lent to residents and are now being wiped.",
        ),
        (
            "processed",
            {"on_loan": 1, "ready": 2, "awaiting_wipe": 1},
            3,
            "Received. Some of its devices are on loan to residents, some are ready to be lent "
            "and some are being wiped.",
        ),
        (
            "processed",
            {"ready": 2, "returned": 1},
            1,
            "Received. Some of its devices are ready to be lent and some are being wiped. "
            "Devices from it have been lent to residents before.",
        ),
        ("pledged", {}, 0, "Pledged: we will contact you to arrange the hand-over."),
    ],
)
def test_a_donation_is_described_by_what_happened_to_its_devices(app, status, states, lent, words):
    with app.test_request_context():
        assert what_became_of(status, states, lent) == words


def test_the_impact_pdf_says_what_actually_happened_to_the_devices(donor, db, org, donor_user):
    story = _seed(org, donor_user)
    text = " ".join(_pdf_text(donor.get("/impact.pdf").data).split())
    assert "ready to be wiped and lent" not in text
    first = text.split(f"Donation {story.first.reference}")[1].split("Devices received")[0]
    assert (
        "Some of its devices are on loan to residents, some are ready to be lent and some are "
        "being wiped." in first
    )
    second = text.split(f"Donation {story.second.reference}")[1].split("Devices received")[0]
    assert "Its devices have been lent to residents and are now being wiped." in second
    page = donor.get("/impact").get_data(as_text=True)
    assert "Its devices have been lent to residents and are now being wiped." in page
    one = donor.get(f"/impact/{story.second.reference}").get_data(as_text=True)
    assert "Its devices have been lent to residents and are now being wiped." in one
    # A donation whose every device is out on loan says so, and not that they are to be wiped.
    for device in story.devices[6:8]:
        device.status = "on_loan"
    db.session.flush()
    text = " ".join(_pdf_text(donor.get("/impact.pdf").data).split())
    second = text.split(f"Donation {story.second.reference}")[1].split("Devices received")[0]
    assert "All its devices are on loan to residents." in second and "wiped" not in second


def test_the_receipt_of_a_processed_donation_does_not_promise_what_is_done(
    donor, db, org, donor_user
):
    story = _seed(org, donor_user)
    text = " ".join(
        _pdf_text(donor.get(f"/donations/{story.second.reference}/receipt.pdf").data).split()
    )
    assert "Received and registered as devices." in text
    assert "ready to be wiped and lent" not in text
