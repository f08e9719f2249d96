"""The reports page of an organisation, its downloads (CSV zip, PDF) and the yearly targets.

The period comes from the query string (``period``, ``year``, ``start``, ``end``), so a
report is a link that can be bookmarked; ``publication=1`` on a download applies the
small-number rule.
"""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user

from inclusion.clock import today
from inclusion.permissions import requires
from inclusion.web import attempt, invalid

from . import service
from .exports import csv_zip
from .forms import PeriodForm, TargetsForm
from .models import TARGET_MEASURES
from .pdf import report_pdf
from .periods import financial_year_label, financial_year_of

bp = Blueprint("reports", __name__, url_prefix="/reports")


def _period_args(period_form) -> dict:
    """The query string of the chosen period, for links to downloads and back."""
    args = {"period": period_form.period.data, "year": period_form.year.data}
    if period_form.period.data == "custom":
        args.update(start=period_form.start.data.isoformat(), end=period_form.end.data.isoformat())
    return args


def _chosen_report(publication: bool = False):
    form = PeriodForm(request.args)
    if not form.validate():
        return form, None
    return form, service.build_report(
        current_user.organisation_id, form.chosen(), publication=publication
    )


@bp.route("/")
@requires("reports.view")
def index():
    form, report = _chosen_report()
    if report is None:
        return invalid("reports/index.html", form=form, report=None, args={})
    return render_template("reports/index.html", form=form, report=report, args=_period_args(form))


def _publication() -> bool:
    return request.args.get("publication") in ("1", "true", "yes", "on")


def _download(build, mimetype: str, extension: str):
    form, report = _chosen_report(publication=_publication())
    if report is None:
        flash("Choose a valid period before downloading the report.", "error")
        return redirect(url_for("reports.index", **request.args))
    org = current_user.organisation
    kind = "publication" if report.publication else "internal"
    name = f"report-{org.code}-{report.period.slug}-{kind}.{extension}"
    return Response(
        build(report, org),
        mimetype=mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


@bp.route("/report.zip")
@requires("reports.view")
def download_csv():
    return _download(lambda report, org: csv_zip(report, org.name), "application/zip", "zip")


@bp.route("/report.pdf")
@requires("reports.view")
def download_pdf():
    return _download(report_pdf, "application/pdf", "pdf")


def _targets_page(form, status=200):
    if form.year.data not in {y for y, _ in form.year.choices}:
        form.year.data = financial_year_of(today())
    html = render_template(
        "reports/targets.html",
        form=form,
        year_label=financial_year_label(form.year.data),
        measures=TARGET_MEASURES,
    )
    return html, status


@bp.route("/targets")
@requires("reports.view")
def targets():
    form = TargetsForm(request.args, meta={"csrf": False})
    if form.year.data not in {y for y, _ in form.year.choices}:
        form.year.data = financial_year_of(today())
    current = service.targets_for(current_user.organisation_id, form.year.data)
    form = TargetsForm(year=form.year.data, **{f"target_{m}": v for m, v in current.items()})
    return _targets_page(form)


@bp.route("/targets", methods=["POST"])
@requires("reports.view")
def save_targets():
    form = TargetsForm()
    if form.validate_on_submit():
        with attempt(form) as outcome:
            service.set_targets(
                current_user.organisation_id, form.year.data, form.values(), by=current_user
            )
        if outcome.refused:
            return _targets_page(form, 422)
        flash(f"Targets for {financial_year_label(form.year.data)} saved.", "success")
        return redirect(url_for("reports.index", period="year", year=form.year.data))
    return _targets_page(form, 422)
