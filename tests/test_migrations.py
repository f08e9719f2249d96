"""The migrations build the whole schema from nothing, agree with the models, and undo cleanly."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from inclusion import create_app
from inclusion.extensions import db
from tests.conftest import BACKENDS


@pytest.fixture(params=BACKENDS)
def empty_app(request, make_database):
    app = create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": make_database(request.param)})
    yield app
    with app.app_context():
        db.engine.dispose()


def test_upgrade_check_and_downgrade(empty_app):
    runner = empty_app.test_cli_runner()
    result = runner.invoke(args=["db", "upgrade", "heads"])
    assert result.exit_code == 0, result.output
    with empty_app.app_context():
        tables = set(inspect(db.engine).get_table_names())
    assert {"organisation", "user", "resident", "audit_event"} <= tables

    check = runner.invoke(args=["db", "check"])
    assert check.exit_code == 0, check.output  # `flask db check` fails on any difference
    with empty_app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, db.metadata) == []

    status = runner.invoke(args=["inclusion", "check"])
    assert status.exit_code == 0, status.output
    assert "migrations at head" in status.output

    down = runner.invoke(args=["db", "downgrade", "base"])
    assert down.exit_code == 0, down.output
    with empty_app.app_context():
        db.engine.dispose()
        left = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
    assert left == set()


def test_check_command_reports_an_unmigrated_database(empty_app):
    result = empty_app.test_cli_runner().invoke(args=["inclusion", "check"])
    assert result.exit_code != 0
    assert "db upgrade" in result.output
