"""The referral API for GP and partner systems: per-organisation keys, JSON, OpenAPI."""

from __future__ import annotations


def init_app(app) -> None:
    """Register the API blueprint, JSON errors under /api/, and the admin navigation entry."""
    from inclusion.registry import registry

    from . import models  # noqa: F401  (metadata for Alembic)
    from .views import bp, json_errors

    app.register_blueprint(bp)
    app.after_request(json_errors)
    registry(app).add_navigation("api_keys.manage", "api.keys", "API keys", admin=True)
