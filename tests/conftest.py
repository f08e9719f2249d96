"""Fixtures: an app per database (SQLite always, PostgreSQL when
``INCLUSION_TEST_DATABASE_URL`` is set), a ``db`` that rolls back after each
test, clients signed in as each role, and a query counter.

The schema is built by the migrations (``flask db upgrade``), never by
``create_all``, so a missing migration fails the suite.
"""

from __future__ import annotations

import os
import threading
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, time

import flask_migrate
import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, event, select, text
from sqlalchemy.engine import make_url

import inclusion.clock as _clock
from inclusion import create_app
from inclusion.extensions import db as _db
from inclusion.extensions import limiter

PG_URL = os.environ.get("INCLUSION_TEST_DATABASE_URL", "").strip()
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
PASSWORD = "correct horse battery staple"

# ---- one day for the whole run -------------------------------------------------------
# Tests work out dates when they are collected ("a date in the future", "today"); a run that
# crossed midnight UTC had the app in the next day. The app's clock (inclusion.clock, which
# every "now" and "today" of the app goes through) stops at 23:59:59 of the day the run began.


class _RunDay(datetime):
    day = _clock.now().date()

    @classmethod
    def now(cls, tz=None):
        moment = datetime.now(tz)
        return min(moment, datetime.combine(cls.day, time(23, 59, 59), tzinfo=moment.tzinfo))


_clock.datetime = _RunDay

if IN_CI and not PG_URL:
    raise pytest.UsageError(
        "CI=true but INCLUSION_TEST_DATABASE_URL is not set: PostgreSQL tests must run"
    )


# ---- databases ---------------------------------------------------------------------


def _postgresql_only(item) -> bool:
    return "pg_two_sessions" in getattr(item, "fixturenames", ()) or bool(
        item.get_closest_marker("postgresql_only")
    )


@pytest.hookimpl(tryfirst=True)  # before the fixture's own params are applied
def pytest_generate_tests(metafunc):
    """A test that races two connections (it uses ``pg_two_sessions``) or is marked
    ``postgresql_only`` runs on PostgreSQL only: it is generated for PostgreSQL, never
    collected for SQLite."""
    if _postgresql_only(metafunc.definition) and PG_URL:
        # As a mark, so it takes the place of the ``app`` fixture's own list of databases.
        metafunc.definition.add_marker(
            pytest.mark.parametrize("app", ["postgresql"], indirect=True, scope="session")
        )


def pytest_collection_modifyitems(config, items):
    """Without PostgreSQL there is nothing to race on: the two-connection tests are left out
    (deselected, not skipped); CI always has PostgreSQL (see ``IN_CI`` above)."""
    if PG_URL:
        return
    left_out = [item for item in items if _postgresql_only(item)]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [item for item in items if item not in left_out]


def _create_pg_database(base_url: str) -> tuple[str, callable]:
    """A fresh PostgreSQL database for this test run (so parallel runs never collide)."""
    url = make_url(base_url)
    name = f"inclusion_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()

    def drop():
        eng = create_engine(url, isolation_level="AUTOCOMMIT")
        with eng.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        eng.dispose()

    return url.set(database=name).render_as_string(hide_password=False), drop


@pytest.fixture(scope="session")
def make_database(tmp_path_factory):
    """Factory: a new, empty database URL for ``backend``; dropped at the end of the run."""
    drops = []

    def make(backend: str) -> str:
        if backend == "sqlite":
            path = tmp_path_factory.mktemp("db") / "test.sqlite3"
            return f"sqlite:///{path}"
        url, drop = _create_pg_database(PG_URL)
        drops.append(drop)
        return url

    yield make
    for drop in drops:
        drop()


def make_test_app(database_url: str, **overrides):
    config = {"ENV": "testing", "SQLALCHEMY_DATABASE_URI": database_url, "WTF_CSRF_ENABLED": False}
    config.update(overrides)
    app = create_app(config)
    with app.app_context():
        flask_migrate.upgrade(revision="heads")
    return app


