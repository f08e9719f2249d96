"""Data bundles, loans at a desk, returns, call lists and the waiting list.

Views stay thin: permission, form, one service call, flash, redirect.
"""

from __future__ import annotations

import io

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import func, select

from devices.models import DEVICE_KINDS
from devices.service import device_by_tag
from inclusion.csvfile import SafeCsvWriter, phone
from inclusion.extensions import db
from inclusion.pagination import ListPage, requested_page
from inclusion.permissions import requires
from inclusion.registry import registry
from inclusion.residents.models import Resident
from inclusion.residents.service import is_open_case
from inclusion.uploads import import_text, takes_import_file
from inclusion.web import attempt, get_or_404, invalid, refuse_unit_of_work

from . import queries, service
from .forms import (
    BundleFilterForm,
    BundleForm,
    BundleImportForm,
    CallForm,
    ChooseDeviceForm,
    EndLoanForm,
    ExtendForm,
    IssueBundleForm,
    LendForm,
    ReturnForm,
    WaitingListForm,
)
from .models import DataBundle, Loan, WaitingListEntry
from .pdf import agreement_language, large_print_for, loan_agreement

bp = Blueprint("loans", __name__)

_BUNDLE_FIELDS = ("kind", "network", "allowance_gb", "validity_days", "source")


def _bundle_values(form) -> dict:
    return {name: form[name].data for name in _BUNDLE_FIELDS}


# ---- data bundles -------------------------------------------------------------------------


@bp.route("/bundles")
@requires("devices.manage")
def bundles():
    filters = BundleFilterForm(request.args)
    filters.validate()
    stmt = queries.bundle_list(
        filters.q.data or "",
        filters.status.data or "",
        filters.kind.data or "",
        filters.source.data or "",
    )
    page = db.paginate(stmt, per_page=current_app.config["PER_PAGE"])
    counts = dict(
        db.session.execute(
            select(DataBundle.status, func.count()).group_by(DataBundle.status)
        ).all()
    )
    return render_template("loans/bundles.html", page=page, filters=filters, counts=counts)


@bp.route("/bundles/new", methods=["GET", "POST"])
@requires("devices.manage")
def new_bundle():
    form = BundleForm()
    if form.validate_on_submit():
        data = _bundle_values(form) | {"reference": form.reference.data, "notes": form.notes.data}
        with attempt(form) as outcome:
            bundle = service.add_bundle(current_user.organisation_id, data, by=current_user)
        if outcome.refused:
            return invalid("loans/bundle_form.html", form=form)
        flash(f"Bundle {bundle.reference} added to stock.", "success")
        return redirect(url_for("loans.bundles"))
    if form.is_submitted():
        return invalid("loans/bundle_form.html", form=form)
    return render_template("loans/bundle_form.html", form=form)


@bp.route("/bundles/import", methods=["GET", "POST"])
@takes_import_file
@requires("devices.manage")
def import_bundles():
    form = BundleImportForm()
    if form.validate_on_submit():
        text_value = import_text(form)
        if text_value is None:
            return invalid("loans/bundle_import.html", form=form, row_errors=[])
        rejected = None
        with attempt(form) as outcome:
            try:
                added = service.bulk_add_bundles(
                    current_user.organisation_id, text_value, _bundle_values(form), by=current_user
                )
            except service.BulkRejected as err:
                refuse_unit_of_work()
                rejected = err
        if rejected is not None:
            form.rows.errors = [rejected.message]
            return invalid("loans/bundle_import.html", form=form, row_errors=rejected.errors)
        if outcome.refused:
            return invalid("loans/bundle_import.html", form=form, row_errors=[])
        flash(f"{len(added)} bundles added to stock.", "success")
        return redirect(url_for("loans.bundles", status="in_stock"))
    if form.is_submitted():
        return invalid("loans/bundle_import.html", form=form, row_errors=[])
    return render_template("loans/bundle_import.html", form=form, row_errors=[])


@bp.route("/bundles/expire", methods=["POST"])
@requires("devices.manage")
def expire_bundles():
    count = service.expire_bundles(current_user.organisation_id, by=current_user)
    flash(f"{count} bundles past their expiry date marked expired.", "success")
    return redirect(url_for("loans.bundles"))


