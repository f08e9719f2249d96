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
    from inclusion.accounts.models import BUDDY

    reg.add_navigation("sessions.log", "practice.my_residents", "My residents")
    # A buddy's home is their list of residents, not the dashboard.
    reg.add_role_home(BUDDY, "practice.my_residents")
    reg.add_navigation("skills.manage", "practice.skills", "Skills", group="buddies")
    reg.add_navigation("reports.view", "practice.programme", "Progress", group="reports")
    reg.add_dashboard_panel("practice/_dashboard.html", urgent=True, order=10)
    reg.add_resident_section("practice/_resident_section.html")
    reg.provide("device_use_columns", service.device_use_columns)
    reg.provide("independent_tasks", service.independent_tasks)
    reg.provide("practice_sessions_of", service.sessions_count_of)
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
    _declare_personal_data(app)


def _declare_personal_data(app) -> None:
    """Practice sessions and checkpoints are about a resident; an unactioned
    safeguarding concern stops their erasure."""
    from inclusion.personal_data import declare, name_of

    from .models import Checkpoint, PracticeSession, SkillTask

    # The taxonomy's names are not about anyone (and "Pay a bill" must survive a "Pay").
    declare(app, SkillTask, not_free_text=("name",))
    declare(
        app,
        PracticeSession,
        resident_column="resident_id",
        free_text=(
            "place",
            "notes",
            "next_steps",
            "safeguarding_description",
            "safeguarding_action",
        ),
        export="practice_sessions",
        export_extra=lambda s: {
            "buddy": s.buddy.first_name if s.buddy else None,
            "recorded_by": name_of(s.recorded_by),
        },
        order_by=("held_on", "id"),
        blocks_erasure=[
            (
                lambda: (
                    PracticeSession.safeguarding_concern.is_(True)
                    & PracticeSession.safeguarding_actioned_at.is_(None)
                ),
                "A safeguarding concern has no recorded action yet: action it first.",
            )
        ],
    )
    declare(
        app,
        Checkpoint,
        resident_column="resident_id",
        export="checkpoints",
        export_extra=lambda c: {
            "task": c.task.name,
            "area": c.task.area_label,
            "level_label": c.level_label,
        },
        order_by=("recorded_on", "id"),
    )
