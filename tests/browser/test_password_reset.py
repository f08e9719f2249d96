"""Forgot your password?, end to end: the sign-in page's link, the e-mail the worker sends
(read from a real SMTP server, aiosmtpd), the one-time link, the new password."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from playwright.sync_api import expect

from inclusion.extensions import db
from inclusion.messages import worker
from tests.message_servers import SmtpServer, make_certificate

OLD = "the old password of rosa"
NEW = "rosa's fresh new passphrase"


def _make_user(app, backend: str) -> str:
    from inclusion.accounts import service
    from inclusion.accounts.models import COORDINATOR, Organisation

    email = f"rosa.{backend}@wdi.example.org"
    with app.app_context():
        if service.find_user_by_email(email) is None:
            org = db.session.scalar(db.select(Organisation).where(Organisation.code == "WDI"))
            service.create_user(org, email=email, name="Rosa Reset", role=COORDINATOR, password=OLD)
            db.session.commit()
        db.session.remove()
    return email


def test_a_forgotten_password_is_reset_through_the_emailed_link(page, live_server, monkeypatch):
    app = live_server.app
    email = _make_user(app, live_server.backend)
    server = SmtpServer(*make_certificate(Path(tempfile.mkdtemp()))).start()
    try:
        for key, value in server.config().items():
            monkeypatch.setitem(app.config, key, value)
        page.goto(live_server("/login"))
        page.get_by_role("link", name="Forgot your password?").click()
        page.get_by_label("Email address").fill(email)
        page.get_by_role("button", name="Send me a link").click()
        expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
        assert server.received == []  # sent by the worker, not the page

        with app.app_context():
            worker.run_once()
            db.session.remove()
        (mail,) = [m for m in server.received if m.rcpt_tos == [email]]
        assert mail.email["Subject"] == "Reset your password"
        assert "Wolverhampton Digital Inclusion CVS" in mail.email["From"]
        link = re.search(r"https?://\S+/password-reset/[\w-]+", mail.part("plain")).group(0)
        assert f'href="{link}"' in mail.part("html")

        path = link.split("/password-reset/", 1)[1]
        page.goto(live_server(f"/password-reset/{path}"))
        page.get_by_label("New password").fill(NEW)
        page.get_by_label("Type it again").fill(NEW)
        page.get_by_role("button", name="Set password and sign in").click()
        page.wait_for_url("**/dashboard")
        expect(page.get_by_text("Your new password is set")).to_be_visible()

        page.goto(live_server(f"/password-reset/{path}"))
        expect(page.get_by_role("heading", name="This link does not work any more")).to_be_visible()
        page.context.clear_cookies()
        page.goto(live_server("/login"))
        page.get_by_label("Email address").fill(email)
        page.get_by_label("Password").fill(OLD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_text("do not match an active account")).to_be_visible()
        page.get_by_label("Password").fill(NEW)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/dashboard")
    finally:
        server.stop()
