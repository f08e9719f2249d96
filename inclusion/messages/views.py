from __future__ import annotations

import hmac

from flask import (
    Blueprint,
    abort,
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

from .. import audit
from ..extensions import csrf, db, limiter
from ..i18n import DEFAULT, LANGUAGES
from ..permissions import can_manage_resident, public, requires
from ..residents.models import Resident
from ..web import attempt, get_or_404, invalid
from . import service, texts
from .channels import email_configured, sms_configured
from .forms import ContactPreferenceForm, EmptyForm, MessageTextForm
from .models import CANCELLED, CHANNELS, QUEUED, SENT, Message

bp = Blueprint("messages", __name__)

VIEWS = {
    "to_do": "To do by phone",
    "queued": "Queued",
    "sent": "Sent",
    "cancelled": "Cancelled",
    "all": "All",
}


def channel_status(config=None) -> dict[str, str]:
    """How each channel goes out here, for the Messages and settings pages."""
    config = config or current_app.config
    development = config["MESSAGES_DEVELOPMENT_OUTBOX"]
    return {
        "sms": "GOV.UK Notify"
        if sms_configured(config)
        else ("development outbox (not sent)" if development else "off"),
        "email": "SMTP"
        if email_configured(config)
        else ("development outbox (not sent)" if development else "off"),
        "letter": "printed here, posted by you",
    }


@bp.app_context_processor
def _channels():
    return {"message_channel_status": channel_status}


def _listing(view: str):
    if view == "to_do":
        return service.to_do()
    stmt = select(Message)
    status = {"queued": QUEUED, "sent": SENT, "cancelled": CANCELLED}.get(view)
    if status:
        stmt = stmt.where(Message.status == status)
    if view == "queued":
        return stmt.order_by(Message.next_attempt_at, Message.id)
    return stmt.order_by(Message.created_at.desc(), Message.id.desc())


@bp.route("/messages")
@requires("messages.manage")
def index():
    view = request.args.get("show", "to_do")
    if view not in VIEWS:
        view = "to_do"
    page = db.paginate(_listing(view), per_page=current_app.config["PER_PAGE"], error_out=False)
    counts = dict(
        db.session.execute(select(Message.status, func.count()).group_by(Message.status)).all()
    )
    to_do = db.session.scalar(select(func.count()).select_from(service.to_do().subquery()))
    letters = db.session.scalar(select(func.count()).select_from(service.letters_due().subquery()))
    return render_template(
        "messages/index.html",
        page=page,
        view=view,
        views=VIEWS,
        counts=counts,
        to_do=to_do,
        letters=letters,
        channels=channel_status(),
    )


def _message_or_404(message_id: int) -> Message:
    return get_or_404(select(Message).where(Message.id == message_id))


@bp.route("/messages/<int:message_id>")
@requires("messages.manage")
def detail(message_id):
    message = _message_or_404(message_id)
    return render_template(
        "messages/detail.html",
        message=message,
        form=EmptyForm(),
        to_do=service.is_to_do(message),
    )


def _action(message_id: int, act, done: str):
    message = _message_or_404(message_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    with attempt() as outcome:
        act(message, by=current_user._get_current_object())
    if not outcome.refused:
        flash(done, "success")
    return redirect(url_for("messages.detail", message_id=message.id))


@bp.route("/messages/<int:message_id>/retry", methods=["POST"])
@requires("messages.manage")
def retry(message_id):
    return _action(message_id, service.retry, "It is queued again.")


@bp.route("/messages/<int:message_id>/cancel", methods=["POST"])
@requires("messages.manage")
def cancel(message_id):
    return _action(message_id, service.cancel, "Cancelled: it will not be sent.")


@bp.route("/messages/<int:message_id>/resolve", methods=["POST"])
@requires("messages.manage")
def resolve(message_id):
    return _action(message_id, service.resolve, "Done: marked as dealt with by phone.")


# ---- letters --------------------------------------------------------------------------


@bp.route("/messages/letters")
@requires("messages.manage")
def letters():
    due = db.session.scalars(service.letters_due()).all()
    return render_template("messages/letters.html", letters=due, form=EmptyForm())


@bp.route("/messages/letters.pdf")
@requires("messages.manage")
def letters_pdf():
    from .letters import letters_pdf as make_pdf

    due = db.session.scalars(service.letters_due()).all()
    if not due:
        flash("There are no letters to print today.", "info")
        return redirect(url_for("messages.letters"))
    pdf = make_pdf(due, current_user.organisation)
    return current_app.response_class(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": "inline; filename=letters.pdf"},
    )


@bp.route("/messages/letters/posted", methods=["POST"])
@requires("messages.manage")
def letters_posted():
    if not EmptyForm().validate_on_submit():
        abort(400)
    ids = [int(v) for v in request.form.getlist("message_id") if v.isdigit()]
    with attempt() as outcome:
        count = service.confirm_posted(ids, by=current_user._get_current_object())
    if not outcome.refused:
        flash(f"{count} letters marked as posted.", "success")
    return redirect(url_for("messages.letters"))


# ---- residents' contact preferences ----------------------------------------------------


def contact_preference_of(resident):
    return service.preference_of(resident)


def messages_of_resident(resident, limit: int = 5):
    return db.session.scalars(
        select(Message)
        .where(Message.resident_id == resident.id)
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(limit)
    ).all()


@bp.route("/residents/<ref>/contact", methods=["GET", "POST"])
@requires("residents.manage")
def contact(ref):
    resident = get_or_404(select(Resident).where(Resident.reference == ref))
    if not can_manage_resident(current_user, resident):
        abort(403)
    pref = service.preference_of(resident)
    form = ContactPreferenceForm(obj=pref)
    if form.validate_on_submit():
        with attempt(form) as outcome:
            service.save_contact_preference(
                resident, form.data, by=current_user._get_current_object()
            )
        if outcome.refused:
            return invalid("messages/contact.html", form=form, resident=resident)
        flash("Contact preferences saved.", "success")
        return redirect(url_for("residents.detail", reference=resident.reference))
    if form.is_submitted():
        return invalid("messages/contact.html", form=form, resident=resident)
    return render_template("messages/contact.html", form=form, resident=resident)


# ---- an organisation's own texts (admins) ---------------------------------------------


@bp.route("/admin/message-texts", endpoint="texts")
@requires("message_texts.manage")
def texts_index():
    from .models import MessageText

    own: dict[tuple[str, str], list[str]] = {}
    for row in db.session.scalars(select(MessageText).order_by(MessageText.language)):
        own.setdefault((row.purpose, row.channel), []).append(row.language)
    return render_template(
        "messages/texts.html",
        purposes=sorted(texts.purposes().values(), key=lambda p: (p.audience, p.key)),
        own=own,
        channels=CHANNELS,
        audiences=texts.AUDIENCES,
        status=channel_status(),
    )


@bp.route("/admin/message-texts/<purpose>/<channel>", methods=["GET", "POST"])
@requires("message_texts.manage")
def edit_text(purpose, channel):
    spec = texts.purposes().get(purpose)
    if spec is None or channel not in spec.texts:
        abort(404)
    language = request.values.get("language", "English")
    wording = texts.wording(spec, channel, current_user.organisation_id, language).text
    form = MessageTextForm(
        data={"language": language, "subject": wording.subject, "body": wording.body}
    )
    if request.method == "POST":
        form = MessageTextForm()
    context = dict(
        form=form,
        purpose=spec,
        channel=channel,
        channels=CHANNELS,
        translated=[lang.english for code, lang in LANGUAGES.items() if code != DEFAULT],
    )
    if form.validate_on_submit():
        if request.form.get("action") != "save":
            return render_template(
                "messages/edit_text.html", preview=_preview(spec, channel, form), **context
            )
        with attempt(form) as outcome:
            service.save_text(
                current_user.organisation_id,
                purpose,
                channel,
                language=form.language.data,
                subject=form.subject.data,
                body=form.body.data,
                by=current_user._get_current_object(),
            )
        if outcome.refused:
            return invalid("messages/edit_text.html", preview=None, **context)
        flash("Saved: new messages use this text.", "success")
        return redirect(url_for("messages.texts"))
    if form.is_submitted():
        return invalid("messages/edit_text.html", preview=None, **context)
    return render_template("messages/edit_text.html", preview=None, **context)


def _preview(spec, channel: str, form) -> dict:
    """The text as a recipient would see it, with the longest sample details, and what
    would stop it being saved."""
    sample = spec.sample()
    body = texts.render(form.body.data or "", sample)
    problems = texts.problems(spec, channel, form.subject.data or "", form.body.data or "")
    for field, problem in problems.items():
        getattr(form, field).errors = [*getattr(form, field).errors, problem]
    return {
        "subject": texts.render(form.subject.data or "", sample),
        "body": body,
        "segments": texts.sms_segments(body) if channel == "sms" else None,
        "problems": problems,
    }


# ---- GOV.UK Notify's delivery receipts ------------------------------------------------


def _callback_problem(status: int, error: str, message: str):
    response = jsonify({"error": error, "message": message})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="inclusion"'
    return response


def _callback_token_ok() -> bool:
    """The bearer token Notify was given, compared in constant time (never when unset)."""
    expected = current_app.config["NOTIFY_CALLBACK_TOKEN"]
    header = request.headers.get("Authorization", "")
    scheme, _, presented = header.partition(" ")
    if not expected or scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(presented.strip().encode(), expected.encode())


@bp.route("/messages/delivery-receipts", methods=["POST"])
@csrf.exempt  # Notify authenticates with its bearer token, not a session cookie
@limiter.limit(lambda: current_app.config["NOTIFY_CALLBACK_LIMIT"])
@public  # no session: the bearer token below is the authentication
def delivery_receipt():
    """GOV.UK Notify calls back with what became of a text (``{"id", "reference",
    "status", ...}``): the message's delivery status is updated, once."""
    if not _callback_token_ok():
        return _callback_problem(
            401, "unauthorized", "Send the callback token: `Authorization: Bearer <token>`."
        )
    request.max_content_length = 16 * 1024  # a receipt is a few hundred bytes
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict) or not isinstance(payload.get("status"), str):
        return _callback_problem(400, "bad_request", "Send Notify's receipt as a JSON object.")
    status = payload["status"]
    if status not in service.DELIVERY_REASONS:
        return _callback_problem(400, "bad_request", f"Unknown delivery status {status[:40]!r}.")
    with audit.acting_as(service.NOTIFY_CALLBACK):
        message = service.message_for_notification(
            str(payload.get("id") or ""), str(payload.get("reference") or "")
        )
        if message is None:
            return _callback_problem(404, "not_found", "No text was sent with this id.")
        changed = service.record_delivery_status(message, status)
    return jsonify({"message": message.id, "status": message.status, "changed": changed})
