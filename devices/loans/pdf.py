"""The printable loan agreement: what was lent, until when, how to return it, and how and
when the resident accepted it (with their signature when they signed on screen) — in the
resident's language (``inclusion.i18n.paper_language``) and script, shaped by HarfBuzz and
ordered right to left for Urdu and Arabic (``inclusion.typesetting``), on the page set-up
every document shares (``inclusion.pdf.Document``), in normal or large print.
"""

from __future__ import annotations

import io
from datetime import UTC
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import format_date, format_time
from flask_babel import gettext as _
from reportlab.lib.units import mm
from reportlab.platypus import Image

from inclusion.i18n import in_language, paper_language
from inclusion.pdf import Document
from inclusion.typesetting import SCRIPT_OF_LANGUAGE, isolate

# The widths of the label column of the agreement's table, in normal and large print.
LABEL_WIDTH = {False: 46 * mm, True: 56 * mm}
SIGNATURE_WIDTH = 70 * mm


def agreement_language(loan):
    """The language the agreement of ``loan`` is printed in."""
    return paper_language(loan.resident, loan.organisation)


def large_print_for(resident) -> bool:
    """The agreement is printed large for a resident with a sight need."""
    return bool(resident.access_sight)


def loan_agreement(loan, *, large_print: bool | None = None) -> bytes:
    """A4 agreement in plain type, in the resident's language; large print when asked or
    when the resident has a sight need."""
    language = agreement_language(loan)
    if large_print is None:
        large_print = large_print_for(loan.resident)
    with in_language(language.code):
        return _build(loan, language, large_print)


def _local(value):
    """A stored (UTC) time as the clock on the organisation's wall shows it."""
    zone = ZoneInfo(current_app.config.get("TIMEZONE", "Europe/London"))
    return value.replace(tzinfo=UTC).astimezone(zone).replace(tzinfo=None)


def acceptance_sentence(loan) -> str:
    """How and when the resident accepted the agreement, as the PDF prints it."""
    lent_at = _local(loan.lent_at)
    if loan.agreement_method == "screen":
        signed = loan.signature
        at = _local(signed.signed_at) if signed is not None else lent_at
        return _(
            "Accepted on screen on %(date)s at %(time)s, signed by the resident.",
            date=format_date(at, "d MMMM y"),
            time=format_time(at, "HH:mm"),
        )
    if loan.agreement_method == "phone":
        by = loan.lent_by.name if loan.lent_by else loan.organisation.name
        return _(
            "%(method)s on %(date)s, recorded by %(name)s.",
            method=_("Read aloud and agreed by phone"),
            date=format_date(lent_at, "long"),
            name=isolate(by),
        )
    return _("Accepted on paper: signed by the resident below.")


def _build(loan, language, large_print: bool) -> bytes:
    org = loan.organisation
    device = loan.device
    resident = loan.resident
    doc = Document(
        _("Loan agreement %(reference)s", reference=loan.reference),
        org,
        # A resident reads it: 13 pt at least ("larger"; clear print asks 12 pt or more),
        # large print for a sight need.
        print_size="large" if large_print else "larger",
        script=SCRIPT_OF_LANGUAGE[language.code],
        rtl=language.rtl,
        language=language.code,
        page_label=lambda number: _("Page %(number)s", number=number),
    )

    def day(value, fmt="long"):
        return format_date(value, fmt)

    bundles = ", ".join(
        _(
            "%(network)s %(allowance)s (%(reference)s), until %(date)s",
            network=isolate(b.network),
            allowance=isolate(b.allowance_label),
            reference=isolate(b.reference),
            date=day(b.expires_on),
        )
        for b in loan.bundles
        if b.expires_on
    )
    rows = [
        (_("Loan"), isolate(loan.reference)),
        (_("Lent to"), isolate(f"{resident.full_name} ({resident.reference})")),
        (
            _("Device"),
            _(
                "%(device)s, tag %(tag)s",
                device=isolate(device.name),
                tag=isolate(device.asset_tag),
            ),
        ),
        (_("Accessories"), isolate(loan.accessories) if loan.accessories else _("None")),
        (_("Data"), bundles or _("None")),
        (_("Lent on"), day(loan.lent_at)),
        (_("Due back"), day(loan.due_on, "full")),
    ]
    contact = " / ".join(
        isolate(x, unbreakable=True) for x in (org.contact_phone, org.contact_email) if x
    )
    contact = contact or isolate(org.name)
    give_back = _(
        "Please bring the device and its accessories back by %(date)s.", date=day(loan.due_on)
    )
    if org.return_address:
        give_back += " " + _(
            "Where: %(address)s.", address=isolate(" ".join(org.return_address.split()))
        )
    give_back += " " + _("If you need it for longer, call us: we can usually extend the loan.")
    doc.add(
        doc.p(isolate(org.name), "subheading"),
        doc.title(_("Device loan agreement")),
        doc.pairs(rows, LABEL_WIDTH[large_print]),
        doc.space(4),
        doc.p(_("What we agree"), "subheading"),
        doc.p(
            _(
                "%(organisation)s lends this device to you free of charge so you can get "
                "online. It stays the property of the scheme. Please look after it, keep it "
                "charged and do not sell or give it away. Your own photos and messages are "
                "yours: before you give it back we can help you save them, and we wipe the "
                "device before anyone else uses it.",
                organisation=isolate(org.name),
            )
        ),
        doc.p(_("Giving it back"), "subheading"),
        doc.p(give_back),
        doc.p(_("Who to call"), "subheading"),
        doc.p(
            _(
                "If it stops working, is lost or damaged, or you have a question: "
                "%(contact)s. Quote loan %(reference)s and tag %(tag)s.",
                contact=contact,
                reference=isolate(loan.reference),
                tag=isolate(device.asset_tag),
            )
        ),
        doc.space(5),
        doc.p(acceptance_sentence(loan)),
    )
    if loan.agreement_method == "paper":
        doc.add(
            doc.space(4),
            doc.p(_("Signed (resident):") + " ____________________   " + _("Date:") + " ________"),
            doc.space(4),
            doc.p(_("Signed (for the scheme):") + " ______________   " + _("Date:") + " ________"),
        )
    signature = loan.signature
    if loan.agreement_method == "screen" and signature is not None and signature.png:
        doc.add(_signature_image(signature.png, rtl=language.rtl))
    return doc.build()


def _signature_image(png: bytes, *, rtl: bool) -> Image:
    """The signature drawn on screen, 70 mm wide (its proportions kept), at the start of
    the line."""
    image = Image(io.BytesIO(png))
    ratio = image.imageHeight / image.imageWidth if image.imageWidth else 0.33
    image.drawWidth = SIGNATURE_WIDTH
    image.drawHeight = SIGNATURE_WIDTH * ratio
    image.hAlign = "RIGHT" if rtl else "LEFT"
    return image
