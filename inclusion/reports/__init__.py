"""Reports for commissioners and funders: figures by SQL aggregation, charts, CSV and PDF."""

from __future__ import annotations


def init_app(app) -> None:
    """Register the reports blueprint, the staff navigation entry and the core's section
    (referrals); feature packages add theirs in their own ``init_app``."""
    from inclusion.registry import registry

    from . import models  # noqa: F401  (targets join the metadata)
    from .referrals import REFERRALS_SECTION
    from .views import bp

    app.register_blueprint(bp)
    reg = registry(app)
    reg.add_navigation("reports.view", "reports.index", "Reports", group="reports")
    reg.add_report_section(REFERRALS_SECTION)
    from .cli import keep_figures_command
    from .periods import financial_year, financial_year_of, last_quarter, this_month

    # What the reports page opens without being asked: this and last financial year, this
    # month, the last quarter.
    reg.add_kept_period(lambda on: financial_year(financial_year_of(on)))
    reg.add_kept_period(lambda on: financial_year(financial_year_of(on) - 1))
    reg.add_kept_period(lambda on: this_month(on))
    reg.add_kept_period(lambda on: last_quarter(on))
    reg.add_command(keep_figures_command)
