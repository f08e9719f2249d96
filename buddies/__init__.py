"""IT buddies, matching, practice sessions, skill taxonomy and checkpoints, progress."""

from __future__ import annotations

NAVIGATION_ENTRIES = [
    ("buddies.manage", "buddies.index", "Buddies"),
    ("matches.manage", "buddies.matching", "Matching"),
]


def init_app(app) -> None:
    """Register the blueprint and this package's entries in the shared navigation."""
    from inclusion.templating import NAVIGATION

    from . import service
    from .views import bp

    app.register_blueprint(bp)
    for entry in NAVIGATION_ENTRIES:
        if entry not in NAVIGATION:
            NAVIGATION.append(entry)
    app.extensions["inclusion.buddy_matched"] = service.buddy_matched
    from inclusion.residents.service import resident_closed

    resident_closed.connect(service.end_matches_of_closed_resident, weak=False)
    app.jinja_env.globals["buddy_matches_of"] = service.matches_of_resident
    app.jinja_env.globals["buddies_dashboard"] = service.dashboard_summary
    panels = app.extensions.setdefault("inclusion.dashboard_panels", [])
    if "buddies/_dashboard.html" not in panels:
        panels.append("buddies/_dashboard.html")
    sections = app.extensions.setdefault("inclusion.resident_sections", [])
    if "buddies/_resident_section.html" not in sections:
        sections.append("buddies/_resident_section.html")

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
