"""The rules of the devices shelf: stocktakes, bulk work on many devices, importing devices.

Functions change objects, audit and flush; the request or CLI command commits. A bulk
action or an import is all or nothing: every device (or row) is tried, and when any is
refused the caller is given every reason and the unit of work is rolled back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from devices.models import CONDITION_GRADES, DEVICE_KINDS, DEVICE_STATUS_LABELS, Device, Donation
from devices.service import (
    change_device_status,
    create_device,
    device_by_code,
    lock_device,
    normalise_tag,
    record_wipe,
)
from inclusion import audit
from inclusion.clock import now
from inclusion.csvfile import CsvUnreadable, column_name, csv_rows
from inclusion.errors import RuleBroken
from inclusion.extensions import db
from inclusion.tenancy import unscoped

from .models import LINE_OUTCOMES, ON_SHELF_STATUSES, Stocktake, StocktakeLine

# One stocktake, one bulk action or one import never covers more than this many devices.
MAX_DEVICES = 500


@dataclass
class BulkRefused(Exception):
    """Devices (or rows) an action refused, each with its reason; nothing was changed.

    ``errors`` are ``(asset tag, message)`` for bulk work, ``(row, field, message)`` for an
    import."""

    errors: list[tuple] = field(default_factory=list)
    message: str = "Nothing was changed: fix the devices listed below and try again."


# ---- finding a device by what was scanned -----------------------------------------------


def clean_code(code: str) -> str:
    """What a scanner or a person typed, as a code: no spaces, upper case."""
    return re.sub(r"\s+", "", code or "").upper()[:100]


# ---- stocktakes -----------------------------------------------------------------------------


def storage_locations() -> list[str]:
    """Where the organisation keeps devices: every location a device is recorded at."""
    return list(
        db.session.scalars(
            select(Device.storage_location)
            .where(Device.storage_location != "")
            .distinct()
            .order_by(Device.storage_location)
        )
    )


def _at_location(location: str):
    return func.lower(Device.storage_location) == location.strip().lower()


def open_stocktake_at(location: str) -> Stocktake | None:
    return db.session.scalar(
        select(Stocktake).where(Stocktake.location == location, Stocktake.status == "open")
    )


def start_stocktake(organisation_id: int, location: str, *, by=None) -> Stocktake:
    """Start checking one storage location. One stocktake per location is open at a time
    (a partial unique index), so two desks starting the same shelf get one stocktake."""
    location = (location or "").strip()
    if location not in storage_locations():
        raise RuleBroken("Choose a storage location where devices are kept.", "location")
    if open_stocktake_at(location) is not None:
        raise RuleBroken(
            f"A stocktake of {location} is already open: carry on with it.", "location"
        )
    stocktake = Stocktake(
        organisation_id=organisation_id,
        location=location,
        status="open",
        started_at=now(),
        started_by_id=by.id if by else None,
    )
    try:
        with db.session.begin_nested():
            db.session.add(stocktake)
    except IntegrityError:
        raise RuleBroken(
            f"A stocktake of {location} was just started at another desk: carry on with it.",
            "location",
        ) from None
    audit.record("stocktake.started", stocktake, changed=["location", "status"], actor=by)
    db.session.flush()
    return stocktake


def lock_stocktake(stocktake: Stocktake) -> Stocktake:
    """Lock the stocktake's row and re-read it: a scan, a save or a cancel decides on the
    stocktake as it is now, so two desks saving at once save it once."""
    db.session.flush()
    return db.session.scalar(
        select(Stocktake)
        .where(Stocktake.id == stocktake.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def _refuse_unless_open(stocktake: Stocktake, field_name: str) -> None:
    if stocktake.status == "saved":
        who = f" by {stocktake.saved_by.name}" if stocktake.saved_by else ""
        raise RuleBroken(
            f"This stocktake was already saved{who} at {stocktake.saved_at:%H:%M}.", field_name
        )
    if stocktake.status != "open":
        raise RuleBroken("This stocktake was cancelled.", field_name)


def _judge(line: StocktakeLine, device: Device, location: str) -> None:
    """Found when the device is recorded here and on a shelf; misplaced otherwise."""
    line.recorded_location = device.storage_location
    line.recorded_status = device.status
    here = device.storage_location.strip().lower() == location.strip().lower()
    line.outcome = "found" if here and device.status in ON_SHELF_STATUSES else "misplaced"


def record_scan(stocktake: Stocktake, code: str, *, by=None) -> StocktakeLine:
    """One scanned or typed code: a device found here, a device recorded elsewhere
    (misplaced), or a code no device has (never seen). Scanning again changes nothing."""
    code = (code or "").strip()
    if not clean_code(code):
        raise RuleBroken("Scan a label, or type a tag, serial number or IMEI.", "code")
    stocktake = lock_stocktake(stocktake)
    _refuse_unless_open(stocktake, "code")
    device = device_by_code(code)
    if device is not None:
        existing = db.session.scalar(
            select(StocktakeLine).where(
                StocktakeLine.stocktake_id == stocktake.id, StocktakeLine.device_id == device.id
            )
        )
    else:
        existing = db.session.scalar(
            select(StocktakeLine).where(
                StocktakeLine.stocktake_id == stocktake.id,
                StocktakeLine.code == clean_code(code),
            )
        )
    if existing is not None:
        return existing
    if len(stocktake.lines) >= MAX_DEVICES:
        raise RuleBroken(f"A stocktake checks at most {MAX_DEVICES} devices.", "code")
    line = StocktakeLine(
        organisation_id=stocktake.organisation_id,
        stocktake_id=stocktake.id,
        device_id=device.id if device else None,
        code=device.asset_tag if device else clean_code(code),
        outcome="unknown",
        scanned_at=now(),
    )
    if device is not None:
        _judge(line, device, stocktake.location)
    db.session.add(line)
    db.session.flush()
    return line


@dataclass
class StocktakeResult:
    """What a stocktake found: lines for what was scanned, and the devices missing."""

    found: list[StocktakeLine]
    misplaced: list[StocktakeLine]
    unknown: list[StocktakeLine]
    missing: list  # devices (open stocktake) or lines (saved one)

    @property
    def scanned_count(self) -> int:
        return len(self.found) + len(self.misplaced) + len(self.unknown)


def _missing_devices(stocktake: Stocktake, seen_ids: set[int]) -> list[Device]:
    devices = db.session.scalars(
        select(Device)
        .where(_at_location(stocktake.location), Device.status.in_(ON_SHELF_STATUSES))
        .order_by(Device.asset_tag)
    ).all()
    return [d for d in devices if d.id not in seen_ids]


def stocktake_result(stocktake: Stocktake) -> StocktakeResult:
    """The result as the page shows it; for an open stocktake, missing is worked out now."""
    lines = db.session.scalars(
        select(StocktakeLine)
        .where(StocktakeLine.stocktake_id == stocktake.id)
        .options(joinedload(StocktakeLine.device))
        .order_by(StocktakeLine.scanned_at.desc(), StocktakeLine.id.desc())
    ).all()
    by = {o: [line for line in lines if line.outcome == o] for o in LINE_OUTCOMES}
    if stocktake.is_open:
        missing = _missing_devices(stocktake, {line.device_id for line in lines if line.device_id})
    else:
        missing = sorted(by["missing"], key=lambda line: line.code)
    return StocktakeResult(
        found=by["found"], misplaced=by["misplaced"], unknown=by["unknown"], missing=missing
    )


def save_stocktake(stocktake: Stocktake, *, move_misplaced: bool = False, by=None) -> Stocktake:
    """Save the result: a missing line for each device recorded here and not scanned, the
    counts, and an audit event on every device checked. With ``move_misplaced`` the
    misplaced devices on a shelf are recorded at this location (each audited).

    The stocktake row is locked first, so two desks saving at once save it once; every
    scanned device is judged again on its row as it is now."""
    stocktake = lock_stocktake(stocktake)
    _refuse_unless_open(stocktake, "move_misplaced")
    lines = db.session.scalars(
        select(StocktakeLine).where(StocktakeLine.stocktake_id == stocktake.id)
    ).all()
    seen: set[int] = set()
    for line in lines:
        if line.device_id is None:
            continue
        device = lock_device(line.device)
        seen.add(device.id)
        _judge(line, device, stocktake.location)
        if move_misplaced and line.outcome == "misplaced" and device.status in ON_SHELF_STATUSES:
            device.storage_location = stocktake.location
            line.moved = True
            audit.record("device.updated", device, changed=["storage_location"], actor=by)
        audit.record("device.stocktaken", device, changed=["stocktake"], actor=by)
    stamp = now()
    for device in _missing_devices(stocktake, seen):
        db.session.add(
            StocktakeLine(
                organisation_id=stocktake.organisation_id,
                stocktake_id=stocktake.id,
                device_id=device.id,
                code=device.asset_tag,
                outcome="missing",
                recorded_location=device.storage_location,
                recorded_status=device.status,
                scanned_at=stamp,
            )
        )
        audit.record("device.stocktaken", device, changed=["stocktake"], actor=by)
    db.session.flush()
    counts = dict(
        db.session.execute(
            select(StocktakeLine.outcome, func.count())
            .where(StocktakeLine.stocktake_id == stocktake.id)
            .group_by(StocktakeLine.outcome)
        ).all()
    )
    stocktake.found_count = counts.get("found", 0)
    stocktake.missing_count = counts.get("missing", 0)
    stocktake.misplaced_count = counts.get("misplaced", 0)
    stocktake.unknown_count = counts.get("unknown", 0)
    stocktake.status = "saved"
    stocktake.saved_at = stamp
    stocktake.saved_by_id = by.id if by else None
    stocktake.moved_misplaced = bool(move_misplaced)
    audit.record(
        "stocktake.saved",
        stocktake,
        changed=["status", "saved_at", "found_count", "missing_count", "misplaced_count"],
        actor=by,
    )
    db.session.flush()
    return stocktake


def cancel_stocktake(stocktake: Stocktake, *, by=None) -> None:
    """Give up an open stocktake (the shelf can be checked again); its scans are kept."""
    stocktake = lock_stocktake(stocktake)
    _refuse_unless_open(stocktake, None)
    stocktake.status = "cancelled"
    audit.record("stocktake.cancelled", stocktake, changed=["status"], actor=by)
    db.session.flush()


def stocktake_list():
    """Past and open stocktakes, newest first."""
    return (
        select(Stocktake)
        .options(joinedload(Stocktake.started_by), joinedload(Stocktake.saved_by))
        .order_by(Stocktake.started_at.desc(), Stocktake.id.desc())
    )


@dataclass
class LastCheck:
    at: datetime
    outcome: str
    stocktake_id: int

    @property
    def outcome_label(self) -> str:
        return LINE_OUTCOMES.get(self.outcome, self.outcome).lower()


def last_stocktakes(devices) -> dict[int, LastCheck]:
    """Each device's last saved stocktake (when and what it found), in one query."""
    ids = [d.id for d in devices]
    if not ids:
        return {}
    rows = db.session.execute(
        select(StocktakeLine.device_id, Stocktake.saved_at, StocktakeLine.outcome, Stocktake.id)
        .join(Stocktake, Stocktake.id == StocktakeLine.stocktake_id)
        .where(StocktakeLine.device_id.in_(ids), Stocktake.status == "saved")
        .order_by(Stocktake.saved_at, Stocktake.id)
    ).all()
    return {device_id: LastCheck(at, outcome, sid) for device_id, at, outcome, sid in rows}


