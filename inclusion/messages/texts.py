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


def render(text: str, values: dict) -> str:
    """``text`` with each ``((name))`` replaced by its value (unknown ones are left out)."""
    return PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), "")), text or "")


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


def wording(purpose: Purpose, channel: str, organisation_id: int, language: str) -> Text:
    """The organisation's own text for ``purpose`` on ``channel`` in ``language`` (then in
    English), else the purpose's default."""
    from sqlalchemy import select

    from ..extensions import db
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
    row = by_language.get(language) or by_language.get("English")
    if row is not None:
        return Text(body=row.body, subject=row.subject)
    return purpose.texts[channel]


__all__ = ["EMAIL", "LETTER", "SMS", "Purpose", "Text", "sms_segments"]
