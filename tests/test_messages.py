"""The outbox: who gets what, on which channel, when; idempotent queuing; the worker
against real servers (GOV.UK Notify's API through its official client, aiosmtpd over
STARTTLS); retries, failures and the to-do list; letters; what a resident's texts
never say; nothing personal in the logs."""

from __future__ import annotations

import io
import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from devices import messages as device_messages
from devices.loans import service as loans
from inclusion.clock import now, today
from inclusion.messages import service, texts, worker
from inclusion.messages.models import ContactPreference, Message, MessageText
from inclusion.messages.reminders import queue_reminders
from tests.conftest import row_counts
from tests.factories import (
    BuddyProfileFactory,
    DeviceFactory,
    LoanFactory,
    ResidentFactory,
    UserFactory,
)
from tests.message_servers import (
    API_KEY,
    TEMPLATE_ID,
    NotifyServer,
    SilentServer,
    SmtpServer,
    make_certificate,
)


def _zone_at(hour: int) -> str:
    """A fixed-offset zone in which it is ``hour`` o'clock now: quiet hours become
    deterministic whatever time the suite runs."""
    offset = hour - datetime.now(UTC).hour
    offset = (offset + 12) % 24 - 12
    if offset == 0:
        return "Etc/GMT"
    return f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


@pytest.fixture(autouse=True)
def daytime(app, monkeypatch):
    """It is about 13:00 where the organisation is (outside quiet hours)."""
    monkeypatch.setitem(app.config, "TIMEZONE", _zone_at(13))


@pytest.fixture
def notify(app, monkeypatch):
    server = NotifyServer().start()
    monkeypatch.setitem(app.config, "NOTIFY_API_KEY", API_KEY)
    monkeypatch.setitem(app.config, "NOTIFY_SMS_TEMPLATE_ID", TEMPLATE_ID)
    monkeypatch.setitem(app.config, "NOTIFY_BASE_URL", server.url)
    monkeypatch.setitem(app.config, "MESSAGE_TIMEOUT", 1)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def certificate(tmp_path_factory):
    return make_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def smtp(app, monkeypatch, certificate):
    server = SmtpServer(*certificate).start()
    for key, value in server.config(MESSAGE_TIMEOUT=1).items():
        monkeypatch.setitem(app.config, key, value)
    yield server
    server.stop()


def agree(resident, by, **channels):
    data = {"by_sms": False, "by_email": False, "by_letter": False, **channels}
    return service.save_contact_preference(resident, data, by=by)


def messages_of(resident=None, purpose=None) -> list[Message]:
    stmt = select(Message).order_by(Message.id)
    if resident is not None:
        stmt = stmt.where(Message.resident_id == resident.id)
    if purpose is not None:
        stmt = stmt.where(Message.purpose == purpose)
    return list(service.db.session.scalars(stmt))


def due_now(message: Message) -> None:
    message.next_attempt_at = now() - timedelta(seconds=1)
    service.db.session.flush()


@pytest.fixture
def texting_resident(org, coordinator_user):
    resident = ResidentFactory(
        organisation=org,
        first_name="Irene",
        phone="+44 7911 123456",
        referral_reason="Lonely since her stroke; depression",
        access_notes="Partially sighted after a stroke",
    )
    agree(resident, coordinator_user, by_sms=True, preferred="sms")
    return resident


# ---- who gets what --------------------------------------------------------------------


def test_a_lend_queues_the_due_soon_text_for_three_days_before_and_a_return_cancels_it(
    db, org, coordinator_user, texting_resident
):
    device = DeviceFactory(organisation=org)
    due = today() + timedelta(days=20)
    loan = loans.lend_device(
        device, texting_resident, due_on=due, agreement_method="paper", by=coordinator_user
    )
    (message,) = messages_of(texting_resident)
    assert message.purpose == "loan.due_soon" and message.channel == "sms"
    assert message.address == "+447911123456"
    assert message.idempotency_key == f"loan:{loan.reference}:due:{due.isoformat()}"
    assert message.status == "queued"
    assert message.next_attempt_at.date() in (due - timedelta(days=3), due - timedelta(days=4))
    assert "Irene" in message.body and "tablet" in message.body
    loans.return_device(loan, condition="B", received_by="Cleo", by=coordinator_user)
    assert message.status == "cancelled"


