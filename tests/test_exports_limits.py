"""Safe exports, request limits, absurd page numbers and next= values, Cache-Control on every
route, and error pages that still draw when the database fails for real."""

from __future__ import annotations

import csv
import io
import shutil
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from devices.loans import service as loans_service
from devices.loans.models import DataBundle
from inclusion.audit import AuditEvent
from inclusion.clock import today
from inclusion.csvfile import FORMULA_STARTS, phone, write_csv
from inclusion.errors import SAVE_FAILED
from inclusion.extensions import db as _db
from inclusion.reports.exports import csv_text
from inclusion.reports.tables import ReportTable
from inclusion.residents.models import Resident
from tests.conftest import BACKENDS, PASSWORD, make_test_app, row_counts, sign_in
from tests.factories import DataBundleFactory, LoanFactory, UserFactory
from tests.routes import OK, ROLES, World
from tests.test_access_matrix import _modules, all_routes
from tests.test_buddies import _application
from tests.test_donations import _pledge
from tests.test_residents import _public

HOSTILE = '=HYPERLINK("http://x.example","y")'


def _cells(text_value: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text_value)))


def _assert_no_formula(rows: list[list[str]]) -> None:
    for row in rows:
        for cell in row:
            assert not cell.startswith(FORMULA_STARTS), f"formula cell {cell!r} in {row}"


# ---- CSV ----------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1+1", "\r=1+1", HOSTILE])
def test_a_text_cell_that_would_start_a_formula_is_written_as_text(value):
    [header, row] = _cells(write_csv([[value, "plain"]], header=["Value", "Other"]))
    assert header == ["Value", "Other"]
    assert row == ["'" + value, "plain"]


def test_numbers_the_app_wrote_stay_numbers():
    [row] = _cells(write_csv([[5, -3, 2.5, Decimal("-1.5"), "-3"]]))
    assert row == ["5", "-3", "2.5", "-1.5", "'-3"]


def test_phone_numbers_are_written_as_text_a_spreadsheet_keeps():
    assert phone("+44 7911 123456") == "07911 123456"
    assert phone("07911123456") == "07911 123456"
    assert phone("+33 1 23 45 67 89") == "'+33 1 23 45 67 89"
    assert phone("0123") == "'0123"
    assert phone("=1+1") == "'=1+1"
    assert phone(None) == ""


def test_the_call_list_neutralises_a_hostile_value_in_every_column(client, coordinator, org, db):
    # The name comes from the anonymous referral form, as an attacker would send it.
    response = client.post("/refer", data=_public(org, first_name=HOSTILE, last_name="-2+3"))
    assert response.status_code == 302
    resident = db.session.scalar(select(Resident).where(Resident.last_name == "-2+3"))
    resident.preferred_language = "@SUM(1+1)"
    resident.interpreter_needed = True
    loan = LoanFactory(organisation=org, resident=resident, due_on=today() + timedelta(days=2))
    bundle = DataBundleFactory(organisation=org, network="+Three", validity_days=5)
    loans_service.issue_bundle(bundle, resident)
    caller = UserFactory(organisation=org, role="coordinator", name="=cmd|' /C calc'!A0")
    loans_service.log_call(resident, "no_answer", note="-note", by=caller)
    db.session.flush()

    rows = _cells(coordinator.get("/reminders.csv").get_data(as_text=True))
    _assert_no_formula(rows)
    header, row = rows[0], next(r for r in rows[1:] if r[0] == resident.reference)
    shown = dict(zip(header, row, strict=True))
    assert shown["Name"] == "'" + HOSTILE + " -2+3"
    assert shown["Phone"] == "07911 123456"
    assert shown["Preferred language"] == "'@SUM(1+1)"
    assert shown["Called by"] == "'=cmd|' /C calc'!A0"
    assert loan.reference in shown["To discuss"] and "+Three" in shown["To discuss"]


