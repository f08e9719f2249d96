"""Pages of outcomes: the follow-ups due (a call list), the questionnaire on one phone-friendly
page, the printable large-print questionnaire, the outcome letter to the referrer, the
outcomes report (page, CSV, PDF), the follow-up schedule, and a commissioner's programme.

Views stay thin: permission, form, one service call, flash, redirect.
"""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from inclusion.csvfile import write_csv
from inclusion.permissions import authorize, can_manage_resident, can_view_resident, requires
from inclusion.redirects import safe_next
from inclusion.residents.models import Resident
from inclusion.web import attempt, get_or_404, invalid

from . import pdf, programme, report, service
from .forms import PeriodForm, ScheduleForm, answer_values, answers_form
from .measures import DIRECT, UCLA, WELLBEING, WELLBEING_INTRO
from .models import occasion_label
from .questionnaire import questionnaire_language, questionnaire_pdf

bp = Blueprint("outcomes", __name__, url_prefix="/outcomes")


def _resident(reference: str) -> Resident:
    resident = get_or_404(select(Resident).where(Resident.reference == reference))
    authorize(can_view_resident(current_user, resident))
    return resident


@bp.route("/follow-ups")
@requires("outcomes.record")
def follow_ups():
    due = [
        d
        for d in service.follow_ups_due(current_user.organisation_id)
        if can_view_resident(current_user, d.resident)
    ]
    return render_template("outcomes/follow_ups.html", due=due)


@bp.route("/residents/<reference>/answers", methods=["GET", "POST"])
@requires("outcomes.record")
def record(reference):
    resident = _resident(reference)
    occasions = [(o, occasion_label(o)) for o in service.occasions_of(resident.organisation_id)]
    form = answers_form(occasions, occasion=request.args.get("occasion"))
    context = dict(
        resident=resident,
        form=form,
        wellbeing=WELLBEING,
        ucla=UCLA,
        direct=DIRECT,
        intro=WELLBEING_INTRO,
    )
    if not form.validate_on_submit():
        if request.method == "POST":
            return invalid("outcomes/record.html", **context)
        return render_template("outcomes/record.html", **context)
    with attempt(form) as outcome:
        service.record_answers(
            resident,
            form.occasion.data,
            answer_values(form),
            method=form.method.data,
            asked_on=form.asked_on.data,
            by=current_user,
        )
    if outcome.refused:
        return invalid("outcomes/record.html", **context)
    flash(_("Outcome answers recorded for %(reference)s.", reference=resident.reference), "success")
    # Back where the call was made from (the call list), or to the follow-ups due.
    return redirect(safe_next(request.args.get("next"), url_for("outcomes.follow_ups")))


@bp.route("/questionnaire.pdf")
@requires("outcomes.record")
def questionnaire():
    org = current_user.organisation
    language = questionnaire_language(org, request.args.get("language"))
    return _pdf(questionnaire_pdf(org, language), f"outcome-questions-{language}.pdf")


@bp.route("/residents/<reference>/letter.pdf")
@requires("residents.manage")
def letter(reference):
    resident = _resident(reference)
    authorize(can_manage_resident(current_user, resident))
    summary = service.outcome_summary(resident)
    return _pdf(
        pdf.letter_pdf(summary, current_user.organisation), f"outcome-{resident.reference}.pdf"
    )


def _pdf(content: bytes, name: str) -> Response:
    return Response(
        content,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}"', "Cache-Control": "no-store"},
    )


def _period():
    form = PeriodForm(request.args)
    return form, (form.chosen() if form.validate() else None)


def _publication() -> bool:
    return request.args.get("publication") in ("1", "true", "yes", "on")


@bp.route("/report")
@requires("reports.view")
def report_page():
    form, period = _period()
    built = report.build(period.start, period.end, suppressed=False) if period else None
    args = {k: v for k, v in request.args.items() if k in ("start", "end")}
    return render_template(
        "outcomes/report.html", form=form, report=built, period=period, args=args
    ), (200 if period else 422)


@bp.route("/report.csv")
@requires("reports.view")
def report_csv():
    form, period = _period()
    if period is None:
        flash("Choose a valid period before downloading the report.", "error")
        return redirect(url_for("outcomes.report_page"))
    built = report.build(period.start, period.end, suppressed=_publication())
    return Response(
        report.as_csv(built, write_csv),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="outcomes-{period.slug}.csv"',
            "Cache-Control": "no-store",
        },
    )


@bp.route("/report.pdf")
@requires("reports.view")
def report_pdf():
    form, period = _period()
    if period is None:
        flash("Choose a valid period before downloading the report.", "error")
        return redirect(url_for("outcomes.report_page"))
    built = report.build(period.start, period.end, suppressed=_publication())
    title = f"{current_user.organisation.name}: outcomes, {period.label}"
    return _pdf(pdf.report_pdf(built, title), f"outcomes-{period.slug}.pdf")


@bp.route("/schedule", methods=["GET", "POST"])
@requires("settings.manage")
def schedule():
    months, at_closure = service.schedule_of(current_user.organisation_id)
    form = ScheduleForm(
        months=", ".join(str(m) for m in months) if request.method == "GET" else None,
        at_closure=at_closure if request.method == "GET" else None,
    )
    if not form.validate_on_submit():
        return render_template("outcomes/schedule.html", form=form), (
            422 if request.method == "POST" else 200
        )
    with attempt(form) as outcome:
        month_list = form.month_list()
        if month_list is None:
            from inclusion.errors import RuleBroken

            raise RuleBroken("Enter whole months separated by commas, like 3, 6.", "months")
        service.set_schedule(
            current_user.organisation_id, month_list, form.at_closure.data, by=current_user
        )
    if outcome.refused:
        return invalid("outcomes/schedule.html", form=form)
    flash("Follow-up schedule saved.", "success")
    return redirect(url_for("outcomes.schedule"))


@bp.route("/programme")
@requires("programme.view")
def programme_page():
    form, period = _period()
    figures = programme.figures_for(current_user, period) if period else None
    return render_template("outcomes/programme.html", form=form, period=period, figures=figures), (
        200 if period else 422
    )


@bp.route("/programmes")
@requires("settings.manage")
def programmes():
    return render_template(
        "outcomes/programmes.html",
        programmes=service.programmes_including(current_user.organisation_id),
    )
