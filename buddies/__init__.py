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
    from inclusion.public_links import register_public_form

    register_public_form(app, "buddies.apply", "Volunteer as an IT buddy")
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

    from . import practice

    practice.init_app(app)
