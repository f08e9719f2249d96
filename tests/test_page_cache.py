"""Kept pages (inclusion/pagecache.py): a page opened again is answered from memory while its
organisation's data version stands, and never to anyone, anywhere or anywhen else.

These tests use their own app with the page cache on and a database of their own, where
requests commit for real (the rest of the suite runs inside a rolled-back transaction, in
which no version is ever raised, with the cache off).
"""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import event, select

from inclusion.extensions import db as _db
from inclusion.residents.models import Resident
from tests.conftest import BACKENDS, make_test_app, sign_in
from tests.factories import OrganisationFactory, ResidentFactory, UserFactory


@pytest.fixture(scope="module", params=BACKENDS)
def kept_app(request, make_database):
    app = make_test_app(make_database(request.param), PAGE_CACHE=True, PAGE_CACHE_SECONDS=60)
    yield app
    with app.app_context():
        _db.engine.dispose()


@pytest.fixture
def desk(kept_app):
    """An organisation with a coordinator and a resident, committed."""
    with kept_app.app_context():
        org = OrganisationFactory()
        coordinator = UserFactory(organisation=org, role="coordinator", name="Cleo Kept")
        resident = ResidentFactory(organisation=org, first_name="Margaret", status="referred")
        _db.session.commit()
        found = {
            "org": org.id,
            "coordinator": SimpleNamespace(email=coordinator.email),
            "reference": resident.reference,
            "resident_id": resident.id,
        }
        _db.session.expunge_all()
    yield found
    kept_app.extensions["inclusion.page_cache"].clear()


class Statements:
    """Statements the app sends to its database while the block runs."""

    def __init__(self, app):
        with app.app_context():
            self.engine = _db.engine
        self.sent: list[str] = []

    def _count(self, conn, cursor, statement, parameters, context, executemany):
        self.sent.append(statement)

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._count)


def _page(client, path):
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def _opened(client, path):
    """Open a page until it is kept: the first opening after a sign-in or a flash changes
    the session (a CSRF token, a message shown) and is never kept."""
    _page(client, path)
    return _page(client, path)


def _answered_from_memory(statements) -> bool:
    """Nothing went through the app's engine (the version is read on the cache's own
    connection; that it is read at all, the tests of a change prove)."""
    return statements.sent == []


def test_a_page_opened_again_is_answered_from_memory_with_one_read(kept_app, desk):
    client = sign_in(kept_app, desk["coordinator"])
    first = _opened(client, "/residents")
    with Statements(kept_app) as statements:
        again = _page(client, "/residents")
    assert again == first
    assert "Margaret" in again
    assert _answered_from_memory(statements), statements.sent


def test_a_change_by_another_desk_shows_at_once(kept_app, desk):
    client = sign_in(kept_app, desk["coordinator"])
    assert "Margaret" in _opened(client, f"/residents/{desk['reference']}")
    with Statements(kept_app) as statements:
        assert "Margaret" in _page(client, f"/residents/{desk['reference']}")
    assert _answered_from_memory(statements)
    with kept_app.app_context():
        resident = _db.session.get(Resident, desk["resident_id"])
        resident.first_name = "Marguerite"
        _db.session.commit()
    page = _page(client, f"/residents/{desk['reference']}")
    assert "Marguerite" in page
    # The newer version dropped every page kept of the organisation (no stale personal data).
    kept = kept_app.extensions["inclusion.page_cache"].entries.values()
    assert not any(b"Margaret" in entry[-1] for entry in kept)


def test_a_change_through_a_form_shows_and_the_flash_shows_once(kept_app, desk):
    client = sign_in(kept_app, desk["coordinator"])
    assert "Referred" in _opened(client, f"/residents/{desk['reference']}")
    response = client.post(f"/residents/{desk['reference']}/status", data={"status": "contacted"})
    assert response.status_code == 302
    shown = _page(client, f"/residents/{desk['reference']}")
    assert "is now contacted" in shown
    again = _page(client, f"/residents/{desk['reference']}")
    assert "is now contacted" not in again
    assert "is now contacted" not in _page(client, f"/residents/{desk['reference']}")


def test_another_session_gets_its_own_page(kept_app, desk):
    with kept_app.app_context():
        other = UserFactory(organisation_id=desk["org"], role="coordinator", name="Otis Second")
        _db.session.commit()
        other = SimpleNamespace(email=other.email)
    first = sign_in(kept_app, desk["coordinator"])
    second = sign_in(kept_app, other)
    assert "Cleo Kept" in _opened(first, "/residents")
    assert "Cleo Kept" in _page(first, "/residents")
    page = _page(second, "/residents")
    assert "Otis Second" in page and "Cleo Kept" not in page
    page = _page(second, "/residents")
    assert "Otis Second" in page and "Cleo Kept" not in page


def test_a_signed_out_cookie_is_never_served_a_kept_page(kept_app, desk):
    client = sign_in(kept_app, desk["coordinator"])
    _opened(client, "/dashboard")
    cookie = client.get_cookie("session").value
    assert client.post("/logout").status_code == 302
    thief = kept_app.test_client()
    thief.set_cookie("session", cookie)
    response = thief.get("/dashboard")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_another_browser_or_address_with_the_cookie_runs_the_app(kept_app, desk):
    client = sign_in(kept_app, desk["coordinator"])
    _opened(client, "/residents")
    # Not the kept page: "strong" session protection ends a session used from elsewhere.
    response = client.get("/residents", environ_base={"REMOTE_ADDR": "10.9.8.7"})
    assert response.status_code == 302
    client = sign_in(kept_app, desk["coordinator"])
    _opened(client, "/residents")
    response = client.get("/residents", headers={"User-Agent": "Another browser"})
    assert response.status_code == 302