def test_an_extension_replaces_the_reminder_of_the_old_due_date(
    db, org, coordinator_user, texting_resident
):
    loan = loans.lend_device(
        DeviceFactory(organisation=org),
        texting_resident,
        due_on=today() + timedelta(days=10),
        agreement_method="paper",
        by=coordinator_user,
    )
    loans.extend_loan(loan, today() + timedelta(days=30), by=coordinator_user)
    statuses = sorted((m.status, m.idempotency_key[-10:]) for m in messages_of(texting_resident))
    assert statuses == [
        ("cancelled", (today() + timedelta(days=10)).isoformat()),
        ("queued", (today() + timedelta(days=30)).isoformat()),
    ]


def test_nothing_is_sent_to_a_resident_without_agreed_channels_or_with_no_messages(
    db, org, coordinator_user
):
    silent = ResidentFactory(organisation=org)
    refused = ResidentFactory(organisation=org)
    agree(refused, coordinator_user, by_sms=True)
    queued = LoanFactory(organisation=org, resident=refused, due_on=today() + timedelta(days=2))
    device_messages.queue_due_soon(queued)
    assert len(messages_of(refused)) == 1
    service.save_contact_preference(
        refused, {"by_sms": True, "no_messages": True}, by=coordinator_user
    )
    assert [m.status for m in messages_of(refused)] == ["cancelled"]
    for resident in (silent, refused):
        loan = LoanFactory(organisation=org, resident=resident, due_on=today() - timedelta(days=1))
        assert device_messages.queue_overdue(loan, today()) is None
    assert [m.status for m in messages_of(refused)] == ["cancelled"]
    assert messages_of(silent) == []


def test_a_resident_who_prefers_letters_gets_one_in_large_print_when_sight_is_a_need(
    db, org, coordinator_user
):
    resident = ResidentFactory(organisation=org, access_sight=True)
    agree(
        resident,
        coordinator_user,
        by_sms=True,
        by_letter=True,
        preferred="letter",
        postal_address="Flat 2\n10 High Street\nWolverhampton\nWV3 0AA",
    )
    loan = LoanFactory(organisation=org, resident=resident, due_on=today() - timedelta(days=2))
    message = device_messages.queue_overdue(loan, today())
    assert message.channel == "letter" and message.large_print
    assert message.address.splitlines() == ["Flat 2", "10 High Street", "Wolverhampton", "WV3 0AA"]


def test_a_text_queued_in_quiet_hours_waits_until_nine(
    app, db, org, coordinator_user, texting_resident, monkeypatch
):
    monkeypatch.setitem(app.config, "TIMEZONE", _zone_at(22))
    loan = LoanFactory(
        organisation=org, resident=texting_resident, due_on=today() - timedelta(days=1)
    )
    message = device_messages.queue_overdue(loan, today())
    local = service.local_time(message.next_attempt_at)
    assert (local.hour, local.minute) == (9, 0)
    assert message.next_attempt_at > now()
    assert worker.run_once().sent == 0  # nothing due yet
    assert message.status == "queued"


def test_resident_texts_never_say_a_health_detail_or_the_referral_reason(
    db, org, coordinator_user, texting_resident
):
    agree(texting_resident, coordinator_user, by_sms=True, by_letter=True, postal_address="1 Road")
    loan = LoanFactory(
        organisation=org, resident=texting_resident, due_on=today() - timedelta(days=8)
    )
    sent = [device_messages.queue_overdue(loan, today())]
    for purpose in texts.purposes().values():
        if purpose.audience != "resident":
            continue
        assert not {"referral_reason", "access_notes", "notes"} & set(purpose.all_placeholders)
    for message in sent:
        for secret in ("stroke", "depression", "Lonely", "sighted"):
            assert secret not in message.body


# ---- idempotency ------------------------------------------------------------------------


def test_the_daily_reminders_queue_nothing_twice_and_overdue_ones_at_most_weekly(
    db, org, coordinator_user, texting_resident
):
    loan = LoanFactory(
        organisation=org, resident=texting_resident, due_on=today() - timedelta(days=1)
    )
    first = queue_reminders(today())
    again = queue_reminders(today())
    assert first["loan and data reminders"] == 1 and again["loan and data reminders"] == 0
    queue_reminders(today() + timedelta(days=5))  # the same week of lateness
    assert len(messages_of(texting_resident)) == 1
    queue_reminders(today() + timedelta(days=6))  # 7 days late: a new week
    keys = [m.idempotency_key for m in messages_of(texting_resident)]
    assert keys == [
        f"loan:{loan.reference}:overdue:{loan.due_on.isoformat()}:week-0",
        f"loan:{loan.reference}:overdue:{loan.due_on.isoformat()}:week-1",
    ]


