"""Coordinator pages for IT buddies and matching, and the public volunteer form."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from sqlalchemy import select

from inclusion.extensions import db
from inclusion.permissions import requires

from . import service
from .models import BuddyProfile

bp = Blueprint("buddies", __name__)


@bp.route("/buddies")
@requires("buddies.manage")
def index():
    stmt = select(BuddyProfile).order_by(BuddyProfile.name, BuddyProfile.id)
    page = db.paginate(stmt, per_page=current_app.config["PER_PAGE"])
    counts = service.open_match_counts([b.id for b in page.items])
    return render_template("buddies/index.html", page=page, counts=counts)


@bp.route("/matching")
@requires("matches.manage")
def matching():
    page = db.paginate(service.waiting_residents(), per_page=current_app.config["PER_PAGE"])
    return render_template("buddies/matching.html", page=page)
