"""Coordinator pages for IT buddies and matching, and the public volunteer form.

Views stay thin: permission, form, one service call, flash, redirect.
"""

from __future__ import annotations

from types import SimpleNamespace

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from inclusion import public_links
from inclusion.errors import keep_typed
from inclusion.extensions import db
from inclusion.pagination import ListPage
from inclusion.permissions import public, requires
from inclusion.residents.models import Resident
from inclusion.web import attempt, get_or_404, invalid
from inclusion.workflow import allowed_next

from . import service
from .forms import (
    ActionForm,
    BuddyFilterForm,
    BuddyStatusForm,
    DbsForm,
    EndMatchForm,
    MatchingNeedsForm,
    ProfileEditForm,
    ProposeForm,
    TrainingForm,
    VolunteerForm,
)
from .models import (
    ACCESS_EXPERIENCE,
    BUDDY_TRANSITIONS,
    DAYS,
    DBS_LEVELS,
    OPEN_MATCH_STATUSES,
    PARTS,
    SKILL_AREAS,
    TRAINING_KINDS,
    VISIT_MODES,
    BuddyProfile,
    Match,
)

bp = Blueprint("buddies", __name__)


def _join(vocabulary):
    return lambda keys: ", ".join(vocabulary.get(k, k) for k in (keys or []))


# Labels for the stored keys of a profile, for its page.
LABELS = SimpleNamespace(
    skills=_join(SKILL_AREAS),
    access=_join(ACCESS_EXPERIENCE),
    modes=_join(VISIT_MODES),
    slots=_join({f"{d}_{p}": f"{DAYS[d]} {p}" for d in DAYS for p in PARTS}),
    dbs=lambda key: DBS_LEVELS.get(key, key),
    training=lambda key: TRAINING_KINDS.get(key, key),
)


# ---- public volunteer application ---------------------------------------------------------


@bp.route("/volunteer", methods=["GET", "POST"])
@bp.route("/o/<code>/volunteer", methods=["GET", "POST"])
@public
def apply(code=None):
    form = VolunteerForm()
    known = public_links.organisation_for_form(form, code)
    if form.validate_on_submit():
        org = public_links.chosen_organisation(form, known)
        keep_typed(form, "buddies/apply.html", organisation=known)
        with attempt(form) as outcome:
            service.apply_to_volunteer(org, form.profile_data())
        if outcome.refused:
            return invalid("buddies/apply.html", form=form, organisation=known)
        session["volunteer_done"] = {"organisation": org.name, "phone": org.contact_phone}
        return redirect(url_for("buddies.applied"))
    if form.is_submitted():
        return invalid("buddies/apply.html", form=form, organisation=known)
    return render_template("buddies/apply.html", form=form, organisation=known)


@bp.route("/volunteer/thanks")
@public
def applied():
    done = session.get("volunteer_done")
    if not done:
        return redirect(url_for("buddies.apply"))
    return render_template("buddies/applied.html", done=done)


# ---- coordinator review -----------------------------------------------------------------


@bp.route("/buddies")
@requires("buddies.manage")
def index():
    filters = BuddyFilterForm(request.args)
    filters.validate()
    stmt = select(BuddyProfile).order_by(BuddyProfile.name, BuddyProfile.id)
    if filters.status.data:
        stmt = stmt.where(BuddyProfile.status == filters.status.data)
    page = db.paginate(stmt, per_page=current_app.config["PER_PAGE"])
    counts = service.open_match_counts([b.id for b in page.items])
    return render_template("buddies/index.html", page=page, counts=counts, filters=filters)


def _profile(buddy_id: int) -> BuddyProfile:
    return get_or_404(
        select(BuddyProfile)
        .where(BuddyProfile.id == buddy_id)
        .options(selectinload(BuddyProfile.trainings))
    )


def _detail(
    profile, *, dbs_form=None, training_form=None, status_form=None, invite_link=None, code=200
):
    matches = db.session.scalars(
        select(Match)
        .where(Match.buddy_id == profile.id)
        .options(selectinload(Match.resident))
        .order_by(Match.proposed_at.desc(), Match.id.desc())
    ).all()
    context = dict(
        buddy=profile,
        matches=matches,
        open_count=sum(1 for m in matches if m.status in OPEN_MATCH_STATUSES),
        dbs_form=dbs_form or DbsForm(formdata=None),
        training_form=training_form or TrainingForm(formdata=None),
        status_form=status_form
        or BuddyStatusForm(formdata=None, allowed=allowed_next(BUDDY_TRANSITIONS, profile.status)),
        problems=service.activation_problems(profile),
        invite_link=invite_link,
        labels=LABELS,
    )
    if code != 200:
        return invalid("buddies/detail.html", **context)
    return render_template("buddies/detail.html", **context)


