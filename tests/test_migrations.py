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


def test_history_is_one_linear_chain():
    """One head, no merge revisions, every file named for its revision."""
    from pathlib import Path

    from alembic.config import Config
    from alembic.script import ScriptDirectory

    directory = Path(__file__).resolve().parent.parent / "migrations"
    config = Config()
    config.set_main_option("script_location", str(directory))
    script = ScriptDirectory.from_config(config)
    assert len(script.get_heads()) == 1
    revisions = list(script.walk_revisions())
    for rev in revisions:
        assert not isinstance(rev.down_revision, tuple | list), f"{rev.revision} is a merge"
        assert Path(rev.path).name.startswith(rev.revision), rev.path
    assert sum(rev.down_revision is None for rev in revisions) == 1


def test_check_command_reports_an_unmigrated_database(empty_app):
    result = empty_app.test_cli_runner().invoke(args=["inclusion", "check"])
    assert result.exit_code != 0
    assert "db upgrade" in result.output


def test_sqlite_table_rebuilds_keep_data_that_other_rows_point_at(make_database):
    """A batch migration rebuilds a table on SQLite ("move and copy"). With rows in other
    tables pointing at it (checkpoints → practice sessions) that must neither fail nor
    lose anything, upgrading or downgrading: real databases have data."""
    app = create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": make_database("sqlite")})
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "heads"]).exit_code == 0
    demo = runner.invoke(args=["inclusion", "demo"])
    assert demo.exit_code == 0, demo.output

    def counts():
        with app.app_context(), db.engine.connect() as conn:
            return {
                t: conn.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar()
                for t in ("practice_session", "skill_checkpoint", "device", "loan")
            }

    before = counts()
    assert before["practice_session"] > 0 and before["skill_checkpoint"] > 0
    # 0007 adds practice_session.device_id by rebuilding the table; undo and redo it.
    down = runner.invoke(args=["db", "downgrade", "0006_practice"])
    assert down.exit_code == 0, down.output
    assert counts() == before
    up = runner.invoke(args=["db", "upgrade", "heads"])
    assert up.exit_code == 0, up.output
    assert counts() == before
    check = runner.invoke(args=["db", "check"])
    assert check.exit_code == 0, check.output
    with app.app_context(), db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
        db.engine.dispose()
