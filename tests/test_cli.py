"""Command line: create-admin and the idempotent demo data."""

from __future__ import annotations

from sqlalchemy import func, select

from inclusion.accounts.models import User
from inclusion.audit import AuditEvent
from inclusion.demo import DEMO_PASSWORD, load_demo
from inclusion.residents.models import Resident


def _counts(db):
    return {
        model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
        for model in (User, Resident, AuditEvent)
    }


def test_demo_is_idempotent_and_covers_every_role(db):
    users = load_demo()
    first = _counts(db)
    assert {u.role for u in users} == {"admin", "coordinator", "buddy", "donor", "commissioner"}
    assert first["resident"] >= 30
    load_demo()
    assert _counts(db) == first, "running the demo twice must add nothing"


def test_demo_users_can_sign_in(app, db):
    load_demo()
    db.session.flush()
    client = app.test_client()
    response = client.post(
        "/login", data={"email": "coordinator@wdi.example.org", "password": DEMO_PASSWORD}
    )
    assert response.status_code == 302
    assert "Chloe Coordinator" in client.get("/dashboard").get_data(as_text=True)


def test_create_admin_refuses_a_short_password(app, db):
    runner = app.test_cli_runner()
    before = _counts(db)
    result = runner.invoke(
        args=[
            "inclusion",
            "create-admin",
            "--email",
            "new@example.org",
            "--name",
            "New Admin",
            "--organisation",
            "New Org",
            "--code",
            "NEW",
            "--password",
            "short",
        ]
    )
    assert result.exit_code != 0
    assert "at least 12 characters" in result.output
    assert _counts(db) == before