def test_queuing_one_key_twice_gives_back_the_first_message(db, org, texting_resident):
    loan = LoanFactory(organisation=org, resident=texting_resident, due_on=today())
    first = device_messages.queue_due_soon(loan)
    second = device_messages.queue_due_soon(loan)
    assert first is second
    assert row_counts(Message) == {"message": 1}


def test_dbs_renewal_reminders_go_to_the_buddy_and_coordinators_at_60_30_and_7_days(
    db, org, coordinator_user
):
    buddy = BuddyProfileFactory(
        organisation=org, dbs_issued_on=today() - timedelta(days=1000), email="bee@example.org"
    )
    buddy.dbs_renewal_due = today() + timedelta(days=60)
    db.session.flush()
    assert queue_reminders(today())["DBS renewal reminders"] == 2
    assert queue_reminders(today() + timedelta(days=10))["DBS renewal reminders"] == 0
    assert queue_reminders(today() + timedelta(days=31))["DBS renewal reminders"] == 2
    assert queue_reminders(today() + timedelta(days=55))["DBS renewal reminders"] == 2
    sent = messages_of(purpose="dbs.renewal_due")
    assert {m.address for m in sent} == {"bee@example.org", coordinator_user.email}
    assert len(sent) == 6


# ---- SMS through GOV.UK Notify (the real client, a local server) -------------------------


def test_a_text_goes_through_notify_with_the_exact_request_and_its_delivery_is_read_back(
    db, org, texting_resident, notify
):
    loan = LoanFactory(organisation=org, resident=texting_resident, due_on=today())
    message = device_messages.queue_due_soon(loan)
    result = worker.run_once()
    assert result.sent == 1
    (request,) = notify.sends()
    assert request.token_ok and request.path == "/v2/notifications/sms"
    assert request.body == {
        "phone_number": "+447911123456",
        "template_id": TEMPLATE_ID,
        "personalisation": {"message": message.body},
        "reference": f"inclusion-message-{message.id}",
    }
    assert message.status == "sent" and message.provider == "notify"
    assert message.provider_id in notify.notifications
    notify.notifications[message.provider_id]["status"] = "delivered"
    worker.run_once()
    assert message.provider_status == "delivered"


def test_notify_answering_500_is_retried_with_backoff_then_failed_and_a_to_do(
    app, db, org, texting_resident, notify, coordinator, monkeypatch
):
    monkeypatch.setitem(app.config, "MESSAGE_ATTEMPTS", 3)
    notify.mode = "500"
    loan = LoanFactory(organisation=org, resident=texting_resident, due_on=today())
    message = device_messages.queue_due_soon(loan)
    waits = []
    for _ in range(3):
        due_now(message)
        before = now()
        worker.run_once()
        waits.append((message.next_attempt_at - before).total_seconds())
    assert len(notify.sends()) == 3
    assert message.status == "failed" and message.attempts == 3
    assert waits[0] >= 59 and waits[1] >= 119  # 60 s, then twice as long
    assert "Gave up after 3 attempts" in message.failure_reason
    page = coordinator.get("/messages").get_data(as_text=True)
    assert "1 message did not reach someone" in page and "loan.due_soon" in page


def test_a_number_notify_rejects_fails_at_once_with_the_reason(
    db, org, texting_resident, notify, coordinator
):
    notify.mode = "reject"
    loan = LoanFactory(organisation=org, resident=texting_resident, due_on=today())
    message = device_messages.queue_due_soon(loan)
    worker.run_once()
    assert message.status == "failed" and message.attempts == 1
    assert "Not a UK mobile number" in message.failure_reason
    response = coordinator.post(f"/messages/{message.id}/resolve")
    assert response.status_code == 302
    db.session.refresh(message)
    assert message.resolved_at is not None
    assert "0 message" not in coordinator.get("/messages").get_data(as_text=True)


