"""Donors and donations, devices and wipes, data bundles, loans, QR labels and PDFs."""

from __future__ import annotations


def init_app(app) -> None:
    """Register the blueprint and this package's entries in the shared navigation."""
    from .views import bp

    app.register_blueprint(bp)

    from . import loans

    loans.init_app(app)
