"""The printable loan agreement: what was lent, until when, how to return it — in the
resident's language (``inclusion.i18n.paper_language``) and script, shaped by HarfBuzz and
ordered right to left for Urdu and Arabic (``inclusion.typesetting``)."""

from __future__ import annotations

import io

from flask_babel import format_date
from flask_babel import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import SimpleDocTemplate, Spacer, Table, TableStyle

from inclusion.i18n import in_language, paper_language
from inclusion.typesetting import (
    SCRIPT_OF_LANGUAGE,
    ShapedParagraph,
    TextStyle,
    isolate,
    register_fonts,
)

NORMAL = {"body": 13, "heading": 22, "sub": 15, "label": 40 * mm}
# Large print: 18 pt body at least (RNIB's clear print guidance recommends 16 to 18 pt).
LARGE = {"body": 18, "heading": 28, "sub": 21, "label": 52 * mm}


def agreement_language(loan):
    """The language the agreement of ``loan`` is printed in."""
    return paper_language(loan.resident, loan.organisation)


def loan_agreement(loan, *, large_print: bool | None = None) -> bytes:
    """A4 agreement in plain type, in the resident's language; large print when asked or
    when the resident has a sight need."""
    language = agreement_language(loan)
    if large_print is None:
        large_print = bool(loan.resident.access_sight)
    with in_language(language.code):
        return _build(loan, language, LARGE if large_print else NORMAL)


def _build(loan, language, sizes) -> bytes:
    register_fonts()
    org = loan.organisation
    device = loan.device
    resident = loan.resident
    script = SCRIPT_OF_LANGUAGE[language.code]
    rtl = language.rtl
    size = sizes["body"]

    def para(text, points=size, bold=False, after=4):
        style = TextStyle(size=points, leading=points * 1.4, bold=bold, space_after=after)
        return ShapedParagraph(text, script, style, rtl=rtl)

    def day(value, fmt="long"):
        return format_date(value, fmt)

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=_("Loan agreement %(reference)s", reference=loan.reference),
        author=org.name,
        lang=language.code,
    )
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
    label_width = sizes["label"]
    widths = [label_width, 170 * mm - label_width]
    cells = [[para(a, bold=True, after=0), para(b, after=0)] for a, b in rows]
    if rtl:
        # Right to left, the label column is on the right.
        cells = [list(reversed(r)) for r in cells]
        widths = list(reversed(widths))
    label_col = -1 if rtl else 0
    table = Table(cells, colWidths=widths)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                ("BACKGROUND", (label_col, 0), (label_col, -1), colors.HexColor("#f0f0f0")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
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
    story = [
        para(isolate(org.name), sizes["sub"], bold=True),
        para(_("Device loan agreement"), sizes["heading"], bold=True, after=8),
        table,
        Spacer(1, 6 * mm),
        para(_("What we agree"), sizes["sub"], bold=True),
        para(
            _(
                "%(organisation)s lends this device to you free of charge so you can get "
                "online. It stays the property of the scheme. Please look after it, keep it "
                "charged and do not sell or give it away. Your own photos and messages are "
                "yours: before you give it back we can help you save them, and we wipe the "
                "device before anyone else uses it.",
                organisation=isolate(org.name),
            )
        ),
        Spacer(1, 3 * mm),
        para(_("Giving it back"), sizes["sub"], bold=True),
        para(give_back),
        Spacer(1, 3 * mm),
        para(_("Who to call"), sizes["sub"], bold=True),
        para(
            _(
                "If it stops working, is lost or damaged, or you have a question: "
                "%(contact)s. Quote loan %(reference)s and tag %(tag)s.",
                contact=contact,
                reference=isolate(loan.reference),
                tag=isolate(device.asset_tag),
            )
        ),
        Spacer(1, 8 * mm),
    ]
    if loan.agreement_method == "paper":
        story += [
            para(_("Signed (resident):") + " ____________________   " + _("Date:") + " ________"),
            Spacer(1, 6 * mm),
            para(_("Signed (for the scheme):") + " ______________   " + _("Date:") + " ________"),
        ]
    else:
        method = {
            "phone": _("Read aloud and agreed by phone"),
            "screen": _("Signed on screen"),
        }.get(loan.agreement_method, loan.agreement_label)
        by = loan.lent_by.name if loan.lent_by else org.name
        story.append(
            para(
                _(
                    "%(method)s on %(date)s, recorded by %(name)s.",
                    method=method,
                    date=day(loan.lent_at),
                    name=isolate(by),
                )
            )
        )
    doc.build(story)
    return buffer.getvalue()