def test_a_notify_timeout_is_never_sent_twice_the_retry_asks_notify_first(
    db, org, texting_resident, notify
):
    notify.mode, notify.delay = "slow", 2.5
    loan = LoanFactory(organisation=org, resident=texting_resident, due_on=today())
    message = device_messages.queue_due_soon(loan)
    assert worker.run_once().retrying == 1
    assert message.status == "queued" and message.uncertain
    notify.mode = "ok"
    due_now(message)
    assert worker.run_once().sent == 1
    assert len(notify.sends()) == 1  # Notify had it: found by reference, not sent again
    assert message.status == "sent" and message.provider_id in notify.notifications


def test_a_worker_that_died_mid_send_leaves_nothing_lost(db, org, texting_resident, notify):
    loan = LoanFactory(organisation=org, resident=texting_resident, due_on=today())
    message = device_messages.queue_due_soon(loan)
    token, ids = worker.claim()
    assert ids == [message.id] and message.status == "sending"
    message.claimed_at = now() - timedelta(hours=1)  # its worker never came back
    db.session.flush()
    assert worker.run_once().sent == 1
    assert message.status == "sent" and len(notify.sends()) == 1


# ---- e-mail over SMTP (aiosmtpd, STARTTLS and sign-in) ---------------------------------


def test_an_invitation_is_emailed_multipart_from_the_organisation_with_its_link(
    db, org, admin, smtp
):
    response = admin.post(
        "/admin/users/invite",
        data={"name": "Nia Newcomer", "email": "nia@example.org", "role": "coordinator"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "We are e-mailing nia@example.org" in page
    link = page.split('id="invite-link" type="text" readonly value="')[1].split('"')[0]
    assert smtp.received == []  # nothing is sent inside the request
    assert worker.run_once().sent == 1
    (mail,) = smtp.received
    email = mail.email
    assert mail.rcpt_tos == ["nia@example.org"]
    assert email["From"] == "Test Digital Inclusion <messages@inclusion.example.org>"
    assert email["To"] == "Nia Newcomer <nia@example.org>"
    assert email["Subject"] == "Your account with Test Digital Inclusion"
    assert email.get_content_type() == "multipart/alternative"
    assert link in mail.part("plain")
    assert f'<a href="{link}">' in mail.part("html")
    (message,) = messages_of(purpose="account.invitation")
    assert message.status == "sent" and link not in message.body  # the token is gone


def test_a_mail_server_refusing_the_address_fails_the_message(db, org, admin_user, smtp):
    smtp.refuse_recipient = True
    service.queue(
        org,
        purpose="dbs.renewal_due",
        key="t:1",
        to=service.to_user(admin_user),
        values={"name": "Ada"},
    )
    worker.run_once()
    (message,) = messages_of()
    assert message.status == "failed" and "refused the recipient (550)" in message.failure_reason


def test_a_mail_server_that_never_answers_is_retried(app, db, org, admin_user, monkeypatch):
    silent = SilentServer().start()
    try:
        monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
        monkeypatch.setitem(app.config, "SMTP_PORT", silent.port)
        monkeypatch.setitem(app.config, "MESSAGE_TIMEOUT", 1)
        service.queue(org, purpose="dbs.renewal_due", key="t:2", to=service.to_user(admin_user))
        assert worker.run_once().retrying == 1
        (message,) = messages_of()
        assert message.status == "queued" and message.attempts == 1
        assert "Could not reach the mail server" in message.failure_reason
    finally:
        silent.stop()


def test_an_email_whose_delivery_was_not_confirmed_is_not_sent_again(db, org, admin_user, smtp):
    smtp.stall_data, smtp.delay = True, 2.5
    service.queue(org, purpose="dbs.renewal_due", key="t:3", to=service.to_user(admin_user))
    worker.run_once()
    (message,) = messages_of()
    assert message.status == "queued" and message.uncertain
    smtp.stall_data = False
    due_now(message)
    worker.run_once()
    assert message.status == "failed" and "may have arrived" in message.failure_reason
    assert len(smtp.received) == 1


def test_the_worker_logs_no_personal_data(db, org, texting_resident, notify, caplog):
    loan = LoanFactory(organisation=org, resident=texting_resident, due_on=today())
    message = device_messages.queue_due_soon(loan)
    with caplog.at_level(logging.DEBUG):
        worker.run_once()
        notify.mode = "500"
        device_messages.queue_overdue(
            LoanFactory(organisation=org, resident=texting_resident, due_on=today()),
            today() + timedelta(days=1),
        )
        worker.run_once()
    logged = caplog.text
    assert f"message {message.id} sent" in logged
    for personal in ("7911", "Irene", texting_resident.last_name, message.body[:20]):
        assert personal not in logged


# ---- development outbox, letters ------------------------------------------------------


def test_without_settings_messages_go_to_the_development_outbox(
    db, org, texting_resident, coordinator
):
    loan = LoanFactory(organisation=org, resident=texting_resident, due_on=today())
    message = device_messages.queue_due_soon(loan)
    assert worker.run_once().sent == 1
    assert message.provider == "development"
    page = coordinator.get("/messages?show=sent").get_data(as_text=True)
    assert "not sent: development" in page
    detail = coordinator.get(f"/messages/{message.id}").get_data(as_text=True)
    assert "Not sent: development." in detail and "Irene" in detail


def test_the_days_letters_print_one_a_page_and_are_sent_once_posted(
    db, org, coordinator_user, coordinator
):
    from pypdf import PdfReader

    for sight in (False, True):
        resident = ResidentFactory(organisation=org, access_sight=sight)
        agree(
            resident,
            coordinator_user,
            by_letter=True,
            postal_address=f"{resident.id} Road\nWV3 0AA",
        )
        loan = LoanFactory(organisation=org, resident=resident, due_on=today() - timedelta(days=1))
        device_messages.queue_overdue(loan, today())
    assert worker.run_once().sent == 0  # letters are printed, not sent by the worker
    response = coordinator.get("/messages/letters.pdf")
    assert response.mimetype == "application/pdf"
    pdf = PdfReader(io.BytesIO(response.data))
    assert len(pdf.pages) == 2
    assert "Road" in pdf.pages[0].extract_text()
    ids = [m.id for m in messages_of()]
    response = coordinator.post("/messages/letters/posted", data={"message_id": ids})
    assert response.status_code == 302
    assert {m.status for m in messages_of()} == {"sent"}
    assert coordinator.get("/messages/letters").get_data(as_text=True).count("No letters") == 1


# ---- coordinators' actions and bad input ----------------------------------------------


def test_contact_preferences_refuse_bad_input_and_change_nothing(
    db, org, coordinator, coordinator_user
):
    landline = ResidentFactory(organisation=org, phone="+44 1902 555123", email="")
    before = row_counts(ContactPreference, Message)
    for data, message in [
        ({"by_sms": "y"}, "not a mobile"),
        ({"by_email": "y"}, "e-mail address to the record"),
        ({"by_letter": "y"}, "Enter the postal address"),
        ({"by_letter": "y", "postal_address": "1 Road", "preferred": "sms"}, "must be one"),
        ({"preferred": "pigeon"}, "Not a valid choice"),
    ]:
        response = coordinator.post(f"/residents/{landline.reference}/contact", data=data)
        assert response.status_code == 422, data
        assert message in response.get_data(as_text=True)
    assert row_counts(ContactPreference, Message) == before
    ok = coordinator.post(
        f"/residents/{landline.reference}/contact",
        data={"by_letter": "y", "postal_address": "1 Road\nWV3 0AA", "preferred": "letter"},
    )
    assert ok.status_code == 302
    assert service.preference_of(landline).postal_address == "1 Road\nWV3 0AA"


def test_a_failed_message_can_be_retried_and_a_queued_one_cancelled(
    db, org, texting_resident, coordinator
):
    loan = LoanFactory(organisation=org, resident=texting_resident, due_on=today())
    message = device_messages.queue_due_soon(loan)
    assert coordinator.post(f"/messages/{message.id}/retry").status_code == 302
    db.session.refresh(message)
    assert message.status == "queued"  # refused: it has not failed
    assert coordinator.post(f"/messages/{message.id}/cancel").status_code == 302
    db.session.refresh(message)
    assert message.status == "cancelled"


# ---- an admin's own texts -------------------------------------------------------------


def test_an_admin_previews_then_saves_a_text_within_two_sms_segments(db, org, admin):
    url = "/admin/message-texts/loan.overdue/sms"
    body = "Hi ((first_name)), please call ((organisation)) on ((organisation_phone)) about your ((device))."
    preview = admin.post(url, data={"language": "English", "body": body, "action": "preview"})
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "1 SMS segment" in page and "Maximilianus" in page
    assert row_counts(MessageText) == {"message_text": 0}
    saved = admin.post(url, data={"language": "English", "body": body, "action": "save"})
    assert saved.status_code == 302
    row = db.session.scalar(select(MessageText))
    assert row.body == body and row.purpose == "loan.overdue"


@pytest.mark.parametrize(
    "body, problem",
    [
        ("Hi ((first_name)) " + "x" * 300, "3 SMS segments"),
        ("Hi ((first_name)) “quoted” " + "x" * 110, "curly quotes"),
        ("Hi ((referral_reason))", "((referral_reason)) is not a placeholder"),
        ("", "Write the message."),
    ],
)
def test_a_text_that_breaks_the_limits_is_refused_next_to_the_field(db, org, admin, body, problem):
    response = admin.post(
        "/admin/message-texts/loan.overdue/sms",
        data={"language": "English", "body": body, "action": "save"},
    )
    assert response.status_code == 422
    assert problem in response.get_data(as_text=True)
    assert row_counts(MessageText) == {"message_text": 0}


def test_a_link_text_must_keep_its_link(db, org, admin):
    response = admin.post(
        "/admin/message-texts/account.password_reset/email",
        data={"language": "English", "subject": "Reset", "body": "Hello", "action": "save"},
    )
    assert response.status_code == 422 and "Keep ((link))" in response.get_data(as_text=True)


def test_segments_are_counted_as_the_networks_do():
    assert texts.sms_segments("a" * 160).count == 1
    assert texts.sms_segments("a" * 161).count == 2
    assert texts.sms_segments("a" * 306).count == 2
    assert texts.sms_segments("a" * 307).count == 3
    assert texts.sms_segments("€" * 80).count == 1  # two septets each
    assert texts.sms_segments("€" * 81).count == 2
    assert texts.sms_segments("ś" * 70).encoding == "UCS-2"
    assert texts.sms_segments("ś" * 70).count == 1
    assert texts.sms_segments("ś" * 71).count == 2
    assert texts.sms_segments("ś" * 135).count == 3


# ---- donors ---------------------------------------------------------------------------


def test_donors_get_their_receipt_news_of_arrival_and_of_the_first_lend_once(
    db, org, coordinator_user, texting_resident
):
    from devices import service as devices

    donation = devices.pledge_donation(
        org.id,
        {"business_name": "Acme", "contact_name": "Priya", "email": "priya@acme.example.com"},
        [{"kind": "tablet", "quantity": 2}],
    )
    (receipt,) = messages_of(purpose="donation.receipt")
    assert receipt.address == "priya@acme.example.com"
    assert f"/donate/receipts/{donation.receipt_token}.pdf" in receipt.body
    devices.receive_donation(donation, {donation.items[0].id: 2}, by=coordinator_user)
    assert len(messages_of(purpose="donation.received")) == 1
    for _ in range(2):
        device = DeviceFactory(organisation=org, donation=donation)
        resident = ResidentFactory(organisation=org)
        loans.lend_device(
            device,
            resident,
            due_on=today() + timedelta(days=9),
            agreement_method="paper",
            by=coordinator_user,
        )
    assert len(messages_of(purpose="donation.first_lent")) == 1


# ---- personal data --------------------------------------------------------------------


def test_a_residents_messages_are_in_their_export_and_erasure_keeps_only_counts(
    db, org, coordinator_user, texting_resident
):
    import json
    import zipfile

    from inclusion.dataprotection import service as dataprotection
    from inclusion.residents import service as residents

    loan = LoanFactory(organisation=org, resident=texting_resident, due_on=today())
    message = device_messages.queue_due_soon(loan)
    worker.run_once()
    archive = zipfile.ZipFile(
        io.BytesIO(dataprotection.export_resident(texting_resident, by=coordinator_user))
    )
    exported = json.loads(archive.read("messages.json"))
    assert [m["body"] for m in exported] == [message.body]
    assert json.loads(archive.read("contact_preferences.json"))[0]["by_sms"] is True
    loans.return_device(loan, condition="B", received_by="Cleo", by=coordinator_user)
    residents.change_status(texting_resident, "closed", outcome="goals_met", by=coordinator_user)
    dataprotection.erase_resident(texting_resident, by=coordinator_user)
    db.session.refresh(message)
    assert (message.recipient_name, message.address, message.body) == ("", "", "[removed]")
    assert (message.status, message.purpose, message.channel) == ("sent", "loan.due_soon", "sms")
    assert db.session.scalar(select(func.count()).select_from(Message)) == 1


def test_a_queued_message_to_someone_erased_meanwhile_is_cancelled_not_sent(
    db, org, coordinator_user, texting_resident
):
    loan = LoanFactory(organisation=org, resident=texting_resident, due_on=today())
    message = device_messages.queue_due_soon(loan)
    texting_resident.anonymised_at = now()
    db.session.flush()
    assert worker.run_once().cancelled == 1
    assert message.status == "cancelled"


def test_other_staff_see_no_one_time_link_on_the_messages_page(db, org, admin_user, coordinator):
    from inclusion.accounts import service as accounts

    user = UserFactory(organisation=org, role="coordinator", email="zed@example.org")
    accounts.request_password_reset(user.email)
    (message,) = messages_of(purpose="account.password_reset")
    page = coordinator.get(f"/messages/{message.id}").get_data(as_text=True)
    assert message.secret not in page and "[one-time link]" in page


# ---- the commands and the settings page ------------------------------------------------


def test_the_commands_queue_the_days_reminders_and_send_them(app, db, org, texting_resident):
    LoanFactory(organisation=org, resident=texting_resident, due_on=today() - timedelta(days=2))
    runner = app.test_cli_runner()
    queued = runner.invoke(args=["inclusion", "queue-reminders"])
    assert queued.exit_code == 0, queued.output
    assert "1 reminders queued." in queued.output
    again = runner.invoke(args=["inclusion", "queue-reminders"])
    assert "0 reminders queued." in again.output
    sent = runner.invoke(args=["inclusion", "send-messages"])
    assert sent.exit_code == 0, sent.output
    assert "Sending 1 messages" in sent.output and "1 sent, 0 to retry, 0 failed" in sent.output
    (message,) = messages_of(texting_resident)
    assert message.status == "sent"
    events = service.db.session.scalars(
        select(service.audit.AuditEvent).where(
            service.audit.AuditEvent.entity_type == "Message",
            service.audit.AuditEvent.entity_id == message.id,
        )
    ).all()
    assert [(e.action, e.system_actor) for e in events] == [
        ("message.queued", "cli:queue-reminders"),
        ("message.sent", "cli:send-messages"),
    ]


def test_the_settings_page_says_which_channels_are_off(app, db, admin, monkeypatch):
    monkeypatch.setitem(app.config, "MESSAGES_DEVELOPMENT_OUTBOX", False)
    page = admin.get("/admin/settings").get_data(as_text=True)
    assert "Text messages (SMS): <strong>off</strong>" in page
    assert "E-mail: <strong>off</strong>" in page
    monkeypatch.setitem(app.config, "NOTIFY_API_KEY", API_KEY)
    monkeypatch.setitem(app.config, "NOTIFY_SMS_TEMPLATE_ID", TEMPLATE_ID)
    assert "Text messages (SMS): GOV.UK Notify" in admin.get("/admin/settings").get_data(
        as_text=True
    )


def test_with_a_channel_off_nothing_is_queued_on_it(app, db, org, texting_resident, monkeypatch):
    monkeypatch.setitem(app.config, "MESSAGES_DEVELOPMENT_OUTBOX", False)
    loan = LoanFactory(organisation=org, resident=texting_resident, due_on=today())
    assert device_messages.queue_due_soon(loan) is None


def test_a_text_notify_could_not_deliver_becomes_a_to_do(
    db, org, texting_resident, notify, coordinator
):
    loan = LoanFactory(organisation=org, resident=texting_resident, due_on=today())
    message = device_messages.queue_due_soon(loan)
    worker.run_once()
    notify.notifications[message.provider_id]["status"] = "permanent-failure"
    worker.run_once()
    assert message.status == "failed" and message.provider_status == "permanent-failure"
    assert service.is_to_do(message)
    page = coordinator.get("/messages").get_data(as_text=True)
    assert "1 message did not reach someone" in page and "permanent-failure" in page