@bp.route("/bundles/<int:bundle_id>/issue", methods=["GET", "POST"])
@requires("devices.manage")
def issue_bundle(bundle_id):
    """Give data on its own (no device) to a resident who has a device but no data."""
    bundle = get_or_404(select(DataBundle).where(DataBundle.id == bundle_id))
    form = IssueBundleForm()
    if request.method == "GET" and request.args.get("resident"):
        form.resident.data = request.args["resident"]

    def page():
        chosen = service.chosen_resident(form.resident.data)
        return dict(form=form, bundle=bundle, chosen=chosen)

    if form.validate_on_submit():
        with attempt(form) as outcome:
            resident = service.resolve_resident(form.resident.data)
            service.issue_bundle(bundle, resident, by=current_user)
        if outcome.refused:
            return invalid("loans/bundle_issue.html", **page())
        flash(
            f"{bundle.reference} issued to {resident.full_name} until {bundle.expires_on:%d %b %Y}.",
            "success",
        )
        return redirect(url_for("residents.detail", reference=resident.reference))
    if form.is_submitted():
        return invalid("loans/bundle_issue.html", **page())
    return render_template("loans/bundle_issue.html", **page())


# ---- lending ------------------------------------------------------------------------------


def _device(tag):
    return get_or_404(device_by_tag(tag))


def _lend_context(device, form, stock, candidates=()):
    chosen = service.chosen_resident(form.choice.data or form.resident.data)
    return dict(
        device=device,
        form=form,
        candidates=candidates,
        suggestion=service.suggest_resident(device),
        chosen=chosen,
        data_hint=service.data_suggestion(chosen, device, stock),
    )


@bp.route("/devices/<tag>/lend", methods=["GET", "POST"])
@requires("devices.manage")
def lend(tag):
    device = _device(tag)
    blocked = service.why_not_lendable(device)
    if blocked is not None:
        # No form for a device that cannot be lent: why not, and what to do next.
        page = render_template("loans/not_lendable.html", device=device, blocked=blocked)
        return page, (200 if request.method == "GET" else 409)
    stock = service.bundles_for_device(device)
    form = LendForm(device=device, bundles=stock)
    if request.method == "GET":
        form.due_on.data = service.default_due_date(current_user.organisation)
        form.agreement_method.data = "paper"
        suggestion = service.suggest_resident(device)
        if suggestion and not request.args.get("resident"):
            form.resident.data = f"{suggestion.resident.reference} {suggestion.resident.full_name}"
        if request.args.get("resident"):
            form.resident.data = request.args["resident"]
        return render_template("loans/lend.html", **_lend_context(device, form, stock))
    if form.validate_on_submit():
        with attempt(form) as outcome:
            resident = service.resolve_resident(form.choice.data or form.resident.data)
            bundle = None
            if form.bundle.data:
                bundle = db.session.get(DataBundle, int(form.bundle.data))
            loan = service.lend_device(
                device,
                resident,
                due_on=form.due_on.data,
                agreement_method=form.agreement_method.data,
                bundle=bundle,
                notes=form.notes.data,
                signature=form.signature.data,
                by=current_user,
            )
        if not outcome.refused:
            flash(
                f"{device.asset_tag} lent to {resident.full_name} until {loan.due_on:%d %b %Y}.",
                "success",
            )
            return redirect(url_for("loans.loan", reference=loan.reference, lent=1))
        stock = service.bundles_for_device(device)
    candidates = service.search_residents(form.resident.data, limit=10)
    return invalid("loans/lend.html", **_lend_context(device, form, stock, candidates))


@bp.route("/residents/<reference>/lend")
@requires("devices.manage")
def lend_to_resident(reference):
    """Lend from the resident's page: scan or choose a device, then the lend form with the
    resident already chosen."""
    resident = get_or_404(
        select(Resident).where(
            Resident.reference == reference.upper(), Resident.anonymised_at.is_(None)
        )
    )
    form = ChooseDeviceForm(request.args)
    context = dict(resident=resident, form=form)
    if not is_open_case(resident):
        # Nothing is lent to a closed case: say so, offer no device.
        return render_template("loans/lend_to_resident.html", closed=True, **context), 409
    status = 200
    if form.q.data:
        with attempt(form) as outcome:
            device = service.device_to_lend(form.q.data)
        if not outcome.refused:
            return redirect(
                url_for("loans.lend", tag=device.asset_tag, resident=resident.reference)
            )
        status = 422
    kinds = [kind for kind in DEVICE_KINDS if service.device_fits(kind, resident)]
    page = db.paginate(queries.ready_devices(kinds), per_page=current_app.config["PER_PAGE"])
    page_html = render_template(
        "loans/lend_to_resident.html", page=page, fitting=set(kinds), **context
    )
    return page_html, status


@bp.route("/loans")
@requires("devices.manage")
def loans():
    state = request.args.get("state", "open")
    if state not in ("open", "overdue", "ended", "all"):
        state = "open"
    q = request.args.get("q", "")
    page = db.paginate(queries.loan_list(state, q), per_page=current_app.config["PER_PAGE"])
    return render_template("loans/loans.html", page=page, state=state, q=q)


