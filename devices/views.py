"""Devices, donations, labels and scanning: parse the request, call the service, render."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
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

from inclusion import public_links
from inclusion.accounts.models import Organisation
from inclusion.errors import keep_typed
from inclusion.extensions import db, limiter
from inclusion.permissions import authorize, has_permission, public, requires
from inclusion.tenancy import unscoped
from inclusion.web import attempt, get_or_404, invalid
from inclusion.workflow import allowed_next

from . import impact as impact_figures
from . import labels as label_pdf
from . import queries, service
from .forms import (
    DeclineForm,
    DeviceFilterForm,
    DeviceForm,
    DeviceStatusForm,
    DonationFilterForm,
    LabelForm,
    PledgeForm,
    ScheduleForm,
    WipeForm,
    process_form,
    receive_form,
)
from .models import DEVICE_STATUS_LABELS, DEVICE_TRANSITIONS, Device, Donation
from .pdf import impact_pdf, receipt_pdf

bp = Blueprint("devices", __name__)

# Lending goes through the loans pages, and ready through a wipe (unless already wiped).
_HAND_MOVES_EXCLUDED = {"on_loan"}


def _pdf(data: bytes, filename: str, inline: bool = True) -> Response:
    disposition = "inline" if inline else "attachment"
    return Response(
        data,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'{disposition}; filename="{filename}"',
            "Cache-Control": "private, no-store",
        },
    )


def public_device_url(tag: str) -> str:
    """The absolute URL printed in a label's QR code (on ``INCLUSION_PUBLIC_BASE_URL``)."""
    return public_links.public_url("devices.public_device", tag=tag)


def _donate_link(organisation) -> str:
    """The organisation's own donation link, printed on its receipts."""
    return public_links.public_url("devices.pledge", code=organisation.code.lower())


# ---- public: pledge, receipt, device label page --------------------------------------


@bp.route("/donate", methods=["GET", "POST"])
@bp.route("/o/<code>/donate", methods=["GET", "POST"])
@public
@limiter.limit(lambda: current_app.config.get("PLEDGE_LIMIT", "20 per hour"), methods=["POST"])
def pledge(code=None):
    if code is None and request.args.get("org"):  # links printed before /o/<code>/donate
        return redirect(url_for("devices.pledge", code=request.args["org"].lower()))
    form = PledgeForm()
    known = public_links.organisation_for_form(form, code)
    if form.validate_on_submit():
        org = public_links.chosen_organisation(form, known)
        keep_typed(form, "devices/pledge.html", organisation=known)
        with attempt(form) as outcome:
            donation = service.pledge_donation(
                org.id,
                {
                    k: getattr(form, k).data
                    for k in ("business_name", "contact_name", "email", "phone")
                },
                form.item_dicts(),
                donor_wiped=form.donor_wiped.data,
                wipe_certificate=form.wipe_certificate.data,
                handover=form.handover.data,
                preferred_from=form.preferred_from.data,
                preferred_to=form.preferred_to.data,
                collection_address=form.collection_address.data,
                notes=form.notes.data,
                wants_account=form.wants_account.data,
            )
        if outcome.refused:
            return invalid("devices/pledge.html", form=form, organisation=known)
        session["pledge_done"] = {"reference": donation.reference, "token": donation.receipt_token}
        return redirect(url_for("devices.pledge_received"))
    if form.is_submitted():
        return invalid("devices/pledge.html", form=form, organisation=known)
    return render_template("devices/pledge.html", form=form, organisation=known)


@bp.route("/donate/thanks")
@public
def pledge_received():
    done = session.get("pledge_done")
    if not done:
        return redirect(url_for("devices.pledge"))
    with unscoped():  # the token kept in this visitor's session is the key
        donation = queries.donation_by_receipt_token(done["token"])
        if donation is None:
            return redirect(url_for("devices.pledge"))
        organisation = db.session.get(Organisation, donation.organisation_id)
        return render_template(
            "devices/pledge_received.html", donation=donation, organisation=organisation
        )


