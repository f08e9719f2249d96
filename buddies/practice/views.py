"""Pages of practice: the buddy's residents and session log, the baseline, a
resident's progress, the skill taxonomy, safeguarding alerts and programme progress.

Views stay thin: permission, form, one service call, flash, redirect. A buddy is
only ever shown a ``ResidentCard`` (what their work needs), never the Resident.
"""

from __future__ import annotations

import uuid

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from inclusion.clock import today
from inclusion.extensions import db
from inclusion.pagination import ListPage
from inclusion.permissions import STAFF, authorize, buddy_is_matched, can_view_resident, requires
from inclusion.residents.models import Resident
from inclusion.web import attempt, get_or_404, invalid

from .. import service as buddies
from . import queries, service
from .forms import (
    ActionForm,
    EmptyForm,
    NextVisitForm,
    ProgrammeFilterForm,
    TaskForm,
    baseline_form,
    session_form,
)
from .models import AREAS, LEVELS, PracticeSession, SkillTask

bp = Blueprint("practice", __name__, url_prefix="/practice")


def _resident(reference: str) -> Resident:
    resident = get_or_404(select(Resident).where(Resident.reference == reference))
    authorize(can_view_resident(current_user, resident))
    return resident


def can_record_checkpoints(user, resident) -> bool:
    """Staff of the organisation, or the resident's active buddy."""
    if not can_view_resident(user, resident):
        return False
    return user.role in STAFF or buddy_is_matched(user, resident)


# ---- the buddy's residents ---------------------------------------------------------------


@bp.route("/residents")
@requires("sessions.log")
def my_residents():
    """The buddy's home: their residents, the next planned visit first."""
    page = db.paginate(
        buddies.buddy_home_matches(current_user), per_page=current_app.config["PER_PAGE"]
    )
    cards = queries.buddy_home_cards(page.items)
    return render_template("practice/my_residents.html", cards=cards, page=page)


@bp.route("/residents/<reference>")
@requires("progress.view")
def resident(reference):
    found = _resident(reference)
    card = queries.resident_card(found.id)
    progress = queries.resident_progress(found.id)
    # Newest first, a page at a time (500 sessions made one page of 430 KB).
    sessions = ListPage(progress.sessions[::-1], per_page=current_app.config["PER_PAGE"])
    return render_template(
        "practice/resident.html",
        card=card,
        progress=progress,
        sessions=sessions,
        levels=LEVELS,
        can_log=buddy_is_matched(current_user, found),
        can_baseline=can_record_checkpoints(current_user, found)
        and not progress.sessions
        and not progress.has_baseline,
    )


@bp.route("/residents/<reference>/sessions/new", methods=["GET", "POST"])
@requires("sessions.log")
def log_session(reference):
    found = _resident(reference)
    authorize(buddy_is_matched(current_user, found))
    task_list = service.tasks()
    last = service.latest_levels(found.id)
    lent = service.devices_lent_to(found.id)
    form = session_form(task_list, last, devices=lent)
    card = queries.resident_card(found.id)
    context = dict(
        form=form,
        card=card,
        groups=service.tasks_by_area(task_list),
        areas=AREAS,
        last=last,
        levels=LEVELS,
    )
    if request.method == "GET":
        # A few taps after a visit: today, and how long, how and where the last one was.
        previous = service.last_session_of(found.id)
        form.token.data = uuid.uuid4().hex
        form.held_on.data = form.held_on.data or today()
        form.minutes.data = previous.minutes if previous else None
        form.mode.data = previous.mode if previous else "home"
        form.place.data = previous.place if previous else ""
        planned = buddies.active_match_of(found).next_visit_on
        form.next_visit_on.data = planned if planned and planned > today() else None
        on_loan = [str(device_id) for device_id, _label, now_on_loan in lent if now_on_loan]
        form.device_id.data = on_loan[0] if on_loan else ""
        return render_template("practice/log_session.html", **context)
    if form.validate_on_submit():
        with attempt(form) as outcome:
            session, created = service.log_session(
                found,
                form.session_data(),
                form.practised(),
                token=form.token.data,
                by=current_user,
            )
        if outcome.refused:
            return invalid("practice/log_session.html", **context)
        if created:
            flash(f"Session saved for {card.name}.", "success")
        else:
            flash("That session was saved already; it has not been saved twice.", "info")
        planned = buddies.active_match_of(found).next_visit_on if created else None
        if planned is not None:
            flash(_("Next visit: %(day)s.", day=format_date(planned, "EEEE d MMMM y")), "info")
        if session.safeguarding_concern and created:
            flash("Your safeguarding concern is on the coordinators' alert list.", "info")
        return redirect(url_for("practice.resident", reference=reference))
    return invalid("practice/log_session.html", **context)


@bp.route("/residents/<reference>/baseline", methods=["GET", "POST"])
@requires("progress.view")
def baseline(reference):
    found = _resident(reference)
    authorize(can_record_checkpoints(current_user, found))
    task_list = service.tasks()
    form = baseline_form(task_list)
    card = queries.resident_card(found.id)
    context = dict(form=form, card=card, groups=service.tasks_by_area(task_list), areas=AREAS)
    if request.method == "GET":
        return render_template("practice/baseline.html", **context)
    if form.validate_on_submit():
        with attempt(form) as outcome:
            service.record_baseline(found, form.practised(), by=current_user)
        if outcome.refused:
            return invalid("practice/baseline.html", **context)
        flash("First assessment saved.", "success")
        return redirect(url_for("practice.resident", reference=reference))
    return invalid("practice/baseline.html", **context)


