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

from .. import public_links
from ..errors import keep_typed
from ..extensions import db
from ..permissions import authorize, can_manage_resident, public, requires
from ..web import attempt, get_or_404, invalid
from ..workflow import allowed_next
from . import queries, service
from .forms import (
    DuplicateForm,
    IntakeForm,
    PublicReferralForm,
    ResidentEditForm,
    ResidentFilterForm,
    StatusForm,
    status_steps_form,
)
from .models import STATUSES, TRANSITIONS

bp = Blueprint("residents", __name__)

_PERSON_ONLY = set(service.PERSON_FIELDS)


def _form_data(form) -> dict:
    return {k: f.data for k, f in form._fields.items() if k in _PERSON_ONLY}


@bp.route("/refer", methods=["GET", "POST"])
@bp.route("/o/<code>/refer", methods=["GET", "POST"])
@public
def refer(code=None):
    if code is None and request.args.get("org"):  # links printed before /o/<code>/refer
        return redirect(url_for("residents.refer", code=request.args["org"].lower()))
    form = PublicReferralForm()
    known = public_links.organisation_for_form(form, code)
    if form.validate_on_submit():
        org = public_links.chosen_organisation(form, known)
        data = _form_data(form)
        by_self = form.on_behalf.data == "self"
        data["referral_source"] = "self" if by_self else form.referral_source.data
        if by_self:
            data.update(referrer_name="", referrer_organisation="", referrer_contact="")
        keep_typed(form, "residents/refer.html", organisation=known)
        with attempt(form) as outcome:
            resident = service.create_referral(
                org,
                data,
                consent_given=True,
                consent_method="online_self" if by_self else "online_referrer",
            )
        if outcome.refused:
            public_links.hint_by_postcode(form)
            return invalid("residents/refer.html", form=form, organisation=known)
        session["referral_done"] = {
            "reference": resident.reference,
            "organisation": org.name,
            "phone": org.contact_phone,
        }
        return redirect(url_for("residents.referral_received"))
    if form.is_submitted():
        public_links.hint_by_postcode(form)
        return invalid("residents/refer.html", form=form, organisation=known)
    return render_template("residents/refer.html", form=form, organisation=known)


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
                duplicates="ask",
                create_anyway_despite=form.create_anyway.data or "",
            )
        if outcome.refused:
            duplicate = getattr(outcome.error, "resident", None)
            return invalid(
                "residents/form.html",
                form=form,
                resident=None,
                duplicate=duplicate,
                reason=getattr(outcome.error, "reason", ""),
            )
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


def _detail(resident, *, status_form=None, duplicate_form=None, steps_form=None, code=200):
    page = render_template(
        "residents/detail.html",
        resident=resident,
        status_form=status_form or _status_form(resident, formdata=None),
        duplicate_form=duplicate_form or DuplicateForm(formdata=None),
        steps_form=steps_form or status_steps_form(service.steps_ahead(resident)),
    )
    return page, code


@bp.route("/residents/<reference>")
@requires("residents.view")
def detail(reference):
    return _detail(_resident(reference))


@bp.route("/residents/<reference>/duplicate", methods=["POST"])
@requires("residents.manage")
def resolve_duplicate(reference):
    resident = _resident(reference)
    form = DuplicateForm()
    if form.validate_on_submit():
        with attempt(form) as outcome:
            service.resolve_duplicate(resident, form.resolution.data, by=current_user)
        if not outcome.refused:
            flash(
                f"{resident.reference} is closed as a duplicate."
                if form.resolution.data == "closed"
                else f"{resident.reference} is kept alongside the other case.",
                "success",
            )
            return redirect(url_for("residents.detail", reference=resident.reference))
    return _detail(resident, duplicate_form=form, code=422)


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
    return _detail(resident, status_form=form, code=422)


@bp.route("/residents/<reference>/steps", methods=["POST"])
@requires("residents.manage")
def record_steps(reference):
    resident = _resident(reference)
    form = status_steps_form(service.steps_ahead(resident), formdata=request.form)
    if form.validate_on_submit():
        dates = {status: form[f"{status}_on"].data for status in form.steps}
        with attempt(form) as outcome:
            taken = service.record_steps(resident, dates, by=current_user)
        if not outcome.refused:
            flash(
                f"{resident.reference} is now {resident.status}: {len(taken)} steps recorded."
                if len(taken) > 1
                else f"{resident.reference} is now {resident.status}.",
                "success",
            )
            return redirect(url_for("residents.detail", reference=resident.reference))
    return _detail(resident, steps_form=form, code=422)
