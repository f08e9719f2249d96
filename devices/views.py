"""Devices, donations and labels: parse the request, call the service, render."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from flask_login import current_user

from inclusion.extensions import db
from inclusion.permissions import requires
from inclusion.web import get_or_404

from . import queries
from .forms import DeviceFilterForm, DonationFilterForm

bp = Blueprint("devices", __name__)


def _sections(name: str) -> list[str]:
    return current_app.extensions.get(name, [])


@bp.route("/devices")
@requires("devices.manage")
def index():
    filters = DeviceFilterForm(request.args)
    filters.validate()
    stmt = queries.device_list(filters.q.data or "", filters.status.data or "", filters.kind.data or "")
    page = db.paginate(stmt, per_page=current_app.config["PER_PAGE"])
    return render_template("devices/index.html", page=page, filters=filters)


@bp.route("/devices/<tag>")
@requires("devices.manage")
def detail(tag):
    device = get_or_404(queries.device_page(tag))
    return render_template("devices/detail.html", device=device)


@bp.route("/donations")
@requires("donations.manage")
def donations():
    filters = DonationFilterForm(request.args)
    filters.validate()
    stmt = queries.donation_list(filters.status.data or "", filters.q.data or "")
    page = db.paginate(stmt, per_page=current_app.config["PER_PAGE"])
    return render_template("devices/donations.html", page=page, filters=filters)


@bp.route("/my-donations")
@requires("donations.follow")
def my_donations():
    donations = db.session.scalars(queries.donations_of_user(current_user)).all()
    return render_template("devices/my_donations.html", donations=donations)
