"""The rules of lending: data bundles, loans, returns, reminder calls and the waiting list.

Functions change objects, audit and flush; the request or CLI command commits, so a lend
(device status + loan + bundle + waiting list + audit) is all or nothing.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from PIL import Image, ImageChops, UnidentifiedImageError
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from devices import messages as loan_messages
from devices.models import CONDITION_GRADES, Device
from devices.service import change_device_status, device_by_code, lock_device
from inclusion import audit
from inclusion.clock import now, today
from inclusion.csvfile import CsvUnreadable, column_name, csv_rows
from inclusion.errors import RuleBroken
from inclusion.extensions import db
from inclusion.references import next_reference
from inclusion.residents.models import Resident
from inclusion.residents.service import is_open_case, lock_resident, refuse_if_closed
from inclusion.workflow import transition

from .models import (
    AGREEMENT_METHODS,
    BUNDLE_KINDS,
    BUNDLE_OUTCOME_STATUS,
    BUNDLE_OUTCOMES,
    BUNDLE_SOURCES,
    BUNDLE_TRANSITIONS,
    BUNDLES_FOR_DEVICE,
    CALL_OUTCOMES,
    DUE_SOON_DAYS,
    END_DEVICE_STATUS,
    END_KINDS,
    ENDS_WITHOUT_RETURN,
    LARGE_SCREEN_KINDS,
    LOST_END_KINDS,
    MAX_ALLOWANCE_GB,
    RETURNED,
    SIGNATURE_MAX_BYTES,
    SIGNATURE_MAX_PIXELS,
    VALIDITY_DAYS,
    WAITING_PRIORITIES,
    WAITING_REASONS,
    WAITING_TRANSITIONS,
    DataBundle,
    Loan,
    LoanExtension,
    LoanSignature,
    ReminderCall,
    WaitingListEntry,
)
from .queries import waiting_list_query

LOAN_REFERENCE = "L-{:05d}"
MAX_LOAN_DAYS = 366
EXPIRING_SOON_DAYS = 14
MAX_BULK_ROWS = 2000
_REFERENCE = re.compile(r"^[A-Z0-9][A-Z0-9-]{3,39}$")
_RESIDENT_REF = re.compile(r"\bR-?(\d{1,6})\b", re.IGNORECASE)


# ---- data bundles ---------------------------------------------------------------------


def normalise_bundle_reference(value: str) -> str:
    """ICCIDs and codes are compared without spaces and case: ``8944 1100…`` → ``89441100…``."""
    return re.sub(r"\s+", "", value or "").upper()


def _clean_bundle(data: dict) -> dict:
    """Check one bundle's values; raises RuleBroken naming the field."""
    kind = (data.get("kind") or "").strip().lower()
    if kind not in BUNDLE_KINDS:
        raise RuleBroken("Choose a kind: SIM, eSIM, voucher or hotspot top-up.", "kind")
    network = (data.get("network") or "").strip()
    if not network or len(network) > 60:
        raise RuleBroken("Enter the network, like Vodafone or Three.", "network")
    try:
        allowance = float(str(data.get("allowance_gb") or "").strip())
    except ValueError:
        allowance = -1
    if not (0 < allowance <= MAX_ALLOWANCE_GB):
        raise RuleBroken("Enter the allowance in GB, like 20 or 0.5.", "allowance_gb")
    try:
        validity = int(str(data.get("validity_days") or "").strip())
    except ValueError:
        validity = -1
    if not (VALIDITY_DAYS[0] <= validity <= VALIDITY_DAYS[1]):
        raise RuleBroken(
            f"Enter how many days it lasts once issued, from {VALIDITY_DAYS[0]} to "
            f"{VALIDITY_DAYS[1]}.",
            "validity_days",
        )
    source = (data.get("source") or "").strip().lower()
    if source not in BUNDLE_SOURCES:
        raise RuleBroken("Choose where it came from.", "source")
    reference = normalise_bundle_reference(data.get("reference", ""))
    if not _REFERENCE.match(reference):
        raise RuleBroken("Enter the ICCID or code: 4 to 40 letters, digits or dashes.", "reference")
    if kind == "sim" and not re.fullmatch(r"\d{18,22}F?", reference):
        raise RuleBroken("A SIM card ICCID has 18 to 22 digits (printed on the card).", "reference")
    return dict(
        kind=kind,
        network=network,
        allowance_gb=allowance,
        validity_days=validity,
        source=source,
        reference=reference,
        notes=(data.get("notes") or "").strip(),
    )


def _references_taken(organisation_id: int, references) -> set[str]:
    references = list(references)
    if not references:
        return set()
    taken = set()
    for start in range(0, len(references), 500):
        chunk = references[start : start + 500]
        taken.update(
            db.session.scalars(
                select(DataBundle.reference).where(
                    DataBundle.organisation_id == organisation_id,
                    DataBundle.reference.in_(chunk),
                )
            )
        )
    return taken


