"""The resident's own language: catalogues, language choice on public pages, RTL markup,
papers in the resident's language (the desk says which)."""

from __future__ import annotations

import re

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import read_mo
from sqlalchemy import select

from inclusion import i18n
from inclusion.i18n import LANGUAGES, catalogue, complete_languages, sms_segments, untranslated
from inclusion.residents.models import Resident
from tests.conftest import row_counts, sign_in
from tests.factories import LoanFactory, OrganisationFactory, ResidentFactory

OFFERED = [c for c in LANGUAGES if c != "en"]
# %(name)s and {name} in the pages; ((name)) in the texts of messages (Notify's style).
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w+\}|\(\(\s*\w+\s*\)\)")


# ---- the catalogues ---------------------------------------------------------------------


@pytest.mark.parametrize("code", OFFERED)
def test_every_resident_facing_message_is_translated(code):
    assert untranslated(code) == []


@pytest.mark.parametrize("code", OFFERED)
def test_placeholders_are_those_of_the_english(code):
    wrong = []
    for message in catalogue(code):
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if len(ids) == 1:
            expected = sorted(PLACEHOLDER.findall(ids[0]))
            for string in strings:
                if sorted(PLACEHOLDER.findall(string)) != expected:
                    wrong.append((message.id, string))
        else:
            # A plural: each form may leave out the count ("this day" / "these %(num)d
            # days", Welsh's form for one) but keeps every other placeholder, and none new.
            allowed = set(PLACEHOLDER.findall(ids[0])) | set(PLACEHOLDER.findall(ids[1]))
            kept = allowed - {"%(num)d", "%(num)s"}
            for string in filter(None, strings):  # an untranslated plural has empty forms
                found = set(PLACEHOLDER.findall(string))
                if not found <= allowed or not kept <= found:
                    wrong.append((message.id, string))
        # markup in a message (a link) must survive translation too
        if ids[0].count("<a ") != strings[0].count("<a "):
            wrong.append((message.id, strings[0]))
    assert wrong == []


@pytest.mark.parametrize("code", OFFERED)
def test_translated_text_messages_fit_two_segments(code):
    too_long = [
        (m.id, sms_segments(m.string))
        for m in catalogue(code)
        if m.id and m.string and i18n.is_sms(m.locations) and sms_segments(m.string) > 2
    ]
    assert too_long == []


@pytest.mark.parametrize("code", OFFERED)
def test_translated_text_messages_fit_two_segments_with_the_longest_details(app, code):
    """What a resident's phone gets: each text rendered in the language with the longest
    name, organisation and phone number the admins' check uses, the longest date Babel
    writes in that language and each kind of device, in two segments (the outbox would
    otherwise send a letter or e-mail instead)."""
    from datetime import date, timedelta

    from devices import messages as device_messages
    from devices import resident_texts
    from inclusion.messages import texts

    days = [date(2027, 1, 1) + timedelta(days=n) for n in range(365)]
    too_long = []
    with app.app_context(), i18n.in_language(code):
        from flask_babel import format_date

        longest_day = max(days, key=lambda d: len(format_date(d, "EEEE d MMMM")))
        for purpose in (
            device_messages.LOAN_DUE_SOON,
            device_messages.LOAN_OVERDUE,
            device_messages.BUNDLE_EXPIRING,
        ):
            wording = str(purpose.texts["sms"].body)
            with i18n.in_language("en"):
                assert wording != str(purpose.texts["sms"].body), f"{purpose.key} untranslated"
            for device in [*resident_texts.DEVICE_WORDS.values(), resident_texts.DEVICE]:
                values = {
                    **purpose.sample(),
                    "device": device,
                    "due_date": longest_day,
                    "expiry_date": longest_day,
                }
                segments = texts.sms_segments(texts.render(wording, values))
                if segments.count > 2:
                    too_long.append((purpose.key, str(device), segments))
    assert too_long == []


def test_sms_segments_count_ucs2_for_non_latin_scripts():
    assert sms_segments("Your loan is due back on 3 March.") == 1
    assert sms_segments("a" * 306) == 2 and sms_segments("a" * 307) == 3
    urdu = "براہ کرم آلہ واپس کریں"
    assert sms_segments(urdu * 3) == 1  # 66 characters
    assert sms_segments("ا" * 134) == 2 and sms_segments("ا" * 135) == 3


def _hashable(value):
    """A plural's ids and forms come back from a .mo as lists, from a .po as tuples."""
    return tuple(value) if isinstance(value, list | tuple) else value


def _compiled_string(message):
    """What the .mo holds for a message: an untranslated plural form is compiled as the
    English (the singular for the first form, the plural for the others)."""
    if not isinstance(message.string, tuple):
        return message.string
    return tuple(s or message.id[min(i, 1)] for i, s in enumerate(message.string))


@pytest.mark.parametrize("code", OFFERED)
def test_compiled_catalogue_is_current(code):
    path = i18n.TRANSLATIONS / code / "LC_MESSAGES"
    with open(path / "messages.mo", "rb") as f:
        compiled = {_hashable(m.id): _hashable(m.string) for m in read_mo(f) if m.id}
    source = {
        _hashable(m.id): _compiled_string(m)
        for m in catalogue(code)
        if m.id and m.string and not m.fuzzy
    }
    assert compiled == source, "run `make translations` to compile the catalogues"


