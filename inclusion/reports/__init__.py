"""Reports for commissioners and funders: figures by SQL aggregation, charts, CSV and PDF."""

from __future__ import annotations

NAVIGATION_ENTRY = ("reports.view", "reports.index", "Reports")


def init_app(app) -> None:
    """Register the reports blueprint and the staff navigation entry."""
    from inclusion.templating import NAVIGATION

    from . import models  # noqa: F401  (targets and the report indexes join the metadata)
    from .views import bp

    app.register_blueprint(bp)
    if NAVIGATION_ENTRY not in NAVIGATION:
        NAVIGATION.append(NAVIGATION_ENTRY)
