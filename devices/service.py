"""Devices and wipes: the rules of the device register.

Functions change objects, audit and flush; the request or CLI command commits.
"""

from __future__ import annotations

import re
import secrets

from flask import current_app, has_app_context
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from inclusion import audit
from inclusion.accounts.models import Organisation, User
from inclusion.clock import now, today
from inclusion.errors import RuleBroken
from inclusion.extensions import db
from inclusion.references import next_reference
from inclusion.tenancy import unscoped
from inclusion.validators import normalise_phone
from inclusion.workflow import transition

from .models import (
    CONDITION_GRADES,
    DEVICE_KINDS,
    DEVICE_TRANSITIONS,
    DONATION_TRANSITIONS,
    HANDOVER,
    ITEM_AGES,
    ITEM_CONDITIONS,
    WIPE_METHODS,
    Device,
    DeviceStatusChange,
    Donation,
    DonationItem,
    Donor,
    DonorAccount,
    Wipe,
)

# Base 32 without 0/O/1/I: easy to read aloud and to type from a label.
TAG_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
TAG_LENGTH = 4
_TAG_IN_TEXT = re.compile(r"(?:/d/)?([A-Za-z]{1,6})-?([2-9A-Za-z]{4,8})/?(?:[?#].*)?$")

DEVICE_FIELDS = (
    "kind",
    "make",
    "model",
    "serial",
    "condition_grade",
    "accessories",
    "storage_location",
    "notes",
)


def tag_prefix() -> str:
    if has_app_context():
        return current_app.config.get("ASSET_TAG_PREFIX", "IN")
    return "IN"


def new_asset_tag() -> str:
    """A fresh tag like IN-7KQ4, unique in the deployment (checked across organisations)."""
    prefix = tag_prefix()
    length = TAG_LENGTH
    for attempt in range(40):
        if attempt and attempt % 10 == 0:
            length += 1  # the space is getting crowded: use a longer tag
        tag = f"{prefix}-" + "".join(secrets.choice(TAG_ALPHABET) for _ in range(length))
        with unscoped():  # asset tags are unique across organisations
            taken = db.session.scalar(select(Device.id).where(Device.asset_tag == tag))
        if taken is None:
            return tag
    raise RuntimeError("could not find a free asset tag")  # pragma: no cover


def normalise_tag(text: str) -> str | None:
    """The asset tag in what a scanner or a person typed: ``in-7kq4``, ``IN7KQ4`` or the label URL."""
    text = (text or "").strip()
    if not text:
        return None
    match = _TAG_IN_TEXT.search(text)
    if not match:
        return None
    prefix, body = match.group(1).upper(), match.group(2).upper()
    return f"{prefix}-{body}"


def device_by_code(text: str) -> Device | None:
    """The device a scan or a typed code names: its asset tag (or label URL), else an exact
    serial number or IMEI (what a scanner reads off the box or the back of a phone)."""
    from .queries import device_by_serial

    device = db.session.scalar(device_by_tag(text)) if normalise_tag(text) else None
    return device or device_by_serial(text)


def device_by_tag(tag: str):
    """A select of the device with this tag (scoped to the signed-in organisation by tenancy).

    Use ``db.session.scalar(device_by_tag(tag))`` or ``inclusion.web.get_or_404(...)``.
    """
    return (
        select(Device)
        .where(Device.asset_tag == (normalise_tag(tag) or (tag or "").strip().upper()))
        .options(joinedload(Device.donation))
    )


def _clean_device(data: dict) -> dict:
    values = {k: v for k, v in data.items() if k in DEVICE_FIELDS}
    if values.get("kind") not in DEVICE_KINDS:
        raise RuleBroken("Choose what kind of device it is.", "kind")
    if values.get("condition_grade", "B") not in CONDITION_GRADES:
        raise RuleBroken("Choose a condition grade.", "condition_grade")
    for key in ("make", "model", "accessories", "storage_location", "notes"):
        if key in values:
            values[key] = (values[key] or "").strip()
    if "serial" in values:
        values["serial"] = re.sub(r"\s+", "", values["serial"] or "").upper() or None
    return values