def test_a_new_day_or_an_old_entry_runs_the_app(kept_app, desk, monkeypatch):
    from inclusion import pagecache

    client = sign_in(kept_app, desk["coordinator"])
    _opened(client, "/residents")
    real_today = pagecache.today
    monkeypatch.setattr(pagecache, "today", lambda: real_today() + timedelta(days=1))
    with Statements(kept_app) as statements:
        _page(client, "/residents")
    assert not _answered_from_memory(statements)
    monkeypatch.setattr(pagecache, "today", real_today)
    _page(client, "/residents")
    real_monotonic = pagecache.time.monotonic
    monkeypatch.setattr(pagecache.time, "monotonic", lambda: real_monotonic() + 61)
    with Statements(kept_app) as statements:
        _page(client, "/residents")
    assert not _answered_from_memory(statements)


def test_a_page_read_across_organisations_is_never_kept(kept_app, desk):
    from outcomes.models import Programme, ProgrammeCommissioner, ProgrammeMember

    with kept_app.app_context():
        other = OrganisationFactory()
        commissioner = UserFactory(organisation_id=desk["org"], role="commissioner")
        programme = Programme(name="Kept programme")
        _db.session.add(programme)
        _db.session.flush()
        for member in (desk["org"], other.id):
            _db.session.add(ProgrammeMember(programme_id=programme.id, organisation_id=member))
        _db.session.add(ProgrammeCommissioner(programme_id=programme.id, user_id=commissioner.id))
        _db.session.commit()
        commissioner = SimpleNamespace(email=commissioner.email)
    client = sign_in(kept_app, commissioner)
    _opened(client, "/outcomes/programme")
    with Statements(kept_app) as statements:
        _page(client, "/outcomes/programme")
    assert not _answered_from_memory(statements)


def test_refusals_and_writes_are_never_kept(kept_app, desk):
    client = sign_in(kept_app, desk["coordinator"])
    assert client.get("/residents/R-000000").status_code == 404
    with Statements(kept_app) as statements:
        assert client.get("/residents/R-000000").status_code == 404
    assert not _answered_from_memory(statements)
    with kept_app.app_context():
        before = _db.session.scalar(
            select(Resident.status).where(Resident.id == desk["resident_id"])
        )
    assert before == "referred"


def test_a_sign_out_committed_while_a_page_is_built_is_never_kept(kept_app, desk, monkeypatch):
    """Another desk ends the session between the request's reading of the user and of the
    version (the interleaving read committed allows on PostgreSQL): the page is not kept
    under the newer version, and the ended session is refused next time."""
    from inclusion import dataversion
    from inclusion.accounts.models import User

    client = sign_in(kept_app, desk["coordinator"])
    _page(client, "/residents")  # the session's CSRF token: later openings may be kept
    real = dataversion.data_version
    ended = []

    def version_then_sign_out(session, organisation_id):
        version = real(session, organisation_id)
        if not ended:
            with kept_app.app_context():
                user = _db.session.scalar(
                    select(User).where(User.email == desk["coordinator"].email)
                )
                user.session_generation += 1  # what signing out everywhere does
                _db.session.commit()
            ended.append(True)
        return version

    monkeypatch.setattr(dataversion, "data_version", version_then_sign_out)
    client.get("/residents")
    monkeypatch.setattr(dataversion, "data_version", real)
    response = client.get("/residents")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_the_cache_keeps_at_most_its_entries_and_bytes(kept_app, desk):
    from inclusion.pagecache import PageCache

    cache = PageCache(kept_app, kept_app.wsgi_app)
    cache.size, cache.max_bytes = 3, 1000
    store = (desk["org"], 5, None, 60)
    for n in range(5):
        cache._keep(("k", n), store, "200 OK", [], b"x" * 300)
    assert list(cache.entries) == [("k", 2), ("k", 3), ("k", 4)]
    assert cache.bytes == 900
    cache._keep(("k", 5), store, "200 OK", [], b"x" * 400)  # 1,300 bytes: the oldest goes
    assert list(cache.entries) == [("k", 3), ("k", 4), ("k", 5)] and cache.bytes == 1000
    cache._keep(("big",), store, "200 OK", [], b"x" * 1001)  # larger than it all: not kept
    assert ("big",) not in cache.entries
    # A newer version of the organisation: what was kept of the older one goes at once.
    cache._keep(("k", 6), (desk["org"], 6, None, 60), "200 OK", [], b"y")
    assert list(cache.entries) == [("k", 6)] and cache.bytes == 1
    # An older version than one already seen is never kept.
    cache._keep(("k", 7), store, "200 OK", [], b"z")
    assert ("k", 7) not in cache.entries


def test_a_view_that_says_never_keep_is_never_kept(kept_app, desk, monkeypatch):
    from inclusion.pagecache import never_keep

    original = kept_app.view_functions["residents.index"]

    def shows_a_remote_status(*args, **kwargs):
        never_keep()
        return original(*args, **kwargs)

    monkeypatch.setitem(kept_app.view_functions, "residents.index", shows_a_remote_status)
    client = sign_in(kept_app, desk["coordinator"])
    _opened(client, "/residents")
    with Statements(kept_app) as statements:
        _page(client, "/residents")
    assert not _answered_from_memory(statements)


def test_a_kept_page_of_an_organisation_that_is_gone_is_dropped(kept_app, desk):
    from inclusion.pagecache import PageCache

    cache = PageCache(kept_app, kept_app.wsgi_app)
    cache._keep(("k",), (desk["org"], 3, None, 60), "200 OK", [], b"x")
    cache._forget_organisation(desk["org"], None)  # its row read back as nothing
    assert cache.entries == {} and cache.bytes == 0 and desk["org"] not in cache.versions
