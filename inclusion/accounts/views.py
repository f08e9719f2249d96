from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from .. import public_links
from ..extensions import db, limiter
from ..permissions import can_manage_user, public, requires
from ..redirects import safe_next
from ..transactions import reading
from ..web import attempt, invalid
from . import service
from .forms import EmptyForm, InviteForm, OrganisationForm, RoleForm, SetPasswordForm, SignInForm
from .models import User

bp = Blueprint("accounts", __name__)


def _login_failed(response) -> bool:
    # 503: the database was busy, the password was not even checked to the end.
    return request.method == "POST" and response.status_code not in (302, 503)


def _account_key() -> str:
    # The sign-in form also accepts a JSON body (Flask-WTF reads it), so read the
    # account from whichever body the form will read: a JSON attempt counts for its account.
    email = request.form.get("email")
    if email is None and request.is_json:
        body = request.get_json(silent=True)
        email = body.get("email") if isinstance(body, dict) else None
    return "account:" + service.normalise_email(email if isinstance(email, str) else "")


def _safe_next(target: str | None) -> str:
    return safe_next(target, url_for("main.dashboard"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT"], methods=["POST"], deduct_when=_login_failed
)
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT"],
    key_func=_account_key,
    methods=["POST"],
    deduct_when=_login_failed,
)
@public
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    form = SignInForm()
    if form.validate_on_submit():
        with reading():  # argon2 must not hold SQLite's write lock
            user = service.authenticate(form.email.data, form.password.data)
        if user is None:
            form.form_errors.append(
                "That email address and password do not match an active account."
            )
            return invalid("accounts/login.html", form=form)
        login_user(user)
        service.record_sign_in(user)
        return redirect(_safe_next(request.args.get("next")))
    if form.is_submitted():
        return invalid("accounts/login.html", form=form)
    return render_template("accounts/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@requires("dashboard")
def logout():
    form = EmptyForm()
    if form.validate_on_submit():
        service.sign_out(current_user._get_current_object())
        logout_user()
        flash("You are signed out, on this device and every other.", "success")
    return redirect(url_for("main.home"))


@bp.route("/invitations/<token>", methods=["GET", "POST"])
@public
def accept_invitation(token):
    invitation = service.find_invitation(token)
    if invitation is None:
        return render_template("accounts/invitation_invalid.html"), 404
    form = SetPasswordForm()
    if form.validate_on_submit():
        with attempt(form) as outcome:
            with reading():  # argon2 must not hold SQLite's write lock
                new = service.new_password(invitation, form.password.data)
            user = service.accept_invitation(invitation, new)
        if outcome.refused:
            return invalid("accounts/set_password.html", form=form, invitation=invitation)
        logout_user()
        login_user(user)
        service.record_sign_in(user)
        flash("Your password is set and you are signed in.", "success")
        return redirect(url_for("main.dashboard"))
    if form.is_submitted():
        return invalid("accounts/set_password.html", form=form, invitation=invitation)
    return render_template("accounts/set_password.html", form=form, invitation=invitation)


# ---- admin: users and settings ---------------------------------------------------


def _user_or_404(user_id: int) -> User:
    user = db.session.scalar(select(User).where(User.id == user_id))
    if user is None or not can_manage_user(current_user, user):
        abort(404)
    return user


@bp.route("/admin/users")
@requires("users.manage")
def users():
    page = db.paginate(
        select(User).order_by(User.active.desc(), User.name),
        per_page=current_app.config["PER_PAGE"],
    )
    return render_template("accounts/users.html", page=page, action_form=EmptyForm())


@bp.route("/admin/users/invite", methods=["GET", "POST"])
@requires("users.manage")
def invite():
    form = InviteForm()
    if form.validate_on_submit():
        with attempt(form) as outcome:
            user, token = service.invite_user(
                current_user.organisation,
                email=form.email.data,
                name=form.name.data,
                role=form.role.data,
                by=current_user,
            )
        if outcome.refused:
            return invalid("accounts/invite.html", form=form)
        link = url_for("accounts.accept_invitation", token=token, _external=True)
        return render_template("accounts/invited.html", invited=user, link=link)
    if form.is_submitted():
        return invalid("accounts/invite.html", form=form)
    return render_template("accounts/invite.html", form=form)


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@requires("users.manage")
def user_detail(user_id):
    user = _user_or_404(user_id)
    form = RoleForm(obj=user)
    if form.validate_on_submit():
        with attempt(form) as outcome:
            service.change_role(user, form.role.data, by=current_user)
        if outcome.refused:
            return invalid("accounts/user.html", user=user, form=form, action_form=EmptyForm())
        flash(f"{user.name} is now {user.role_label}.", "success")
        return redirect(url_for("accounts.users"))
    if form.is_submitted():
        return invalid("accounts/user.html", user=user, form=form, action_form=EmptyForm())
    return render_template("accounts/user.html", user=user, form=form, action_form=EmptyForm())


@bp.route("/admin/users/<int:user_id>/active", methods=["POST"])
@requires("users.manage")
def set_active(user_id):
    user = _user_or_404(user_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    make_active = request.form.get("active") == "1"
    with attempt() as outcome:
        service.set_active(user, make_active, by=current_user)
    if outcome.refused:
        return redirect(url_for("accounts.user_detail", user_id=user.id))
    flash(f"{user.name} is {'active' if make_active else 'deactivated'}.", "success")
    return redirect(url_for("accounts.users"))


@bp.route("/admin/users/<int:user_id>/sessions", methods=["POST"])
@requires("users.manage")
def end_sessions(user_id):
    user = _user_or_404(user_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    service.sign_out_everywhere(user, by=current_user._get_current_object())
    if user.id == current_user.id:
        # Everywhere else: this session carries on with the new generation.
        login_user(user)
        flash("You are signed out on every other device.", "success")
    else:
        flash(f"{user.name} is signed out on every device.", "success")
    return redirect(url_for("accounts.user_detail", user_id=user.id))


@bp.route("/admin/users/<int:user_id>/invitation", methods=["POST"])
@requires("users.manage")
def reinvite(user_id):
    user = _user_or_404(user_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    token = service.issue_invitation(user, by=current_user)
    if user.id == current_user.id:
        login_user(user)  # the link ended every other session; this one carries on
    link = url_for("accounts.accept_invitation", token=token, _external=True)
    return render_template("accounts/invited.html", invited=user, link=link)


@bp.route("/admin/settings", methods=["GET", "POST"])
@requires("settings.manage")
def settings():
    org = current_user.organisation
    form = OrganisationForm(obj=org)
    if form.validate_on_submit():
        data = {
            name: ("" if field.data is None else field.data)
            for name, field in form._fields.items()
            if name != "csrf_token"
        }
        changed = service.update_organisation(org, data, by=current_user)
        flash("Settings saved." if changed else "Nothing changed.", "success")
        return redirect(url_for("accounts.settings"))
    links = public_links.organisation_links(org)
    if form.is_submitted():
        return invalid("accounts/settings.html", form=form, org=org, links=links)
    return render_template("accounts/settings.html", form=form, org=org, links=links)
