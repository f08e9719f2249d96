"""Home page (public) and the signed-in dashboard."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import func, select

from .extensions import db
from .kept import kept_for_scope
from .permissions import public, requires
from .registry import registry
from .residents.models import STATUSES, Resident

bp = Blueprint("main", __name__)


@bp.route("/")
@public
def home():
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    return render_template("main/home.html")


def _residents_by_status() -> dict[str, int]:
    found = dict(
        db.session.execute(select(Resident.status, func.count()).group_by(Resident.status)).all()
    )
    return {s: found.get(s, 0) for s in STATUSES}


@bp.route("/dashboard")
@requires("dashboard")
def dashboard():
    home = registry().role_homes.get(current_user.role)
    if home is not None:
        return redirect(url_for(home))
    counts = {}
    if current_user.role in ("admin", "coordinator"):
        counts = kept_for_scope("residents-by-status", _residents_by_status)
    return render_template("main/dashboard.html", counts=counts)
