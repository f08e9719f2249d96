# ruff: noqa: F811 - the fixtures of tests/test_messages.py are imported by name
"""Messages to a resident in their own language: the text, e-mail or letter is written in
their recorded preferred language when their organisation offers it (through the
catalogues, dates by Babel), else English; an admin's own wording applies to the
language it was written for; letters are set in the script's font and read back."""

from __future__ import annotations

import io
from datetime import date, timedelta

from devices import messages as device_messages
from inclusion.clock import today
from inclusion.messages import service, worker
from inclusion.messages.models import Message, MessageText
from tests.conftest import row_counts
from tests.factories import DeviceFactory, LoanFactory, ResidentFactory
from tests.test_messages import agree, certificate, daytime, notify, smtp  # noqa: F401 - fixtures


def resident_preferring(org, by, language, email="", **channels):
    resident = ResidentFactory(
        organisation=org,
        first_name="Nasreen",
        phone="+44 7911 123456",
        email=email,
        preferred_language=language,
    )
    agree(resident, by, **(channels or {"by_sms": True, "preferred": "sms"}))
    return resident


def loan_of(org, resident, due_on: date):
    device = DeviceFactory(organisation=org, kind="laptop")
    return LoanFactory(organisation=org, resident=resident, device=device, due_on=due_on)


def test_a_reminder_to_an_urdu_speaker_is_in_urdu_with_the_date_in_urdu(
    db, org, coordinator_user, notify
):
    resident = resident_preferring(org, coordinator_user, "Urdu")
    loan = loan_of(org, resident, date(2027, 3, 3))
    message = device_messages.queue_due_soon(loan)
    assert message.language == "Urdu"
    assert message.body == (
        f"Nasreen، براہ کرم {org.name} کا لیپ ٹاپ بدھ 3 مارچ تک واپس کریں۔ فون: {org.contact_phone}"
    )
    due_now(message)
    assert worker.run_once().sent == 1
    (request,) = notify.sends()
    assert request.body["personalisation"] == {"message": message.body}


def test_an_email_to_a_polish_speaker_is_in_polish_with_its_html_marked_polish(
    db, org, coordinator_user, smtp
):
    resident = resident_preferring(
        org, coordinator_user, "Polish", email="nasreen@example.org", by_email=True
    )
    bundle_message = device_messages.queue_due_soon(loan_of(org, resident, date(2027, 3, 1)))
    assert bundle_message.channel == "email" and bundle_message.language == "Polish"
    due_now(bundle_message)
    assert worker.run_once().sent == 1
    (mail,) = smtp.received
    assert mail.email["Subject"] == "Termin zwrotu: laptop, poniedziałek 1 marca"
    assert "Prosimy o zwrot razem z ładowarką" in mail.part("plain")
    assert '<html lang="pl" dir="ltr">' in mail.part("html")


def test_a_welsh_letter_is_in_welsh_and_its_pdf_reads_back(db, org, coordinator_user, coordinator):
    from pypdf import PdfReader

    resident = resident_preferring(
        org, coordinator_user, "Welsh", by_letter=True, postal_address="1 Heol y Dref\nSA1 1AA"
    )
    loan = loan_of(org, resident, today() - timedelta(days=8))
    message = device_messages.queue_overdue(loan, today())
    assert message.channel == "letter" and message.language == "Welsh"
    assert message.subject.startswith("Roedd eich gliniadur i fod yn ôl ar")
    assert "Gyda dymuniadau gorau," in message.body
    pdf = PdfReader(io.BytesIO(coordinator.get("/messages/letters.pdf").data))
    text = pdf.pages[0].extract_text()
    assert "Annwyl Nasreen," in text and "Gyda dymuniadau gorau," in text
    assert f"Ffôn {org.contact_phone}" in text


