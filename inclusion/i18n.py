"""The resident's own language: which languages there are, which one a page or a paper uses.

Public pages pick their language from ``?lang=`` (remembered in a cookie), then the cookie,
then the browser's ``Accept-Language``; a language is offered only when some organisation
offers it and its catalogue translates every resident-facing message. Papers for a
resident (the loan agreement, letters, texts) use the resident's recorded preferred
language when their organisation offers it, else English. Staff pages ship in English.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po
from flask import current_app, g, has_request_context, request
from flask_babel import Babel, force_locale, get_locale
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

TRANSLATIONS = Path(__file__).resolve().parent / "translations"
COOKIE = "lang"
COOKIE_MAX_AGE = 365 * 24 * 3600


@dataclass(frozen=True)
class Language:
    code: str
    native: str  # how the language names itself, as the switcher shows it
    english: str  # as recorded in a resident's preferred language
    rtl: bool = False

    @property
    def dir(self) -> str:
        return "rtl" if self.rtl else "ltr"


LANGUAGES = {
    lang.code: lang
    for lang in (
        Language("en", "English", "English"),
        Language("cy", "Cymraeg", "Welsh"),
        Language("pl", "Polski", "Polish"),
        Language("ro", "Română", "Romanian"),
        Language("pa", "ਪੰਜਾਬੀ", "Punjabi"),
        Language("bn", "বাংলা", "Bengali"),
        Language("ur", "اردو", "Urdu", rtl=True),
        Language("ar", "العربية", "Arabic", rtl=True),
    )
}
DEFAULT = "en"
# Babel's locale for English is British English (dates as "1 December 2026", not US style).
BABEL_ENGLISH = "en_GB"
# What a new organisation offers: every language inclusion ships.
ALL_CODES = ",".join(code for code in LANGUAGES if code != DEFAULT)

# The sources whose messages a resident or a member of the public reads: every message
# that occurs in one of them must be translated for its language to be offered.
RESIDENT_FACING = (
    "templates/base.html",
    "templates/_macros.html",
    "templates/error.html",
    "templates/errors/_bare.html",
    "templates/errors/minimal.html",
    "templates/errors/busy.html",
    "inclusion/errors.py",
    "templates/residents/refer.html",
    "templates/residents/referral_received.html",
    "templates/residents/_person_fields.html",
    "templates/devices/pledge.html",
    "templates/devices/pledge_received.html",
    "templates/devices/public_device.html",
    "templates/devices/_public_nav.html",
    "templates/buddies/apply.html",
    "templates/buddies/applied.html",
    "templates/buddies/_profile_fields.html",
    "templates/buddies/_checks.html",
    "templates/buddies/_public_nav.html",
    "templates/main/home.html",
    "templates/devices/_home_card.html",
    "templates/buddies/_home_card.html",
    "inclusion/residents/forms.py",
    "inclusion/validators.py",
    "inclusion/__init__.py",
    "inclusion/public_links.py",
    "devices/__init__.py",
    "buddies/__init__.py",
    "devices/forms.py",
    "devices/loans/pdf.py",
    # what the outbox says to residents: texts, e-mails and letters
    "devices/sms.py",
    "devices/resident_texts.py",
    "inclusion/messages/letters.py",
    "buddies/forms.py",
    # the printable outcome questionnaire and the questions' wording a resident reads
    "outcomes/questionnaire.py",
    "outcomes/measures.py",
)


def is_sms(locations) -> bool:
    """A text message's wording (templates and messages whose path names SMS)."""
    return any("sms" in path.lower() for path, _line in locations)


def is_resident_facing(locations) -> bool:
    return any(path.startswith(RESIDENT_FACING) for path, _line in locations)


@cache
def catalogue(code: str):
    with open(TRANSLATIONS / code / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f, locale=code)


def untranslated(code_or_catalogue) -> list[str]:
    """The resident-facing messages that a catalogue (or the catalogue of a language code)
    leaves untranslated or marks fuzzy."""
    cat = catalogue(code_or_catalogue) if isinstance(code_or_catalogue, str) else code_or_catalogue
    missing = []
    for message in cat:
        if not message.id or not is_resident_facing(message.locations):
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    return missing


@cache
def complete_languages() -> frozenset[str]:
    """Codes whose catalogue translates every resident-facing message (English always)."""
    done = {DEFAULT}
    for code in LANGUAGES:
        if code != DEFAULT and (TRANSLATIONS / code).is_dir() and not untranslated(code):
            done.add(code)
    return frozenset(done)


def offered_codes(organisation) -> list[str]:
    """What ``organisation`` offers, in the order inclusion lists them: its chosen
    languages whose catalogue is complete, and English."""
    chosen = set((organisation.languages or "").split(",")) if organisation else set()
    done = complete_languages()
    return [c for c in LANGUAGES if c == DEFAULT or (c in chosen and c in done)]


def _public_codes() -> list[str]:
    """Languages a signed-out page may use: what any organisation offers. Public pages are
    shared by the organisations of a deployment and never guess which one a visitor is from."""
    if "public_languages" not in g:
        from sqlalchemy import select

        from .accounts.models import Organisation
        from .extensions import db

        try:
            rows = db.session.scalars(
                select(Organisation.languages).execution_options(all_organisations=True)
            ).all()
        except SQLAlchemyError:
            # An error page drawn while the database is down: the organisations' choice
            # cannot be read, so the page speaks the visitor's language if it is complete.
            db.session.rollback()
            rows = [ALL_CODES]
        chosen = {c for row in rows for c in (row or "").split(",")}
        done = complete_languages()
        g.public_languages = [c for c in LANGUAGES if c == DEFAULT or (c in chosen and c in done)]
    return g.public_languages


