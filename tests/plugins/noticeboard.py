"""A feature written only for the registry test: it plugs in as devices and buddies do."""

from __future__ import annotations

from flask import Blueprint

from inclusion.permissions import requires

bp = Blueprint("noticeboard", __name__)


@bp.route("/noticeboard")
@requires("residents.view")
def index():
    return "Noticeboard"


def init_app(app) -> None:
    from inclusion.registry import registry

    app.register_blueprint(bp)
    reg = registry(app)
    reg.add_navigation("residents.view", "noticeboard.index", "Noticeboard")
    reg.add_template_helper("noticeboard_greeting", lambda: "Notices for the desk")
