"""Skill taxonomy, practice sessions, skill checkpoints and progress."""

from __future__ import annotations


def init_app(app) -> None:
    """Register the blueprint, navigation entries, and the safeguarding dashboard panel."""
    from flask_login import current_user

    from inclusion.extensions import db
    from inclusion.permissions import has_permission
    from inclusion.registry import registry

    from . import bench, models, service  # noqa: F401  (models: complete metadata for Alembic)
    from .report import PRACTICE_SECTION
    from .views import bp

    app.register_blueprint(bp)
    from inclusion.signals import organisation_created

    organisation_created.connect(service.seed_taxonomy_of_new_organisation, weak=False)
    reg = registry(app)
    reg.add_navigation("sessions.log", "practice.my_residents", "My residents")
    reg.add_navigation("skills.manage", "practice.skills", "Skills")
    reg.add_navigation("reports.view", "practice.programme", "Progress")
    reg.add_dashboard_panel("practice/_dashboard.html")
    reg.add_resident_section("practice/_resident_section.html")
    reg.provide("device_use_columns", service.device_use_columns)
    reg.add_report_section(PRACTICE_SECTION)
    bench.register(reg)

    def open_safeguarding_alerts():
        """For the dashboard panel: staff see the open alerts of their organisation."""
        if not has_permission(current_user, "residents.manage"):
            return []
        from sqlalchemy.orm import joinedload

        from .models import PracticeSession

        return db.session.scalars(
            service.open_alerts_query().options(joinedload(PracticeSession.resident))
        ).all()

    reg.add_template_helper("open_safeguarding_alerts", open_safeguarding_alerts)