@bp.route("/loans/<reference>")
@requires("devices.manage")
def loan(reference):
    loan = get_or_404(queries.loan_by_reference(reference))
    return render_template(
        "loans/loan.html",
        loan=loan,
        just_lent=bool(request.args.get("lent")),
        agreement_language=agreement_language(loan),
        large_print=large_print_for(loan.resident),
    )


@bp.route("/loans/<reference>/agreement.pdf")
@requires("devices.manage")
def agreement(reference):
    loan = get_or_404(queries.loan_by_reference(reference))
    large = {"1": True, "0": False}.get(request.args.get("large", ""))
    return Response(
        loan_agreement(loan, large_print=large),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="loan-agreement-{loan.reference}.pdf"'},
    )


@bp.route("/loans/<reference>/extend", methods=["GET", "POST"])
@requires("devices.manage")
def extend(reference):
    loan = get_or_404(queries.loan_by_reference(reference))
    form = ExtendForm(loan=loan)
    if form.validate_on_submit():
        with attempt(form) as outcome:
            service.extend_loan(
                loan, form.new_due_on.data, reason=form.reason.data, by=current_user
            )
        if outcome.refused:
            return invalid("loans/extend.html", form=form, loan=loan)
        flash(f"Loan {loan.reference} now due {loan.due_on:%d %b %Y}.", "success")
        return redirect(url_for("loans.loan", reference=loan.reference))
    if form.is_submitted():
        return invalid("loans/extend.html", form=form, loan=loan)
    return render_template("loans/extend.html", form=form, loan=loan)


def _bundle_outcome(form):
    return form.bundle_outcome.data if "bundle_outcome" in form else None


@bp.route("/devices/<tag>/return", methods=["GET", "POST"])
@requires("devices.manage")
def return_device(tag):
    device = _device(tag)
    loan = service.open_loan_of(device)
    if loan is None:
        flash(f"{device.asset_tag} is not on loan.", "info")
        return redirect(url_for("devices.detail", tag=device.asset_tag))
    form = ReturnForm(issued_bundles=service.issued_bundles_of(loan))
    if request.method == "GET":
        form.condition.data = device.condition_grade
        form.accessories_back.data = loan.accessories
        form.received_by.data = current_user.name
    if form.validate_on_submit():
        with attempt(form) as outcome:
            service.return_device(
                loan,
                condition=form.condition.data,
                accessories_back=form.accessories_back.data,
                received_by=form.received_by.data,
                note=form.note.data,
                bundle_outcome=_bundle_outcome(form),
                by=current_user,
            )
        if not outcome.refused:
            flash(
                f"{device.asset_tag} returned. It now needs a wipe before the next loan.",
                "success",
            )
            return redirect(url_for("devices.detail", tag=device.asset_tag))
    if form.is_submitted():
        return invalid("loans/return.html", form=form, loan=loan, device=device)
    return render_template("loans/return.html", form=form, loan=loan, device=device)


@bp.route("/loans/<reference>/end", methods=["GET", "POST"])
@requires("devices.manage")
def end(reference):
    loan = get_or_404(queries.loan_by_reference(reference))
    form = EndLoanForm(issued_bundles=service.issued_bundles_of(loan) if loan.is_open else ())
    if form.validate_on_submit():
        with attempt(form) as outcome:
            service.end_loan(
                loan,
                form.end_kind.data,
                note=form.note.data,
                bundle_outcome=_bundle_outcome(form),
                by=current_user,
            )
        if not outcome.refused:
            flash(f"Loan {loan.reference} ended: {loan.end_label.lower()}.", "success")
            return redirect(url_for("loans.loan", reference=loan.reference))
    if form.is_submitted():
        return invalid("loans/end.html", form=form, loan=loan)
    return render_template("loans/end.html", form=form, loan=loan)


@bp.route("/loans/residents.json")
@requires("devices.manage")
def resident_search():
    """Residents for the lend form's type-ahead (progressive enhancement)."""
    found = service.search_residents(request.args.get("q", ""), limit=10)
    return jsonify(
        [
            {
                "reference": r.reference,
                "label": f"{r.reference} {r.full_name}, {r.postcode}".strip(", ")
                + f" ({service.case_status_label(r)})",
                "case_open": is_open_case(r),
            }
            for r in found
        ]
    )


# ---- reminders as call lists ------------------------------------------------------------


def _call_page(form, status=200):
    per_page = current_app.config["PER_PAGE"]
    # One page of residents; their last calls are loaded for that page only.
    page = ListPage(service.call_list(last_calls=False), per_page=per_page)
    service.with_last_calls(page.items)
    # Other features' calls to make (outcome follow-ups due), each drawn by its template:
    # the first page's worth, and how many more there are (the feature's own list has all).
    sections = []
    for section in registry().call_list_sections:
        items = section.load()
        sections.append((section.template, items[:per_page], max(len(items) - per_page, 0)))
    context = dict(page=page, rows=page.items, form=form, sections=sections)
    if status == 422:
        return invalid("loans/reminders.html", **context)
    return render_template("loans/reminders.html", **context)