@bp.route("/residents/<reference>/next-visit", methods=["GET", "POST"])
@requires("progress.view")
def next_visit(reference):
    """The resident's buddy, or a coordinator, plans the next visit of their match."""
    found = _resident(reference)
    authorize(can_record_checkpoints(current_user, found))
    match = buddies.active_match_of(found)
    if match is None:
        abort(404)
    card = queries.resident_card(found.id)
    form = NextVisitForm(data={"next_visit_on": match.next_visit_on})
    back = (
        url_for("practice.my_residents")
        if buddy_is_matched(current_user, found)
        else url_for("residents.detail", reference=reference)
    )
    context = dict(form=form, card=card, match=match, back=back)
    if form.validate_on_submit():
        with attempt(form) as outcome:
            changed = buddies.plan_next_visit(match, form.next_visit_on.data, by=current_user)
        if outcome.refused:
            return invalid("practice/next_visit.html", **context)
        if not changed:
            flash(_("Nothing changed."), "info")
        elif match.next_visit_on is None:
            flash(_("No visit is planned with %(name)s now.", name=card.name), "success")
        else:
            flash(
                _(
                    "Next visit with %(name)s: %(day)s.",
                    name=card.name,
                    day=format_date(match.next_visit_on, "EEEE d MMMM y"),
                ),
                "success",
            )
        return redirect(back)
    if form.is_submitted():
        return invalid("practice/next_visit.html", **context)
    return render_template("practice/next_visit.html", **context)


# ---- the skill taxonomy (coordinators) ------------------------------------------------------


def _skills_page(form, status=200):
    task_list = service.tasks(include_retired=True)
    html = render_template(
        "practice/skills.html",
        form=form,
        action_form=EmptyForm(),
        groups=service.tasks_by_area(task_list),
        areas=AREAS,
    )
    return html, status


@bp.route("/skills")
@requires("skills.manage")
def skills():
    return _skills_page(TaskForm())


@bp.route("/skills", methods=["POST"])
@requires("skills.manage")
def add_task():
    form = TaskForm()
    if form.validate_on_submit():
        with attempt(form) as outcome:
            task = service.add_task(
                current_user.organisation_id,
                area=form.area.data,
                name=form.name.data,
                by=current_user,
            )
        if outcome.refused:
            return _skills_page(form, 422)
        flash(f"Task added: {task.name}.", "success")
        return redirect(url_for("practice.skills"))
    return _skills_page(form, 422)


def _task_action(task_id, change, message):
    form = EmptyForm()
    task = get_or_404(select(SkillTask).where(SkillTask.id == task_id))
    if not form.validate_on_submit():
        abort(400)
    with attempt() as outcome:
        change(task, by=current_user)
    if outcome.refused:
        return redirect(url_for("practice.skills"))
    flash(message.format(name=task.name), "success")
    return redirect(url_for("practice.skills"))


@bp.route("/skills/<int:task_id>/retire", methods=["POST"])
@requires("skills.manage")
def retire_task(task_id):
    return _task_action(
        task_id, service.retire_task, "Retired: {name}. Its history stays in residents' progress."
    )


@bp.route("/skills/<int:task_id>/restore", methods=["POST"])
@requires("skills.manage")
def restore_task(task_id):
    return _task_action(task_id, service.restore_task, "Back in use: {name}.")


# ---- safeguarding alerts (coordinators) -------------------------------------------------------


@bp.route("/alerts")
@requires("residents.manage")
def alerts():
    open_ = db.session.scalars(
        service.open_alerts_query().options(
            joinedload(PracticeSession.resident), joinedload(PracticeSession.buddy)
        )
    ).all()
    return render_template("practice/alerts.html", alerts=open_)


@bp.route("/sessions/<int:session_id>/action", methods=["GET", "POST"])
@requires("residents.manage")
def alert_action(session_id):
    session = get_or_404(
        select(PracticeSession)
        .where(PracticeSession.id == session_id)
        .options(joinedload(PracticeSession.resident), joinedload(PracticeSession.buddy))
    )
    if not session.safeguarding_concern:
        abort(404)
    form = ActionForm()
    if request.method == "POST":
        if form.validate_on_submit():
            with attempt(form) as outcome:
                service.record_safeguarding_action(session, form.action.data, by=current_user)
            if outcome.refused:
                return invalid("practice/alert_action.html", form=form, session=session)
            flash("Action recorded; the alert is closed.", "success")
            return redirect(url_for("practice.alerts"))
        return invalid("practice/alert_action.html", form=form, session=session)
    return render_template("practice/alert_action.html", form=form, session=session)


# ---- programme progress (staff) ----------------------------------------------------------


@bp.route("/progress")
@requires("reports.view")
def programme():
    task_list = service.tasks(include_retired=True)
    filters = ProgrammeFilterForm(request.args)
    filters.task.choices = [("", "All tasks")] + [(str(t.id), t.name) for t in task_list]
    task_ids = {t.id for t in task_list}
    task_id = int(filters.task.data) if (filters.task.data or "").isdigit() else None
    if task_id not in task_ids:
        task_id = None
    grouping = filters.group.data if filters.group.data in queries.GROUPINGS else ""
    curves, chart, task_rows = queries.programme(task_id, grouping)
    return render_template(
        "practice/programme.html",
        filters=filters,
        curves=curves,
        chart=chart,
        task_rows=task_rows,
        times=queries.AT_RISK_TIMES,
        grouping=queries.GROUPINGS[grouping],
    )
