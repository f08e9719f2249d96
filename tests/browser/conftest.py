"""Browser tests: Playwright driving Debian's Chromium against a real server.

``live_server`` runs the app in a thread on its own database (one per backend),
migrated and loaded with the demo data, with CSRF on as in production.
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import BACKENDS, IN_CI, make_test_app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)
            if not os.path.exists(CHROMIUM):
                if IN_CI:
                    raise pytest.UsageError(
                        f"CI=true but {CHROMIUM} is missing: browser tests must run"
                    )
                item.add_marker(
                    pytest.mark.skip(
                        reason=f"{CHROMIUM} is not installed (make test installs it as root)"
                    )
                )


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": CHROMIUM_ARGS,
        "headless": True,
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1280, "height": 900}}


@dataclass
class LiveServer:
    url: str
    app: object
    backend: str

    def __call__(self, path: str = "/") -> str:
        return self.url + path


@pytest.fixture(scope="session", params=BACKENDS)
def live_server(request, make_database):
    from inclusion.demo import load_demo
    from inclusion.extensions import db

    app = make_test_app(make_database(request.param), WTF_CSRF_ENABLED=True)
    with app.app_context():
        load_demo()
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app, backend=request.param)
    server.shutdown()
    thread.join(timeout=5)
    with app.app_context():
        db.engine.dispose()


def tab_to(page, selector: str, limit: int = 120) -> None:
    """Press Tab until the focused element matches ``selector`` (keyboard-only navigation)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(
            "s => document.activeElement && document.activeElement.matches(s)", selector
        ):
            return
    raise AssertionError(f"could not reach {selector} with the Tab key")


def sign_in(page, live_server, email: str, password: str | None = None) -> None:
    from inclusion.demo import DEMO_PASSWORD

    page.goto(live_server("/login"))
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password or DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    # The dashboard, or the page a role has instead of it (a buddy's residents).
    page.wait_for_url(re.compile(r".*/(dashboard|practice/residents|programme)$"))


def open_navigation(page) -> None:
    """On a phone GOV.UK Frontend folds the service navigation behind "Menu": open it."""
    if page.viewport_size["width"] >= 641:  # GOV.UK Frontend's tablet breakpoint
        return
    toggle = page.get_by_role("button", name="Menu")
    toggle.wait_for(state="visible")  # shown once GOV.UK Frontend's module has started
    if toggle.get_attribute("aria-expanded") != "true":
        toggle.click()
