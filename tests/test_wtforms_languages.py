"""WTForms' own messages ("This field is required.", "Not a valid choice.") in the resident's
language: WTForms' catalogue where it ships one, ours (``translations/<code>/LC_MESSAGES/
wtforms.po``) for the languages it does not (today Punjabi, Bengali and Urdu)."""

from __future__ import annotations

import gettext
import re
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from markupsafe import escape
from wtforms.i18n import messages_path

from inclusion import i18n
from inclusion.audit import AuditEvent
from inclusion.i18n import LANGUAGES, TRANSLATIONS, catalogue, wtforms_ships
from inclusion.residents.models import Resident
from tests.conftest import row_counts
from tests.test_languages import _compiled_string, _hashable

OFFERED = [c for c in LANGUAGES if c != "en"]
# The languages WTForms has no catalogue for: ours must translate its messages.
OURS = [c for c in OFFERED if not wtforms_ships(c)]
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]")


def _ours(code: str) -> Path:
    return TRANSLATIONS / code / "LC_MESSAGES" / "wtforms.po"


def _read_po(path: Path, code: str | None = None):
    with open(path, "rb") as f:
        return read_po(f, locale=code)


def _wtforms_template():
    """WTForms' template of its messages, as the installed WTForms ships it."""
    return _read_po(Path(messages_path()) / "wtforms.pot")


def _key(message) -> str:
    return message.id if isinstance(message.id, str) else message.id[0]


def _strings(message) -> tuple[str, ...]:
    return message.string if isinstance(message.string, tuple) else (message.string,)


def test_every_offered_language_has_wtforms_messages_in_it():
    missing = [c for c in OFFERED if not wtforms_ships(c) and not _ours(c).is_file()]
    assert missing == [], "add translations/<code>/LC_MESSAGES/wtforms.po for each"


@pytest.mark.parametrize("code", OURS)
def test_our_wtforms_catalogue_translates_every_wtforms_message(code):
    """Every message of the installed WTForms, so an upgrade that adds one fails here."""
    ours = _read_po(_ours(code), code)
    assert ours.plural_forms == catalogue(code).plural_forms  # as messages.po has them
    by_key = {_key(m): m for m in ours if m.id}
    wrong = []
    for message in _wtforms_template():
        if not message.id:
            continue
        translated = by_key.pop(_key(message), None)
        if translated is None or translated.fuzzy or translated.id != message.id:
            wrong.append((message.id, "untranslated"))
            continue
        strings = _strings(translated)
        if not all(strings) or len(strings) != (ours.num_plurals if message.pluralizable else 1):
            wrong.append((message.id, strings))
        ids = message.id if message.pluralizable else (message.id,)
        expected = sorted(set().union(*(PLACEHOLDER.findall(i) for i in ids)))
        wrong += [(message.id, s) for s in strings if sorted(PLACEHOLDER.findall(s)) != expected]
    assert wrong == []
    assert list(by_key) == [], "messages WTForms no longer has: run pybabel update"


@pytest.mark.parametrize("code", OURS)
def test_compiled_wtforms_catalogue_is_current(code):
    with open(_ours(code).with_suffix(".mo"), "rb") as f:
        compiled = {_hashable(m.id): _hashable(m.string) for m in read_mo(f) if m.id}
    source = {
        _hashable(m.id): _compiled_string(m)
        for m in _read_po(_ours(code), code)
        if m.id and m.string and not m.fuzzy
    }
    assert compiled == source, "run `pybabel compile -D wtforms -d inclusion/translations`"


def test_wtforms_messages_come_from_the_right_catalogue():
    urdu = i18n._wtforms_catalogue("ur")
    assert urdu.ugettext("This field is required.") == "براہ کرم یہ خانہ بھریں۔"
    one = "Field cannot be longer than %(max)d character."
    many = "Field cannot be longer than %(max)d characters."
    assert urdu.ungettext(one, many, 1) == "اس خانے میں %(max)d سے زیادہ حرف نہیں لکھا جا سکتا۔"
    assert urdu.ungettext(one, many, 5) == "اس خانے میں %(max)d سے زیادہ حروف نہیں لکھے جا سکتے۔"
    # The languages WTForms ships are still WTForms' own; English stays English.
    arabic = gettext.translation("wtforms", messages_path(), ["ar"])
    assert i18n._wtforms_catalogue("ar").ugettext("Not a valid choice.") == arabic.gettext(
        "Not a valid choice."
    )
    assert i18n._wtforms_catalogue(i18n.BABEL_ENGLISH).ugettext("Not a valid choice.") == (
        "Not a valid choice."
    )
    assert i18n._wtforms_catalogue("ur") is urdu  # once per language per process


def _error_next_to(html: str, field: str) -> str:
    m = re.search(rf'<p class="govuk-error-message" id="{field}-error">(.*?)</p>', html, re.S)
    assert m, f"no error shown next to {field}"
    return m.group(1)


@pytest.mark.parametrize("code", OURS)
def test_refused_referral_shows_wtforms_messages_in_the_page_language(client, org, code):
    """The public referral form: a name over 100 characters (Length without a message of
    ours) and a language not in the list (SelectField's "Not a valid choice")."""
    ours_catalogue = _read_po(_ours(code), code)
    ours = {_key(m): m for m in ours_catalogue if m.id}
    longer = ours["Field cannot be longer than %(max)d character."]
    form = gettext.c2py(ours_catalogue.plural_expr)(100)
    too_long = longer.string[form] % {"max": 100}
    not_a_choice = ours["Not a valid choice."].string
    client.get(f"/refer?lang={code}")
    before = row_counts(Resident, AuditEvent)
    response = client.post(
        "/refer",
        data={
            "organisation": str(org.id),
            "on_behalf": "self",
            "first_name": "N" * 101,
            "last_name": "Akhtar",
            "phone": "07911 123456",
            "postcode": "WV3 0AA",
            "preferred_language": "Klingon",
            "needs_device": "y",
            "referral_reason": "Online prescriptions",
            "consent": "y",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'<html lang="{code}"' in html
    assert escape(too_long) in _error_next_to(html, "first_name")
    assert escape(not_a_choice) in _error_next_to(html, "preferred_language")
    assert "Field cannot be longer than" not in html and "Not a valid choice" not in html
    assert row_counts(Resident, AuditEvent) == before
