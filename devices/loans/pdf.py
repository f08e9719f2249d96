"""The printable loan agreement (reportlab): what was lent, until when, how to return it."""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle


def _p(text: str, style) -> Paragraph:
    return Paragraph(escape(text or "").replace("\n", "<br/>"), style)


def loan_agreement(loan) -> bytes:
    """A4 agreement in large, plain type (many readers have sight needs)."""
    org = loan.organisation
    device = loan.device
    resident = loan.resident
    styles = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=styles["BodyText"], fontSize=13, leading=18)
    heading = ParagraphStyle("h", parent=styles["Heading1"], fontSize=22, leading=26)
    sub = ParagraphStyle("h2", parent=styles["Heading2"], fontSize=15, leading=19)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=f"Loan agreement {loan.reference}",
        author=org.name,
    )
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
    table = Table([[_p(a, body), _p(b, body)] for a, b in rows], colWidths=[40 * mm, 130 * mm])
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f0f0f0")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    contact = " or ".join(x for x in (org.contact_phone, org.contact_email) if x) or "the scheme"
    story = [
        _p(org.name, sub),
        _p("Device loan agreement", heading),
        Spacer(1, 4 * mm),
        table,
        Spacer(1, 6 * mm),
        _p("What we agree", sub),
        _p(
            f"{org.name} lends this device to you free of charge so you can get online. "
            "It stays the property of the scheme. Please look after it, keep it charged and do "
            "not sell or give it away. Your own photos and messages are yours: before you give it "
            "back we can help you save them, and we wipe the device before anyone else uses it.",
            body,
        ),
        Spacer(1, 3 * mm),
        _p("Giving it back", sub),
        _p(
            f"Please bring the device and its accessories back by {loan.due_on:%d %B %Y}"
            + (f" to: {org.return_address}." if org.return_address else ".")
            + " If you need it for longer, call us: we can usually extend the loan.",
            body,
        ),
        Spacer(1, 3 * mm),
        _p("Who to call", sub),
        _p(
            f"If it stops working, is lost or damaged, or you have a question: {contact}. "
            f"Quote loan {loan.reference} and tag {device.asset_tag}.",
            body,
        ),
        Spacer(1, 10 * mm),
    ]
    if loan.agreement_method == "paper":
        story += [
            _p("Signed (resident): ______________________________   Date: ______________", body),
            Spacer(1, 8 * mm),
            _p("Signed (for the scheme): _________________________   Date: ______________", body),
        ]
    else:
        by = loan.lent_by.name if loan.lent_by else "a coordinator"
        story.append(
            _p(f"{loan.agreement_label} on {loan.lent_at:%d %B %Y}, recorded by {by}.", body)
        )
    doc.build(story)
    return buffer.getvalue()