def _is_public_page() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    # Error pages have no endpoint of their own: they speak the visitor's language.
    return view is None or getattr(view, "permission", "") is None


def select_locale() -> str:
    try:
        code = _select_language()
    except SQLAlchemyError:
        # The database is down or refusing (an error page is being drawn): English.
        from .extensions import db

        try:
            db.session.rollback()
        except Exception:  # a dead connection may refuse even the rollback
            pass
        code = DEFAULT
    return BABEL_ENGLISH if code == DEFAULT else code


def _select_language() -> str:
    if not has_request_context() or (request.blueprint or "").startswith("api"):
        return DEFAULT  # commands, papers (in_language), and the API speak English
    # The page first: a public page never needs the signed-in user (read from the database).
    if not _is_public_page() and current_user.is_authenticated:
        return DEFAULT
    offered = _public_codes()
    asked = request.args.get("lang", "")
    if asked in offered:
        return asked
    remembered = request.cookies.get(COOKIE, "")
    if remembered in offered:
        return remembered
    return request.accept_languages.best_match(offered) or DEFAULT


def current_language() -> Language:
    locale = get_locale()
    return LANGUAGES.get(locale.language if locale else DEFAULT, LANGUAGES[DEFAULT])


def language_without_database() -> Language:
    """The page's language, chosen without asking the database (the "busy, please try
    again" page: SQLite is busy). As :func:`select_locale` chooses, except that a page that
    is not public is in English, and when the organisations' choice was not read yet in
    this request every language whose catalogue is complete counts as offered."""
    if not has_request_context() or (request.blueprint or "").startswith("api"):
        return LANGUAGES[DEFAULT]
    if not _is_public_page():
        return LANGUAGES[DEFAULT]  # staff pages ship in English; no user is read
    if "public_languages" not in g:
        done = complete_languages()
        g.public_languages = [c for c in LANGUAGES if c in done]
    return LANGUAGES[_select_language()]


def language_for_preference(preferred: str | None) -> str | None:
    """The code of a resident's recorded preferred language ("Punjabi" → "pa"), or None."""
    for lang in LANGUAGES.values():
        if (preferred or "").strip().lower() in (lang.english.lower(), lang.code):
            return lang.code
    return None


def paper_language(resident, organisation) -> Language:
    """The language of papers for ``resident``: their preferred language when their
    organisation offers it (and its catalogue is complete), else English."""
    code = language_for_preference(resident.preferred_language)
    if code and code in offered_codes(organisation):
        return LANGUAGES[code]
    return LANGUAGES[DEFAULT]


def in_language(code: str):
    """``with in_language("ur"):`` — gettext, dates and numbers in that language."""
    return force_locale(BABEL_ENGLISH if code == DEFAULT else code)


def wtforms_ships(locale: str) -> bool:
    """Whether WTForms has its own catalogue of its messages for ``locale``."""
    import gettext

    from wtforms.i18n import messages_path

    return gettext.find("wtforms", messages_path(), [locale]) is not None


@cache
def _wtforms_catalogue(locale: str):
    """WTForms' messages in ``locale``: WTForms' own catalogue, or for a language it ships
    none for (Punjabi, Bengali, Urdu) ours, ``translations/<code>/LC_MESSAGES/wtforms.po``."""
    from babel import support
    from wtforms.i18n import messages_path

    directory = messages_path() if wtforms_ships(locale) else str(TRANSLATIONS)
    return support.Translations.load(directory, [locale], domain="wtforms")


class _WTFormsMessages:
    """WTForms' own messages ("Not a valid choice") in the page's language. Flask-WTF reads
    its catalogue from disk once per request; this keeps one per language for the process
    and asks for the language when a message is drawn (so ``in_language`` is honoured)."""

    def ugettext(self, string):
        return _wtforms_catalogue(str(get_locale())).ugettext(string)

    def ungettext(self, singular, plural, n):
        return _wtforms_catalogue(str(get_locale())).ungettext(singular, plural, n)


_WTFORMS_MESSAGES = _WTFormsMessages()


def init_app(app) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", BABEL_ENGLISH)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    Babel(app, locale_selector=select_locale)

    @app.before_request
    def _wtforms_messages():
        # Where Flask-WTF looks for the request's WTForms catalogue (flask_wtf.i18n).
        request.wtforms_translations = _WTFORMS_MESSAGES

    @app.after_request
    def _remember_choice(response):
        asked = request.args.get("lang", "")
        if asked and asked in LANGUAGES and request.cookies.get(COOKIE) != asked:
            response.set_cookie(
                COOKIE,
                asked,
                max_age=COOKIE_MAX_AGE,
                samesite="Lax",
                secure=bool(app.config.get("SESSION_COOKIE_SECURE")),
                httponly=True,
            )
        return response

    @app.context_processor
    def _language():
        if not request:
            return {}
        lang = current_language()
        switcher = []
        if _is_public_page():
            switcher = [LANGUAGES[c] for c in _public_codes()]
        return {"language": lang, "language_switcher": switcher}


# ---- text messages: what fits in two SMS segments -------------------------------------


def sms_segments(text: str) -> int:
    """How many SMS segments ``text`` takes (the outbox's own count: GSM-7 when it can,
    UCS-2 — 67 characters a segment — for Gurmukhi, Bengali, Arabic and Urdu)."""
    from .messages.texts import sms_segments as segments

    return segments(text).count
