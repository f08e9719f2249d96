from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select

from ..accounts.models import Organisation
from ..extensions import db
from ..permissions import authorize, can_manage_resident, public, requires
from ..web import attempt, get_or_404, invalid
from ..workflow import allowed_next
from . import queries, service
from .forms import IntakeForm, PublicReferralForm, ResidentEditForm, ResidentFilterForm, StatusForm
from .models import STATUSES, TRANSITIONS

bp = Blueprint("residents", __name__)

_PERSON_ONLY = set(service.PERSON_FIELDS)


def _form_data(form) -> dict:
    return {k: f.data for k, f in form._fields.items() if k in _PERSON_ONLY}


def _organisations():
    return db.session.scalars(select(Organisation).order_by(Organisation.name)).all()


@bp.route("/refer", methods=["GET", "POST"])
@public
def refer():
    form = PublicReferralForm()
    orgs = _organisations()
    form.organisation.choices = [(o.id, o.name) for o in orgs]
    if request.method == "GET" and request.args.get("org"):
        chosen = next((o for o in orgs if o.code == request.args["org"].upper()), None)
        if chosen:
            form.organisation.data = chosen.id
    if form.validate_on_submit():
        org = db.session.get(Organisation, form.organisation.data)
        data = _form_data(form)
        by_self = form.on_behalf.data == "self"
        data["referral_source"] = "self" if by_self else "other"
        if by_self:
            data.update(referrer_name="", referrer_organisation="", referrer_contact="")
        with attempt(form) as outcome:
            resident = service.create_referral(
                org,
                data,
                consent_given=True,
                consent_method="online_self" if by_self else "online_referrer",
            )
        if outcome.refused:
            return invalid("residents/refer.html", form=form)
        session["referral_done"] = {
            "reference": resident.reference,
            "organisation": org.name,
            "phone": org.contact_phone,
        }
        return redirect(url_for("residents.referral_received"))
    if form.is_submitted():
        return invalid("residents/refer.html", form=form)
    return render_template("residents/refer.html", form=form)


@bp.route("/refer/received")
@public
def referral_received():
    done = session.get("referral_done")
    if not done:
        return redirect(url_for("residents.refer"))
    return render_template("residents/referral_received.html", done=done)


@bp.route("/residents")
@requires("residents.view")
def index():
    filters = ResidentFilterForm(request.args)
    filters.validate()
    stmt = queries.resident_list(
        filters.q.data or "",
        filters.status.data or "",
        filters.source.data or "",
        filters.need.data or "",
    )
    page = db.paginate(stmt, per_page=current_app.config["PER_PAGE"])
    return render_template("residents/index.html", page=page, filters=filters)


@bp.route("/residents/new", methods=["GET", "POST"])
@requires("residents.manage")
def new():
    form = IntakeForm()
    if form.validate_on_submit():
        with attempt(form) as outcome:
            resident = service.create_referral(
                current_user.organisation,
                _form_data(form),
                consent_given=form.consent_given.data,
                consent_method=form.consent_method.data or None,
                recorded_by=current_user,
            )
        if outcome.refused:
            return invalid("residents/form.html", form=form, resident=None)
        flash(f"{resident.full_name} is referred as {resident.reference}.", "success")
        return redirect(url_for("residents.detail", reference=resident.reference))
    if form.is_submitted():
        return invalid("residents/form.html", form=form, resident=None)
    return render_template("residents/form.html", form=form, resident=None)


def _resident(reference):
    resident = get_or_404(queries.resident_by_reference(reference))
    authorize(can_manage_resident(current_user, resident))
    return resident


def _status_form(resident, formdata=None):
    allowed = sorted(allowed_next(TRANSITIONS, resident.status), key=STATUSES.index)
    return StatusForm(formdata=formdata, allowed=allowed)


@bp.route("/residents/<reference>")
@requires("residents.view")
def detail(reference):
    resident = _resident(reference)
    return render_template(
        "residents/detail.html",
        resident=resident,
        status_form=_status_form(resident, formdata=None),
    )


@bp.route("/residents/<reference>/edit", methods=["GET", "POST"])
@requires("residents.manage")
def edit(reference):
    resident = _resident(reference)
    form = ResidentEditForm(obj=resident)
    if form.validate_on_submit():
        with attempt(form) as outcome:
            changed = service.update_resident(
                resident,
                _form_data(form),
                consent_given=form.consent_given.data,
                consent_method=form.consent_method.data or None,
                by=current_user,
            )
        if outcome.refused:
            return invalid("residents/form.html", form=form, resident=resident)
        flash("Saved." if changed else "Nothing changed.", "success")
        return redirect(url_for("residents.detail", reference=resident.reference))
    if form.is_submitted():
        return invalid("residents/form.html", form=form, resident=resident)
    return render_template("residents/form.html", form=form, resident=resident)


@bp.route("/residents/<reference>/status", methods=["POST"])
@requires("residents.manage")
def change_status(reference):
    resident = _resident(reference)
    form = _status_form(resident, formdata=request.form)
    if form.validate_on_submit():
        with attempt(form) as outcome:
            service.change_status(
                resident,
                form.status.data,
                by=current_user,
                outcome=form.outcome.data or None,
                note=form.note.data or "",
            )
        if not outcome.refused:
            flash(f"{resident.reference} is now {resident.status}.", "success")
            return redirect(url_for("residents.detail", reference=resident.reference))
    return invalid(
        "residents/detail.html",
        resident=resident,
        status_form=form,
    )
