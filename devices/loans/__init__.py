"""Data bundles, loans at a desk, returns, reminders as call lists, the device waiting list."""

from __future__ import annotations


def init_app(app) -> None:
    from .views import bp

    app.register_blueprint(bp)
