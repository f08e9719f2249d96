"""Skill taxonomy, practice sessions, skill checkpoints and progress."""

from __future__ import annotations


def init_app(app) -> None:
    from .views import bp

    app.register_blueprint(bp)