def add_bundle(organisation_id: int, data: dict, *, by=None) -> DataBundle:
    """Add one bundle to stock; its reference (ICCID or code) is unique in the organisation."""
    values = _clean_bundle(data)
    if _references_taken(organisation_id, [values["reference"]]):
        raise RuleBroken("A bundle with this reference is already recorded.", "reference")
    bundle = DataBundle(
        organisation_id=organisation_id, status="in_stock", status_changed_at=now(), **values
    )
    db.session.add(bundle)
    db.session.flush()
    audit.record("data_bundle.added", bundle, changed=list(values), actor=by)
    db.session.flush()
    return bundle


@dataclass
class BulkRejected(Exception):
    """Rows that could not be added; nothing was added."""

    errors: list[tuple[int, str, str]] = field(default_factory=list)  # (line, reference, message)
    message: str = "Nothing was added: fix the rows listed below and try again."


BULK_COLUMNS = ("reference", "kind", "network", "allowance_gb", "validity_days", "source", "notes")


def parse_bundle_rows(text_value: str, defaults: dict) -> list[tuple[int, dict]]:
    """Rows of pasted text or CSV: either one reference per line, or a CSV with a header naming
    any of BULK_COLUMNS (missing columns take the form's defaults). Returns (line, values).

    A line the CSV reader cannot read (a value over its field size limit, a NUL byte) raises
    BulkRejected naming that line: a file is imported whole or not at all."""
    rows: list[tuple[int, dict]] = []
    header = None
    try:
        for number, (line, cells) in enumerate(csv_rows(text_value), start=1):
            if number == 1 and "reference" in [column_name(c) for c in cells]:
                header = [column_name(c) for c in cells]
                continue
            values = dict(defaults)
            if header:
                for name, cell in zip(header, cells, strict=False):
                    if name in BULK_COLUMNS and cell.strip():
                        values[name] = cell.strip()
            else:
                values["reference"] = cells[0]
            rows.append((line, values))
    except CsvUnreadable as err:
        raise BulkRejected(errors=[(err.line, "", err.message)]) from None
    return rows


def bulk_add_bundles(
    organisation_id: int, text_value: str, defaults: dict, *, by=None
) -> list[DataBundle]:
    """Add many bundles at once: every row is checked first, and if any row is bad
    (bad value, duplicate in the paste, already recorded) nothing is added."""
    rows = parse_bundle_rows(text_value, defaults)
    if not rows:
        raise RuleBroken("Paste or upload at least one reference.", "rows")
    if len(rows) > MAX_BULK_ROWS:
        raise RuleBroken(f"Add at most {MAX_BULK_ROWS} bundles at a time.", "rows")
    errors: list[tuple[int, str, str]] = []
    cleaned: list[tuple[int, dict]] = []
    seen: dict[str, int] = {}
    for line, values in rows:
        shown = normalise_bundle_reference(values.get("reference", ""))
        try:
            clean = _clean_bundle(values)
        except RuleBroken as err:
            errors.append((line, shown, err.message))
            continue
        if clean["reference"] in seen:
            errors.append((line, shown, f"Repeats line {seen[clean['reference']]}."))
            continue
        seen[clean["reference"]] = line
        cleaned.append((line, clean))
    taken = _references_taken(organisation_id, [c["reference"] for _, c in cleaned])
    for line, clean in cleaned:
        if clean["reference"] in taken:
            errors.append((line, clean["reference"], "Already recorded."))
    if errors:
        raise BulkRejected(errors=sorted(errors))
    stamp = now()
    bundles = [
        DataBundle(
            organisation_id=organisation_id, status="in_stock", status_changed_at=stamp, **clean
        )
        for _, clean in cleaned
    ]
    db.session.add_all(bundles)
    db.session.flush()
    for bundle in bundles:
        audit.record("data_bundle.added", bundle, changed=["reference", "kind", "status"], actor=by)
    db.session.flush()
    return bundles


def bundle_fits(bundle_kind: str, device_kind: str) -> bool:
    """Whether a kind of bundle works in a kind of device (``BUNDLES_FOR_DEVICE``)."""
    return bundle_kind in BUNDLES_FOR_DEVICE.get(device_kind, ())


def bundles_for_device(device: Device, limit: int = 50):
    """In-stock bundles that fit the device's kind, oldest first (used first)."""
    kinds = BUNDLES_FOR_DEVICE.get(device.kind, ())
    if not kinds:
        return []
    return db.session.scalars(
        select(DataBundle)
        .where(
            DataBundle.organisation_id == device.organisation_id,
            DataBundle.status == "in_stock",
            DataBundle.kind.in_(kinds),
        )
        .order_by(
            # the first suitable kind first (a SIM for a tablet before a voucher)
            *[DataBundle.kind != k for k in kinds[:1]],
            DataBundle.added_at,
            DataBundle.id,
        )
        .limit(limit)
    ).all()