@bp.route("/reminders")
@requires("devices.manage")
def reminders():
    return _call_page(CallForm())


@bp.route("/reminders.csv")
@requires("devices.manage")
def reminders_csv():
    out = io.StringIO()
    writer = SafeCsvWriter(out)
    writer.writerow(
        [
            "Reference",
            "Name",
            "Phone",
            "Preferred language",
            "Interpreter",
            "To discuss",
            "Most urgent",
            "Last called",
            "Called by",
            "Outcome",
        ]
    )
    for row in service.call_list():
        r = row.resident
        items = [
            f"Loan {loan.reference} {loan.device.asset_tag} due {loan.due_on.isoformat()}"
            + (" (overdue)" if loan.is_overdue else "")
            for loan in row.loans
        ] + [
            f"Data {b.network} {b.reference} expires {b.expires_on.isoformat()}"
            for b in row.bundles
        ]
        call = row.last_call
        writer.writerow(
            [
                r.reference,
                r.full_name,
                phone(r.phone),
                r.preferred_language,
                "yes" if r.interpreter_needed else "",
                "; ".join(items),
                row.most_urgent.isoformat(),
                call.called_at.strftime("%Y-%m-%d %H:%M") if call else "",
                call.called_by.name if call and call.called_by else "",
                call.outcome_label if call else "",
            ]
        )
    for section in registry().call_list_sections:  # other features' calls (follow-ups)
        for r, to_discuss, due_on in section.calls(section.load()):
            writer.writerow(
                [
                    r.reference,
                    r.full_name,
                    phone(r.phone),
                    r.preferred_language,
                    "yes" if r.interpreter_needed else "",
                    to_discuss,
                    due_on.isoformat(),
                    "",
                    "",
                    "",
                ]
            )
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="call-list.csv"'},
    )


@bp.route("/reminders/calls", methods=["POST"])
@requires("devices.manage")
def log_call():
    form = CallForm()
    if form.validate_on_submit():
        resident = db.session.scalar(
            select(Resident).where(Resident.reference == (form.resident.data or "").strip().upper())
        )
        if resident is None:
            form.resident.errors = ["Choose a resident on the list."]
            return _call_page(form, 422)
        with attempt(form) as outcome:
            service.log_call(resident, form.outcome.data, note=form.note.data, by=current_user)
        if outcome.refused:
            return _call_page(form, 422)
        flash(f"Call to {resident.full_name} logged.", "success")
        # Back to the page of the list the call was logged from.
        page = requested_page()
        return redirect(
            url_for("loans.reminders", **({"page": page} if page > 1 else {}))
            + f"#call-{resident.reference}"
        )
    return _call_page(form, 422)


# ---- the device waiting list --------------------------------------------------------------


@bp.route("/waiting-list")
@requires("devices.manage")
def waiting_list():
    page = db.paginate(queries.waiting_list_query(), per_page=current_app.config["PER_PAGE"])
    return render_template("loans/waiting_list.html", page=page)


@bp.route("/waiting-list/new", methods=["GET", "POST"])
@requires("devices.manage")
def join_waiting_list():
    form = WaitingListForm()
    if request.method == "GET" and request.args.get("resident"):
        form.resident.data = request.args["resident"]
    if form.validate_on_submit():
        with attempt(form) as outcome:
            resident = service.resolve_resident(form.resident.data)
            entry = service.join_waiting_list(
                resident,
                priority=form.priority.data,
                reason=form.reason.data,
                note=form.note.data,
                joined_on=form.joined_on.data,
                by=current_user,
            )
        if not outcome.refused:
            flash(f"{entry.resident.full_name} is on the device waiting list.", "success")
            return redirect(url_for("loans.waiting_list"))
    chosen = service.chosen_resident(form.resident.data)
    if form.is_submitted():
        return invalid("loans/waiting_form.html", form=form, chosen=chosen)
    return render_template("loans/waiting_form.html", form=form, chosen=chosen)


@bp.route("/waiting-list/<int:entry_id>/remove", methods=["POST"])
@requires("devices.manage")
def leave_waiting_list(entry_id):
    entry = get_or_404(select(WaitingListEntry).where(WaitingListEntry.id == entry_id))
    with attempt() as outcome:
        service.remove_from_waiting_list(entry, by=current_user)
    if outcome.refused:
        return redirect(url_for("loans.waiting_list"))
    flash(f"{entry.resident.full_name} removed from the waiting list.", "success")
    return redirect(url_for("loans.waiting_list"))


__all__ = ["bp", "Loan"]
