"""Donation receipt as a PDF (reportlab): what was pledged or received, and what happens next."""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from .models import HANDOVER, ITEM_AGES, ITEM_CONDITIONS

STATUS_WORDS = {
    "pledged": "Pledged: we will contact you to arrange the hand-over.",
    "scheduled": "Scheduled",
    "received": "Received: thank you!",
    "processed": "Received and registered as devices ready to be wiped and lent.",
    "declined": "Declined",
}


def receipt_pdf(donation, organisation, donate_link: str = "") -> bytes:
    """The receipt of one donation. Holds business details only, never anything about residents.

    ``donate_link`` is the organisation's own public donation link, for the donor to pass on."""
    styles = getSampleStyleSheet()
    body = styles["BodyText"]
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=f"Donation receipt {donation.reference}",
        author=organisation.name,
    )

    def p(text, style=body):
        return Paragraph(escape(str(text)), style)

    donor = donation.donor
    story = [
        p(organisation.name, styles["Title"]),
        p(f"Donation receipt {donation.reference}", styles["Heading2"]),
        Spacer(1, 4 * mm),
    ]
    details = [
        ["Reference", donation.reference],
        ["Business", donor.business_name],
        ["Contact", donor.contact_name],
        ["Pledged on", donation.pledged_at.strftime("%d %B %Y")],
        ["Status", STATUS_WORDS.get(donation.status, donation.status)],
        ["Hand-over", HANDOVER.get(donation.handover, donation.handover)],
    ]
    if donation.scheduled_for:
        details.append(["Agreed date", donation.scheduled_for.strftime("%d %B %Y")])
    if donation.received_at:
        details.append(["Received on", donation.received_at.strftime("%d %B %Y")])
    if donation.donor_wiped:
        details.append(["Wiped by donor", donation.wipe_certificate or "yes"])
    if donation.status == "declined":
        details.append(["Reason", donation.decline_reason])
    table = Table([[p(a), p(b)] for a, b in details], colWidths=[40 * mm, 130 * mm])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story += [table, Spacer(1, 6 * mm), p("Items", styles["Heading3"])]

    head = ["Kind", "Make and model", "Pledged", "Received", "Age", "Condition", "Chargers"]
    rows = [head] + [
        [
            item.kind_label,
            item.make_model or "",
            str(item.quantity),
            "" if item.quantity_received is None else str(item.quantity_received),
            ITEM_AGES.get(item.approx_age, ""),
            ITEM_CONDITIONS.get(item.condition, ""),
            "yes" if item.chargers_included else "no",
        ]
        for item in donation.items
    ]
    items = Table(
        [[p(c) for c in r] for r in rows],
        repeatRows=1,
        colWidths=[24 * mm, 42 * mm, 17 * mm, 18 * mm, 22 * mm, 28 * mm, 19 * mm],
    )
    items.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef4")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    story += [items, Spacer(1, 8 * mm)]
    story.append(
        p(
            "Every device is wiped to a recognised standard before it is lent to a resident. "
            "This receipt records a gift in kind; it is not a valuation."
        )
    )
    contact = ", ".join(x for x in (organisation.contact_phone, organisation.contact_email) if x)
    if contact:
        story.append(p(f"Questions: {contact}"))
    if donate_link:
        story.append(
            p(f"Know another business with devices to give? They can offer them at {donate_link}")
        )
    doc.build(story)
    return buffer.getvalue()


def impact_pdf(donor, figures, organisation) -> bytes:
    """What a business's gift achieved, for its CSR report: counts only, each through the
    small-number rule (``devices.impact.published``); never anything about a resident."""
    from inclusion.clock import today

    from .impact import FIGURES, HOW_WE_COUNT

    styles = getSampleStyleSheet()
    body = styles["BodyText"]
    buffer = io.BytesIO()
    business = donor.business_name if donor else "Your donations"
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=f"What your gift achieved: {business}",
        author=organisation.name,
    )

    def p(text, style=body):
        return Paragraph(escape(str(text)), style)

    grid = TableStyle(
        [
            ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef4")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]
    )
    story = [
        p(organisation.name, styles["Title"]),
        p(f"What your gift achieved: {business}", styles["Heading2"]),
        p(f"As of {today():%d %B %Y}."),
        Spacer(1, 4 * mm),
    ]
    total = figures.shown_total
    rows = [["In total", ""]] + [[label, str(total[name])] for name, label in FIGURES]
    table = Table([[p(a), p(b)] for a, b in rows], colWidths=[90 * mm, 50 * mm])
    table.setStyle(grid)
    story += [table, Spacer(1, 6 * mm)]
    for donation in figures.donations:
        shown = figures.shown_by_donation[donation.id]
        story.append(
            p(
                f"Donation {donation.reference}, pledged {donation.pledged_at:%d %B %Y}: "
                f"{STATUS_WORDS.get(donation.status, donation.status)}",
                styles["Heading3"],
            )
        )
        rows = [[label, str(shown[name])] for name, label in FIGURES]
        table = Table([[p(a), p(b)] for a, b in rows], colWidths=[90 * mm, 50 * mm])
        table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.grey)]))
        story += [table, Spacer(1, 4 * mm)]
    if not figures.donations:
        story.append(p("No donations are linked to your account yet."))
    story += [
        Spacer(1, 4 * mm),
        p(HOW_WE_COUNT),
    ]
    contact = ", ".join(x for x in (organisation.contact_phone, organisation.contact_email) if x)
    if contact:
        story.append(p(f"Questions: {contact}"))
    doc.build(story)
    return buffer.getvalue()
