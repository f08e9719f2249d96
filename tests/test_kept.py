"""The home page's counts are kept under the organisation's data version: the next page
after a committed change shows the new figure, and an organisation never sees another's."""

from __future__ import annotations

from datetime import timedelta

from inclusion.clock import today
from inclusion.extensions import db
from tests.factories import LoanFactory, WaitingListEntryFactory


def _lending(client) -> str:
    page = client.get("/dashboard").get_data(as_text=True)
    return page.split('id="loans-dash-h"')[1].split("</section>")[0]


def test_the_dashboard_counts_follow_each_committed_change(coordinator, org):
    entry = WaitingListEntryFactory(organisation=org)
    LoanFactory(organisation=org, due_on=today() + timedelta(days=2))
    db.session.commit()
    assert "1</span> waiting for a device" in _lending(coordinator)
    assert "1</span> waiting for a device" in _lending(coordinator)  # kept

    assert coordinator.post(f"/waiting-list/{entry.id}/remove").status_code == 302
    assert "0</span> waiting for a device" in _lending(coordinator)

    LoanFactory(organisation=org, due_on=today() - timedelta(days=3))
    db.session.commit()
    section = _lending(coordinator)
    assert "2</span> devices on loan" in section
    assert "1</span> overdue" in section


def test_kept_counts_are_the_organisations_own(coordinator, org, other_org):
    LoanFactory(organisation=org)
    db.session.commit()
    assert "1</span> devices on loan" in _lending(coordinator)
    for _ in range(3):
        LoanFactory(organisation=other_org)
    db.session.commit()
    assert "1</span> devices on loan" in _lending(coordinator)


def test_a_page_keeping_several_figures_reads_the_version_once(coordinator, org, count_queries):
    LoanFactory(organisation=org)
    db.session.commit()
    _lending(coordinator)  # the figures are kept
    with count_queries() as q:
        assert "1</span> devices on loan" in _lending(coordinator)
    versions = [s for s in q.statements if s.startswith("SELECT organisation.data_version")]
    assert len(versions) == 1, versions
