"""IT buddies, matching, practice sessions, skill taxonomy and checkpoints, progress."""

from __future__ import annotations


def init_app(app) -> None:
    """Register the blueprint and this package's entries in the shared navigation."""
    from .views import bp

    app.register_blueprint(bp)

    from . import practice

    practice.init_app(app)