def test_report_csvs_neutralise_labels_and_keep_counts_as_numbers(coordinator, org):
    table = ReportTable("skill_gains_by_area", "By area", ["Skill area", "Residents"])
    table.rows = [[HOSTILE, 7], ["+area", "fewer than 5"]]
    assert _cells(csv_text(table)) == [
        ["Skill area", "Residents"],
        ["'" + HOSTILE, "7"],
        ["'+area", "fewer than 5"],
    ]
    import zipfile

    response = coordinator.get("/reports/report.zip")
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        for name in archive.namelist():
            if name.endswith(".csv"):
                _assert_no_formula(_cells(archive.read(name).decode()))


# ---- request limits -------------------------------------------------------------------


class CountingStream(io.BytesIO):
    """The request body as a server hands it over, counting what the app read of it."""

    read_bytes = 0

    def read(self, size=-1):
        chunk = super().read(size)
        self.read_bytes += len(chunk)
        return chunk

    def readline(self, size=-1):
        chunk = super().readline(size)
        self.read_bytes += len(chunk)
        return chunk


def _multipart(fields: dict, files: dict) -> tuple[bytes, str]:
    boundary = "exportsboundary7d3"
    out = io.BytesIO()
    for name, value in fields.items():
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode())
        out.write(str(value).encode() + b"\r\n")
    for name, (filename, content) in files.items():
        out.write(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
        )
        out.write(content + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def test_an_anonymous_3mb_post_to_refer_is_refused_before_it_is_read(client, db, org):
    before = row_counts(Resident, AuditEvent)
    body, content_type = _multipart(_public(org), {"photo": ("big.bin", b"x" * 3_000_000)})
    stream = CountingStream(body)
    response = client.post(
        "/refer", input_stream=stream, content_length=len(body), content_type=content_type
    )
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "larger than 2 MB" in page and "Nothing was saved" in page
    assert stream.read_bytes < 100_000
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert row_counts(Resident, AuditEvent) == before


def _bundle_import(**overrides):
    data = {
        "kind": "voucher",
        "network": "Three",
        "allowance_gb": "10",
        "validity_days": "60",
        "source": "national_scheme",
        "rows": "",
    }
    data.update(overrides)
    return data


def _references(count: int, start: int = 0) -> list[str]:
    return [f"CODE-{n:05d}" for n in range(start, start + count)]


def test_a_bundle_file_over_2mb_is_imported_whole(coordinator, db, org):
    # 1,500 rows with 2.1 MB of blank lines between them: today's import read only the first
    # 2,000,000 bytes and said "750 bundles added".
    first, second = _references(750), _references(750, start=750)
    content = ("\n".join(first) + "\n" + (" " * 99 + "\n") * 21_000 + "\n".join(second)).encode()
    assert len(content) > 2_100_000
    response = coordinator.post(
        "/bundles/import",
        data=_bundle_import(upload=(io.BytesIO(content), "bundles.csv")),
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "1500 bundles added" in response.get_data(as_text=True)
    assert db.session.scalar(select(_db.func.count()).select_from(DataBundle)) == 1500


@pytest.mark.parametrize("extra, status", [(10_000, 422), (200_000, 413)])
def test_a_bundle_file_over_the_import_limit_is_refused_naming_it(
    app, coordinator, db, org, monkeypatch, extra, status
):
    monkeypatch.setitem(app.config, "MAX_IMPORT_BYTES", 1024 * 1024)
    rows = "\n".join(_references(2000)) + "\n"
    content = (rows + " \n" * ((1024 * 1024 + extra - len(rows)) // 2)).encode()
    before = row_counts(DataBundle, AuditEvent)
    response = coordinator.post(
        "/bundles/import", data=_bundle_import(upload=(io.BytesIO(content), "bundles.csv"))
    )
    assert response.status_code == status
    assert "The file is larger than 1 MB, the most one import takes" in response.get_data(
        as_text=True
    )
    assert row_counts(DataBundle, AuditEvent) == before


def test_a_field_over_128kb_is_a_row_error_and_nothing_is_added(coordinator, db, org):
    content = (
        "reference,notes\nCODE-00001,fine\nCODE-00002," + "n" * 140_000 + "\nCODE-00003,ok\n"
    ).encode()
    before = row_counts(DataBundle, AuditEvent)
    response = coordinator.post(
        "/bundles/import", data=_bundle_import(upload=(io.BytesIO(content), "bundles.csv"))
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="row-errors"' in page and "a value is longer than 128 KB" in page
    assert row_counts(DataBundle, AuditEvent) == before


# ---- the role matrix walked with absurd pages, and for Cache-Control --------------------


@pytest.fixture
def world(
    db,
    org,
    other_org,
    admin_user,
    coordinator_user,
    buddy_user,
    donor_user,
    other_coordinator_user,
    commissioner_user,
):
    users = {
        "admin": admin_user,
        "coordinator": coordinator_user,
        "buddy": buddy_user,
        "donor": donor_user,
        "other": other_coordinator_user,
        "commissioner": commissioner_user,
    }
    world = World(org, other_org, users)
    for module in _modules():
        module.arrange(world)
    db.session.flush()
    return world


def _client(app, world, role):
    return app.test_client() if role == "anon" else sign_in(app, world.users[role])


@pytest.mark.parametrize("page", ["99999999999999999999", str(2**63)])
def test_every_list_answers_an_absurd_page_number(app, world, page):
    failures = []
    for role in ("admin", "coordinator", "buddy", "donor"):
        client = _client(app, world, role)
        for route in all_routes():
            if route.method != "GET" or route.expect(role) != OK:
                continue
            url = world.url(route)
            url += ("&" if "?" in url else "?") + "page=" + page
            response = client.get(url)
            if response.status_code >= 500:
                failures.append(f"{role} {url[:120]}: {response.status_code}")
    assert not failures, "\n".join(failures)


def test_a_page_past_the_last_shows_the_last_page(coordinator, world):
    response = coordinator.get("/residents?page=99999999999999999999")
    assert response.status_code == 200
    assert world.resident_ref in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "target",
    ["/residents\r\nSet-Cookie: stolen=1", "/residents\nX: y", "/\\evil.example/"],
)
def test_a_next_that_is_not_a_local_path_goes_to_the_dashboard(app, db, coordinator_user, target):
    def sign_in_with(next_value):
        return app.test_client().post(
            "/login",
            query_string={"next": next_value},
            data={"email": coordinator_user.email, "password": PASSWORD},
        )

    response = sign_in_with(target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard"
    for refused in ("//evil.example/", "https://evil.example/", "javascript:alert(1)"):
        assert sign_in_with(refused).headers["Location"] == "/dashboard"
    assert sign_in_with("/residents?q=hughes").headers["Location"] == "/residents?q=hughes"


@pytest.mark.parametrize("role", ROLES)
def test_every_response_but_public_assets_says_no_store(app, world, role):
    client = _client(app, world, role)
    failures = []
    for route in all_routes():
        if route.endpoint == "static":
            continue
        url = world.url(route)
        response = client.open(url, method=route.method, data=route.data)
        if response.headers.get("Cache-Control") != "no-store":
            failures.append(f"{route.method} {url}: {response.headers.get('Cache-Control')}")
        if route.endpoint == "accounts.logout" and role != "anon":
            client = _client(app, world, role)
    assert not failures, f"as {role}:\n" + "\n".join(failures)
    static = client.get("/static/app.css")
    assert static.status_code == 200 and "no-store" not in static.headers.get("Cache-Control", "")


# ---- error pages when the database fails for real ------------------------------------


# How a database can refuse a write here for real: SQLite's connection set read-only;
# PostgreSQL's transaction read-only, or a table locked by another connection.
WRITE_FAULTS = {"sqlite": ["read-only"], "postgresql": ["read-only", "locked"]}


FAULT_CASES = [(backend, fault) for backend in BACKENDS for fault in WRITE_FAULTS[backend]]


@contextmanager
def _writes_fail(app, kind: str, table: str = "resident"):
    """Make the test's own database connection refuse writes, as a real fault would
    (``table``: the one another connection locks; one the test has not written yet,
    or that connection would wait for the test's own transaction for ever)."""
    connection = _db.engines[None]
    if app.backend == "sqlite":
        connection.exec_driver_sql("PRAGMA query_only = ON")
        try:
            yield
        finally:
            connection.exec_driver_sql("PRAGMA query_only = OFF")
        return
    if kind == "read-only":
        connection.exec_driver_sql("SET TRANSACTION READ ONLY")
        yield
        return
    # locked: another connection holds the table the save writes first
    connection.exec_driver_sql("SET LOCAL lock_timeout = '300ms'")
    other = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    with other.connect() as holder:
        holder.exec_driver_sql("SET lock_timeout = '5s'")  # never hang the suite
        holder.exec_driver_sql(f'LOCK TABLE "{table}" IN EXCLUSIVE MODE')
        try:
            yield
        finally:
            holder.rollback()
    other.dispose()


def _filler(size: int) -> str:
    return ("Needs help with online forms and a big screen. " * (size // 48 + 1))[:size]


PUBLIC_FORMS = {
    "refer": ("/refer", lambda org: _public(org, access_notes=_filler(1900)), "resident"),
    "donate": ("/donate", lambda org: _pledge(org, notes=_filler(1900)), "donation"),
    "volunteer": (
        "/volunteer",
        lambda org: _application(org, about=_filler(1900)),
        "buddy_profile",
    ),
}


@pytest.mark.parametrize("form", sorted(PUBLIC_FORMS))
@pytest.mark.parametrize(
    ("app", "write_fault"),
    FAULT_CASES,
    indirect=["app"],
    ids=[f"{backend}-{fault}" for backend, fault in FAULT_CASES],
)
def test_a_public_form_whose_save_failed_is_shown_again_with_what_was_typed(
    app, write_fault, client, db, org, monkeypatch, form
):
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    url, data_of, table = PUBLIC_FORMS[form]
    data = data_of(org)
    before = row_counts(AuditEvent)
    with _writes_fail(app, write_fault, table):
        response = client.post(url, data=data)
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert SAVE_FAILED in page
    assert _filler(1900)[:200] in page  # what was typed is still in the form
    assert "<form" in page
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert response.headers["Cache-Control"] == "no-store"
    assert row_counts(AuditEvent) == before


def test_a_staff_write_on_a_read_only_database_gets_the_error_page(
    app, coordinator, db, org, monkeypatch
):
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    before = row_counts(Resident)
    with _writes_fail(app, "read-only"):
        response = coordinator.post(
            "/residents/new",
            data={k: v for k, v in _public(org).items() if k not in {"on_behalf", "consent"}}
            | {"consent_given": "y", "consent_method": "verbal", "referral_source": "gp"},
        )
    assert response.status_code == 500, response.status_code
    page = response.get_data(as_text=True)
    assert "Something went wrong" in page and "Nothing was saved" in page
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"
    assert row_counts(Resident) == before


@pytest.fixture
def doomed_app(app, make_database):
    """An app of the same kind whose database is taken away during the test."""
    url = make_database(app.backend)
    doomed = make_test_app(url, PROPAGATE_EXCEPTIONS=False)
    with doomed.app_context():
        user = UserFactory(role="coordinator", name="Cleo Coordinator")
        _db.session.commit()
        email = user.email

    def take_database_away():
        with doomed.app_context():
            _db.engine.dispose()
        if app.backend == "sqlite":
            shutil.rmtree(Path(make_url(url).database).parent)
        else:
            admin = create_engine(
                make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT"
            )
            with admin.connect() as conn:
                conn.execute(
                    text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
                )
            admin.dispose()

    doomed.take_database_away = take_database_away
    doomed.coordinator_email = email
    yield doomed
    with doomed.app_context():
        _db.engine.dispose()


def test_the_error_page_draws_when_the_database_is_gone(doomed_app):
    client = doomed_app.test_client()
    signed_in = client.post(
        "/login", data={"email": doomed_app.coordinator_email, "password": PASSWORD}
    )
    assert signed_in.status_code == 302
    doomed_app.take_database_away()
    for url in ("/residents", "/dashboard", "/refer"):
        response = client.get(url)
        assert response.status_code == 500, url
        page = response.get_data(as_text=True)
        assert "Something went wrong" in page and "Cleo" not in page
        assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
        assert response.headers["Cache-Control"] == "no-store"
    # The organisations' choice of languages cannot be read: a public page's error
    # speaks the visitor's language all the same (its catalogue is complete).
    page = client.get("/refer?lang=ur").get_data(as_text=True)
    assert '<html lang="ur" dir="rtl"' in page and "کچھ غلط ہو گیا" in page
