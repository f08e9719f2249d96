"""The printable loan agreement (reportlab): what was lent, until when, how to return it."""

from __future__ import annotations

from inclusion.pdf import Document


def loan_agreement(loan) -> bytes:
    """A4 agreement in large, plain type (many readers have sight needs)."""
    org = loan.organisation
    device = loan.device
    resident = loan.resident
    doc = Document(f"Loan agreement {loan.reference}", org, large_print=True)
    bundles = ", ".join(
        f"{b.network} {b.allowance_label} ({b.kind_label} {b.reference}), until {b.expires_on:%d %B %Y}"
        for b in loan.bundles
        if b.expires_on
    )
    rows = [
        ["Loan", loan.reference],
        ["Lent to", f"{resident.full_name} ({resident.reference})"],
        ["Device", f"{device.name} ({device.kind_label}), tag {device.asset_tag}"],
        ["Accessories", loan.accessories or "None"],
        ["Data", bundles or "None"],
        ["Lent on", f"{loan.lent_at:%d %B %Y}"],
        ["Due back", f"{loan.due_on:%A %d %B %Y}"],
        ["Agreement", loan.agreement_label],
    ]
    contact = " or ".join(x for x in (org.contact_phone, org.contact_email) if x) or "the scheme"
    p, sub = doc.p, "heading"
    story = [
        p(org.name, sub),
        doc.title("Device loan agreement"),
        doc.space(4),
        doc.pairs(rows),
        doc.space(6),
        p("What we agree", sub),
        p(
            f"{org.name} lends this device to you free of charge so you can get online. "
            "It stays the property of the scheme. Please look after it, keep it charged and do "
            "not sell or give it away. Your own photos and messages are yours: before you give it "
            "back we can help you save them, and we wipe the device before anyone else uses it.",
        ),
        doc.space(3),
        p("Giving it back", sub),
        p(
            f"Please bring the device and its accessories back by {loan.due_on:%d %B %Y}"
            + (f" to: {org.return_address}." if org.return_address else ".")
            + " If you need it for longer, call us: we can usually extend the loan.",
        ),
        doc.space(3),
        p("Who to call", sub),
        p(
            f"If it stops working, is lost or damaged, or you have a question: {contact}. "
            f"Quote loan {loan.reference} and tag {device.asset_tag}.",
        ),
        doc.space(10),
    ]
    if loan.agreement_method == "paper":
        story += [
            p("Signed (resident): ______________________________   Date: ______________"),
            doc.space(8),
            p("Signed (for the scheme): _________________________   Date: ______________"),
        ]
    else:
        by = loan.lent_by.name if loan.lent_by else "a coordinator"
        story.append(p(f"{loan.agreement_label} on {loan.lent_at:%d %B %Y}, recorded by {by}."))
    doc.add(*story)
    return doc.build()
