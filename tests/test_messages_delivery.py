# ruff: noqa: F811 - the fixtures of tests/test_messages.py are imported by name
"""What became of a text: GOV.UK Notify's delivery-receipt callback (a bearer token we
gave Notify, compared in constant time), the status read back by the worker, and both
shown on the message. Texts go through the official client to the local Notify server."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from devices import messages as device_messages
from inclusion.audit import AuditEvent
from inclusion.clock import today
from inclusion.extensions import db as database
from inclusion.messages import service, worker
from inclusion.messages.models import Message
from tests.conftest import row_counts
from tests.factories import LoanFactory, OrganisationFactory, ResidentFactory, UserFactory
from tests.test_messages import _zone_at, daytime, notify, texting_resident  # noqa: F401 - fixtures

TOKEN = "notify-callback-7f3a9c2e41b84d0f"
URL = "/messages/delivery-receipts"


@pytest.fixture
def callback_token(app, monkeypatch):
    monkeypatch.setitem(app.config, "NOTIFY_CALLBACK_TOKEN", TOKEN)
    return TOKEN


@pytest.fixture
def sent_text(db, org, texting_resident, notify):
    loan = LoanFactory(organisation=org, resident=texting_resident, due_on=today())
    message = device_messages.queue_due_soon(loan)
    assert worker.run_once().sent == 1
    assert message.status == "sent" and message.provider_id in notify.notifications
    return message


def receipt(message: Message, status: str, **extra) -> dict:
    """The JSON GOV.UK Notify posts to a delivery-receipt callback."""
    return {
        "id": message.provider_id,
        "reference": f"inclusion-message-{message.id}",
        "to": message.address,
        "status": status,
        "created_at": "2026-12-01T13:00:00.000000Z",
        "completed_at": "2026-12-01T13:00:05.000000Z",
        "sent_at": "2026-12-01T13:00:01.000000Z",
        "notification_type": "sms",
        "template_id": "f33517ff-2a88-4f6e-b855-c550268ce08a",
        "template_version": 1,
        **extra,
    }


def post(client, body, token=TOKEN):
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return client.post(URL, json=body, headers=headers)


def events(message: Message) -> list[AuditEvent]:
    return list(
        database.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.entity_type == "Message", AuditEvent.entity_id == message.id)
            .order_by(AuditEvent.id)
        )
    )


def test_notify_says_delivered_and_the_message_page_shows_it(
    app, client, db, sent_text, callback_token, coordinator, monkeypatch
):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)  # exempt: no form, a token
    response = post(client, receipt(sent_text, "delivered"))
    assert response.status_code == 200
    assert response.get_json() == {"message": sent_text.id, "status": "sent", "changed": True}
    db.session.refresh(sent_text)
    assert (sent_text.status, sent_text.provider_status) == ("sent", "delivered")
    last = events(sent_text)[-1]
    assert last.action == "message.delivery_status" and last.system_actor == "notify:callback"
    assert last.actor_id is None
    page = coordinator.get(f"/messages/{sent_text.id}").get_data(as_text=True)
    assert "Delivered to the phone." in page


def test_a_text_that_never_arrived_fails_with_notifys_reason_once(
    client, db, sent_text, callback_token, coordinator
):
    response = post(client, receipt(sent_text, "permanent-failure"))
    assert response.status_code == 200 and response.get_json()["status"] == "failed"
    db.session.refresh(sent_text)
    assert sent_text.status == "failed" and sent_text.provider_status == "permanent-failure"
    assert "does not exist or cannot take texts" in sent_text.failure_reason
    before = len(events(sent_text))
    # Notify may call again with the same receipt: nothing changes, nothing more is audited.
    again = post(client, receipt(sent_text, "permanent-failure"))
    assert again.status_code == 200 and again.get_json()["changed"] is False
    assert len(events(sent_text)) == before
    page = coordinator.get("/messages").get_data(as_text=True)
    assert "1 message did not reach someone" in page
    detail = coordinator.get(f"/messages/{sent_text.id}").get_data(as_text=True)
    assert "does not exist or cannot take texts" in detail


def test_a_temporary_failure_can_be_tried_again_and_a_late_receipt_is_ignored(
    client,
    db,
    sent_text,
    callback_token,
    coordinator,
    notify,
):
    old = receipt(sent_text, "temporary-failure")
    assert post(client, old).get_json()["status"] == "failed"
    assert coordinator.post(f"/messages/{sent_text.id}/retry").status_code == 302
    db.session.refresh(sent_text)
    assert sent_text.status == "queued"
    # the same receipt, late, while the text waits to be sent again: ignored
    late = post(client, old)
    assert late.status_code == 200 and late.get_json() == {
        "message": sent_text.id,
        "status": "queued",
        "changed": False,
    }


@pytest.mark.parametrize(
    "token", [None, "", "wrong-token", TOKEN[:-1], TOKEN + "x", f"Basic {TOKEN}"]
)
def test_a_callback_without_the_right_token_is_refused_and_changes_nothing(
    client, db, sent_text, callback_token, token
):
    before = row_counts(AuditEvent, Message)
    if token is not None and token.startswith("Basic "):
        response = client.post(
            URL, json=receipt(sent_text, "delivered"), headers={"Authorization": token}
        )
    else:
        response = post(client, receipt(sent_text, "delivered"), token=token)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.get_json()["error"] == "unauthorized"
    db.session.refresh(sent_text)
    assert sent_text.provider_status != "delivered"
    assert row_counts(AuditEvent, Message) == before


def test_without_a_configured_token_every_callback_is_refused(client, db, sent_text, app):
    assert app.config["NOTIFY_CALLBACK_TOKEN"] == ""
    assert post(client, receipt(sent_text, "delivered"), token="").status_code == 401
    assert post(client, receipt(sent_text, "delivered"), token="anything").status_code == 401


@pytest.mark.parametrize(
    "change, status",
    [
        ({"status": "read-by-cat"}, 400),
        ({"status": None}, 400),
        ({"id": "5f0e0e4c-0000-4000-8000-000000000000"}, 404),
        ({"reference": "inclusion-message-999999"}, 404),
    ],
)
def test_a_receipt_that_makes_no_sense_is_refused(
    client, db, sent_text, callback_token, change, status
):
    before = row_counts(AuditEvent)
    response = post(client, {**receipt(sent_text, "delivered"), **change})
    assert response.status_code == status
    db.session.refresh(sent_text)
    assert sent_text.provider_status != "delivered" and row_counts(AuditEvent) == before


def test_a_body_that_is_not_json_is_refused(client, db, sent_text, callback_token):
    response = client.post(
        URL,
        data="status=delivered",
        headers={"Authorization": f"Bearer {TOKEN}"},
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400


def test_callbacks_are_rate_limited(app, client, db, sent_text, callback_token, monkeypatch):
    monkeypatch.setitem(app.config, "NOTIFY_CALLBACK_LIMIT", "3 per minute")
    codes = [post(client, receipt(sent_text, "delivered")).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


def test_the_worker_reads_the_status_back_and_a_failure_becomes_a_to_do(
    db,
    sent_text,
    notify,
    coordinator,
):
    notify.notifications[sent_text.provider_id]["status"] = "technical-failure"
    assert worker.run_once().statuses == 1
    assert sent_text.status == "failed" and sent_text.provider_status == "technical-failure"
    (event,) = [e for e in events(sent_text) if e.action == "message.undelivered"]
    assert event.system_actor == worker.WORKER
    assert notify.requests[-1].path == f"/v2/notifications/{sent_text.provider_id}"
    page = coordinator.get(f"/messages/{sent_text.id}").get_data(as_text=True)
    assert "problem on its side" in page


# ---- a delivery receipt from Notify's callback and the worker's read-back at once ------


def test_a_receipt_from_the_callback_and_the_worker_at_once_fails_the_text_once(
    app, pg_two_sessions, monkeypatch
):
    """Both desks read the sent text, then record Notify's "permanent-failure" at the same
    moment: the row lock makes the second see the first's change, so the text fails once,
    with one audit event."""
    from inclusion import audit

    monkeypatch.setitem(app.config, "TIMEZONE", _zone_at(13))
    with pg_two_sessions.committed() as session:
        org = OrganisationFactory()
        user = UserFactory(organisation=org, role="coordinator")
        resident = ResidentFactory(organisation=org, phone="+44 7911 123456")
        service.save_contact_preference(resident, {"by_sms": True}, by=user)
        message = device_messages.queue_due_soon(
            LoanFactory(organisation=org, resident=resident, due_on=today())
        )
        message.status, message.sent_at = "sent", message.created_at
        message.provider, message.provider_id = "notify", "5f0e0e4c-race"
        message.provider_status = "sending"
        session.flush()
        message_id = message.id

    def callback(ready):
        with audit.acting_as(service.NOTIFY_CALLBACK):
            ready()
            found = service.message_for_notification("5f0e0e4c-race")
            service.record_delivery_status(found, "permanent-failure")

    def worker_read_back(ready):
        with audit.acting_as(worker.WORKER):
            ready()
            found = service.locked_message(message_id)
            service.record_delivery_status(found, "permanent-failure")

    assert pg_two_sessions.race(callback, worker_read_back) == ["done", "done"]
    with pg_two_sessions.reading() as session:
        message = session.get(Message, message_id, execution_options={"all_organisations": True})
        assert (message.status, message.provider_status) == ("failed", "permanent-failure")
        actions = session.scalars(
            text(
                "SELECT action FROM audit_event WHERE entity_type = 'Message' "
                "AND entity_id = :id AND action LIKE 'message.%%' AND action <> 'message.queued'"
            ),
            {"id": message_id},
        ).all()
        assert actions == ["message.undelivered"]
