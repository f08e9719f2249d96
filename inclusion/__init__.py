"""inclusion: lend donated devices and data, pair residents with IT buddies, and
track, skill by skill, how their confidence grows."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from flask import Flask
from flask_babel import lazy_gettext as _
from flask_login import current_user

from .config import load_config
from .extensions import csrf, db, limiter, login_manager, migrate
from .uploads import LimitedRequest

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None) -> Flask:
    """Application factory: ``flask --app inclusion run`` or ``gunicorn 'inclusion:create_app()'``."""
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        instance_path=str(ROOT / "instance"),
    )
    app.request_class = LimitedRequest
    app.config.update(load_config(app.instance_path, config))

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), compare_type=True)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.session_protection = "strong"
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _("Please sign in to see that page.")
    login_manager.login_message_category = "info"
    from .pagecache import init_page_cache
    from .security import init_session_security

    # Innermost around the app, so the proxy fix has given it the client's address.
    init_page_cache(app)
    init_session_security(app)

    from .transactions import configure_sqlite

    with app.app_context():
        configure_sqlite(db.engine, busy_timeout=app.config["SQLITE_BUSY_TIMEOUT"])

    _register_models()
    _register_blueprints(app)

    from .security import init_security_headers
    from .tenancy import scope_session
    from .web import init_unit_of_work

    init_unit_of_work(app)
    from .dataversion import init_data_version

    init_data_version()
    init_security_headers(app)

    @app.before_request
    def _scope_to_organisation():
        # The one place queries get their organisation: the signed-in user's.
        if current_user.is_authenticated:
            scope_session(db.session, current_user.organisation_id)
        else:
            scope_session(db.session, None)

    from . import i18n
    from .errors import init_error_pages
    from .templating import init_templating

    i18n.init_app(app)

    init_templating(app)
    init_error_pages(app)

    from .cli import cli
    from .registry import registry

    for command in registry(app).commands:
        if command.name not in cli.commands:
            cli.add_command(command)
    app.cli.add_command(cli)
    return app


def _register_models() -> None:
    # Import the core's models; each feature imports its own in its init_app.
    from . import audit, references  # noqa: F401
    from .accounts import models as _a  # noqa: F401
    from .dataprotection import models as _d  # noqa: F401
    from .messages import models as _m  # noqa: F401
    from .residents import models as _r  # noqa: F401


def _register_blueprints(app: Flask) -> None:
    from . import main
    from .accounts.views import bp as accounts_bp
    from .registry import init_registry, load_features
    from .residents.views import bp as residents_bp

    app.register_blueprint(main.bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(residents_bp)
    reg = init_registry(app)
    reg.add_navigation("dashboard", "main.dashboard", "Home")
    reg.add_navigation("residents.view", "residents.index", "Residents", group="residents")
    reg.add_navigation("users.manage", "accounts.users", "Users", admin=True)
    reg.add_navigation("settings.manage", "accounts.settings", "Settings", admin=True)
    reg.add_public_form("residents.refer", _("Refer yourself or someone else"))
    # The core declares its personal data first, then each feature its own.
    from . import accounts, messages, residents

    accounts.init_app(app)
    residents.init_app(app)
    messages.init_app(app)
    load_features(app)

    from . import api, dataprotection, disclosure, reports

    disclosure.init_app(app)
    reports.init_app(app)
    api.init_app(app)
    dataprotection.init_app(app)


@login_manager.user_loader
def _load_user(session_id: str):
    # The session holds "<user id>:<session generation>" (User.get_id); a cookie whose
    # generation is no longer the user's was ended by sign-out, a new password, a role
    # or access change, and signs nobody in.
    user_id, _, generation = session_id.partition(":")
    if not (user_id.isdigit() and generation.isdigit()):
        return None
    from .tenancy import unscoped

    with unscoped():
        user = db.session.scalars(_user_by_id(), {"user_id": int(user_id)}).one_or_none()
    if user is None or user.session_generation != int(generation):
        return None
    return user


@cache
def _user_by_id():
    # One statement object for every request: its cache key is worked out once, where
    # ``session.get`` builds (and keys) a new statement each time.
    from sqlalchemy import bindparam, select

    from .accounts.models import User

    return select(User).where(User.id == bindparam("user_id"))