# ---- bulk work on many devices -----------------------------------------------------------


def selected_devices(values) -> tuple[list[Device], Donation | None]:
    """Devices chosen by ``tag`` (repeatable) or a whole ``donation`` (its reference)."""
    reference = (values.get("donation") or "").strip().upper()
    if reference:
        donation = db.session.scalar(select(Donation).where(Donation.reference == reference))
        if donation is not None:
            return list(donation.devices), donation
        return [], None
    tags = sorted({t for t in (normalise_tag(t) for t in values.getlist("tag")) if t})
    if not tags:
        return [], None
    devices = db.session.scalars(
        select(Device).where(Device.asset_tag.in_(tags[:MAX_DEVICES])).order_by(Device.asset_tag)
    ).all()
    return list(devices), None


def _each_or_none(devices, act) -> None:
    """Run ``act(device)`` for every device, each in a savepoint; when any is refused,
    raise every refusal at once (the caller rolls the whole unit of work back)."""
    if not devices:
        raise RuleBroken("Choose at least one device.", None)
    if len(devices) > MAX_DEVICES:
        raise RuleBroken(f"Choose at most {MAX_DEVICES} devices at a time.", None)
    errors = []
    # In id order, so two desks locking the same devices never wait on each other in a ring.
    for device in sorted(devices, key=lambda d: d.id):
        try:
            with db.session.begin_nested():
                act(device)
        except RuleBroken as err:
            errors.append((device.asset_tag, err.message))
    if errors:
        raise BulkRefused(errors=sorted(errors))


