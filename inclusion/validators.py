"""UK postcode and phone number checks shared by every form that takes them."""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from flask_babel import lazy_gettext as _
from wtforms.validators import ValidationError

# The UK postcode shapes (A9 9AA, A99 9AA, AA9 9AA, AA99 9AA, A9A 9AA, AA9A 9AA) plus GIR 0AA.
_POSTCODE = re.compile(
    r"^(GIR0AA|[A-PR-UWYZ](?:[0-9]{1,2}|[A-HK-Y][0-9]{1,2}|[0-9][A-HJKPSTUW]|[A-HK-Y][0-9][ABEHMNPRVWXY])[0-9][ABD-HJLNP-UW-Z]{2})$"
)
_DISTRICT = re.compile(
    r"^[A-PR-UWYZ](?:[0-9]{1,2}|[A-HK-Y][0-9]{1,2}|[0-9][A-HJKPSTUW]|[A-HK-Y][0-9][ABEHMNPRVWXY])$"
)


def storable_text(value: str) -> bool:
    """False for text no database here can keep: NUL (PostgreSQL) or lone surrogates
    (not UTF-8; JSON can carry them as ``\\ud800``)."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def normalise_postcode(value: str) -> str | None:
    """'wv3 0aa' → 'WV3 0AA'; ``None`` when it is not a UK postcode."""
    compact = re.sub(r"\s+", "", value or "").upper()
    if not _POSTCODE.match(compact):
        return None
    return f"{compact[:-3]} {compact[-3:]}"


def normalise_district(value: str) -> str | None:
    """'wv3' → 'WV3' (the outward half of a postcode); ``None`` when malformed."""
    compact = re.sub(r"\s+", "", value or "").upper()
    return compact if _DISTRICT.match(compact) else None


def postcode_district(postcode: str) -> str:
    return (postcode or "").split(" ")[0]


def normalise_phone(value: str, region: str = "GB") -> str | None:
    """A valid phone number in international format (+44 7700 900123); ``None`` when invalid."""
    try:
        number = phonenumbers.parse(value or "", region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


@lru_cache(maxsize=4096)  # pure, and drawn on every page (the organisation's own number)
def display_phone(value: str | None, region: str = "GB") -> str | None:
    """The one way a phone number is written for people, on screen and in downloads: a UK
    number as dialled at home (``07911 123456``), another country's in international form;
    ``None`` when it is not a valid number."""
    try:
        number = phonenumbers.parse((value or "").strip(), region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    if number.country_code == phonenumbers.country_code_for_region(region):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


class UKPostcode:
    """WTForms validator that also normalises the field's data."""

    def __init__(self, message: str | None = None):
        self.message = message or _("Enter a UK postcode, like WV3 0AA.")

    def __call__(self, form, field):
        if not field.data:
            return
        normal = normalise_postcode(field.data)
        if normal is None:
            raise ValidationError(self.message)
        field.data = normal


class PhoneNumber:
    def __init__(self, message: str | None = None):
        self.message = message or _("Enter a phone number, like 01902 555123 or 07911 123456.")

    def __call__(self, form, field):
        if not field.data:
            return
        normal = normalise_phone(field.data)
        if normal is None:
            raise ValidationError(self.message)
        field.data = normal


class District:
    def __init__(self, message: str | None = None):
        self.message = message or "Enter postcode districts like WV3, separated by commas."

    def __call__(self, form, field):
        if not field.data:
            return
        out = []
        for part in re.split(r"[,\s]+", field.data.strip()):
            if not part:
                continue
            normal = normalise_district(part)
            if normal is None:
                raise ValidationError(self.message)
            out.append(normal)
        field.data = ", ".join(dict.fromkeys(out))


def nhs_number_is_valid(digits: str) -> bool:
    """The NHS number's Modulus 11 check: weights 10 down to 2 on the first nine digits;
    11 minus the remainder of the sum by 11 is the check digit (11 means 0; 10 is never
    issued, so such a number is invalid). NHS Data Dictionary, "NHS Number"."""
    if len(digits) != 10 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def normalise_nhs_number(value: str) -> str | None:
    """ "" for none, the 10 digits without spaces or dashes, or None when not valid."""
    digits = "".join(ch for ch in (value or "") if ch not in " -")
    if not digits:
        return ""
    return digits if nhs_number_is_valid(digits) else None
