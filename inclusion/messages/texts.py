"""Message texts: what each purpose says on each channel, with ``((placeholders))`` as
GOV.UK Notify writes them, and the limits an admin's own wording must keep.

A feature registers its purposes (``registry(app).add_message_purpose(Purpose(...))``)
with its default texts in one place; an admin may replace a text per organisation
(``MessageText``). An SMS stays within two segments (GSM-7: 160 characters in one,
153 per segment when split; any other character makes it UCS-2: 70, then 67), checked
with the longest values each placeholder takes.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date

from ..registry import registry
from .models import CHANNELS, EMAIL, LETTER, SMS

PLACEHOLDER = re.compile(r"\(\(\s*([a-z_][a-z0-9_]*)\s*\)\)")
MAX_SMS_SEGMENTS = 2
MAX_BODY = 4000
MAX_SUBJECT = 200

# GSM 03.38: the basic character set, and the extension table (each costs two).
GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = set("^{}\\[~]|€\f")

#: Placeholders every message has.
COMMON_PLACEHOLDERS = {
    "organisation": ("The organisation's name", "Wolverhampton Digital Inclusion CVS"),
    "organisation_phone": ("The organisation's phone number", "+44 1902 555123"),
}

AUDIENCES = {"resident": "Residents", "user": "Staff and buddies", "donor": "Donors"}


@dataclass(frozen=True)
class Text:
    body: str
    subject: str = ""


@dataclass(frozen=True)
class Purpose:
    """A kind of message: ``key`` (``loan.overdue``), who it goes to, on which channels,
    the placeholders its texts may use (name -> (what it is, the longest sample value)),
    those every text must keep (a link), and its default text per channel."""

    key: str
    label: str
    audience: str
    texts: dict[str, Text]
    placeholders: dict[str, tuple[str, str]] = field(default_factory=dict)
    required: tuple[str, ...] = ()

    @property
    def channels(self) -> list[str]:
        return [c for c in CHANNELS if c in self.texts]

    @property
    def all_placeholders(self) -> dict[str, tuple[str, str]]:
        return {**COMMON_PLACEHOLDERS, **self.placeholders}

    def sample(self) -> dict[str, str]:
        return {name: example for name, (_, example) in self.all_placeholders.items()}


def purposes(app=None) -> dict[str, Purpose]:
    return registry(app).message_purposes


def purpose_of(key: str, app=None) -> Purpose:
    found = purposes(app).get(key)
    if found is None:
        raise LookupError(f"no message purpose {key!r} is registered")
    return found


# ---- SMS segments --------------------------------------------------------------------


@dataclass(frozen=True)
class Segments:
    encoding: str  # "GSM-7" or "UCS-2"
    length: int  # characters as the network counts them (septets or UTF-16 units)
    count: int

    @property
    def per_segment(self) -> int:
        single, multi = (160, 153) if self.encoding == "GSM-7" else (70, 67)
        return single if self.count <= 1 else multi


def sms_segments(text: str) -> Segments:
    """How many SMS segments ``text`` takes: GSM-7 when every character is in the GSM
    alphabet (the extension characters count twice), UCS-2 otherwise."""
    if all(c in GSM_BASIC or c in GSM_EXTENSION for c in text):
        length = sum(2 if c in GSM_EXTENSION else 1 for c in text)
        single, multi = 160, 153
        encoding = "GSM-7"
    else:
        length = len(text.encode("utf-16-le")) // 2
        single, multi = 70, 67
        encoding = "UCS-2"
    count = 1 if length <= single else math.ceil(length / multi)
    return Segments(encoding, length, count)


# ---- rendering and checks ------------------------------------------------------------


def placeholders_in(text: str) -> list[str]:
    return list(dict.fromkeys(PLACEHOLDER.findall(text or "")))


def _shown(value) -> str:
    """A placeholder's value as the text says it, in the language being rendered: a date
    through Babel ("Wednesday 30 September", "dydd Mercher 30 Medi"), a lazily
    translated word in that language."""
    if isinstance(value, date):
        from flask_babel import format_date

        return format_date(value, "EEEE d MMMM")
    return str(value if value is not None else "")


def render(text: str, values: dict) -> str:
    """``text`` with each ``((name))`` replaced by its value (unknown ones are left out).
    Dates and translated words come out in the current language (``in_language``)."""
    return PLACEHOLDER.sub(lambda m: _shown(values.get(m.group(1), "")), str(text or ""))


def problems(purpose: Purpose, channel: str, subject: str, body: str) -> dict[str, str]:
    """What is wrong with a text an admin wrote, by field (empty: it may be saved)."""
    found: dict[str, str] = {}
    body = body or ""
    if not body.strip():
        found["body"] = "Write the message."
    elif len(body) > MAX_BODY:
        found["body"] = f"Keep the message under {MAX_BODY} characters."
    unknown = [
        name
        for name in placeholders_in(body) + placeholders_in(subject)
        if name not in purpose.all_placeholders
    ]
    if unknown and "body" not in found:
        allowed = ", ".join(f"(({n}))" for n in purpose.all_placeholders)
        found["body"] = (
            f"(({unknown[0]})) is not a placeholder this message has. You can use: {allowed}."
        )
    missing = [name for name in purpose.required if name not in placeholders_in(body)]
    if missing and "body" not in found:
        found["body"] = f"Keep (({missing[0]})) in the message: it cannot work without it."
    if channel == EMAIL:
        if not (subject or "").strip():
            found["subject"] = "Write a subject line."
        elif len(subject) > MAX_SUBJECT or "\n" in subject or "\r" in subject:
            found["subject"] = f"Keep the subject to one line under {MAX_SUBJECT} characters."
    if channel == SMS and "body" not in found:
        segments = sms_segments(render(body, purpose.sample()))
        if segments.count > MAX_SMS_SEGMENTS:
            found["body"] = (
                f"With the longest details filled in this text takes {segments.count} SMS "
                f"segments ({segments.length} characters, {segments.encoding}); keep it to "
                f"{MAX_SMS_SEGMENTS}. Shorten it"
                + (
                    " or avoid characters outside the GSM alphabet (curly quotes, emoji)."
                    if segments.encoding == "UCS-2"
                    else "."
                )
            )
    return found


@dataclass(frozen=True)
class Wording:
    """The text a message is rendered from, and the language it is in (its name as a
    resident's record says it, and the code whose dates and words fill it in)."""

    text: Text
    language: str = "English"
    code: str = "en"


def _in(text: Text, code: str) -> Text:
    """A purpose's default text in the language ``code``, through the catalogues."""
    from ..i18n import in_language

    with in_language(code):
        return Text(body=str(text.body), subject=str(text.subject or ""))


def wording(
    purpose: Purpose, channel: str, organisation_id: int, language: str = "English"
) -> Wording:
    """What a message in ``language`` (a resident's recorded preferred language, e.g.
    "Urdu") says on ``channel``:

    1. the organisation's own text in that language, when an admin wrote one;
    2. else, in a language inclusion ships a translation for, the purpose's default
       text translated through the catalogues;
    3. else the organisation's own English text, else the default in English.

    An admin's own wording applies to the language it was written for: it is never
    translated, and an English one does not replace the translation for a resident who
    reads Urdu. Callers choose ``language`` (papers: ``i18n.paper_language``)."""
    from sqlalchemy import select

    from ..extensions import db
    from ..i18n import DEFAULT, LANGUAGES, language_for_preference
    from .models import MessageText

    rows = db.session.scalars(
        select(MessageText).where(
            MessageText.organisation_id == organisation_id,
            MessageText.purpose == purpose.key,
            MessageText.channel == channel,
            MessageText.language.in_({language, "English"}),
        )
    ).all()
    by_language = {row.language: row for row in rows}
    code = language_for_preference(language) or DEFAULT
    own = by_language.get(language)
    if own is not None:
        return Wording(Text(body=own.body, subject=own.subject), language, code)
    if code != DEFAULT:
        return Wording(_in(purpose.texts[channel], code), LANGUAGES[code].english, code)
    own = by_language.get("English")
    if own is not None:
        return Wording(Text(body=own.body, subject=own.subject), "English", DEFAULT)
    return Wording(_in(purpose.texts[channel], DEFAULT), "English", DEFAULT)


def rendered(found: Wording, values: dict) -> Text:
    """``found``'s subject and body with ``values`` filled in, in its language."""
    from ..i18n import in_language

    with in_language(found.code):
        return Text(
            body=render(found.text.body, values), subject=render(found.text.subject, values)
        )


__all__ = ["EMAIL", "LETTER", "SMS", "Purpose", "Text", "sms_segments"]