def bulk_record_wipe(
    devices,
    *,
    method: str,
    wiped_by: str,
    wiped_at=None,
    certificate_reference: str = "",
    notes: str = "",
    mark_ready: bool = True,
    by=None,
) -> None:
    """One wipe recorded for every device (each its own wipe record, history and audit),
    under the same rules as one wipe; when any device cannot be wiped, none is."""
    if wiped_at and wiped_at > now():
        raise RuleBroken("The wipe cannot be in the future.", "wiped_at")
    _each_or_none(
        devices,
        lambda device: record_wipe(
            device,
            method=method,
            wiped_by=wiped_by,
            wiped_at=wiped_at,
            certificate_reference=certificate_reference,
            notes=notes,
            mark_ready=mark_ready,
            by=by,
        ),
    )


def bulk_change_status(devices, new_status: str, *, note: str = "", by=None) -> None:
    """Move every device to ``new_status`` under the same rules as one move (the device
    life cycle, a wipe before ready, loans only through lending); all or none."""
    if new_status not in DEVICE_STATUS_LABELS:
        raise RuleBroken("Choose the new status.", "status")
    _each_or_none(
        devices, lambda device: change_device_status(device, new_status, note=note, by=by)
    )


# ---- importing devices from a CSV file -------------------------------------------------------