def _check_serial(organisation_id: int, serial: str | None, device_id: int | None = None) -> None:
    if not serial:
        return
    stmt = select(Device.id).where(
        Device.organisation_id == organisation_id, Device.serial == serial
    )
    if device_id:
        stmt = stmt.where(Device.id != device_id)
    with unscoped():  # the organisation is named in the statement (also for the CLI)
        taken = db.session.scalar(stmt)
    if taken is not None:
        raise RuleBroken("Another device already has this serial number or IMEI.", "serial")


def create_device(
    organisation_id: int, data: dict, *, donation=None, by=None, note: str = ""
) -> Device:
    """Register a device in state *received* with a fresh asset tag; serials are unique when given."""
    values = _clean_device(data)
    _check_serial(organisation_id, values.get("serial"))
    device = _insert_device(
        organisation_id=organisation_id,
        status="received",
        status_changed_at=now(),
        donation_id=donation.id if donation is not None else None,
        **values,
    )
    db.session.add(
        DeviceStatusChange(
            organisation_id=organisation_id,
            device_id=device.id,
            from_status=None,
            to_status="received",
            note=note
            or (f"Received with donation {donation.reference}" if donation else "Registered"),
            by_id=by.id if by else None,
        )
    )
    audit.record("device.created", device, changed=["asset_tag", "status", *values], actor=by)
    db.session.flush()
    return device


def _insert_device(**columns) -> Device:
    """Insert a device with a fresh asset tag, inside a savepoint: when another desk took
    the same tag (or serial) between the check and the insert, the unique index refuses
    it; a taken tag is drawn again, a taken serial is told to the user."""
    for _attempt in range(5):
        tag = new_asset_tag()
        try:
            with db.session.begin_nested():
                device = Device(asset_tag=tag, **columns)
                db.session.add(device)
                db.session.flush()
            return device
        except IntegrityError:
            with unscoped():  # asset tags are unique across organisations
                tag_taken = db.session.scalar(select(Device.id).where(Device.asset_tag == tag))
            if tag_taken is None:  # not the tag: the serial, registered meanwhile
                _check_serial(columns["organisation_id"], columns.get("serial"))
                raise
    raise RuntimeError("could not insert a device with a free asset tag")  # pragma: no cover


def update_device(device: Device, data: dict, *, by=None) -> list[str]:
    """Edit a device's description; the status only moves through change_device_status."""
    values = _clean_device(data)
    _check_serial(device.organisation_id, values.get("serial"), device.id)
    try:
        with db.session.begin_nested():  # the changes are written inside the savepoint
            for key, value in values.items():
                setattr(device, key, value)
            changed = audit.changed_fields(device, list(values))
            db.session.flush()
    except IntegrityError:  # the serial was registered at another desk meanwhile
        _check_serial(device.organisation_id, values.get("serial"), device.id)
        raise
    if changed:
        audit.record("device.updated", device, changed=changed, actor=by)
        db.session.flush()
    return changed