class FreshContextClient(FlaskClient):
    """Each request runs in its own app context, as in production (fresh ``g``,
    fresh session), while the test keeps its own context for factories."""

    def open(self, *args, **kwargs):
        kwargs.setdefault("buffered", True)
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        if _db.session.registry.has():
            _db.session.expire_all()
        return response


@pytest.fixture(scope="session", params=BACKENDS)
def app(request, make_database):
    app = make_test_app(make_database(request.param))
    app.test_client_class = FreshContextClient
    # Sessions join the test's outer transaction through a savepoint, so a
    # request's commit or rollback never escapes the test.
    _db.session.session_factory.kw["join_transaction_mode"] = "create_savepoint"
    app.backend = request.param
    yield app
    with app.app_context():
        _db.engine.dispose()


@pytest.fixture
def db(app):
    """The database, inside one transaction that is rolled back after the test."""
    with app.app_context():
        engines = _db._app_engines[app]
        engine = engines[None]
        connection = engine.connect()
        outer = connection.begin()
        engines[None] = connection
        limiter.reset()
        # Kept report figures name organisations by id and data version, and ids come
        # again after a rollback: each test starts with none.
        from inclusion.reports.cache import forget_all

        forget_all(app)
        try:
            yield _db
        finally:
            _db.session.remove()
            engines[None] = engine
            if outer.is_active:
                outer.rollback()
            connection.close()


@pytest.fixture
def count_queries(db):
    """``with count_queries() as q: ...`` then ``q.count``: statements sent to the database."""
    from contextlib import contextmanager

    @dataclass
    class Counter:
        count: int = 0
        statements: list = None

    @contextmanager
    def counting():
        counter = Counter(statements=[])
        connection = _db.engines[None]  # the test transaction's connection

        def before(conn, cursor, statement, parameters, context, executemany):
            if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO")):
                counter.count += 1
                counter.statements.append(statement)

        event.listen(connection, "before_cursor_execute", before)
        try:
            yield counter
        finally:
            event.remove(connection, "before_cursor_execute", before)

    return counting


# ---- people ------------------------------------------------------------------------


@pytest.fixture
def org(db):
    from tests.factories import OrganisationFactory

    return OrganisationFactory(name="Test Digital Inclusion", code="TDI")


@pytest.fixture
def other_org(db):
    from tests.factories import OrganisationFactory

    return OrganisationFactory(name="Elsewhere Link Workers", code="ELW")


def sign_in(app, user, password=PASSWORD) -> FlaskClient:
    client = app.test_client()
    response = client.post("/login", data={"email": user.email, "password": password})
    assert response.status_code == 302, f"sign-in failed for {user.email}: {response.status_code}"
    return client


def _role_user(org, role, **kw):
    from tests.factories import UserFactory

    return UserFactory(organisation=org, role=role, **kw)


@pytest.fixture
def admin_user(org):
    return _role_user(org, "admin", name="Ada Admin")


@pytest.fixture
def coordinator_user(org):
    return _role_user(org, "coordinator", name="Cleo Coordinator")


@pytest.fixture
def buddy_user(org):
    return _role_user(org, "buddy", name="Ben Buddy")


@pytest.fixture
def donor_user(org):
    return _role_user(org, "donor", name="Dora Donor")


@pytest.fixture
def other_coordinator_user(other_org):
    return _role_user(other_org, "coordinator", name="Otto Otherorg")


@pytest.fixture
def commissioner_user(org, other_org):
    """A commissioner of a programme of ``org`` and ``other_org``."""
    from outcomes.models import Programme, ProgrammeCommissioner, ProgrammeMember

    user = _role_user(org, "commissioner", name="Cass Commissioner")
    programme = Programme(name="Test programme")
    _db.session.add(programme)
    _db.session.flush()
    for member in (org, other_org):
        _db.session.add(ProgrammeMember(programme_id=programme.id, organisation_id=member.id))
    _db.session.add(ProgrammeCommissioner(programme_id=programme.id, user_id=user.id))
    _db.session.flush()
    return user


@pytest.fixture
def client(app, db):
    return app.test_client()


@pytest.fixture
def admin(app, admin_user):
    return sign_in(app, admin_user)


