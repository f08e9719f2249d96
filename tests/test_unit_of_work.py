"""One unit of work per request: a refused action leaves every table exactly as it was,
and loading a page writes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from buddies.models import Match
from buddies.practice.models import SkillTask
from inclusion import create_app
from inclusion.extensions import db as _db
from tests.conftest import BACKENDS, sign_in
from tests.factories import (
    BuddyProfileFactory,
    ResidentFactory,
    SkillTaskFactory,
    WaitingListEntryFactory,
)


def snapshot() -> dict[str, list[tuple]]:
    """Every row of every table, in primary-key order: the whole database, to compare."""
    tables = {}
    for table in _db.metadata.sorted_tables:
        order = ", ".join(f'"{c.name}"' for c in table.primary_key.columns) or "1"
        rows = _db.session.execute(text(f'SELECT * FROM "{table.name}" ORDER BY {order}'))
        tables[table.name] = [tuple(row) for row in rows]
    return tables


def assert_unchanged(before: dict, after: dict) -> None:
    changed = {name: (before[name], after[name]) for name in before if before[name] != after[name]}
    assert not changed, f"tables changed by a refused action: {sorted(changed)}"


# ---- refused actions ----------------------------------------------------------------


def test_a_refused_assignment_proposes_nothing_although_its_first_pair_was_fine(
    coordinator, org, db
):
    """accept_assignment proposes pair after pair; the stale second pair refuses the lot."""
    buddy = BuddyProfileFactory(organisation=org, areas=["WV3"], caseload_limit=2)
    first = ResidentFactory(organisation=org)
    db.session.flush()
    before = snapshot()
    response = coordinator.post(
        "/matching/assignment", data={"pair": [f"{first.id}-{buddy.id}", f"{first.id}-999999"]}
    )
    assert response.status_code == 422
    assert "That proposal is out of date" in response.get_data(as_text=True)
    assert_unchanged(before, snapshot())
    assert db.session.scalars(select(Match)).all() == []


@pytest.mark.parametrize("case", ["retire_twice", "remove_twice", "deactivate_self"])
def test_a_refusal_answered_with_a_redirect_commits_nothing(
    case, app, db, org, admin_user, coordinator
):
    """A refusal shown as a flash after a redirect (status 302) still rolls the request back."""
    if case == "retire_twice":
        task = SkillTaskFactory(organisation=org)
        url = f"/practice/skills/{task.id}/retire"
        client, message = coordinator, "That task is already retired."
        assert client.post(url).status_code == 302
    elif case == "remove_twice":
        entry = WaitingListEntryFactory(organisation=org)
        url = f"/waiting-list/{entry.id}/remove"
        client, message = coordinator, "They have already been taken off the waiting list."
        assert client.post(url).status_code == 302
    else:
        url = f"/admin/users/{admin_user.id}/active"
        client, message = sign_in(app, admin_user), "You cannot deactivate your own account."
    db.session.flush()
    before = snapshot()
    response = client.post(url, data={"active": "0"}, follow_redirects=True)
    assert message in response.get_data(as_text=True)
    assert_unchanged(before, snapshot())


def test_a_refused_api_referral_writes_nothing(app, db, org, admin_user):
    from inclusion.api import service as api

    key, secret = api.create_key(org, "Partner", by=admin_user)
    db.session.flush()
    before = snapshot()
    response = app.test_client().post(
        "/api/referrals",
        json={"first_name": "", "last_name": "Nobody"},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 422
    after = snapshot()
    # Only the key's "last used" stamp may move; nothing else.
    assert_unchanged(
        {k: v for k, v in before.items() if k != "api_key"},
        {k: v for k, v in after.items() if k != "api_key"},
    )


# ---- page loads never write -----------------------------------------------------------

WRITES = ("INSERT", "UPDATE", "DELETE")


def _writes(statements):
    return [s for s in statements if s.lstrip().upper().startswith(WRITES)]


def test_the_first_visit_to_a_buddys_pages_writes_nothing(
    app, db, org, buddy_user, coordinator_user, count_queries
):
    """The skill taxonomy came with the organisation; no page seeds it on first use."""
    from tests.factories import MatchFactory

    assert db.session.scalar(select(SkillTask.id).where(SkillTask.organisation_id == org.id))
    profile = BuddyProfileFactory(organisation=org, user=buddy_user)
    resident = ResidentFactory(organisation=org)
    MatchFactory(organisation=org, buddy=profile, resident=resident)
    db.session.flush()
    buddy, coordinator = sign_in(app, buddy_user), sign_in(app, coordinator_user)
    pages = [
        (buddy, "/practice/residents"),
        (buddy, f"/practice/residents/{resident.reference}"),
        (buddy, f"/practice/residents/{resident.reference}/sessions/new"),
        (buddy, f"/practice/residents/{resident.reference}/baseline"),
        (coordinator, "/practice/skills"),
        (coordinator, "/practice/progress"),
    ]
    for client, url in pages:
        with count_queries() as q:
            assert client.get(url).status_code == 200, url
        assert _writes(q.statements) == [], f"GET {url} wrote"


def test_no_page_of_the_role_matrix_writes(
    app, db, org, other_org, admin_user, coordinator_user, buddy_user, donor_user,
    other_coordinator_user, count_queries,
):  # fmt: skip
    from tests.routes import World
    from tests.test_access_matrix import _modules, all_routes

    users = {
        "admin": admin_user,
        "coordinator": coordinator_user,
        "buddy": buddy_user,
        "donor": donor_user,
        "other": other_coordinator_user,
    }
    world = World(org, other_org, users)
    for module in _modules():
        module.arrange(world)
    db.session.flush()
    wrote = []
    for role in ("anon", *users):
        client = app.test_client() if role == "anon" else sign_in(app, users[role])
        for route in all_routes():
            if route.method != "GET" or route.endpoint == "accounts.logout":
                continue
            url = world.url(route)
            with count_queries() as q:
                client.get(url)
            writes = _writes(q.statements)
            if writes:
                wrote.append(f"{role} GET {url}: {writes[0][:60]}")
    assert not wrote, "pages that wrote:\n" + "\n".join(wrote)


# ---- the migration seeds organisations that existed before ---------------------------


@pytest.fixture(params=BACKENDS)
def empty_app(request, make_database):
    app = create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": make_database(request.param)})
    yield app
    with app.app_context():
        _db.engine.dispose()


def test_the_migration_seeds_the_taxonomy_of_existing_organisations(empty_app):
    from buddies.practice.models import SEED_TASKS

    runner = empty_app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "uow_0001"]).exit_code == 0
    with empty_app.app_context(), _db.engine.begin() as conn:
        for code in ("OLD", "CUS"):
            conn.execute(
                text(
                    "INSERT INTO organisation (name, code, contact_phone, contact_email, "
                    "return_address, default_loan_days, retention_months, created_at) "
                    "VALUES (:code, :code, '', '', '', 56, 24, CURRENT_TIMESTAMP)"
                ),
                {"code": code},
            )
        # CUS already renamed a framework task into one of its own: that one is left out.
        conn.execute(
            text(
                "INSERT INTO skill_task (organisation_id, area, key, name, position, created_at) "
                "SELECT id, 'foundation', NULL, 'Connect to Wi-Fi', 1, CURRENT_TIMESTAMP "
                "FROM organisation WHERE code = 'CUS'"
            )
        )
    up = runner.invoke(args=["db", "upgrade", "heads"])
    assert up.exit_code == 0, up.output
    with empty_app.app_context(), _db.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT o.code, count(t.id), count(t.key) FROM organisation o "
                "JOIN skill_task t ON t.organisation_id = o.id GROUP BY o.code ORDER BY o.code"
            )
        ).all()
        events = conn.execute(
            text(
                "SELECT count(*), count(DISTINCT system_actor), min(system_actor) "
                "FROM audit_event WHERE action = 'skill_task.seeded'"
            )
        ).one()
    n = len(SEED_TASKS)
    assert [tuple(r) for r in rows] == [("CUS", n, n - 1), ("OLD", n, n)]
    assert tuple(events) == (2 * n - 1, 1, "migration")
