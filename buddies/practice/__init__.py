"""Skill taxonomy, practice sessions, skill checkpoints and progress."""

from __future__ import annotations

NAVIGATION_ENTRIES = [
    ("sessions.log", "practice.my_residents", "My residents"),
    ("skills.manage", "practice.skills", "Skills"),
    ("reports.view", "practice.programme", "Progress"),
]
DASHBOARD_PANEL = "practice/_dashboard.html"


def init_app(app) -> None:
    """Register the blueprint, navigation entries, and the safeguarding dashboard panel."""
    from flask_login import current_user

    from inclusion.extensions import db
    from inclusion.permissions import has_permission
    from inclusion.templating import NAVIGATION

    from . import service
    from .views import bp

    app.register_blueprint(bp)
    from inclusion.signals import organisation_created

    organisation_created.connect(service.seed_taxonomy_of_new_organisation, weak=False)
    for entry in NAVIGATION_ENTRIES:
        if entry not in NAVIGATION:
            NAVIGATION.append(entry)
    panels = app.extensions.setdefault("inclusion.dashboard_panels", [])
    if DASHBOARD_PANEL not in panels:
        panels.append(DASHBOARD_PANEL)
    sections = app.extensions.setdefault("inclusion.resident_sections", [])
    if "practice/_resident_section.html" not in sections:
        sections.append("practice/_resident_section.html")

    def open_safeguarding_alerts():
        """For the dashboard panel: staff see the open alerts of their organisation."""
        if not has_permission(current_user, "residents.manage"):
            return []
        from sqlalchemy.orm import joinedload

        from .models import PracticeSession

        return db.session.scalars(
            service.open_alerts_query().options(joinedload(PracticeSession.resident))
        ).all()

    app.jinja_env.globals["open_safeguarding_alerts"] = open_safeguarding_alerts
