"""Home page (public) and the signed-in dashboard."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import func, select

from .extensions import db
from .permissions import public, requires
from .residents.models import STATUSES, Resident

bp = Blueprint("main", __name__)


@bp.route("/")
@public
def home():
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    return render_template("main/home.html")


@bp.route("/dashboard")
@requires("dashboard")
def dashboard():
    counts = {}
    if current_user.role in ("admin", "coordinator"):
        rows = db.session.execute(
            select(Resident.status, func.count()).group_by(Resident.status)
        ).all()
        found = dict(rows)
        counts = {s: found.get(s, 0) for s in STATUSES}
    return render_template("main/dashboard.html", counts=counts)
