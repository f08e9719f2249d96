"""Layouts a new user tripped on: the donation items table shows every column at 1280 px
(nothing clipped or scrolled out of sight), and on a phone it scrolls inside its frame."""

from __future__ import annotations

from sqlalchemy import select

from tests.browser.conftest import sign_in


def _donation_with_items(live_server) -> str:
    from devices.models import Donation
    from inclusion.extensions import db
    from inclusion.tenancy import unscoped

    with live_server.app.app_context(), unscoped():
        donation = db.session.scalars(
            select(Donation).where(Donation.items.any()).order_by(Donation.id)
        ).first()
        return donation.reference


def _clipped_columns(page) -> list[str]:
    """Headers of the items table whose text does not fit the space they are shown in."""
    return page.evaluate(
        """() => {
          const table = document.querySelector('#items-h').closest('section').querySelector('table');
          const frame = (table.closest('.table-wrap') || table.parentElement).getBoundingClientRect();
          const card = table.closest('section').getBoundingClientRect();
          return [...table.querySelectorAll('th')].filter(th => {
            const r = th.getBoundingClientRect();
            return r.right > Math.min(frame.right, card.right) + 0.5 || th.scrollWidth > th.clientWidth + 1;
          }).map(th => th.textContent.trim());
        }"""
    )


def test_the_donation_items_table_shows_every_column_at_1280_px(page, live_server, output_path):
    reference = _donation_with_items(live_server)
    sign_in(page, live_server, "coordinator@wdi.example.org")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(live_server(f"/donations/{reference}"))
    page.locator("#items-h").scroll_into_view_if_needed()
    page.screenshot(path=f"{output_path}/donation-items-1280.png", full_page=True)
    assert _clipped_columns(page) == []
    wrap_scrolls = page.evaluate(
        """() => { const w = document.querySelector('#items-h').closest('section').querySelector('.table-wrap');
                   return w ? w.scrollWidth > w.clientWidth + 1 : false; }"""
    )
    assert not wrap_scrolls, "the items table scrolls sideways at 1280 px"
    assert page.get_by_role("columnheader", name="Chargers").is_visible()