@bp.route("/donate/receipts/<token>.pdf")
@public
def public_receipt(token):
    """The receipt by its random token (the link on the confirmation page), never by reference."""
    if len(token) < 20:
        abort(404)
    # The random token is the key: read the donation as a signed-out visitor would, whoever
    # is signed in (the receipt names only the business and its gift).
    with unscoped():
        donation = queries.donation_by_receipt_token(token)
        if donation is None:
            abort(404)
        organisation = db.session.get(Organisation, donation.organisation_id)
        pdf = receipt_pdf(donation, organisation, _donate_link(organisation))
    return _pdf(pdf, f"receipt-{donation.reference}.pdf")


@bp.route("/d/<tag>")
@public
def public_device(tag):
    """What a QR label opens: for staff of the device's organisation, its page; otherwise only
    whose it is and how to return it, never who holds it."""
    normal = service.normalise_tag(tag)
    with unscoped():  # a label is read by anyone, signed in to any organisation or not
        device = normal and db.session.scalar(select(Device).where(Device.asset_tag == normal))
    if not device:
        abort(404)
    if (
        current_user.is_authenticated
        and current_user.organisation_id == device.organisation_id
        and has_permission(current_user, "devices.manage")
    ):
        return redirect(url_for("devices.detail", tag=device.asset_tag))
    organisation = db.session.get(Organisation, device.organisation_id)
    return render_template(
        "devices/public_device.html",
        tag=device.asset_tag,
        organisation=organisation,
        links=public_links.organisation_links(organisation),
    )


# ---- scanning ------------------------------------------------------------------------


@bp.route("/scan")
@requires("devices.manage")
def scan():
    """The scan box: a tag, a label URL, or a serial number or IMEI opens the device page;
    anything else shows what it may have meant."""
    q = (request.args.get("q") or "").strip()[:200]
    if not q:
        return render_template("devices/scan.html", q="")
    device = service.device_by_code(q)
    if device is not None:
        return redirect(url_for("devices.detail", tag=device.asset_tag))
    devices, total, residents = queries.scan_matches(q)
    page = render_template(
        "devices/scan.html", q=q, devices=devices, total=total, residents=residents, searched=True
    )
    return page, (200 if devices or residents else 404)


@bp.route("/scan/camera")
@requires("devices.manage")
def scan_camera():
    return render_template("devices/scan_camera.html")


# ---- devices -------------------------------------------------------------------------


@bp.route("/devices")
@requires("devices.manage")
def index():
    filters = DeviceFilterForm(request.args)
    filters.validate()
    stmt = queries.device_list(
        filters.q.data or "", filters.status.data or "", filters.kind.data or ""
    )
    page = db.paginate(stmt, per_page=current_app.config["PER_PAGE"])
    return render_template("devices/index.html", page=page, filters=filters)


@bp.route("/devices/new", methods=["GET", "POST"])
@requires("devices.manage")
def new():
    form = DeviceForm()
    if form.validate_on_submit():
        with attempt(form) as outcome:
            device = service.create_device(
                current_user.organisation_id, form.data_dict(), by=current_user
            )
        if outcome.refused:
            return invalid("devices/form.html", form=form, device=None)
        flash(f"Device registered as {device.asset_tag}. Print its label next.", "success")
        return redirect(url_for("devices.detail", tag=device.asset_tag))
    if form.is_submitted():
        return invalid("devices/form.html", form=form, device=None)
    return render_template("devices/form.html", form=form, device=None)


def _device(tag) -> Device:
    return get_or_404(queries.device_page(tag))


def _status_form(device, formdata=None) -> DeviceStatusForm:
    form = DeviceStatusForm(formdata=formdata)
    form.status.choices = [
        (s, DEVICE_STATUS_LABELS[s])
        for s in allowed_next(DEVICE_TRANSITIONS, device.status)
        if s not in _HAND_MOVES_EXCLUDED
        and device.status != "on_loan"
        and (s != "ready" or device.wiped)
    ]
    return form


