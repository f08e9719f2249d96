"""Donation receipt as a PDF (reportlab): what was pledged or received, and what happens next."""

from __future__ import annotations

from reportlab.lib.units import mm

from inclusion.pdf import Document

from .models import HANDOVER, ITEM_AGES, ITEM_CONDITIONS

STATUS_WORDS = {
    "pledged": "Pledged: we will contact you to arrange the hand-over.",
    "scheduled": "Scheduled",
    "received": "Received: thank you!",
    "processed": "Received and registered as devices.",
    "declined": "Declined",
}


def receipt_pdf(donation, organisation, donate_link: str = "") -> bytes:
    """The receipt of one donation. Holds business details only, never anything about residents.

    ``donate_link`` is the organisation's own public donation link, for the donor to pass on."""
    doc = Document(f"Donation receipt {donation.reference}", organisation)
    donor = donation.donor
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
    head = ["Kind", "Make and model", "Pledged", "Received", "Age", "Condition", "Chargers"]
    items = [
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
    doc.add(
        doc.title(organisation.name),
        doc.p(f"Donation receipt {donation.reference}", "heading"),
        doc.space(4),
        doc.pairs(details),
        doc.space(6),
        doc.p("Items", "subheading"),
        doc.grid(head, items, [24 * mm, 46 * mm, 17 * mm, 18 * mm, 22 * mm, 28 * mm, 19 * mm]),
        doc.space(8),
        doc.p(
            "Every device is wiped to a recognised standard before it is lent to a resident. "
            "This receipt records a gift in kind; it is not a valuation."
        ),
        doc.contact_line(),
    )
    if donate_link:
        doc.add(
            doc.p(
                f"Know another business with devices to give? They can offer them at {donate_link}"
            )
        )
    return doc.build()


def impact_pdf(donor, figures, organisation) -> bytes:
    """What a business's gift achieved, for its CSR report: counts only, each through the
    small-number rule (``devices.impact.published``); never anything about a resident."""
    from inclusion.clock import today

    from .impact import FIGURES, HOW_WE_COUNT

    business = donor.business_name if donor else "Your donations"
    doc = Document(f"What your gift achieved: {business}", organisation)
    total = figures.shown_total
    doc.add(
        doc.title(organisation.name),
        doc.p(f"What your gift achieved: {business}", "heading"),
        doc.p(f"As of {today():%d %B %Y}."),
        doc.space(4),
        doc.grid(
            ["In total", ""],
            [[label, str(total[name])] for name, label in FIGURES],
            [90 * mm, 50 * mm],
        ),
        doc.space(6),
    )
    for donation in figures.donations:
        shown = figures.shown_by_donation[donation.id]
        doc.add(
            doc.p(
                f"Donation {donation.reference}, pledged {donation.pledged_at:%d %B %Y}",
                "subheading",
            ),
            # What actually happened to its devices: lent, ready, being wiped.
            doc.p(figures.words_by_donation.get(donation.id, "")),
            doc.space(1),
            doc.pairs([[label, str(shown[name])] for name, label in FIGURES], 90 * mm),
            doc.space(4),
        )
    if not figures.donations:
        doc.add(doc.p("No donations are linked to your account yet."))
    doc.add(doc.space(4), doc.p(HOW_WE_COUNT), doc.contact_line())
    return doc.build()