@bp.route("/buddies/<int:buddy_id>")
@requires("buddies.manage")
def detail(buddy_id):
    return _detail(_profile(buddy_id))


@bp.route("/buddies/<int:buddy_id>/edit", methods=["GET", "POST"])
@requires("buddies.manage")
def edit(buddy_id):
    profile = _profile(buddy_id)
    current = {name: getattr(profile, name) for name in service.PROFILE_FIELDS}
    form = ProfileEditForm(data=dict(current, areas=", ".join(profile.areas or [])))
    if form.validate_on_submit():
        with attempt(form) as outcome:
            changed = service.update_profile(profile, form.profile_data(), by=current_user)
        if outcome.refused:
            return invalid("buddies/edit.html", form=form, buddy=profile)
        flash("Saved." if changed else "Nothing changed.", "success")
        return redirect(url_for("buddies.detail", buddy_id=profile.id))
    if form.is_submitted():
        return invalid("buddies/edit.html", form=form, buddy=profile)
    return render_template("buddies/edit.html", form=form, buddy=profile)


@bp.route("/buddies/<int:buddy_id>/dbs", methods=["POST"])
@requires("buddies.manage")
def record_dbs(buddy_id):
    profile = _profile(buddy_id)
    form = DbsForm()
    if form.validate_on_submit():
        with attempt(form) as outcome:
            service.record_dbs(
                profile,
                level=form.level.data,
                certificate=form.certificate.data,
                issued_on=form.issued_on.data,
                by=current_user,
            )
        if not outcome.refused:
            flash(f"DBS check recorded; renewal due {profile.dbs_renewal_due:%d %b %Y}.", "success")
            return redirect(url_for("buddies.detail", buddy_id=profile.id))
    return _detail(profile, dbs_form=form, code=422)


@bp.route("/buddies/<int:buddy_id>/trainings", methods=["POST"])
@requires("buddies.manage")
def record_training(buddy_id):
    profile = _profile(buddy_id)
    form = TrainingForm()
    if form.validate_on_submit():
        with attempt(form) as outcome:
            service.record_training(
                profile,
                kind=form.kind.data,
                completed_on=form.completed_on.data,
                provider=form.provider.data or "",
                by=current_user,
            )
        if not outcome.refused:
            flash("Training recorded.", "success")
            return redirect(url_for("buddies.detail", buddy_id=profile.id))
    return _detail(profile, training_form=form, code=422)


@bp.route("/buddies/<int:buddy_id>/status", methods=["POST"])
@requires("buddies.manage")
def change_status(buddy_id):
    profile = _profile(buddy_id)
    form = BuddyStatusForm(allowed=allowed_next(BUDDY_TRANSITIONS, profile.status))
    if form.validate_on_submit():
        with attempt(form) as outcome:
            service.change_status(profile, form.status.data, by=current_user)
        if outcome.refused:
            profile = _profile(buddy_id)
        else:
            flash(f"{profile.name} is now {profile.status}.", "success")
            return redirect(url_for("buddies.detail", buddy_id=profile.id))
    return _detail(profile, status_form=form, code=422)