def _detail_page(device, status_code=200, **forms):
    forms.setdefault("status_form", _status_form(device, None))
    return render_template("devices/detail.html", device=device, **forms), status_code


@bp.route("/devices/<tag>")
@requires("devices.manage")
def detail(tag):
    return _detail_page(_device(tag))


@bp.route("/devices/<tag>/edit", methods=["GET", "POST"])
@requires("devices.manage")
def edit(tag):
    device = _device(tag)
    form = DeviceForm(obj=device)
    if form.validate_on_submit():
        with attempt(form) as outcome:
            service.update_device(device, form.data_dict(), by=current_user)
        if outcome.refused:
            return invalid("devices/form.html", form=form, device=device)
        flash("Device details saved.", "success")
        return redirect(url_for("devices.detail", tag=device.asset_tag))
    if form.is_submitted():
        return invalid("devices/form.html", form=form, device=device)
    return render_template("devices/form.html", form=form, device=device)


@bp.route("/devices/<tag>/status", methods=["POST"])
@requires("devices.manage")
def change_status(tag):
    device = _device(tag)
    form = _status_form(device, request.form)
    if form.validate():
        with attempt(form) as outcome:
            service.change_device_status(
                device, form.status.data, note=form.note.data, by=current_user
            )
        if outcome.refused:
            return _detail_page(device, 422, status_form=form)
        flash(f"{device.asset_tag} is now {device.status_label.lower()}.", "success")
        return redirect(url_for("devices.detail", tag=device.asset_tag))
    return _detail_page(device, 422, status_form=form)


@bp.route("/devices/<tag>/wipe", methods=["GET", "POST"])
@requires("devices.manage")
def wipe(tag):
    device = _device(tag)
    form = WipeForm()
    if request.method == "GET":
        form.wiped_by.data = current_user.name
    if form.validate_on_submit():
        with attempt(form) as outcome:
            service.record_wipe(
                device,
                method=form.method.data,
                wiped_by=form.wiped_by.data,
                wiped_at=form.wiped_at.data,
                certificate_reference=form.certificate_reference.data,
                notes=form.notes.data,
                mark_ready=form.mark_ready.data,
                by=current_user,
            )
        if outcome.refused:
            return invalid("devices/wipe.html", form=form, device=device)
        flash(f"Wipe recorded; {device.asset_tag} is {device.status_label.lower()}.", "success")
        return redirect(url_for("devices.detail", tag=device.asset_tag))
    if form.is_submitted():
        return invalid("devices/wipe.html", form=form, device=device)
    return render_template("devices/wipe.html", form=form, device=device)


# ---- labels --------------------------------------------------------------------------


def _selected_devices() -> tuple[list[Device], Donation | None]:
    """Devices chosen by ``tag`` (repeatable) or a whole ``donation`` (its reference)."""
    donation = None
    ref = (request.args.get("donation") or "").strip()
    if ref:
        donation = get_or_404(queries.donation_by_reference(ref))
        return list(donation.devices), donation
    tags = [t for t in (service.normalise_tag(t) for t in request.args.getlist("tag")) if t]
    if not tags:
        return [], None
    devices = db.session.scalars(
        select(Device).where(Device.asset_tag.in_(tags[:2000])).order_by(Device.asset_tag)
    ).all()
    return list(devices), None


def _labels_for(devices) -> list[label_pdf.Label]:
    org = current_user.organisation
    return [label_pdf.Label(d.asset_tag, public_device_url(d.asset_tag), org.code) for d in devices]


def _label_address() -> dict:
    return {
        "public_address": public_links.public_base_url(),
        "address_warnings": public_links.printed_address_warnings(),
    }


@bp.route("/labels")
@requires("devices.manage")
def labels():
    devices, donation = _selected_devices()
    form = LabelForm(request.args if "layout" in request.args else None)
    return render_template(
        "devices/labels.html", devices=devices, donation=donation, form=form, **_label_address()
    )