def test_an_arabic_letter_is_shaped_right_to_left_and_reads_back(
    db, org, coordinator_user, coordinator, monkeypatch
):
    from inclusion.messages import letters
    from tests.test_shaping import contains_sequence, drawn, hb_glyphs

    # The letter's date and the due date on fixed days: on some dates (seen on 2 December
    # 2026) pypdf's content-stream parser, this test's reader, stops with "Stream has ended
    # unexpectedly" inside the shaped Arabic; the dates are not what this test is about.
    monkeypatch.setattr(letters, "today", lambda: date(2026, 12, 1))

    resident = resident_preferring(
        org, coordinator_user, "Arabic", by_letter=True, postal_address="2 High Street\nWV1 1AA"
    )
    loan = loan_of(org, resident, date(2026, 12, 4))
    message = device_messages.queue_due_soon(loan)
    assert message.language == "Arabic" and "عزيزي/عزيزتي Nasreen،" in message.body
    (glyphs, spans), *_ = drawn(coordinator.get("/messages/letters.pdf").data)
    # the text layer reads back line by line, in reading order
    assert "مع أطيب التمنيات،" in spans and "عزيزي/عزيزتي Nasreen،" in spans
    # and what is drawn is HarfBuzz's shaping of it, in the Naskh font
    closing = hb_glyphs("مع أطيب التمنيات،", "arabic", rtl=True)
    assert contains_sequence(glyphs, "NotoNaskhArabic-Regular", closing)


def test_a_language_the_organisation_does_not_offer_gets_english(db, org, coordinator_user):
    org.languages = "cy"
    db.session.flush()
    resident = resident_preferring(org, coordinator_user, "Urdu")
    message = device_messages.queue_due_soon(loan_of(org, resident, date(2027, 3, 3)))
    assert message.language == "English"
    assert message.body.startswith("Hello Nasreen, the laptop you borrowed from")
    assert "Wednesday 3 March" in message.body


def test_an_admins_english_wording_stays_english_and_an_urdu_one_is_used_for_urdu(
    db, org, admin_user, coordinator_user, admin
):
    english = "Hi ((first_name)), please return the ((device)) by ((due_date)). ((organisation))"
    urdu = "((first_name))، ((device)) ((due_date)) تک لائبریری میں واپس کریں۔ ((organisation))"
    for language, body in (("English", english), ("Urdu", urdu)):
        response = admin.post(
            "/admin/message-texts/loan.due_soon/sms",
            data={"language": language, "body": body, "action": "save"},
        )
        assert response.status_code == 302
    welsh = resident_preferring(org, coordinator_user, "Welsh")
    urdu_reader = resident_preferring(org, coordinator_user, "Urdu")
    english_reader = resident_preferring(org, coordinator_user, "English")
    due = date(2027, 3, 3)
    by_language = {
        r.preferred_language: device_messages.queue_due_soon(loan_of(org, r, due))
        for r in (welsh, urdu_reader, english_reader)
    }
    assert by_language["English"].body.startswith("Hi Nasreen, please return the laptop by")
    assert by_language["Urdu"].body.startswith("Nasreen، لیپ ٹاپ بدھ 3 مارچ تک لائبریری")
    # no Welsh wording of their own: inclusion's Welsh translation, not their English
    assert by_language["Welsh"].language == "Welsh"
    assert by_language["Welsh"].body.startswith("Nasreen, dychwelwch y gliniadur i ")
    assert "Dydd Mercher 3 Mawrth" in by_language["Welsh"].body


def test_the_text_page_says_which_language_each_own_wording_is_for(db, org, admin):
    admin.post(
        "/admin/message-texts/loan.due_soon/sms",
        data={"language": "Polish", "body": "((first_name)): zwrot ((device))", "action": "save"},
    )
    page = admin.get("/admin/message-texts").get_data(as_text=True)
    assert "your own in Polish" in page
    edit = admin.get("/admin/message-texts/loan.due_soon/sms?language=Urdu").get_data(as_text=True)
    # editing Urdu starts from inclusion's Urdu translation
    assert "براہ کرم ((organisation)) کا ((device))" in edit
    assert "only to residents whose preferred language is" in edit


def test_an_admins_text_with_a_bad_placeholder_in_another_language_changes_nothing(db, org, admin):
    before = row_counts(MessageText)
    response = admin.post(
        "/admin/message-texts/loan.due_soon/sms",
        data={"language": "Urdu", "body": "((naam)) واپس کریں", "action": "save"},
    )
    assert response.status_code == 422
    assert "((naam)) is not a placeholder" in response.get_data(as_text=True)
    assert row_counts(MessageText) == before


def due_now(message: Message) -> None:
    from inclusion.clock import now

    message.next_attempt_at = now() - timedelta(seconds=1)
    service.db.session.flush()