def lock_device(device: Device) -> Device:
    """Lock the device's row until the transaction ends and re-read it.

    Every change of a device's status starts here, so two desks acting on one device at
    once queue (on PostgreSQL; SQLite writes one at a time anyway) and the second decides
    on the status the first left, never on the one its page showed. Pending changes are
    flushed first so the re-read keeps them.
    """
    db.session.flush()
    locked = db.session.scalar(
        select(Device)
        .where(Device.id == device.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if locked is None:  # pragma: no cover - a device is never deleted
        raise RuleBroken("That device is no longer recorded.", "status")
    return locked


def change_device_status(
    device: Device, new_status: str, *, note: str = "", by=None, loan=None
) -> str:
    """Move a device along DEVICE_TRANSITIONS and write its history row.

    The device row is locked and re-read first (``lock_device``), so the move is checked
    against the status as it is now. A device goes on loan and leaves *on loan* only with
    its loan (``loan=``: lending, returning or ending it), never by hand. Ready needs a wipe
    recorded since the device last entered awaiting wipe; entering awaiting wipe (after
    every return) forgets the previous wipe. Returns the old status.
    """
    device = lock_device(device)
    if loan is None and device.status == "on_loan":
        raise RuleBroken(
            f"{device.asset_tag} is on loan: return it or end its loan first.", "status"
        )
    if loan is None and new_status == "on_loan":
        raise RuleBroken(f"Lend {device.asset_tag} from its lend page.", "status")
    if new_status == "ready" and not device.wiped:
        raise RuleBroken("Record a wipe before marking the device ready.", "status")
    extra = ["status_changed_at"]
    if new_status == "awaiting_wipe" and device.wiped:
        extra.append("wiped")
    old = transition(
        device,
        new_status,
        DEVICE_TRANSITIONS,
        action="device.status_changed",
        extra_changed=extra,
        actor=by,
    )
    if new_status == "awaiting_wipe":
        device.wiped = False
    device.status_changed_at = now()
    db.session.add(
        DeviceStatusChange(
            organisation_id=device.organisation_id,
            device_id=device.id,
            from_status=old,
            to_status=new_status,
            note=(note or "").strip(),
            by_id=by.id if by else None,
        )
    )
    db.session.flush()
    return old


def record_wipe(
    device: Device,
    *,
    method: str,
    wiped_by: str,
    wiped_at=None,
    certificate_reference: str = "",
    notes: str = "",
    mark_ready: bool = True,
    by=None,
) -> Wipe:
    """Record a data wipe; a device just received or returned first moves to awaiting wipe.

    With ``mark_ready`` the device becomes ready in the same transaction.
    """
    if method not in WIPE_METHODS:
        raise RuleBroken("Choose how the device was wiped.", "method")
    wiped_by = (wiped_by or "").strip()
    if not wiped_by:
        raise RuleBroken("Say who wiped the device.", "wiped_by")
    wiped_at = wiped_at or now()
    if wiped_at > now():
        raise RuleBroken("The wipe cannot be in the future.", "wiped_at")
    device = lock_device(device)
    if device.status in ("received", "returned", "in_repair"):
        change_device_status(device, "awaiting_wipe", note="Wipe recorded", by=by)
    if device.status != "awaiting_wipe":
        raise RuleBroken(f"A {device.status_label.lower()} device cannot be wiped now.", "method")
    wipe = Wipe(
        organisation_id=device.organisation_id,
        device_id=device.id,
        method=method,
        wiped_by=wiped_by,
        wiped_at=wiped_at,
        certificate_reference=(certificate_reference or "").strip(),
        notes=(notes or "").strip(),
        recorded_by_id=by.id if by else None,
    )
    db.session.add(wipe)
    device.wiped = True
    audit.record("device.wiped", device, changed=["wiped"], actor=by)
    db.session.flush()
    audit.record("wipe.recorded", wipe, changed=["method", "wiped_by", "wiped_at"], actor=by)
    if mark_ready:
        change_device_status(device, "ready", note="Wiped and ready to lend", by=by)
    db.session.flush()
    return wipe


# ---- donors and donations --------------------------------------------------------------

MAX_ITEMS = 5


def _clean_items(items: list[dict]) -> list[dict]:
    """Pledge lines with a quantity or a kind; empty rows are ignored."""
    lines = []
    for n, raw in enumerate(items, start=1):
        kind = (raw.get("kind") or "").strip()
        quantity = raw.get("quantity")
        make = (raw.get("make") or "").strip()
        # A caller that has make and model in one ("make_model") keeps it whole as the
        # model: splitting at the first space would make "iPad 9th gen" an "iPad" make.
        model = (raw.get("model") or raw.get("make_model") or "").strip()
        if not kind and not quantity and not make and not model:
            continue
        if kind not in DEVICE_KINDS:
            raise RuleBroken(f"Line {n}: choose what kind of device.", "items")
        if not isinstance(quantity, int) or not 1 <= quantity <= 500:
            raise RuleBroken(f"Line {n}: enter how many, from 1 to 500.", "items")
        age = raw.get("approx_age") or "unknown"
        condition = raw.get("condition") or "unknown"
        if age not in ITEM_AGES or condition not in ITEM_CONDITIONS:
            raise RuleBroken(f"Line {n}: choose the age and condition.", "items")
        lines.append(
            dict(
                kind=kind,
                quantity=quantity,
                make=make[:100],
                model=model[:100],
                approx_age=age,
                condition=condition,
                chargers_included=bool(raw.get("chargers_included")),
            )
        )
    if not lines:
        raise RuleBroken("Add at least one line: what kind of device and how many.", "items")
    return lines


def _find_or_create_donor(organisation_id: int, data: dict) -> Donor:
    business = (data.get("business_name") or "").strip()
    contact = (data.get("contact_name") or "").strip()
    email = (data.get("email") or "").strip().lower()
    if not business:
        raise RuleBroken("Enter the business name.", "business_name")
    if not contact:
        raise RuleBroken("Enter a contact name.", "contact_name")
    if not email:
        raise RuleBroken("Enter an email address.", "email")
    phone = data.get("phone") or ""
    if phone:
        phone = normalise_phone(phone)
        if phone is None:
            raise RuleBroken("Enter a phone number, like 01902 555123.", "phone")
    # The same business (name and email) pledging again is one donor.
    with unscoped():  # a public form: the organisation is the one the link named
        donor = db.session.scalar(
            select(Donor).where(
                Donor.organisation_id == organisation_id,
                Donor.email == email,
                func.lower(Donor.business_name) == business.lower(),
            )
        )
    if donor is None:
        donor = Donor(
            organisation_id=organisation_id,
            business_name=business,
            contact_name=contact,
            email=email,
            phone=phone,
        )
        db.session.add(donor)
        db.session.flush()
        audit.record(
            "donor.created",
            donor,
            changed=["business_name", "contact_name", "email", "phone"],
            actor=audit.PUBLIC,
        )
    else:
        donor.contact_name, donor.phone = contact, phone or donor.phone
        changed = audit.changed_fields(donor, ["contact_name", "phone"])
        if changed:
            audit.record("donor.updated", donor, changed=changed, actor=audit.PUBLIC)
    return donor


def pledge_donation(
    organisation_id: int,
    donor_data: dict,
    items: list[dict],
    *,
    donor_wiped: bool = False,
    wipe_certificate: str = "",
    handover: str = "drop_off",
    preferred_from=None,
    preferred_to=None,
    collection_address: str = "",
    notes: str = "",
    wants_account: bool = False,
) -> Donation:
    """A business pledges devices: a donation in state *pledged* with the next D-0042 reference.

    Empty item rows are ignored but one line is needed; a donor who wiped the devices says
    how (or the certificate); a collection needs an address; preferred dates are not past.
    """
    lines = _clean_items(items)
    donor = _find_or_create_donor(organisation_id, donor_data)
    wipe_certificate = (wipe_certificate or "").strip()
    if donor_wiped and not wipe_certificate:
        raise RuleBroken(
            "Say how the devices were wiped, or give the certificate number.", "wipe_certificate"
        )
    if handover not in HANDOVER:
        raise RuleBroken("Choose drop-off or collection.", "handover")
    collection_address = (collection_address or "").strip()
    if handover == "collection" and not collection_address:
        raise RuleBroken("Enter the address to collect from.", "collection_address")
    if preferred_from and preferred_from < today():
        raise RuleBroken("Choose a date from today on.", "preferred_from")
    if preferred_from and preferred_to and preferred_to < preferred_from:
        raise RuleBroken("The last date must be on or after the first.", "preferred_to")
    donation = Donation(
        organisation_id=organisation_id,
        reference=next_reference(organisation_id, "donation"),
        donor_id=donor.id,
        receipt_token=secrets.token_urlsafe(24),
        status="pledged",
        status_changed_at=now(),
        donor_wiped=bool(donor_wiped),
        wipe_certificate=wipe_certificate if donor_wiped else "",
        handover=handover,
        preferred_from=preferred_from,
        preferred_to=preferred_to,
        collection_address=collection_address if handover == "collection" else "",
        notes=(notes or "").strip(),
        wants_account=bool(wants_account),
        pledged_at=now(),
    )
    db.session.add(donation)
    db.session.flush()
    for position, line in enumerate(lines, start=1):
        db.session.add(
            DonationItem(
                organisation_id=organisation_id, donation_id=donation.id, position=position, **line
            )
        )
    audit.record(
        "donation.pledged",
        donation,
        changed=["reference", "status", "items"],
        actor=audit.PUBLIC,
    )
    db.session.flush()
    from .messages import queue_receipt

    queue_receipt(donation, by=audit.PUBLIC)
    return donation


def lock_donation(donation: Donation) -> Donation:
    """Lock the donation's row until the transaction ends and re-read it, so two desks
    receiving, processing or declining one donation at once queue and the second sees what
    the first did (a donation is processed into devices once, never twice)."""
    db.session.flush()
    return db.session.scalar(
        select(Donation)
        .where(Donation.id == donation.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def schedule_donation(donation: Donation, when, *, by=None, note: str = "") -> None:
    """Agree a drop-off or collection date; a scheduled donation can be moved to another day."""
    if when is None:
        raise RuleBroken("Choose the date.", "scheduled_for")
    if when < today():
        raise RuleBroken("Choose a date from today on.", "scheduled_for")
    donation = lock_donation(donation)
    donation.scheduled_for = when
    if donation.status == "scheduled":
        audit.record("donation.rescheduled", donation, changed=["scheduled_for"], actor=by)
    else:
        transition(
            donation,
            "scheduled",
            DONATION_TRANSITIONS,
            action="donation.scheduled",
            extra_changed=["scheduled_for"],
            actor=by,
            label="scheduled_for",
        )
        donation.status_changed_at = now()
    db.session.flush()


def receive_donation(donation: Donation, counts: dict[int, int], *, by=None) -> None:
    """Record what actually arrived, per line (0 when nothing came); something must have come."""
    donation = lock_donation(donation)
    if donation.status not in ("pledged", "scheduled"):
        raise RuleBroken(f"A {donation.status} donation cannot be received.", "items")
    for item in donation.items:
        count = counts.get(item.id)
        if not isinstance(count, int) or not 0 <= count <= 500:
            raise RuleBroken(
                f"Line {item.position}: enter how many arrived, from 0 to 500.", f"item_{item.id}"
            )
    if not any(counts.get(item.id) for item in donation.items):
        raise RuleBroken("Nothing arrived? Decline the donation instead.", "items")
    for item in donation.items:
        item.quantity_received = counts[item.id]
    donation.received_at = now()
    transition(
        donation,
        "received",
        DONATION_TRANSITIONS,
        action="donation.received",
        extra_changed=["received_at", "items"],
        actor=by,
        label="items",
    )
    donation.status_changed_at = now()
    db.session.flush()
    from .messages import queue_received

    queue_received(donation, by=by)


def process_donation(donation: Donation, grades: dict[int, dict], *, by=None) -> list[Device]:
    """Turn every received unit into a device record linked to the donation, in one step.

    ``grades`` gives per line the condition grade and storage location of its devices.
    The donation row is locked first, so two desks processing it at once make one set of
    devices: the second is told it has been processed already.
    """
    donation = lock_donation(donation)
    if donation.status == "processed":
        raise RuleBroken(f"{donation.reference} has already been processed into devices.", "items")
    if donation.status != "received":
        raise RuleBroken("Only a received donation can be processed into devices.", "items")
    devices = []
    for item in donation.items:
        spec = grades.get(item.id) or {}
        grade = spec.get("condition_grade") or "B"
        if grade not in CONDITION_GRADES:
            raise RuleBroken(f"Line {item.position}: choose a grade.", f"item_{item.id}")
        for _ in range(item.quantity_received or 0):
            devices.append(
                create_device(
                    donation.organisation_id,
                    {
                        "kind": item.kind,
                        "make": item.make,
                        "model": item.model,
                        "condition_grade": grade,
                        "accessories": "Charger" if item.chargers_included else "",
                        "storage_location": spec.get("storage_location") or "",
                    },
                    donation=donation,
                    by=by,
                )
            )
    donation.processed_at = now()
    transition(
        donation,
        "processed",
        DONATION_TRANSITIONS,
        action="donation.processed",
        extra_changed=["processed_at"],
        actor=by,
        label="items",
    )
    donation.status_changed_at = now()
    db.session.flush()
    return devices


def decline_donation(donation: Donation, reason: str, *, by=None) -> None:
    """Decline a pledge (or a delivery) with a reason the donor can be told."""
    reason = (reason or "").strip()
    if not reason:
        raise RuleBroken("Say why the donation is declined.", "reason")
    donation = lock_donation(donation)
    donation.decline_reason = reason
    transition(
        donation,
        "declined",
        DONATION_TRANSITIONS,
        action="donation.declined",
        extra_changed=["decline_reason"],
        actor=by,
        label="reason",
    )
    donation.status_changed_at = now()
    db.session.flush()


def link_donor_account(donor: Donor, user, *, by=None) -> DonorAccount:
    """Let a donor-role user of the same organisation follow this business's donations."""
    if user.role != "donor":
        raise RuleBroken("Only a donor account can follow donations.", "email")
    if user.organisation_id != donor.organisation_id:
        raise RuleBroken("That account belongs to another organisation.", "email")
    with unscoped():  # an account follows one business, in any organisation
        # Two desks linking one account at once: the second waits for the first's link.
        db.session.execute(select(User.id).where(User.id == user.id).with_for_update())
        link = db.session.scalar(select(DonorAccount).where(DonorAccount.user_id == user.id))
    if link is not None:
        if link.donor_id != donor.id:
            raise RuleBroken("That account already follows another business.", "email")
        return link
    link = DonorAccount(organisation_id=donor.organisation_id, donor_id=donor.id, user_id=user.id)
    db.session.add(link)
    db.session.flush()
    audit.record("donor.account_linked", link, changed=["user_id"], actor=by)
    db.session.flush()
    return link


def give_donor_account(donor: Donor, *, by):
    """Link the donor's contact to an account, inviting them when they have none.

    Returns ``(user, invitation_token or None)``.
    """
    from inclusion.accounts import service as accounts

    user = accounts.find_user_by_email(donor.email)
    token = None
    if user is None:
        user, token = accounts.invite_user(
            db.session.get(Organisation, donor.organisation_id),
            email=donor.email,
            name=donor.contact_name,
            role="donor",
            by=by,
        )
    link_donor_account(donor, user, by=by)
    return user, token


def donor_of_user(user) -> Donor | None:
    return db.session.scalar(
        select(Donor)
        .join(DonorAccount, DonorAccount.donor_id == Donor.id)
        .where(DonorAccount.user_id == user.id)
    )


def can_follow_donation(user, donation: Donation) -> bool:
    """A donor sees only their own business's donations; staff see their organisation's."""
    if not (user and user.is_authenticated) or user.organisation_id != donation.organisation_id:
        return False
    if user.role in ("admin", "coordinator"):
        return True
    if user.role == "donor":
        donor = donor_of_user(user)
        return donor is not None and donor.id == donation.donor_id
    return False


def donor_accounts(donor: Donor) -> list:
    """The user accounts that follow this business."""
    return db.session.scalars(
        select(User)
        .join(DonorAccount, DonorAccount.user_id == User.id)
        .where(DonorAccount.donor_id == donor.id)
        .order_by(User.name)
    ).all()
