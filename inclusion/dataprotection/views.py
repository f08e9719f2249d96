"""Subject access export and erasure of one resident, from their page."""

from __future__ import annotations

import io

from flask import Blueprint, flash, redirect, render_template, send_file, url_for
from flask_login import current_user

from ..permissions import requires
from ..residents import queries
from ..web import attempt, get_or_404, invalid
from . import service
from .forms import EraseForm

bp = Blueprint("dataprotection", __name__)


def _resident(reference):
    # Scoped to the signed-in user's organisation: other organisations' residents are 404.
    return get_or_404(queries.resident_by_reference(reference))


@bp.route("/residents/<reference>/export.zip", methods=["POST"])
@requires("data_protection.manage")
def export(reference):
    resident = _resident(reference)
    content = service.export_resident(resident, by=current_user)
    return send_file(
        io.BytesIO(content),
        mimetype="application/zip",
        as_attachment=True,
        download_name=f"{resident.reference}-subject-access.zip",
    )


@bp.route("/residents/<reference>/erase", methods=["GET", "POST"])
@requires("data_protection.manage")
def erase(reference):
    resident = _resident(reference)
    form = EraseForm(resident=resident)
    blockers = service.erasure_blockers(resident)
    context = dict(resident=resident, form=form, blockers=blockers)
    if form.validate_on_submit():
        with attempt(form) as outcome:
            service.erase_resident(resident, by=current_user)
        if outcome.refused:
            return invalid("dataprotection/erase.html", **context)
        flash(f"{resident.reference} is anonymised. Counts in reports are unchanged.", "success")
        return redirect(url_for("residents.detail", reference=resident.reference))
    if form.is_submitted():
        return invalid("dataprotection/erase.html", **context)
    return render_template("dataprotection/erase.html", **context)
