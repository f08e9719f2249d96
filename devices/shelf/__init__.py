"""The devices shelf: stocktakes ("check the shelf"), bulk work on many devices at once
(one wipe, labels, a status change), and importing devices from a CSV file."""

from __future__ import annotations


def init_app(app) -> None:
    """Register the blueprint, the navigation entry and the template helpers (the demo
    stocktake is loaded by devices.demo, after the devices it checks)."""
    from inclusion.registry import registry

    from . import models  # noqa: F401  (models: complete metadata for Alembic)
    from .service import last_stocktakes
    from .views import bp

    app.register_blueprint(bp)
    reg = registry(app)
    reg.add_navigation("devices.manage", "shelf.stocktakes", "Stocktakes", group="devices")
    reg.add_template_helper("last_stocktakes", last_stocktakes)
    _declare_personal_data(app)


def _declare_personal_data(app) -> None:
    """Nothing in a stocktake is about a resident, and it has no free text: a line's code
    is what a scanner read from a label."""
    from inclusion.personal_data import declare

    from .models import Stocktake, StocktakeLine

    declare(app, Stocktake, not_free_text=("location",))
    declare(app, StocktakeLine, not_free_text=("code", "recorded_location", "recorded_status"))