@bp.route("/buddies/<int:buddy_id>/invite", methods=["POST"])
@requires("buddies.manage")
def invite(buddy_id):
    profile = _profile(buddy_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    with attempt() as outcome:
        token = service.invite_buddy(profile, by=current_user)
    if outcome.refused:
        return _detail(profile, code=422)
    link = url_for("accounts.accept_invitation", token=token, _external=True)
    if current_app.config.get("PUBLIC_BASE_URL"):
        link = current_app.config["PUBLIC_BASE_URL"].rstrip("/") + url_for(
            "accounts.accept_invitation", token=token
        )
    return _detail(profile, invite_link=link)


# ---- matching -------------------------------------------------------------------------------


@bp.route("/matching")
@requires("matches.manage")
def matching():
    page = db.paginate(service.waiting_residents(), per_page=current_app.config["PER_PAGE"])
    proposed = db.session.scalars(
        select(Match)
        .where(Match.status == "proposed")
        .options(selectinload(Match.resident), selectinload(Match.buddy))
        .order_by(Match.proposed_at, Match.id)
    ).all()
    return render_template(
        "buddies/matching.html", page=page, proposed=proposed, end_form=EndMatchForm(formdata=None)
    )


def _resident(reference) -> Resident:
    return get_or_404(select(Resident).where(Resident.reference == reference))


@bp.route("/matching/residents/<reference>")
@requires("matches.manage")
def rank(reference):
    resident = _resident(reference)
    ranked, excluded, profiles = service.rank_buddies(resident)
    return render_template(
        "buddies/rank.html",
        resident=resident,
        ranked=ranked,
        excluded=excluded,
        profiles=profiles,
        waiting=service.is_waiting(resident),
        refusal=service.waiting_refusal(resident),
        form=ProposeForm(formdata=None),
    )


@bp.route("/matching/residents/<reference>/propose", methods=["POST"])
@requires("matches.manage")
def propose(reference):
    resident = _resident(reference)
    form = ProposeForm()
    buddy = None
    if form.validate_on_submit() and form.buddy_id.data.isdigit():
        buddy = db.session.get(BuddyProfile, int(form.buddy_id.data))
    if buddy is None:
        form.buddy_id.errors = ["Choose a buddy from the list."]
    else:
        with attempt(form) as outcome:
            service.propose_pair(resident, buddy, by=current_user)
        if not outcome.refused:
            flash(
                f"{buddy.name} is proposed for {resident.full_name}. Confirm once both agree.",
                "success",
            )
            return redirect(url_for("residents.detail", reference=resident.reference))
    ranked, excluded, profiles = service.rank_buddies(resident)
    return invalid(
        "buddies/rank.html",
        resident=resident,
        ranked=ranked,
        excluded=excluded,
        profiles=profiles,
        waiting=service.is_waiting(resident),
        refusal=service.waiting_refusal(resident),
        form=form,
    )


@bp.route("/matching/assignment", methods=["GET", "POST"])
@requires("matches.manage")
def assignment():
    planned = service.plan_assignment()
    errors = []
    if request.method == "POST":
        if not ActionForm().validate_on_submit():
            abort(400)
        pairs = []
        for value in request.form.getlist("pair"):
            left, _sep, right = value.partition("-")
            if left.isdigit() and right.isdigit():
                pairs.append((int(left), int(right)))
        if not pairs:
            errors.append(_("Tick at least one pair to accept."))
        else:
            with attempt(flash_message=False) as outcome:
                matches = service.accept_assignment(pairs, by=current_user)
            if outcome.refused:
                planned = service.plan_assignment()
                errors.append(outcome.error.message)
            else:
                flash(
                    ngettext(
                        "%(num)d match proposed. Confirm it once both agree.",
                        "%(num)d matches proposed. Confirm each once both agree.",
                        len(matches),
                    ),
                    "success",
                )
                return redirect(url_for("buddies.matching"))
        return invalid(
            "buddies/assignment.html",
            planned=planned,
            left_out=_left_out_page(planned),
            errors=errors,
            form=ProposeForm(formdata=None),
        )
    return render_template(
        "buddies/assignment.html",
        planned=planned,
        left_out=_left_out_page(planned),
        errors=errors,
        form=ProposeForm(formdata=None),
    )


def _left_out_page(planned) -> ListPage:
    """Who the assignment leaves without a buddy, a page at a time (``?page=``)."""
    return ListPage(planned.left_out, per_page=current_app.config["PER_PAGE"])


def _match(match_id) -> Match:
    return get_or_404(select(Match).where(Match.id == match_id))


@bp.route("/matches/<int:match_id>/confirm", methods=["POST"])
@requires("matches.manage")
def confirm(match_id):
    match = _match(match_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    with attempt() as outcome:
        service.confirm_match(match, by=current_user)
    if outcome.refused:
        return invalid("buddies/match_refused.html", match=match, message=outcome.error.message)
    flash(f"{match.buddy.name} is now {match.resident.full_name}'s IT buddy.", "success")
    return redirect(url_for("residents.detail", reference=match.resident.reference))


@bp.route("/matches/<int:match_id>/end", methods=["GET", "POST"])
@requires("matches.manage")
def end(match_id):
    match = _match(match_id)
    form = EndMatchForm()
    if form.validate_on_submit():
        with attempt(form) as outcome:
            service.end_match(
                match, reason=form.reason.data, note=form.note.data or "", by=current_user
            )
        if not outcome.refused:
            flash("The match has ended.", "success")
            return redirect(url_for("residents.detail", reference=match.resident.reference))
    if form.is_submitted():
        return invalid("buddies/end.html", match=match, form=form)
    return render_template("buddies/end.html", match=match, form=form)


@bp.route("/matching/residents/<reference>/needs", methods=["GET", "POST"])
@requires("matches.manage")
def needs(reference):
    resident = _resident(reference)
    current = service.matching_needs_of(resident)
    form = MatchingNeedsForm(obj=current)
    if form.validate_on_submit():
        with attempt(form) as outcome:
            service.save_matching_needs(
                resident,
                {
                    "availability": form.availability.data or [],
                    "visit_modes": form.visit_modes.data or [],
                    "skills": form.skills.data or [],
                    "interpreter_available": bool(form.interpreter_available.data),
                },
                by=current_user,
            )
        if not outcome.refused:
            flash("Saved what they are looking for.", "success")
            return redirect(url_for("buddies.rank", reference=resident.reference))
    if form.is_submitted():
        return invalid("buddies/needs.html", resident=resident, form=form)
    return render_template("buddies/needs.html", resident=resident, form=form)