@bp.route("/labels/pdf")
@requires("devices.manage")
def labels_pdf():
    devices, donation = _selected_devices()
    form = LabelForm(request.args)
    if not devices:
        form.form_errors.append("Choose at least one device to print labels for.")
    if not form.validate() or not devices:
        return invalid(
            "devices/labels.html",
            devices=devices,
            donation=donation,
            form=form,
            **_label_address(),
        )
    name = f"labels-{donation.reference if donation else len(devices)}.pdf"
    if form.layout.data == "single":
        return _pdf(label_pdf.single_pdf(_labels_for(devices)), name)
    return _pdf(
        label_pdf.sheet_pdf(_labels_for(devices), form.layout.data, form.start.data or 1), name
    )


@bp.route("/devices/<tag>/label.pdf")
@requires("devices.manage")
def device_label(tag):
    device = _device(tag)
    return _pdf(label_pdf.single_pdf(_labels_for([device])), f"label-{device.asset_tag}.pdf")


# ---- donations (coordinators) ----------------------------------------------------------


@bp.route("/donations")
@requires("donations.manage")
def donations():
    filters = DonationFilterForm(request.args)
    filters.validate()
    stmt = queries.donation_list(filters.status.data or "", filters.q.data or "")
    page = db.paginate(stmt, per_page=current_app.config["PER_PAGE"])
    return render_template("devices/donations.html", page=page, filters=filters)


def _donation(reference) -> Donation:
    return get_or_404(queries.donation_by_reference(reference))


def _donation_page(donation, status_code=200, **forms):
    forms.setdefault(
        "schedule_form",
        ScheduleForm(
            formdata=None, scheduled_for=donation.scheduled_for or donation.preferred_from
        ),
    )
    forms.setdefault("receive_form", receive_form(donation, formdata=None))
    forms.setdefault("process_form", process_form(donation, formdata=None))
    forms.setdefault("decline_form", DeclineForm(formdata=None))
    account = service.donor_accounts(donation.donor)
    return render_template(
        "devices/donation.html",
        donation=donation,
        accounts=account,
        impact=impact_figures.donation_impact(donation),
        figures=impact_figures.FIGURES,
        **forms,
    ), status_code


@bp.route("/donations/<reference>")
@requires("donations.manage")
def donation(reference):
    return _donation_page(_donation(reference))


@bp.route("/donations/<reference>/schedule", methods=["POST"])
@requires("donations.manage")
def schedule(reference):
    donation = _donation(reference)
    form = ScheduleForm()
    if form.validate_on_submit():
        with attempt(form) as outcome:
            service.schedule_donation(donation, form.scheduled_for.data, by=current_user)
        if outcome.refused:
            return _donation_page(donation, 422, schedule_form=form)
        flash(
            f"{donation.reference} is scheduled for {form.scheduled_for.data:%d %b %Y}.", "success"
        )
        return redirect(url_for("devices.donation", reference=donation.reference))
    return _donation_page(donation, 422, schedule_form=form)


@bp.route("/donations/<reference>/receive", methods=["POST"])
@requires("donations.manage")
def receive(reference):
    donation = _donation(reference)
    form = receive_form(donation, request.form)
    if form.validate():
        counts = {item.id: form[f"item_{item.id}"].data for item in donation.items}
        with attempt(form) as outcome:
            service.receive_donation(donation, counts, by=current_user)
        if outcome.refused:
            return _donation_page(donation, 422, receive_form=form)
        flash(f"{donation.reference} received: {donation.received_count} devices.", "success")
        return redirect(url_for("devices.donation", reference=donation.reference))
    return _donation_page(donation, 422, receive_form=form)


@bp.route("/donations/<reference>/process", methods=["POST"])
@requires("donations.manage")
def process(reference):
    donation = _donation(reference)
    form = process_form(donation, request.form)
    if form.validate():
        grades = {
            item.id: {
                "condition_grade": form[f"grade_{item.id}"].data,
                "storage_location": form[f"location_{item.id}"].data,
            }
            for item in donation.items
            if f"grade_{item.id}" in form
        }
        with attempt(form) as outcome:
            devices = service.process_donation(donation, grades, by=current_user)
        if outcome.refused:
            return _donation_page(donation, 422, process_form=form)
        flash(
            f"{len(devices)} devices registered from {donation.reference}. Wipe them, then "
            "print their labels.",
            "success",
        )
        return redirect(url_for("devices.donation", reference=donation.reference))
    return _donation_page(donation, 422, process_form=form)