@pytest.fixture
def coordinator(app, coordinator_user):
    return sign_in(app, coordinator_user)


@pytest.fixture
def buddy(app, buddy_user):
    return sign_in(app, buddy_user)


@pytest.fixture
def donor(app, donor_user):
    return sign_in(app, donor_user)


@pytest.fixture
def other_coordinator(app, other_coordinator_user):
    return sign_in(app, other_coordinator_user)


def row_counts(*models) -> dict[str, int]:
    """Rows per table, to prove bad input changed nothing."""
    from sqlalchemy import func, select

    return {
        m.__tablename__: _db.session.scalar(select(func.count()).select_from(m)) for m in models
    }


# ---- two desks at once (PostgreSQL) -------------------------------------------------


@dataclass
class TwoSessions:
    """Races between two real database connections, for ``pg_two_sessions``.

    The test's usual rolled-back transaction cannot be shared by two connections, so rows
    are arranged and committed in ``committed()``; every organisation created there is
    deleted with all its rows after the test.
    """

    app: object
    organisation_ids: list[int] = field(default_factory=list)

    @contextmanager
    def committed(self):
        """Arrange rows both desks must see: runs in an app context, commits at the end."""
        from inclusion.accounts.models import Organisation

        with self.app.app_context():
            before = set(_db.session.scalars(select(Organisation.id)))
            try:
                yield _db.session
                _db.session.flush()
                self.organisation_ids += [
                    i for i in _db.session.scalars(select(Organisation.id)) if i not in before
                ]
                _db.session.commit()
            finally:
                _db.session.remove()

    @contextmanager
    def reading(self):
        """A fresh session to look at what the race left behind."""
        with self.app.app_context():
            try:
                yield _db.session
            finally:
                _db.session.remove()

    def race(self, *desks, timeout: float = 30) -> list[str]:
        """Run each desk at once, each in its own thread, app context and connection.

        A desk is called with ``ready``: it reads what its page would have read, calls
        ``ready()`` (so every desk acts at the same moment, on what it read), then acts. Its
        work is committed, or rolled back when refused. Returns, desk by desk, ``"done"``,
        the refusal's message, or ``"error: ..."`` for anything else.
        """
        from inclusion.errors import RuleBroken

        barrier = threading.Barrier(len(desks), timeout=timeout)
        outcomes = ["not run"] * len(desks)

        def run(index, desk):
            with self.app.app_context():
                try:
                    desk(barrier.wait)
                    _db.session.commit()
                    outcomes[index] = "done"
                except RuleBroken as err:
                    _db.session.rollback()
                    outcomes[index] = err.message
                except Exception as err:  # noqa: BLE001 - reported in the outcome
                    _db.session.rollback()
                    barrier.abort()
                    outcomes[index] = f"error: {err!r}"
                finally:
                    _db.session.remove()

        threads = [
            threading.Thread(target=run, args=(i, desk), daemon=True)
            for i, desk in enumerate(desks)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=timeout * 2)
        return outcomes

    def remove_organisations(self) -> None:
        """Delete every row of the organisations made in ``committed()`` (audit events too:
        the append-only triggers are set aside for this connection's transaction)."""
        if not self.organisation_ids:
            return
        with self.app.app_context(), _db.engine.begin() as conn:
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            ids = {"ids": self.organisation_ids}
            for table in reversed(_db.metadata.sorted_tables):
                if "organisation_id" in table.c:
                    conn.execute(table.delete().where(table.c.organisation_id.in_(ids["ids"])))
            organisation = _db.metadata.tables["organisation"]
            conn.execute(organisation.delete().where(organisation.c.id.in_(ids["ids"])))


@pytest.fixture
def pg_two_sessions(app):
    """Two desks at once on PostgreSQL (tests using it are generated for PostgreSQL only):
    ``with pg_two_sessions.committed(): ...factories...`` then
    ``pg_two_sessions.race(desk_a, desk_b)``; see ``TwoSessions``."""
    assert app.backend == "postgresql"
    sessions = TwoSessions(app)
    try:
        yield sessions
    finally:
        sessions.remove_organisations()