def test_catalogues_hold_every_marked_string():
    """The .pot is what `pybabel extract` finds today: a marked string is in every catalogue."""
    from babel.messages.extract import extract_from_dir

    found = set()
    method_map = [
        ("inclusion/**.py", "python"),
        ("devices/**.py", "python"),
        ("buddies/**.py", "python"),
        ("outcomes/**.py", "python"),
        ("templates/**.html", "jinja2"),
    ]
    root = str(i18n.TRANSLATIONS.parent.parent)
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None}
    for _file, _line, message, _comments, _context in extract_from_dir(
        root, method_map, keywords=keywords
    ):
        found.add(message if isinstance(message, str) else message[0])
    for code in OFFERED:
        ids = {m.id if isinstance(m.id, str) else m.id[0] for m in catalogue(code) if m.id}
        assert found - ids == set(), f"{code}: run `make translations`"


def test_an_incomplete_catalogue_is_not_offered():
    english = catalogue("en") if (i18n.TRANSLATIONS / "en").is_dir() else None
    assert english is None
    cat = Catalog(locale="cy")
    cat.add("Send referral", "", locations=[("templates/residents/refer.html", 1)])
    cat.add("Users", "", locations=[("templates/accounts/users.html", 1)])
    # Only the resident-facing message counts: staff pages may ship in English.
    assert untranslated(cat) == ["Send referral"]
    assert complete_languages() == frozenset(LANGUAGES)


# ---- choosing the language of a public page --------------------------------------------


def _html_lang(page: str) -> tuple[str, str]:
    m = re.search(r'<html lang="([^"]+)" dir="([^"]+)"', page)
    return m.group(1), m.group(2)


def test_accept_language_picks_the_page_language(client, org):
    page = client.get("/refer", headers={"Accept-Language": "pl-PL,pl;q=0.9,en;q=0.5"})
    html = page.get_data(as_text=True)
    assert _html_lang(html) == ("pl", "ltr")
    assert "Wyślij zgłoszenie" in html and "Send referral" not in html


def test_lang_parameter_wins_and_is_remembered_in_a_cookie(client, org):
    page = client.get("/refer?lang=ur", headers={"Accept-Language": "pl"})
    html = page.get_data(as_text=True)
    assert _html_lang(html) == ("ur", "rtl")
    assert "حوالہ بھیجیں" in html
    assert "lang=ur" in page.headers.get("Set-Cookie", "")
    again = client.get("/refer", headers={"Accept-Language": "pl"}).get_data(as_text=True)
    assert _html_lang(again) == ("ur", "rtl")


def test_switcher_names_each_language_in_itself(client, org):
    html = client.get("/refer").get_data(as_text=True)
    switcher = html[html.index('aria-label="Language"') :]
    for native in ("English", "Cymraeg", "Polski", "Română", "ਪੰਜਾਬੀ", "বাংলা", "اردو", "العربية"):
        assert native in switcher
    assert 'lang="pa"' in switcher and 'hreflang="ur"' in switcher and "lang=ar" in switcher


def test_a_language_no_organisation_offers_is_neither_switchable_nor_chosen(client, org, db):
    org.languages = "cy,pa"
    db.session.flush()
    html = client.get("/refer?lang=ar", headers={"Accept-Language": "ur"}).get_data(as_text=True)
    assert _html_lang(html) == ("en", "ltr")
    switcher = html[html.index('aria-label="Language"') :]
    assert "Cymraeg" in switcher and "ਪੰਜਾਬੀ" in switcher
    assert "العربية" not in switcher and "اردو" not in switcher


def test_referral_in_urdu_errors_and_confirmation_in_urdu(client, org, db):
    client.get("/refer?lang=ur")
    before = row_counts(Resident)
    refused = client.post(
        "/refer",
        data={"organisation": str(org.id), "on_behalf": "self", "phone": "12"},
    ).get_data(as_text=True)
    assert "ان کا پہلا نام لکھیں۔" in refused  # "Enter their first name."
    assert "فون نمبر لکھیں، جیسے 01902 555123 یا 07911 123456۔" in refused
    assert row_counts(Resident) == before
    done = client.post(
        "/refer",
        data={
            "organisation": str(org.id),
            "on_behalf": "self",
            "first_name": "Nasreen",
            "last_name": "Akhtar",
            "phone": "07911 123456",
            "postcode": "WV3 0AA",
            "preferred_language": "Urdu",
            "needs_device": "y",
            "referral_reason": "آن لائن نسخہ منگوانا",
            "consent": "y",
        },
        follow_redirects=True,
    ).get_data(as_text=True)
    resident = db.session.scalar(select(Resident).where(Resident.last_name == "Akhtar"))
    assert resident is not None and resident.preferred_language == "Urdu"
    assert _html_lang(done) == ("ur", "rtl")
    assert "حوالہ موصول ہو گیا" in done
    # the reference and the phone number stay left to right inside the Urdu text
    assert f'dir="ltr">{resident.reference}</strong>' in done
    assert '<bdi dir="ltr">01902 555123</bdi>' in done  # national format


