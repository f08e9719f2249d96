"""``flask inclusion keep-figures``: every organisation's report figures of the periods pages
open without being asked are computed off the request path and kept, so the page (a
commissioner's report over the programme) finds them kept and equal to a fresh computation."""

from __future__ import annotations

from datetime import timedelta

from inclusion.clock import today
from inclusion.registry import registry
from inclusion.reports import queries
from inclusion.reports.cache import figures_for
from inclusion.reports.cli import keep_current
from inclusion.reports.periods import financial_year, financial_year_of
from outcomes.forms import last_twelve_months
from tests.factories import ResidentFactory


def _periods():
    return [(p.start, p.end) for p in (period(today()) for period in registry().kept_periods)]


def test_the_periods_kept_are_the_pages_defaults(app):
    with app.app_context():
        periods = _periods()
    on = today()
    year = financial_year(financial_year_of(on))
    assert (year.start, year.end) in periods  # the reports page
    assert (on - timedelta(days=365), on) in periods  # the programme page, the outcomes report
    assert (last_twelve_months(on).start, last_twelve_months(on).end) in periods


def test_keep_figures_computes_each_organisation_once_and_the_pages_read_them(
    app, db, org, other_org, monkeypatch
):
    ResidentFactory(organisation=org, referral_date=today() - timedelta(days=3))
    ResidentFactory(organisation=other_org, referral_date=today() - timedelta(days=40))
    db.session.commit()  # the test's savepoint: the organisations' versions are raised
    real = queries.report_figures
    computed = []

    def counting(organisation_id, start, end):
        computed.append((organisation_id, start, end))
        return real(organisation_id, start, end)

    monkeypatch.setattr("inclusion.reports.cache.report_figures", counting)
    kept = keep_current()
    periods = _periods()
    assert kept >= 2 * len(periods)
    for organisation in (org, other_org):
        assert sum(1 for c in computed if c[0] == organisation.id) == len(periods)

    # Kept: a page asking for any of them computes nothing, and gets what a fresh
    # computation gives.
    computed.clear()
    for organisation in (org, other_org):
        for start, end in periods:
            assert figures_for(organisation.id, start, end) == real(organisation.id, start, end)
    assert computed == []
    # Run again with nothing changed: nothing is computed again.
    keep_current()
    assert computed == []


def test_keep_figures_command_says_what_it_kept_and_warns_without_a_shared_store(app, db, org):
    result = app.test_cli_runner().invoke(args=["inclusion", "keep-figures"])
    assert result.exit_code == 0, result.output
    assert "figure sets kept current" in result.output
    assert "INCLUSION_CACHE_URL is not set" in result.output
