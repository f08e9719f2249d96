"""Admin pages for API keys, and the JSON referral endpoint partner systems call."""

from __future__ import annotations

import json
import time

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.http import HTTP_STATUS_CODES

from ..extensions import csrf, db, limiter
from ..permissions import public, requires
from ..residents.service import PERSON_FIELDS
from ..tenancy import scope_session
from ..web import attempt, get_or_404, invalid
from . import service
from .forms import ApiKeyForm, RevokeKeyForm, api_field, check_referral
from .models import ApiKey
from .openapi import openapi_document

bp = Blueprint("api", __name__)

_REFERRAL_FIELDS = set(PERSON_FIELDS)


# ---- admin: keys -------------------------------------------------------------------


@bp.route("/admin/api-keys")
@requires("api_keys.manage")
def keys():
    page = db.paginate(
        select(ApiKey)
        .options(selectinload(ApiKey.created_by), selectinload(ApiKey.revoked_by))
        .order_by(ApiKey.revoked_at.is_not(None), ApiKey.name, ApiKey.id),
        per_page=current_app.config["PER_PAGE"],
    )
    return render_template("api/keys.html", page=page)


@bp.route("/admin/api-keys/new", methods=["GET", "POST"])
@requires("api_keys.manage")
def new_key():
    form = ApiKeyForm()
    if form.validate_on_submit():
        with attempt(form) as outcome:
            key, secret = service.create_key(
                current_user.organisation, form.name.data, by=current_user
            )
        if outcome.refused:
            return invalid("api/new.html", form=form)
        # Shown on this response only: never stored, never redirected to, never cached.
        response = make_response(render_template("api/created.html", key=key, secret=secret))
        response.headers["Cache-Control"] = "no-store"
        return response
    if form.is_submitted():
        return invalid("api/new.html", form=form)
    return render_template("api/new.html", form=form)


@bp.route("/admin/api-keys/<int:key_id>/revoke", methods=["GET", "POST"])
@requires("api_keys.manage")
def revoke_key(key_id):
    key = get_or_404(select(ApiKey).where(ApiKey.id == key_id))
    form = RevokeKeyForm()
    if form.validate_on_submit():
        with attempt() as outcome:
            service.revoke_key(key, by=current_user)
        if outcome.refused:
            return redirect(url_for("api.keys"))
        flash(f"The key “{key.name}” is revoked. Requests with it are now refused.", "success")
        return redirect(url_for("api.keys"))
    if form.is_submitted():
        abort(400)
    return render_template("api/revoke.html", key=key, form=form)


# ---- the JSON API ------------------------------------------------------------------


def _presented_key() -> str:
    auth = request.headers.get("Authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    return request.headers.get("X-API-Key", "").strip()


def _rate_limit() -> str:
    return current_app.config["API_RATE_LIMIT"]


def _limit_bucket() -> str:
    return service.limit_bucket(_presented_key())


MAX_BODY = 64 * 1024  # a referral is a few kilobytes at most


def _json_body():
    """The parsed JSON body, or ``None`` when it is not JSON (413 when far too large)."""
    if not request.is_json:
        return None
    request.max_content_length = MAX_BODY
    try:
        return json.loads(request.get_data(cache=True))
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        return None


def problem(status: int, error: str, message: str, **extra):
    """A JSON error: ``{"error": code, "message": text, ...}``."""
    response = jsonify({"error": error, "message": message, **extra})
    response.status_code = status
    return response


@bp.route("/api/referrals", methods=["POST"])
@csrf.exempt  # JSON clients authenticate with a key, not a session cookie; the admin pages keep CSRF
@limiter.limit(_rate_limit, key_func=_limit_bucket)
@public  # no session: the API key below is the authentication
def create_referral():
    key = service.authenticate(_presented_key())
    if key is None:
        response = problem(
            401,
            "unauthorized",
            "Send a valid API key: `Authorization: Bearer <key>` or `X-API-Key: <key>`.",
        )
        response.headers["WWW-Authenticate"] = 'Bearer realm="inclusion"'
        return response
    scope_session(db.session, key.organisation_id)
    payload = _json_body()
    if not isinstance(payload, dict):
        return problem(
            400,
            "bad_request",
            "Send the referral as a JSON object with `Content-Type: application/json`.",
        )
    form, errors = check_referral(payload, key.organisation)
    if not errors:
        data = {k: f.data for k, f in form._fields.items() if k in _REFERRAL_FIELDS}
        with attempt(flash_message=False) as outcome:
            resident = service.take_referral(key, data)
        if outcome.refused:
            errors = {api_field(outcome.error.field): [outcome.error.message]}
    if errors:
        return problem(422, "invalid", "Some fields need attention.", errors=errors)
    location = url_for("residents.detail", reference=resident.reference)
    response = jsonify(
        {"reference": resident.reference, "status": resident.status, "url": location}
    )
    response.status_code = 201
    response.headers["Location"] = location
    return response


@bp.route("/api/openapi.json")
@public
def openapi():
    return jsonify(openapi_document())


# Errors on /api/* paths are JSON too, whichever part of the app raised them.
_ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    500: "server_error",
}
_MESSAGES = {
    404: "There is nothing at this address. The API is described at /api/openapi.json.",
    405: "This method is not allowed here. The API is described at /api/openapi.json.",
    429: "Too many requests with this key. Wait a minute and try again.",
    500: "Something went wrong on our side. Nothing was saved; please try again.",
}


def json_errors(response):
    """after_request: turn an HTML error page under /api/ into a JSON error."""
    if (
        request.path.startswith("/api/")
        and response.status_code >= 400
        and response.mimetype != "application/json"
    ):
        code = response.status_code
        message = _MESSAGES.get(code, HTTP_STATUS_CODES.get(code, "Error"))
        response.set_data(
            json.dumps({"error": _ERROR_CODES.get(code, "error"), "message": message})
        )
        response.mimetype = "application/json"
        if code == 429 and limiter.current_limit is not None:
            wait = int(limiter.current_limit.reset_at - time.time())
            response.headers["Retry-After"] = str(max(wait, 1))
        routing = request.routing_exception
        if (
            code == 405
            and "Allow" not in response.headers
            and getattr(routing, "valid_methods", None)
        ):
            # The HTML error page drops the header that says which methods would do (RFC 9110).
            response.headers["Allow"] = ", ".join(routing.valid_methods)
    return response