def test_public_device_page_in_bengali(client, org, db):
    from tests.factories import DeviceFactory

    device = DeviceFactory(organisation=org)
    html = client.get(f"/d/{device.asset_tag}?lang=bn").get_data(as_text=True)
    assert _html_lang(html) == ("bn", "ltr")
    assert f"এই ডিভাইসটি {org.name} এর" in html
    assert f'<bdi dir="ltr">{device.asset_tag}</bdi>' in html


def test_error_page_in_the_visitors_language(client, org):
    response = client.get("/no-such-page", headers={"Accept-Language": "ar"})
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert _html_lang(html) == ("ar", "rtl") and "الصفحة غير موجودة" in html


def test_minimal_error_page_in_the_visitors_language(app, client, org, monkeypatch):
    # A 500 is drawn without the base layout (inclusion.errors.minimal_page).
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)

    def broken():
        raise RuntimeError("a bug on a public page")

    broken.permission = None  # as @public marks it
    monkeypatch.setitem(app.view_functions, "main.home", broken)
    response = client.get("/?lang=ar")
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert _html_lang(html) == ("ar", "rtl")
    for message in ("Something went wrong", "Nothing was saved. Please try again."):
        assert catalogue("ar")[message].string in html
    assert f">{catalogue('ar')['Go to the start page'].string}</a>" in html
    english = ("Something went wrong", "Go to the start page", "Skip to main content")
    assert [e for e in english if e in html] == []


def test_staff_pages_stay_in_english_with_a_language_cookie(app, coordinator_user):
    client = sign_in(app, coordinator_user)
    client.get("/refer?lang=ur")
    html = client.get("/residents").get_data(as_text=True)
    assert _html_lang(html) == ("en", "ltr")


# ---- the organisation's choice -----------------------------------------------------------


def test_admin_chooses_the_languages_offered(admin, org, db):
    form = {
        "name": org.name,
        "contact_phone": "01902 555123",
        "contact_email": org.contact_email,
        "return_address": org.return_address,
        "default_loan_days": "56",
        "retention_months": "24",
        "languages": ["cy", "ur"],
    }
    response = admin.post("/admin/settings", data=form, follow_redirects=True)
    assert response.status_code == 200
    db.session.refresh(org)
    assert org.languages == "cy,ur"
    bad = admin.post("/admin/settings", data=dict(form, languages=["xx"]))
    assert bad.status_code == 422
    assert "is not a valid choice" in bad.get_data(as_text=True)
    db.session.refresh(org)
    assert org.languages == "cy,ur"


def test_new_organisations_offer_every_shipped_language(db):
    org = OrganisationFactory()
    assert set(org.languages.split(",")) == set(OFFERED)


# ---- papers: the resident's preferred language ------------------------------------------


def test_desk_says_which_language_the_agreement_is_printed_in(coordinator, org, db):
    loan = LoanFactory(
        organisation=org,
        resident=ResidentFactory(organisation=org, preferred_language="Urdu"),
    )
    html = coordinator.get(f"/loans/{loan.reference}?lent=1").get_data(as_text=True)
    assert "Agreement printed in Urdu, normal print." in html
    org.languages = "cy"
    db.session.flush()
    html = coordinator.get(f"/loans/{loan.reference}?lent=1").get_data(as_text=True)
    assert "Agreement printed in English, normal print." in html
    assert "Urdu is not offered, so it is in English." in html


def test_paper_language_falls_back_to_english(org):
    resident = ResidentFactory(organisation=org, preferred_language="Somali")
    assert i18n.paper_language(resident, org).code == "en"
    resident.preferred_language = "Punjabi"
    assert i18n.paper_language(resident, org).code == "pa"


def test_donation_pledge_in_polish_with_its_errors_and_choices(client, org):
    html = client.get("/donate?lang=pl").get_data(as_text=True)
    assert _html_lang(html) == ("pl", "ltr")
    assert "Przekaż urządzenia" in html and "Rodzaj urządzenia" in html
    assert ">Tablet<" in html and ">Przenośny hotspot<" in html  # the kinds, translated
    refused = client.post("/donate", data={"organisation": str(org.id)}).get_data(as_text=True)
    assert "Podaj nazwę firmy." in refused  # "Enter the business name."
    assert "Dodaj co najmniej jedną pozycję" in refused


def test_volunteer_form_in_bengali_names_days_and_languages_in_bengali(client, org):
    html = client.get("/volunteer?lang=bn").get_data(as_text=True)
    assert _html_lang(html) == ("bn", "ltr")
    assert "আইটি সঙ্গী হিসেবে স্বেচ্ছাসেবক হন" in html
    assert "মঙ্গলবার" in html and "সকাল" in html  # Tuesday, morning in the availability grid
    assert 'value="Punjabi"' in html and "পাঞ্জাবি" in html  # stored in English, shown in Bengali
