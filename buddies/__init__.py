"""IT buddies, matching, practice sessions, skill taxonomy and checkpoints, progress."""

from __future__ import annotations


def init_app(app) -> None:
    """Register the blueprint and what this package adds to the core (inclusion/registry.py)."""
    from flask_babel import lazy_gettext as _

    from inclusion.registry import registry
    from inclusion.signals import case_closed

    from . import bench, demo, models, service  # noqa: F401  (models: complete metadata for Alembic)
    from .forms import slot_day, slot_day_short
    from .views import bp

    app.register_blueprint(bp)
    reg = registry(app)
    reg.add_navigation("buddies.manage", "buddies.index", "Buddies", group="buddies")
    reg.add_navigation("matches.manage", "buddies.matching", "Matching", group="buddies")
    reg.add_resident_access(service.buddy_matched)
    reg.add_dashboard_panel("buddies/_dashboard.html")
    reg.add_resident_section("buddies/_resident_section.html")
    reg.add_public_navigation("buddies/_public_nav.html")
    reg.add_home_card("buddies/_home_card.html")
    reg.add_template_helper("buddy_matches_of", service.matches_of_resident)
    reg.add_template_helper("buddy_slot_day", slot_day)
    reg.add_template_helper("buddy_slot_day_short", slot_day_short)
    reg.add_template_helper("buddies_dashboard", service.dashboard_summary)
    reg.add_template_helper("buddy_offer_refusal", service.waiting_refusal)
    reg.add_demo_loader("buddies", demo.load)
    bench.register(reg)
    reg.add_public_form("buddies.apply", _("Volunteer as an IT buddy"))
    reg.add_receiver(case_closed, service.take_closed_case_off_buddies)
    from .messages import PURPOSES, queue_dbs_reminders

    for purpose in PURPOSES:
        reg.add_message_purpose(purpose)
    reg.add_reminder_source(queue_dbs_reminders)

    _declare_personal_data(app)

    from . import practice

    practice.init_app(app)


def _declare_personal_data(app) -> None:
    """Matches and matching needs are about a resident; a buddy's "about" and notes are
    free text that may mention one."""
    from inclusion.personal_data import declare

    from .models import OPEN_MATCH_STATUSES, BuddyProfile, BuddyTraining, Match, MatchingNeeds

    declare(app, BuddyProfile, free_text=("about", "notes"), not_free_text=("name", "email"))
    declare(app, BuddyTraining, not_free_text=("provider",))
    declare(
        app,
        Match,
        resident_column="resident_id",
        free_text=("end_note",),
        # The buddy's first name only: their contact details are not the resident's data.
        export="buddy_matches",
        export_extra=lambda m: {"buddy": m.buddy.first_name},
        order_by=("proposed_at", "id"),
        blocks_erasure=[
            (
                lambda: Match.status.in_(OPEN_MATCH_STATUSES),
                "They have an open buddy match: end it first.",
            )
        ],
    )
    declare(app, MatchingNeeds, resident_column="resident_id", export="matching_needs")