@bp.route("/donations/<reference>/decline", methods=["POST"])
@requires("donations.manage")
def decline(reference):
    donation = _donation(reference)
    form = DeclineForm()
    if form.validate_on_submit():
        with attempt(form) as outcome:
            service.decline_donation(donation, form.reason.data, by=current_user)
        if outcome.refused:
            return _donation_page(donation, 422, decline_form=form)
        flash(f"{donation.reference} is declined.", "success")
        return redirect(url_for("devices.donation", reference=donation.reference))
    return _donation_page(donation, 422, decline_form=form)


@bp.route("/donations/<reference>/account", methods=["POST"])
@requires("donations.manage")
def donor_account(reference):
    """Give the donation's contact a donor account that follows their business's donations."""
    donation = _donation(reference)
    with attempt() as outcome:
        user, token = service.give_donor_account(donation.donor, by=current_user)
    if outcome.refused:
        return _donation_page(donation, 422)
    link = url_for("accounts.accept_invitation", token=token, _external=True) if token else None
    return render_template("devices/donor_account.html", donation=donation, user=user, link=link)


@bp.route("/donations/<reference>/receipt.pdf")
@requires("dashboard")
def receipt(reference):
    """Staff of the organisation, or a donor who follows this business."""
    donation = _donation(reference)
    authorize(service.can_follow_donation(current_user, donation))
    return _pdf(
        receipt_pdf(donation, current_user.organisation, _donate_link(current_user.organisation)),
        f"receipt-{donation.reference}.pdf",
    )


# ---- donors ----------------------------------------------------------------------------


@bp.route("/my-donations")
@requires("donations.follow")
def my_donations():
    donor = service.donor_of_user(current_user)
    donations = db.session.scalars(queries.donations_of_user(current_user)).all()
    return render_template("devices/my_donations.html", donor=donor, donations=donations)


# ---- donor impact: counts only, through the small-number rule ------------------------------


@bp.route("/impact")
@requires("impact.view")
def impact():
    """What your gift achieved: per donation and in total, never a resident."""
    donor = service.donor_of_user(current_user)
    figures = impact_figures.donor_impact(current_user)
    return render_template(
        "devices/impact.html", donor=donor, impact=figures, figures=impact_figures.FIGURES
    )


@bp.route("/impact/<reference>")
@requires("impact.view")
def donation_impact(reference):
    """One donation's figures, for the business that gave it."""
    donation = _donation(reference)
    authorize(service.can_follow_donation(current_user, donation))
    # The same figures as on the donor's list, so one page cannot give away what another hides.
    figures = impact_figures.donor_impact(current_user)
    return render_template(
        "devices/impact_donation.html",
        donation=donation,
        shown=figures.shown_by_donation[donation.id],
        words=figures.words_by_donation[donation.id],
        figures=impact_figures.FIGURES,
    )


@bp.route("/impact.csv")
@requires("impact.view")
def impact_csv():
    donor = service.donor_of_user(current_user)
    data = impact_figures.impact_csv(impact_figures.donor_impact(current_user))
    name = f"impact-{_slug(donor.business_name) if donor else 'donations'}.csv"
    return Response(
        data,
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "private, no-store",
        },
    )


@bp.route("/impact.pdf")
@requires("impact.view")
def impact_report_pdf():
    donor = service.donor_of_user(current_user)
    data = impact_pdf(donor, impact_figures.donor_impact(current_user), current_user.organisation)
    name = f"impact-{_slug(donor.business_name) if donor else 'donations'}.pdf"
    return _pdf(data, name, inline=False)


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")[:40] or "donations"
