"""The screenshot set of the desk and the phone (issue 13): the coordinator's dashboard, the
lend flow from a resident's page and a stocktake at 1280 px, the buddy's residents at 390 px,
saved under ``test-results/screens/<database>/`` for anyone to look at after ``make test``.

Each page is checked for what it is about before it is photographed, so a broken page
fails here rather than leaving a picture of an error."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.conftest import sign_in

SCREENS = Path(__file__).resolve().parents[2] / "test-results" / "screens"


def _shot(page, live_server, name: str) -> Path:
    folder = SCREENS / live_server.backend
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000  # a real page, not a blank one
    return path


def _open_resident_with_nothing_lent(live_server) -> str:
    from devices.loans.models import Loan
    from inclusion.accounts.models import Organisation
    from inclusion.extensions import db
    from inclusion.residents.models import Resident

    with live_server.app.app_context():
        org = db.session.scalar(select(Organisation.id).where(Organisation.code == "WDI"))
        borrowing = select(Loan.resident_id).where(Loan.ended_at.is_(None))
        reference = db.session.scalar(
            select(Resident.reference)
            .where(
                Resident.organisation_id == org,
                Resident.id.not_in(borrowing),
                Resident.anonymised_at.is_(None),
                Resident.status != "closed",
            )
            .order_by(Resident.id)
            .limit(1)
        )
        db.session.remove()
    assert reference, "the demo has an open case with nothing lent"
    return reference


def test_the_desk_at_1280_px(page, live_server):
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, live_server, "coordinator@wdi.example.org")

    page.goto(live_server("/dashboard"))
    expect(page.locator("h1")).to_be_visible()
    _shot(page, live_server, "desk-dashboard-1280")

    reference = _open_resident_with_nothing_lent(live_server)
    page.goto(live_server(f"/residents/{reference}"))
    _shot(page, live_server, "desk-resident-1280")
    page.get_by_role("link", name="Lend a device").click()
    expect(page.get_by_role("heading", name=re.compile("^Lend a device to"))).to_be_visible()
    _shot(page, live_server, "desk-lend-choose-1280")
    page.locator("table a", has_text=re.compile("^Lend")).first.click()
    expect(page.get_by_role("heading", name=re.compile("Lend"))).to_be_visible()
    _shot(page, live_server, "desk-lend-form-1280")

    page.goto(live_server("/stocktakes"))
    expect(page.get_by_role("heading", name=re.compile("Stocktake"))).to_be_visible()
    _shot(page, live_server, "desk-stocktakes-1280")
    saved = page.locator("a[href*='/stocktakes/']").first
    saved.click()
    expect(page.locator("h1")).to_contain_text(re.compile("Stocktake|drawer|Cupboard", re.I))
    _shot(page, live_server, "desk-stocktake-1280")


def test_the_buddy_at_390_px(page, live_server):
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_server, "buddy@wdi.example.org")
    page.goto(live_server("/practice/residents"))
    expect(page.locator("h1")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the buddy's list scrolls sideways ({width} px)"
    _shot(page, live_server, "buddy-residents-390")
