"""Reports for commissioners and funders: figures by SQL aggregation, charts, CSV and PDF."""

from __future__ import annotations


def init_app(app) -> None:
    """Register the reports blueprint and the staff navigation entry."""
    from inclusion.registry import registry

    from . import models  # noqa: F401  (targets and the report indexes join the metadata)
    from .views import bp

    app.register_blueprint(bp)
    registry(app).add_navigation("reports.view", "reports.index", "Reports")