def lock_bundle(bundle: DataBundle) -> DataBundle:
    """Lock the bundle's row until the transaction ends and re-read it: two desks issuing
    one SIM at once queue here, and the second sees that the first issued it."""
    db.session.flush()
    return db.session.scalar(
        select(DataBundle)
        .where(DataBundle.id == bundle.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def _gone_message(bundle: DataBundle) -> str:
    return (
        f"Bundle {bundle.reference} is not in stock any more: it has just been issued "
        "or withdrawn. Choose another bundle."
    )


def issue_bundle(
    bundle: DataBundle, resident: Resident, *, loan: Loan | None = None, by=None
) -> DataBundle:
    """Give an in-stock bundle to a resident with an open case; it expires validity days
    after today. The bundle row is locked and re-read first, so a bundle is issued once
    however many desks try at the same moment (the database refuses a second issue too)."""
    if bundle.organisation_id != resident.organisation_id:
        raise RuleBroken("That bundle belongs to another organisation.", "bundle")
    lock_resident(resident)
    refuse_if_closed(resident)
    bundle = lock_bundle(bundle)
    if bundle.status != "in_stock":
        raise RuleBroken(_gone_message(bundle), "bundle")
    transition(
        bundle,
        "issued",
        BUNDLE_TRANSITIONS,
        action="data_bundle.issued",
        extra_changed=["resident_id", "issued_at", "expires_on", "loan_id"],
        label="bundle",
        actor=by,
    )
    bundle.resident_id = resident.id
    bundle.loan_id = loan.id if loan is not None else None
    bundle.issued_at = now()
    bundle.issued_by_id = by.id if by else None
    bundle.expires_on = bundle.issued_at.date() + timedelta(days=bundle.validity_days)
    bundle.status_changed_at = now()
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:  # the data_bundle_issued_once trigger: issued meanwhile
        raise RuleBroken(_gone_message(bundle), "bundle") from None
    return bundle


def expire_bundles(organisation_id: int, *, as_of: date | None = None, by=None) -> int:
    """Mark issued bundles whose expiry date has passed as expired; returns how many.
    The rows are locked as they are read (and re-checked after any wait), so a bundle
    handed back at a desk meanwhile stays in stock."""
    as_of = as_of or today()
    db.session.flush()
    bundles = db.session.scalars(
        select(DataBundle)
        .where(
            DataBundle.organisation_id == organisation_id,
            DataBundle.status == "issued",
            DataBundle.expires_on < as_of,
        )
        .order_by(DataBundle.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    for bundle in bundles:
        transition(bundle, "expired", BUNDLE_TRANSITIONS, action="data_bundle.expired", actor=by)
        bundle.status_changed_at = now()
    db.session.flush()
    return len(bundles)


def withdraw_bundle(bundle: DataBundle, *, by=None) -> None:
    """An in-stock bundle that can no longer be used (lapsed voucher, dead SIM) is expired.
    The bundle is locked and re-read first: one issued at another desk a moment ago is
    not withdrawn from the resident who has it."""
    bundle = lock_bundle(bundle)
    if bundle.status != "in_stock":
        raise RuleBroken(_gone_message(bundle), "bundle")
    transition(
        bundle,
        "expired",
        BUNDLE_TRANSITIONS,
        action="data_bundle.expired",
        label="bundle",
        actor=by,
    )
    bundle.status_changed_at = now()
    db.session.flush()


# ---- residents --------------------------------------------------------------------------


def search_residents(text_value: str, limit: int = 10):
    """Residents matching a name, reference or postcode (scoped by tenancy during requests)."""
    q = (text_value or "").strip()
    if not q:
        return []
    stmt = select(Resident).where(Resident.anonymised_at.is_(None))
    ref = _RESIDENT_REF.search(q)
    if ref:
        stmt = stmt.where(Resident.reference == f"R-{int(ref.group(1)):06d}")
    else:
        like = f"%{q.lower()}%"
        compact = re.sub(r"\s+", "", q).lower()
        stmt = stmt.where(
            or_(
                func.lower(Resident.first_name + " " + Resident.last_name).like(like),
                func.lower(Resident.last_name).like(like),
                func.lower(func.replace(Resident.postcode, " ", "")).like(f"{compact}%"),
            )
        )
    return db.session.scalars(
        stmt.order_by(Resident.last_name, Resident.first_name, Resident.id).limit(limit)
    ).all()


def resolve_resident(text_value: str, field_name: str = "resident") -> Resident:
    """The one resident a search names, or RuleBroken (none, or several to choose from)."""
    if not (text_value or "").strip():
        raise RuleBroken("Choose the resident: type a name, reference or postcode.", field_name)
    found = search_residents(text_value, limit=2)
    if not found:
        raise RuleBroken(
            "No resident matches that. Try a surname, R- reference or postcode.", field_name
        )
    if len(found) > 1:
        raise RuleBroken("Several residents match: choose one from the list.", field_name)
    return found[0]


def chosen_resident(text_value: str) -> Resident | None:
    """The one resident a resident field names, to show who is chosen (and their case
    status) beside it; None while it names nobody or several."""
    if not (text_value or "").strip():
        return None
    found = search_residents(text_value, limit=2)
    return found[0] if len(found) == 1 else None


def case_status_label(resident: Resident) -> str:
    label = "Case " + resident.status.replace("_", " ")
    return label if is_open_case(resident) else f"{label}: nothing can be lent"


def data_suggestion(resident: Resident | None, device: Device, stock) -> str:
    """The hint beside "No data bundle" when the chosen resident's needs include data:
    which bundle from stock fits the device (never chosen for the coordinator)."""
    if resident is None or not resident.needs_data:
        return ""
    if not stock:
        return (
            f"{resident.full_name}'s needs include data, but no bundle that fits a "
            f"{device.kind_label.lower()} is in stock."
        )
    return (
        f"{resident.full_name}'s needs include data: {stock[0].label} fits this "
        f"{device.kind_label.lower()}. Choose it below if they need it."
    )


# ---- loans ------------------------------------------------------------------------------


def open_loan_of(device: Device) -> Loan | None:
    return db.session.scalar(select(Loan).where(Loan.device_id == device.id, Loan.is_open))


def default_due_date(organisation) -> date:
    return today() + timedelta(days=organisation.default_loan_days)


_DATA_URL_PREFIX = "data:image/png;base64,"
# The fewest drawn pixels that can be a signature rather than a slip of the finger.
SIGNATURE_MIN_INK = 40


def signature_png(value: str | None, field_name: str = "signature") -> bytes:
    """The PNG of a signature drawn on screen, from the ``data:image/png;base64,…`` the
    signature pad posts: a real PNG (decoded by Pillow, not only named so), at most
    ``SIGNATURE_MAX_BYTES`` and ``SIGNATURE_MAX_PIXELS``, and not blank (something was
    drawn). Anything else raises RuleBroken on ``field_name``."""
    text = (value or "").strip()
    sign_again = "Ask the resident to sign in the box, or choose signed on paper."
    if not text:
        raise RuleBroken("The resident has not signed yet. " + sign_again, field_name)
    if len(text) > len(_DATA_URL_PREFIX) + (SIGNATURE_MAX_BYTES * 4) // 3 + 4:
        raise RuleBroken("The signature is too large to keep. " + sign_again, field_name)
    if not text.startswith(_DATA_URL_PREFIX):
        raise RuleBroken("The signature is not a PNG image. " + sign_again, field_name)
    try:
        data = base64.b64decode(text[len(_DATA_URL_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise RuleBroken("The signature could not be read. " + sign_again, field_name) from None
    if len(data) > SIGNATURE_MAX_BYTES:
        raise RuleBroken("The signature is too large to keep. " + sign_again, field_name)
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        raise RuleBroken("The signature is not a PNG image. " + sign_again, field_name)
    try:
        with Image.open(io.BytesIO(data), formats=["PNG"]) as image:
            width, height = image.size
            if width > SIGNATURE_MAX_PIXELS[0] or height > SIGNATURE_MAX_PIXELS[1]:
                raise RuleBroken("The signature is too large to keep. " + sign_again, field_name)
            image.load()
            rgba = image.convert("RGBA")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise RuleBroken("The signature could not be read. " + sign_again, field_name) from None
    if _ink(rgba) < SIGNATURE_MIN_INK:
        raise RuleBroken("The signature box is empty. " + sign_again, field_name)
    return data


def _ink(rgba: Image.Image) -> int:
    """How many pixels differ from the background (the top-left pixel): drawn on a
    transparent pad, those that are not transparent; on a filled one, another colour."""
    alpha = rgba.getchannel("A")
    if alpha.getextrema()[0] < 255:  # a transparent background: the ink is what has alpha
        return sum(alpha.point(lambda a: 255 if a > 32 else 0).histogram()[255:])
    background = Image.new("RGBA", rgba.size, rgba.getpixel((0, 0)))
    diff = ImageChops.difference(rgba, background).convert("L")
    return sum(diff.point(lambda v: 255 if v > 32 else 0).histogram()[255:])


def lend_device(
    device: Device,
    resident: Resident,
    *,
    due_on: date,
    agreement_method: str,
    bundle: DataBundle | None = None,
    notes: str = "",
    signature: str | None = None,
    by=None,
) -> Loan:
    """Lend a ready device to a resident with an open case, with an optional data bundle
    that fits the device, in one transaction. Accepted on screen, the agreement carries the
    resident's signature (``signature``, checked by ``signature_png``), kept with the loan.

    A device has at most one open loan: the device row is locked, its status must be
    *ready*, and the partial unique index ``uq_loan_open_device`` refuses a second open
    loan even if two lends race. The bundle row is locked too (device first, then bundle,
    everywhere), so one bundle never goes out with two loans. A waiting list entry of the
    resident is marked *lent*.
    """
    if resident.organisation_id != device.organisation_id:
        raise RuleBroken("That resident belongs to another organisation.", "resident")
    refuse_if_closed(resident)
    if agreement_method not in AGREEMENT_METHODS:
        raise RuleBroken("Choose how the loan agreement was accepted.", "agreement_method")
    png = signature_png(signature) if agreement_method == "screen" else None
    if due_on is None or due_on <= today():
        raise RuleBroken("The due date must be after today.", "due_on")
    if due_on > today() + timedelta(days=MAX_LOAN_DAYS):
        raise RuleBroken("A loan can last at most a year; extend it later if needed.", "due_on")
    if bundle is not None:
        if bundle.organisation_id != device.organisation_id:
            raise RuleBroken("That bundle belongs to another organisation.", "bundle")
        if not bundle_fits(bundle.kind, device.kind):
            raise RuleBroken(
                f"A {bundle.kind_label.lower()} does not fit a {device.kind_label.lower()}: "
                "choose a bundle from the list or no data bundle.",
                "bundle",
            )
    # Lock the device so two desks lending it at once queue here (PostgreSQL); re-read it
    # so the second sees the first's change.
    device = lock_device(device)
    blocked = why_not_lendable(device)
    if blocked is not None:
        raise RuleBroken(blocked.reason, "resident")
    lock_resident(resident)
    refuse_if_closed(resident)
    if bundle is not None:
        bundle = lock_bundle(bundle)
        if bundle.status != "in_stock":
            raise RuleBroken(_gone_message(bundle), "bundle")
    loan = Loan(
        organisation_id=device.organisation_id,
        reference=next_reference(device.organisation_id, "loan", LOAN_REFERENCE),
        device_id=device.id,
        resident_id=resident.id,
        lent_at=now(),
        lent_by_id=by.id if by else None,
        due_on=due_on,
        agreement_method=agreement_method,
        accessories=device.accessories or "",
        notes=(notes or "").strip(),
    )
    try:
        with db.session.begin_nested():
            db.session.add(loan)
            db.session.flush()
    except IntegrityError:
        raise RuleBroken(
            f"{device.asset_tag} is already on loan. Return it first.", "resident"
        ) from None
    audit.record(
        "loan.created",
        loan,
        changed=["device_id", "resident_id", "due_on", "agreement_method"],
        actor=by,
    )
    if png is not None:
        signed = LoanSignature(
            organisation_id=loan.organisation_id, loan_id=loan.id, png=png, signed_at=loan.lent_at
        )
        db.session.add(signed)
        db.session.flush()
        audit.record("loan.signed", signed, changed=["png", "signed_at"], actor=by)
    change_device_status(device, "on_loan", note=f"Lent as {loan.reference}", by=by, loan=loan)
    if bundle is not None:
        issue_bundle(bundle, resident, loan=loan, by=by)
    entry = db.session.scalar(
        select(WaitingListEntry)
        .where(WaitingListEntry.resident_id == resident.id, WaitingListEntry.status == "waiting")
        .with_for_update()
    )
    if entry is not None:
        transition(
            entry,
            "lent",
            WAITING_TRANSITIONS,
            action="waiting_list.lent",
            extra_changed=["loan_id"],
            actor=by,
        )
        entry.loan_id = loan.id
        entry.status_changed_at = now()
    db.session.flush()
    # The reminders go later, from the outbox; queued now, with the lend.
    loan_messages.queue_due_soon(loan, by=by)
    if device.donation is not None:
        loan_messages.queue_first_lent(device.donation, by=by)
    return loan


def device_to_lend(text_value: str, field_name: str = "q") -> Device:
    """The device a scan or a typed tag, serial number or IMEI names, when it can be lent
    now; otherwise RuleBroken saying why (nothing matches, or why it cannot be lent)."""
    text_value = (text_value or "").strip()
    if not text_value:
        raise RuleBroken("Scan the device or type its tag, serial number or IMEI.", field_name)
    device = device_by_code(text_value)
    if device is None:
        raise RuleBroken(
            f"No device of yours has the tag, serial number or IMEI “{text_value[:60]}”. "
            "Check the label, or choose a device from the list.",
            field_name,
        )
    blocked = why_not_lendable(device)
    if blocked is not None:
        raise RuleBroken(blocked.reason + " Choose another device.", field_name)
    return device


@dataclass
class LendBlock:
    """Why a device cannot be lent now, and what to do next (``next_step``: ``wipe``,
    ``end_loan``, ``repair``, ``found`` or ``none``)."""

    reason: str
    next_step: str
    loan: Loan | None = None


def why_not_lendable(device: Device) -> LendBlock | None:
    """None when the device can be lent; otherwise the reason and the next step."""
    tag = device.asset_tag
    loan = open_loan_of(device)
    if loan is not None or device.status == "on_loan":
        return LendBlock(
            f"{tag} is already on loan. Return it first.",
            "end_loan",
            loan,
        )
    if device.status == "ready":
        return None
    if device.status in ("received", "awaiting_wipe", "returned"):
        return LendBlock(
            f"{tag} is {device.status_label.lower()}, not ready to lend: "
            "it needs a wipe recorded first.",
            "wipe",
        )
    if device.status == "in_repair":
        return LendBlock(
            f"{tag} is in repair, not ready to lend. When it is repaired, record a wipe.",
            "repair",
        )
    if device.status == "lost":
        return LendBlock(
            f"{tag} is lost, not ready to lend. If it has been found, mark it returned "
            "on its page, then record a wipe.",
            "found",
        )
    return LendBlock(
        f"{tag} is {device.status_label.lower()}, not ready to lend: it has left the stock.",
        "none",
    )


def extend_loan(loan: Loan, new_due_on: date, *, reason: str = "", by=None) -> LoanExtension:
    """Move an open loan's due date later; the old date is kept in the extension.

    The loan is locked and re-read first (as a return or an end locks it), so an
    extension racing a return waits and is refused on the ended loan, and two extensions
    at once each decide on the due date the other left."""
    loan, _device = _lock_open_loan(loan)
    if not loan.is_open:
        raise RuleBroken("This loan has ended.", "new_due_on")
    if new_due_on is None or new_due_on <= loan.due_on:
        raise RuleBroken(
            f"Choose a date after the current due date ({loan.due_on:%d %b %Y}).", "new_due_on"
        )
    if new_due_on <= today():
        raise RuleBroken("The new due date must be after today.", "new_due_on")
    if new_due_on > today() + timedelta(days=MAX_LOAN_DAYS):
        raise RuleBroken("Extend by at most a year at a time.", "new_due_on")
    extension = LoanExtension(
        organisation_id=loan.organisation_id,
        loan=loan,
        previous_due_on=loan.due_on,
        new_due_on=new_due_on,
        reason=(reason or "").strip(),
        by_id=by.id if by else None,
    )
    db.session.add(extension)
    loan.due_on = new_due_on
    audit.record("loan.extended", loan, changed=["due_on"], actor=by)
    db.session.flush()
    loan_messages.cancel_loan_reminders(loan, by=by)
    loan_messages.queue_due_soon(loan, by=by)
    return extension


def _lock_open_loan(loan: Loan) -> tuple[Loan, Device]:
    """Lock the loan's device and re-read the loan: two desks ending one loan at once (a
    return and a gift, say) queue on the device, and the second sees the loan has ended."""
    device = lock_device(loan.device)
    loan = db.session.scalar(
        select(Loan).where(Loan.id == loan.id).execution_options(populate_existing=True)
    )
    return loan, device


def issued_bundles_of(loan: Loan) -> list[DataBundle]:
    """The loan's data bundles still issued to the resident."""
    return list(
        db.session.scalars(
            select(DataBundle)
            .where(DataBundle.loan_id == loan.id, DataBundle.status == "issued")
            .order_by(DataBundle.id)
        )
    )


def _check_bundle_outcome(loan: Loan, outcome: str | None) -> list[DataBundle]:
    """The loan's issued bundles, locked; refuses when there are some and no decision."""
    bundles = [lock_bundle(b) for b in issued_bundles_of(loan)]
    bundles = [b for b in bundles if b.status == "issued" and b.loan_id == loan.id]
    if bundles and outcome not in BUNDLE_OUTCOMES:
        names = ", ".join(b.reference for b in bundles)
        raise RuleBroken(
            f"Say what happens to the data bundle issued with this loan ({names}).",
            "bundle_outcome",
        )
    return bundles


def _settle_bundles(loan: Loan, bundles: list[DataBundle], outcome: str | None, by) -> None:
    """Record the decision on the loan and move each issued bundle as it says: kept (stays
    issued until it expires), returned unused (back in stock, free to issue again) or lost
    or cancelled."""
    if not bundles:
        return
    loan.bundle_outcome = outcome
    new_status = BUNDLE_OUTCOME_STATUS[outcome]
    for bundle in bundles:
        if new_status == "issued":
            audit.record("data_bundle.kept", bundle, actor=by)
            continue
        transition(
            bundle,
            new_status,
            BUNDLE_TRANSITIONS,
            action=f"data_bundle.{outcome}",
            extra_changed=(
                ["resident_id", "loan_id", "issued_at", "issued_by_id", "expires_on"]
                if new_status == "in_stock"
                else []
            ),
            label="bundle_outcome",
            actor=by,
        )
        bundle.status_changed_at = now()
        if new_status == "in_stock":
            bundle.resident_id = None
            bundle.loan_id = None
            bundle.issued_at = None
            bundle.issued_by_id = None
            bundle.expires_on = None


def return_device(
    loan: Loan,
    *,
    condition: str,
    accessories_back: str = "",
    received_by: str,
    note: str = "",
    bundle_outcome: str | None = None,
    by=None,
) -> Loan:
    """Take a device back: the loan ends, the device goes returned → awaiting wipe, its
    condition grade is updated. When data was issued with the loan, the coordinator says
    what became of it (``BUNDLE_OUTCOMES``) and each bundle's status follows."""
    if condition not in CONDITION_GRADES:
        raise RuleBroken("Choose the condition it came back in.", "condition")
    received_by = (received_by or "").strip()
    if not received_by:
        raise RuleBroken("Say who received the device.", "received_by")
    loan, device = _lock_open_loan(loan)
    if not loan.is_open:
        raise RuleBroken("This loan has already ended.", "condition")
    bundles = _check_bundle_outcome(loan, bundle_outcome)
    loan.ended_at = now()
    loan.end_kind = RETURNED
    loan.return_condition = condition
    loan.accessories_back = (accessories_back or "").strip()
    loan.received_by = received_by
    loan.end_note = (note or "").strip()
    loan.ended_by_id = by.id if by else None
    _settle_bundles(loan, bundles, bundle_outcome, by)
    audit.record(
        "loan.returned",
        loan,
        changed=[
            "ended_at",
            "end_kind",
            "return_condition",
            "accessories_back",
            "received_by",
            *(["bundle_outcome"] if bundles else []),
        ],
        actor=by,
    )
    note_text = f"Returned from {loan.reference}"
    change_device_status(device, "returned", note=note_text, by=by, loan=loan)
    change_device_status(device, "awaiting_wipe", note="Wipe before the next loan", by=by)
    if device.condition_grade != condition:
        device.condition_grade = condition
        audit.record("device.updated", device, changed=["condition_grade"], actor=by)
    db.session.flush()
    loan_messages.cancel_loan_reminders(loan, by=by)
    return loan


def end_loan(
    loan: Loan, end_kind: str, *, note: str = "", bundle_outcome: str | None = None, by=None
) -> Loan:
    """End a loan without a return: the device was gifted, lost or not returned. Data
    issued with it needs the same decision as on a return."""
    if end_kind not in ENDS_WITHOUT_RETURN:
        raise RuleBroken("Choose how the loan ended.", "end_kind")
    note = (note or "").strip()
    if end_kind in LOST_END_KINDS and not note:
        raise RuleBroken("Say what happened (for the record and the funder).", "note")
    loan, device = _lock_open_loan(loan)
    if not loan.is_open:
        raise RuleBroken("This loan has already ended.", "end_kind")
    bundles = _check_bundle_outcome(loan, bundle_outcome)
    loan.ended_at = now()
    loan.end_kind = end_kind
    loan.end_note = note
    loan.ended_by_id = by.id if by else None
    _settle_bundles(loan, bundles, bundle_outcome, by)
    audit.record(
        "loan.ended",
        loan,
        changed=["ended_at", "end_kind", "end_note", *(["bundle_outcome"] if bundles else [])],
        actor=by,
    )
    change_device_status(
        device,
        END_DEVICE_STATUS[end_kind],
        note=f"{END_KINDS[end_kind]} ({loan.reference})",
        by=by,
        loan=loan,
    )
    db.session.flush()
    loan_messages.cancel_loan_reminders(loan, by=by)
    return loan


# ---- reminder call lists ----------------------------------------------------------------


@dataclass
class CallRow:
    resident: Resident
    loans: list = field(default_factory=list)
    bundles: list = field(default_factory=list)
    last_call: ReminderCall | None = None

    @property
    def most_urgent(self) -> date:
        dates = [loan.due_on for loan in self.loans] + [b.expires_on for b in self.bundles]
        return min(dates)

    @property
    def overdue(self) -> bool:
        return any(loan.is_overdue for loan in self.loans)


def call_list(*, as_of: date | None = None, last_calls: bool = True) -> list[CallRow]:
    """Residents to phone: loans due within 7 days or overdue, bundles expiring within 14
    days, grouped by resident, most urgent first, with the last call logged for each.
    Runs in a fixed number of queries (scoped to the signed-in organisation). Without
    ``last_calls`` the rows come without their last call (``with_last_calls`` adds them to
    one page's rows)."""
    from sqlalchemy.orm import joinedload

    as_of = as_of or today()
    loans = db.session.scalars(
        select(Loan)
        .where(Loan.is_open, Loan.due_on <= as_of + timedelta(days=DUE_SOON_DAYS))
        .options(joinedload(Loan.resident), joinedload(Loan.device))
        .order_by(Loan.due_on, Loan.id)
    ).all()
    bundles = db.session.scalars(
        select(DataBundle)
        .where(
            DataBundle.status == "issued",
            DataBundle.expires_on <= as_of + timedelta(days=EXPIRING_SOON_DAYS),
        )
        .options(joinedload(DataBundle.resident))
        .order_by(DataBundle.expires_on, DataBundle.id)
    ).all()
    rows: dict[int, CallRow] = {}
    for loan in loans:
        rows.setdefault(loan.resident_id, CallRow(resident=loan.resident)).loans.append(loan)
    for bundle in bundles:
        rows.setdefault(bundle.resident_id, CallRow(resident=bundle.resident)).bundles.append(
            bundle
        )
    ordered = sorted(
        rows.values(), key=lambda r: (r.most_urgent, r.resident.last_name, r.resident.id)
    )
    return with_last_calls(ordered) if last_calls else ordered


def with_last_calls(rows: list[CallRow]) -> list[CallRow]:
    """Each row's last call logged, in one query (only for the rows given: one page)."""
    from sqlalchemy.orm import joinedload

    by_resident = {row.resident.id: row for row in rows}
    if by_resident:
        calls = db.session.scalars(
            select(ReminderCall)
            .where(ReminderCall.resident_id.in_(list(by_resident)))
            .options(joinedload(ReminderCall.called_by))
            .order_by(ReminderCall.called_at.desc(), ReminderCall.id.desc())
        ).all()
        for call in calls:
            row = by_resident[call.resident_id]
            if row.last_call is None:
                row.last_call = call
    return rows


def log_call(resident: Resident, outcome: str, *, note: str = "", by=None) -> ReminderCall:
    """Record that someone phoned a resident from the call list, so nobody calls twice."""
    if outcome not in CALL_OUTCOMES:
        raise RuleBroken("Choose what happened on the call.", "outcome")
    call = ReminderCall(
        organisation_id=resident.organisation_id,
        resident_id=resident.id,
        outcome=outcome,
        note=(note or "").strip(),
        called_at=now(),
        called_by_id=by.id if by else None,
    )
    db.session.add(call)
    db.session.flush()
    audit.record("reminder_call.logged", call, changed=["outcome", "note"], actor=by)
    db.session.flush()
    return call


# ---- the device waiting list ------------------------------------------------------------


def join_waiting_list(
    resident: Resident,
    *,
    priority: int,
    reason: str,
    note: str = "",
    joined_on: date | None = None,
    by=None,
) -> WaitingListEntry:
    """Put a resident with an open case who needs a device on the waiting list (once at a
    time; the partial unique index ``uq_waiting_list_resident`` settles two desks at once)."""
    lock_resident(resident)
    refuse_if_closed(resident)
    if not resident.needs_device:
        raise RuleBroken(
            "Only residents whose needs include a device can wait for one. Edit their needs first.",
            "resident",
        )
    if priority not in WAITING_PRIORITIES:
        raise RuleBroken("Choose a priority.", "priority")
    if reason not in WAITING_REASONS:
        raise RuleBroken("Choose the main reason.", "reason")
    joined_on = joined_on or today()
    if joined_on > today():
        raise RuleBroken("The date joined cannot be in the future.", "joined_on")
    already = db.session.scalar(
        select(WaitingListEntry.id).where(
            WaitingListEntry.resident_id == resident.id, WaitingListEntry.status == "waiting"
        )
    )
    if already is not None:
        raise RuleBroken(f"{resident.full_name} is already on the waiting list.", "resident")
    entry = WaitingListEntry(
        organisation_id=resident.organisation_id,
        resident_id=resident.id,
        priority=priority,
        reason=reason,
        joined_on=joined_on,
        note=(note or "").strip(),
        status="waiting",
        added_by_id=by.id if by else None,
    )
    try:
        with db.session.begin_nested():
            db.session.add(entry)
            db.session.flush()
    except IntegrityError:
        raise RuleBroken(
            f"{resident.full_name} is already on the waiting list.", "resident"
        ) from None
    audit.record(
        "waiting_list.joined", entry, changed=["resident_id", "priority", "reason"], actor=by
    )
    db.session.flush()
    return entry


def remove_from_waiting_list(entry: WaitingListEntry, *, by=None) -> None:
    """Take a waiting resident off the list. The entry is locked and re-read first (as a
    lend locks it), so an entry a desk has just lent to is not marked removed."""
    db.session.flush()
    entry = db.session.scalar(
        select(WaitingListEntry)
        .where(WaitingListEntry.id == entry.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if entry.status == "lent":
        raise RuleBroken("A device has just been lent to them: they are off the waiting list.")
    if entry.status == "removed":
        raise RuleBroken("They have already been taken off the waiting list.")
    transition(entry, "removed", WAITING_TRANSITIONS, action="waiting_list.removed", actor=by)
    entry.status_changed_at = now()
    db.session.flush()


def device_fits(kind: str, resident: Resident) -> bool:
    """Whether a device kind suits the resident's access needs: sight and dexterity needs
    call for a large screen (tablet, laptop or Chromebook); a hotspot only brings data."""
    if kind == "hotspot":
        return False
    if resident.access_sight or resident.access_dexterity:
        return kind in LARGE_SCREEN_KINDS
    return True


def suggest_resident(device: Device) -> WaitingListEntry | None:
    """The waiting resident to offer this device to: highest priority, longest waiting,
    whose access needs the device fits, without a device on loan already."""
    open_borrowers = select(Loan.resident_id).where(Loan.is_open)
    entries = db.session.scalars(
        waiting_list_query()
        .where(
            WaitingListEntry.organisation_id == device.organisation_id,
            WaitingListEntry.resident_id.not_in(open_borrowers),
        )
        .limit(200)
    ).all()
    for entry in entries:
        if device_fits(device.kind, entry.resident):
            return entry
    return None
