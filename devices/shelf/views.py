"""The devices shelf: stocktakes, bulk work on selected devices, importing devices from CSV."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from inclusion.extensions import db
from inclusion.permissions import requires
from inclusion.uploads import import_text, takes_import_file
from inclusion.web import attempt, get_or_404, invalid, refuse_unit_of_work

from . import service
from .forms import (
    BulkStatusForm,
    BulkWipeForm,
    ImportDevicesForm,
    SaveStocktakeForm,
    ScanForm,
    StartStocktakeForm,
)
from .models import Stocktake

bp = Blueprint("shelf", __name__)


# ---- stocktakes --------------------------------------------------------------------------


def _stocktakes_page(form, status_code=200):
    page = db.paginate(service.stocktake_list(), per_page=current_app.config["PER_PAGE"])
    return render_template("devices/shelf/stocktakes.html", page=page, form=form), status_code


@bp.route("/stocktakes")
@requires("devices.manage")
def stocktakes():
    return _stocktakes_page(StartStocktakeForm(locations=service.storage_locations()))


@bp.route("/stocktakes", methods=["POST"])
@requires("devices.manage")
def start_stocktake():
    form = StartStocktakeForm(locations=service.storage_locations())
    if form.validate_on_submit():
        with attempt(form) as outcome:
            stocktake = service.start_stocktake(
                current_user.organisation_id, form.location.data, by=current_user
            )
        if not outcome.refused:
            return redirect(url_for("shelf.stocktake", stocktake_id=stocktake.id))
    return _stocktakes_page(form, 422)


def _stocktake(stocktake_id: int) -> Stocktake:
    return get_or_404(select(Stocktake).where(Stocktake.id == stocktake_id))


def _stocktake_page(stocktake, status_code=200, **forms):
    forms.setdefault("scan_form", ScanForm(formdata=None))
    forms.setdefault("save_form", SaveStocktakeForm(formdata=None))
    return render_template(
        "devices/shelf/stocktake.html",
        stocktake=stocktake,
        result=service.stocktake_result(stocktake),
        **forms,
    ), status_code


@bp.route("/stocktakes/<int:stocktake_id>")
@requires("devices.manage")
def stocktake(stocktake_id):
    return _stocktake_page(_stocktake(stocktake_id))


def _scanned_message(line) -> tuple[str, str]:
    if line.outcome == "found":
        return _("%(tag)s found.", tag=line.code), "success"
    if line.outcome == "misplaced":
        return _(
            "%(tag)s is misplaced: it is recorded at %(where)s.",
            tag=line.code,
            where=line.recorded_where,
        ), "warning"
    return _("%(code)s matches no device: listed as never seen.", code=line.code), "warning"


@bp.route("/stocktakes/<int:stocktake_id>/scans", methods=["POST"])
@requires("devices.manage")
def scan(stocktake_id):
    stocktake = _stocktake(stocktake_id)
    form = ScanForm()
    if form.validate_on_submit():
        with attempt(form) as outcome:
            line = service.record_scan(stocktake, form.code.data, by=current_user)
        if not outcome.refused:
            flash(*_scanned_message(line))
            return redirect(url_for("shelf.stocktake", stocktake_id=stocktake.id))
    return _stocktake_page(stocktake, 422, scan_form=form)


@bp.route("/stocktakes/<int:stocktake_id>/save", methods=["POST"])
@requires("devices.manage")
def save_stocktake(stocktake_id):
    stocktake = _stocktake(stocktake_id)
    form = SaveStocktakeForm()
    if form.validate_on_submit():
        with attempt(form) as outcome:
            saved = service.save_stocktake(
                stocktake, move_misplaced=form.move_misplaced.data == "yes", by=current_user
            )
        if not outcome.refused:
            flash(
                _(
                    "Stocktake of %(location)s saved: %(found)d found, %(missing)d missing, "
                    "%(misplaced)d misplaced, %(unknown)d never seen.",
                    location=saved.location,
                    found=saved.found_count,
                    missing=saved.missing_count,
                    misplaced=saved.misplaced_count,
                    unknown=saved.unknown_count,
                ),
                "success",
            )
            return redirect(url_for("shelf.stocktake", stocktake_id=stocktake.id))
    return _stocktake_page(stocktake, 422, save_form=form)


@bp.route("/stocktakes/<int:stocktake_id>/cancel", methods=["POST"])
@requires("devices.manage")
def cancel_stocktake(stocktake_id):
    stocktake = _stocktake(stocktake_id)
    with attempt() as outcome:
        service.cancel_stocktake(stocktake, by=current_user)
    if outcome.refused:
        return _stocktake_page(stocktake, 422)
    flash(_("The stocktake of %(location)s is cancelled.", location=stocktake.location), "success")
    return redirect(url_for("shelf.stocktakes"))


# ---- bulk work ---------------------------------------------------------------------------


def _bulk_page(devices, donation, status_code=200, errors=(), **forms):
    forms.setdefault("wipe_form", BulkWipeForm(formdata=None, wiped_by=current_user.name))
    forms.setdefault("status_form", BulkStatusForm(formdata=None))
    return render_template(
        "devices/shelf/bulk.html",
        devices=devices,
        donation=donation,
        errors=list(errors),
        last_checks=service.last_stocktakes(devices),
        **forms,
    ), status_code


@bp.route("/devices/bulk")
@requires("devices.manage")
def bulk():
    devices, donation = service.selected_devices(request.args)
    return _bulk_page(devices, donation)


def _after_bulk(devices, donation):
    if donation is not None:
        return redirect(url_for("shelf.bulk", donation=donation.reference))
    return redirect(url_for("shelf.bulk", tag=[d.asset_tag for d in devices]))


def _bulk_action(form_name: str, form, act, done):
    """Validate, act on every selected device, and show every device's refusal when any is."""
    devices, donation = service.selected_devices(request.form)
    if form.validate_on_submit():
        refused = None
        with attempt(form) as outcome:
            try:
                act(devices)
            except service.BulkRefused as err:
                refuse_unit_of_work()
                refused = err
        if refused is not None:
            form.form_errors.append(refused.message)
            return _bulk_page(devices, donation, 422, errors=refused.errors, **{form_name: form})
        if not outcome.refused:
            flash(done(len(devices)), "success")
            return _after_bulk(devices, donation)
    return _bulk_page(devices, donation, 422, **{form_name: form})