IMPORT_COLUMNS = ("make", "model", "serial", "kind", "grade", "location")
_KIND_BY_WORD = {**{k: k for k in DEVICE_KINDS}, **{v.lower(): k for k, v in DEVICE_KINDS.items()}}
_GRADE_BY_WORD = {k.lower(): k for k in CONDITION_GRADES} | {
    v.lower(): k for k, v in CONDITION_GRADES.items()
}


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
NOTHING_ADDED = "Nothing was added: fix the rows listed below and try again."


def _import_rows(text_value: str) -> list[tuple[int, dict]]:
    rows: list[tuple[int, dict]] = []
    header = None
    try:
        for line, cells in csv_rows(text_value):
            if header is None:
                header = [column_name(c) for c in cells]
                if "kind" not in header:
                    raise BulkRefused(
                        errors=[
                            (
                                line,
                                "kind",
                                "The first row names the columns: "
                                + ", ".join(IMPORT_COLUMNS)
                                + " (kind is needed).",
                            )
                        ],
                        message=NOTHING_ADDED,
                    )
                continue
            values = {
                name: cell.strip()
                for name, cell in zip(header, cells, strict=False)
                if name in IMPORT_COLUMNS
            }
            rows.append((line, values))
    except CsvUnreadable as err:
        raise BulkRefused(errors=[(err.line, "", err.message)], message=NOTHING_ADDED) from None
    return rows


def import_devices(organisation_id: int, text_value: str, *, by=None) -> list[Device]:
    """Add devices from a CSV file with a header row (make, model, serial, kind, grade,
    location). Every row is checked first; when any row is bad (unknown kind or grade, a
    value too long, a serial repeated in the file or already recorded) nothing is added and
    every problem is reported with its row and column."""
    rows = _import_rows(text_value)
    if not rows:
        raise RuleBroken(
            "The file has no devices: a header row, then one row per device.", "upload"
        )
    if len(rows) > MAX_DEVICES:
        raise RuleBroken(f"Import at most {MAX_DEVICES} devices at a time.", "upload")
    errors: list[tuple[int, str, str]] = []
    cleaned: list[tuple[int, dict]] = []
    serials: dict[str, int] = {}
    for line, values in rows:
        row_errors = []
        kind = _KIND_BY_WORD.get(values.get("kind", "").lower())
        if kind is None:
            row_errors.append((line, "kind", "Give the kind: " + ", ".join(DEVICE_KINDS) + "."))
        grade = _GRADE_BY_WORD.get((values.get("grade") or "B").lower())
        if grade is None:
            row_errors.append((line, "grade", "Give the grade: A, B, C or parts."))
        for name, limit in (("make", 100), ("model", 100), ("location", 100), ("serial", 64)):
            if len(values.get(name, "")) > limit:
                row_errors.append((line, name, f"At most {limit} characters."))
            elif _CONTROL.search(values.get(name, "")):
                row_errors.append((line, name, "Holds a character that is not text."))
        serial = clean_code(values.get("serial", "")) or None
        if serial and serial in serials:
            row_errors.append((line, "serial", f"Repeats the serial of row {serials[serial]}."))
        elif serial:
            serials[serial] = line
        if row_errors:
            errors += row_errors
            continue
        cleaned.append(
            (
                line,
                {
                    "kind": kind,
                    "make": values.get("make", ""),
                    "model": values.get("model", ""),
                    "serial": serial,
                    "condition_grade": grade,
                    "storage_location": values.get("location", ""),
                },
            )
        )
    if serials:
        with unscoped():  # the organisation is named in the statement
            taken = set(
                db.session.scalars(
                    select(Device.serial).where(
                        Device.organisation_id == organisation_id,
                        Device.serial.in_(list(serials)),
                    )
                )
            )
        errors += [
            (line, "serial", "Another device already has this serial number or IMEI.")
            for serial, line in serials.items()
            if serial in taken
        ]
    if errors:
        raise BulkRefused(
            errors=sorted(errors),
            message=NOTHING_ADDED,
        )
    return [
        create_device(organisation_id, values, by=by, note="Imported from a CSV file")
        for _, values in cleaned
    ]
