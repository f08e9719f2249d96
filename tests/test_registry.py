"""Features plug into the core through the registry alone: the core names no feature."""

from __future__ import annotations

import flask_migrate
import pytest

from inclusion import create_app
from inclusion.extensions import db
from inclusion.registry import registry
from tests.conftest import FreshContextClient, sign_in


def test_the_features_register_what_the_layout_shows(coordinator):
    page = coordinator.get("/dashboard").get_data(as_text=True)
    for label in ("Residents", "Devices", "Loans", "Buddies", "Matching", "Reports"):
        assert f">{label}<" in page
    reg = registry(coordinator.application)
    assert "devices/_scan_box.html" in reg.header_tools
    assert {"loans/_resident_section.html", "buddies/_resident_section.html"} <= set(
        reg.resident_sections
    )
    assert [loader.label for loader in reg.demo_loaders] == ["devices", "buddies"]


@pytest.fixture
def app_with_noticeboard(make_database):
    app = create_app(
        {
            "ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": make_database("sqlite"),
            "WTF_CSRF_ENABLED": False,
            "FEATURES": ("devices", "buddies", "tests.plugins.noticeboard"),
        }
    )
    app.test_client_class = FreshContextClient
    with app.app_context():
        flask_migrate.upgrade(revision="heads")
    yield app
    with app.app_context():
        db.engine.dispose()


def test_a_new_feature_needs_only_its_own_init_app(app_with_noticeboard):
    from tests.factories import OrganisationFactory, UserFactory

    app = app_with_noticeboard
    with app.app_context():
        org = OrganisationFactory()
        user = UserFactory(organisation=org, role="coordinator")
        db.session.commit()
        client = sign_in(app, user)
        page = client.get("/dashboard").get_data(as_text=True)
        assert 'href="/noticeboard"' in page and ">Noticeboard<" in page
        assert client.get("/noticeboard").get_data(as_text=True) == "Noticeboard"
        assert app.jinja_env.globals["noticeboard_greeting"]() == "Notices for the desk"