@bp.route("/devices/bulk/wipe", methods=["POST"])
@requires("devices.manage")
def bulk_wipe():
    form = BulkWipeForm()
    return _bulk_action(
        "wipe_form",
        form,
        lambda devices: service.bulk_record_wipe(
            devices,
            method=form.method.data,
            wiped_by=form.wiped_by.data,
            wiped_at=form.wiped_at.data,
            certificate_reference=form.certificate_reference.data,
            notes=form.notes.data,
            mark_ready=form.mark_ready.data,
            by=current_user,
        ),
        lambda count: _("Wipe recorded for %(count)d devices.", count=count),
    )


@bp.route("/devices/bulk/status", methods=["POST"])
@requires("devices.manage")
def bulk_status():
    form = BulkStatusForm()
    return _bulk_action(
        "status_form",
        form,
        lambda devices: service.bulk_change_status(
            devices, form.status.data, note=form.note.data, by=current_user
        ),
        lambda count: _("%(count)d devices moved to a new status.", count=count),
    )


# ---- importing devices -----------------------------------------------------------------


@bp.route("/devices/import", methods=["GET", "POST"])
@takes_import_file
@requires("devices.manage")
def import_devices():
    form = ImportDevicesForm()
    if form.validate_on_submit():
        text_value = import_text(form)
        if text_value is None:
            return invalid("devices/shelf/import.html", form=form, row_errors=[])
        rejected = None
        with attempt(form) as outcome:
            try:
                added = service.import_devices(
                    current_user.organisation_id, text_value, by=current_user
                )
            except service.BulkRefused as err:
                refuse_unit_of_work()
                rejected = err
        if rejected is not None:
            form.rows.errors = [rejected.message]
            return invalid("devices/shelf/import.html", form=form, row_errors=rejected.errors)
        if not outcome.refused:
            flash(
                _("%(count)d devices added. Wipe them, then print their labels.", count=len(added)),
                "success",
            )
            return redirect(url_for("shelf.bulk", tag=[d.asset_tag for d in added]))
    if form.is_submitted():
        return invalid("devices/shelf/import.html", form=form, row_errors=[])
    return render_template("devices/shelf/import.html", form=form, row_errors=[])
