"""Report sections: each package contributes its part of the reports page, the CSV zip and
the PDF through the registry; the reports name no feature, so a feature that is not
installed leaves no hole and a new one needs only its own init_app."""

from __future__ import annotations

import io
import zipfile

import flask_migrate
import pytest
from pypdf import PdfReader

from inclusion import create_app
from inclusion.extensions import db
from inclusion.registry import registry
from tests.conftest import FreshContextClient, sign_in

YEAR = "period=year&year=2025"


@pytest.fixture(scope="module")
def migrated_database(make_database):
    """One SQLite database migrated once for the module: every table exists whichever
    features an app loads, so apps with different features share it."""
    url = make_database("sqlite")
    app = create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        flask_migrate.upgrade(revision="heads")
        db.engine.dispose()
    return url


@pytest.fixture
def make_app(migrated_database):
    apps = []

    def make(*features):
        app = create_app(
            {
                "ENV": "testing",
                "SQLALCHEMY_DATABASE_URI": migrated_database,
                "WTF_CSRF_ENABLED": False,
                "FEATURES": features,
            }
        )
        app.test_client_class = FreshContextClient
        apps.append(app)
        return app

    yield make
    for app in apps:
        with app.app_context():
            db.engine.dispose()


def _coordinator(app):
    from tests.factories import OrganisationFactory, UserFactory

    org = OrganisationFactory()
    user = UserFactory(organisation=org, role="coordinator")
    db.session.commit()
    return sign_in(app, user)


def _zip_names(response) -> set[str]:
    return set(zipfile.ZipFile(io.BytesIO(response.data)).namelist())


def _pdf_text(response) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages)


def test_the_packages_register_their_sections_in_order(coordinator):
    sections = registry(coordinator.application).report_sections
    assert [s.key for s in sections] == [
        "referrals",
        "devices",
        "practice",
        "waiting_list",
        "outcomes",
    ]


def test_a_new_feature_adds_its_report_figure_with_its_own_init_app(make_app):
    app = make_app("devices", "buddies", "tests.plugins.noticeboard")
    with app.app_context():
        client = _coordinator(app)
        page = client.get(f"/reports/?{YEAR}").get_data(as_text=True)
        assert "Notices on the board" in page and "notices pinned" in page
        assert 'id="chart-notices"' in page
        # Its table sits where its order puts it: after the devices, before the practice.
        assert page.index("Mobile data") < page.index("Notices on the board")
        assert page.index("Notices on the board") < page.index("IT buddies and practice")

        names = _zip_names(client.get(f"/reports/report.zip?{YEAR}"))
        assert {"notices.csv", "devices.csv", "buddies_and_practice.csv"} <= names

        text = _pdf_text(client.get(f"/reports/report.pdf?{YEAR}"))
        assert "Notices pinned" in text and "Notices on the board" in text


def test_the_reports_work_without_the_buddies(make_app):
    app = make_app("devices")
    with app.app_context():
        client = _coordinator(app)
        page = client.get(f"/reports/?{YEAR}")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert "Referrals by source" in html and "Device waiting list" in html
        assert "IT buddies and practice" not in html and "practice sessions" not in html

        names = _zip_names(client.get(f"/reports/report.zip?{YEAR}"))
        assert "devices.csv" in names and "skill_gains.csv" not in names
        text = _pdf_text(client.get(f"/reports/report.pdf?{YEAR}"))
        assert "Devices lent" in text and "Practice sessions" not in text


def test_targets_of_a_feature_not_installed_are_left_out(make_app):
    from inclusion.reports import service
    from inclusion.reports.periods import financial_year
    from tests.factories import OrganisationFactory, UserFactory

    app = make_app()  # the core alone
    with app.app_context():
        org = OrganisationFactory()
        user = UserFactory(organisation=org, role="coordinator")
        service.set_targets(org.id, 2025, {"referrals": 10, "sessions": 40}, by=None)
        db.session.commit()
        report = service.build_report(org.id, financial_year(2025))
        assert [p.measure for p in report.progress] == ["referrals"]
        assert set(report.figures) == {"period", "referrals", "funnel"}
        db.session.rollback()
        page = sign_in(app, user).get(f"/reports/?{YEAR}")
        assert page.status_code == 200 and "Referrals by source" in page.get_data(as_text=True)
