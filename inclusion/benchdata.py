"""Benchmark data: one large, realistic organisation to time the reports against.

``flask inclusion bench-data --scale 1`` adds the organisation *BENCH* ("Benchmark Digital
Inclusion (generated)") holding, at scale 1, 20,000 residents, 5,000 devices, 500 IT buddies,
200,000 practice sessions and about 1,000,000 skill checkpoints, with everything those imply:
donors, donations and their items, wipes, device and referral histories, loans (returned,
gifted, lost, open, overdue, extended), data bundles, the device waiting list and buddy
matches: three years of a growing programme that ends today. ``--scale 0.01`` makes a
hundredth of it (for tests); the same seed gives the same data.

How it is built:

- A plan first, in memory, from one seeded ``random.Random``: each resident's timeline
  (referred → contacted → assessed → supported → closed, or an early close), then the
  lending desk as a queue (a device is ready after a wipe; waiting residents are lent the
  next ready device in the order they joined the list), then matches and, within each match,
  sessions and checkpoints. So the rows agree the way the real flows make them agree: a loan
  starts after its resident joined the waiting list, a device has at most one open loan and
  is wiped before every lend, a resident stays open while holding a device, a closed
  resident's match is ended.
- Rows are written with SQLAlchemy Core ``insert()`` as executemany lists of
  ``CHUNK`` rows, with explicit primary keys so children name their parents without reading
  ids back; PostgreSQL's sequences are then moved past them, and the reference counters
  continue after the generated R-, D- and L- numbers. Sessions and checkpoints are streamed
  (never a million rows in memory at once).
- Every check constraint, unique and partial unique index of the schema holds (the tests
  check the important ones against the database).
- No audit events. The audit log records what people did to records; these rows are
  generated, not a change anyone made, and a million "created" events would only drown the
  log and time the audit table instead of the reports. Nothing requires an event: the audit
  guards (``inclusion.audit``'s before-flush check and the triggers of the foundation
  migration) refuse only updates and deletes of audit events, and Core inserts run no
  ORM hooks.
- Refuses when the organisation BENCH exists; ``--replace`` deletes its rows first, unless
  someone has worked in it (it has audit events, which are append-only): then use a fresh
  database.
"""

from __future__ import annotations

import contextlib
import heapq
import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import click
from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.exc import IntegrityError

from .clock import today as _today
from .errors import RuleBroken
from .extensions import db

BENCH_CODE = "BENCH"
BENCH_NAME = "Benchmark Digital Inclusion (generated)"
SEED = 2026
CHUNK = 5_000
DAYS = 3 * 365  # how far back the programme starts
MAX_SCALE = 20.0

# Rows at scale 1; every other count follows from these and the flows.
SCALE_1 = {
    "residents": 20_000,
    "devices": 5_000,
    "buddies": 500,
    "sessions": 200_000,
    "checkpoints": 1_000_000,
    "donations": 1_000,
    "donors": 400,
    "bundles_in_stock": 400,
}

SOURCES = (
    ("gp", 35),
    ("social_care", 15),
    ("housing", 15),
    ("self", 20),
    ("family", 10),
    ("other", 5),
)
OUTCOMES = (
    ("goals_met", 55),
    ("partly_met", 20),
    ("moved_away", 5),
    ("declined", 5),
    ("referred_on", 5),
    ("died", 3),
    ("other", 7),
)
KINDS = (("tablet", 45), ("laptop", 20), ("smartphone", 20), ("chromebook", 10), ("hotspot", 5))
MODELS = {
    "tablet": [
        ("Samsung", "Galaxy Tab A8"),
        ("Apple", "iPad 9th generation"),
        ("Amazon", "Fire HD 10"),
    ],
    "laptop": [("Lenovo", "ThinkPad T480"), ("Dell", "Latitude 5490"), ("HP", "ProBook 440 G5")],
    "smartphone": [("Motorola", "Moto G32"), ("Samsung", "Galaxy A14"), ("Google", "Pixel 4a")],
    "chromebook": [("Acer", "Chromebook 314"), ("Lenovo", "100e Chromebook")],
    "hotspot": [("Huawei", "E5576 mobile Wi-Fi"), ("TP-Link", "M7350")],
}
DONATION_STATES = (
    ("processed", 75),
    ("received", 5),
    ("scheduled", 5),
    ("pledged", 7),
    ("declined", 8),
)
NETWORKS = ("Vodafone", "Three", "O2", "EE")
DISTRICTS = [f"WV{n}" for n in range(1, 15)]
LANGUAGES = ["English"] * 8 + ["Punjabi", "Urdu", "Polish", "Somali", "Bengali", "Arabic"]
SLOTS = [
    f"{d}_{p}"
    for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    for p in ("morning", "afternoon", "evening")
]
MODES = ["home", "venue", "phone", "video"]
AREA_KEYS = [
    "foundation",
    "communicating",
    "information",
    "transacting",
    "problem_solving",
    "safety",
]
ACCESS_KEYS = [
    "bsl",
    "screen_reader",
    "large_print",
    "hearing_loop",
    "dementia",
    "learning_disability",
]
PLACES = {"home": "At home", "venue": "Community Hub", "phone": "", "video": ""}
SESSION_NOTES = [
    "Practised slowly with lots of repetition; wrote the steps down on a card.",
    "Much more relaxed today. Did it twice without prompting.",
    "Tired today, so we kept it short and went over last week's steps.",
    "Struggled with the small buttons; we made the text bigger first.",
]
NEXT_STEPS = [
    "Practise every day before next week.",
    "Next time: ordering a repeat prescription in the NHS App.",
    "Bring the bill letter so we can pay it online together.",
]


def counts_for(scale: float) -> dict[str, int]:
    """Target rows per kind at ``scale`` (at least one of each)."""
    return {k: max(1, round(v * scale)) for k, v in SCALE_1.items()}


def _weighted(rng: random.Random, pairs) -> str:
    keys, weights = zip(*pairs, strict=True)
    return rng.choices(keys, weights)[0]


def _at(day: date, rng: random.Random, start_hour: int = 9) -> datetime:
    return datetime.combine(day, time(start_hour)) + timedelta(minutes=rng.randint(0, 480))


def _tag(n: int) -> str:
    alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # devices.service.TAG_ALPHABET
    return "BN-" + "".join(alphabet[(n // 32**i) % 32] for i in range(5))


# ---- the plan -----------------------------------------------------------------------


@dataclass(slots=True)
class _Resident:
    id: int
    number: int
    referral: date
    contacted: date | None = None
    assessed: date | None = None
    supported: date | None = None  # planned; a loan may bring it forward
    close: date | None = None  # planned; a loan may push it back
    outcome: str | None = None
    early_close: str | None = None  # the stage an early close happens at
    needs_device: bool = False
    needs_data: bool = False
    needs_skills: bool = False
    holds_device: bool = False


@dataclass(slots=True)
class _Device:
    id: int
    kind: str
    created: date
    donation_id: int | None
    events: list = field(default_factory=list)  # (datetime, from, to)
    wipes: list = field(default_factory=list)  # datetimes
    status: str = "received"
    wiped: bool = False

    def move(self, at: datetime, to: str) -> None:
        self.events.append((at, self.status if self.events else None, to))
        self.status = to
        if to == "awaiting_wipe":
            self.wiped = False


class _Writer:
    """Buffers rows per table and writes them with executemany in chunks, parents first."""

    def __init__(self, bar):
        self.bar = bar
        self.buffers: dict = {}
        self.order = {t.name: i for i, t in enumerate(db.metadata.sorted_tables)}
        self.written: dict[str, int] = {}

    def add(self, table, row: dict) -> None:
        rows = self.buffers.setdefault(table, [])
        rows.append(row)
        if len(rows) >= CHUNK:
            # A child's rows may name parents still buffered: write those first.
            for parent in sorted(self.buffers, key=lambda t: self.order[t.name]):
                if self.order[parent.name] < self.order[table.name]:
                    self._write(parent)
            self._write(table)

    def _write(self, table) -> None:
        rows = self.buffers.get(table)
        if rows:
            db.session.execute(insert(table), rows)
            self.written[table.name] = self.written.get(table.name, 0) + len(rows)
            self.bar.update(len(rows))
            self.buffers[table] = []

    def flush(self) -> None:
        for table in sorted(self.buffers, key=lambda t: self.order[t.name]):
            self._write(table)


class _NoBar:
    def update(self, n: int) -> None:
        pass


class _Generator:
    def __init__(self, organisation_id: int, scale: float, seed: int, writer: _Writer):
        from buddies.models import BuddyProfile, BuddyTraining, Match
        from buddies.practice.models import Checkpoint, PracticeSession, SkillTask
        from devices.loans.models import DataBundle, Loan, LoanExtension, WaitingListEntry
        from devices.models import Device, DeviceStatusChange, Donation, DonationItem, Donor, Wipe
        from inclusion.residents.models import Resident, StatusChange

        self.t = {
            m.__tablename__: m.__table__
            for m in (
                BuddyProfile,
                BuddyTraining,
                Match,
                Checkpoint,
                PracticeSession,
                SkillTask,
                DataBundle,
                Loan,
                LoanExtension,
                WaitingListEntry,
                Device,
                DeviceStatusChange,
                Donation,
                DonationItem,
                Donor,
                Wipe,
                Resident,
                StatusChange,
            )
        }
        self.org = organisation_id
        self.rng = random.Random(seed)
        self.counts = counts_for(scale)
        self.today = _today()
        self.start = self.today - timedelta(days=DAYS)
        self.w = writer
        self.next_ids = {
            name: (db.session.scalar(select(func.max(table.c.id))) or 0) + 1
            for name, table in self.t.items()
        }
        self.explicit_ids: set[str] = set()

    def ids(self, table: str, n: int) -> range:
        first = self.next_ids[table]
        self.next_ids[table] = first + n
        self.explicit_ids.add(table)
        return range(first, first + n)

    def add(self, table: str, row: dict) -> None:
        row["organisation_id"] = self.org
        self.w.add(self.t[table], row)

    def days(self, a: int, b: int) -> timedelta:
        return timedelta(days=self.rng.randint(a, b))

    # -- people ------------------------------------------------------------------------

    def plan_residents(self) -> list[_Resident]:
        rng, out = self.rng, []
        for number, rid in enumerate(self.ids("resident", self.counts["residents"]), start=1):
            # sqrt: referrals grow over the three years, as a programme becomes known.
            referral = self.start + timedelta(days=int(DAYS * math.sqrt(rng.random())))
            r = _Resident(id=rid, number=number, referral=referral)
            r.needs_device = rng.random() < 0.75
            r.needs_data = rng.random() < 0.45
            r.needs_skills = rng.random() < 0.85 or not (r.needs_device or r.needs_data)
            r.contacted = referral + self.days(1, 10)
            drop = rng.random()
            if drop < 0.04:
                r.early_close, r.close, r.outcome = (
                    "referred",
                    referral + self.days(21, 45),
                    "no_contact",
                )
            elif drop < 0.08:
                r.early_close, r.close, r.outcome = (
                    "contacted",
                    r.contacted + self.days(7, 30),
                    "declined",
                )
            else:
                r.assessed = r.contacted + self.days(3, 21)
                r.supported = r.assessed + self.days(2, 30)
                if rng.random() < 0.92:
                    r.close = r.supported + self.days(60, 420)
                    r.outcome = _weighted(rng, OUTCOMES)
            out.append(r)
        return out

    def plan_buddies(self) -> list[dict]:
        rng, buddies = self.rng, []
        for n, bid in enumerate(self.ids("buddy_profile", self.counts["buddies"]), start=1):
            status = _weighted(rng, (("active", 75), ("paused", 8), ("left", 10), ("applicant", 7)))
            applied = (
                self.start
                - timedelta(days=60)
                + timedelta(days=int((DAYS + 40) * rng.random() ** 2))
            )
            applied = min(applied, self.today - timedelta(days=1))
            buddies.append(
                dict(
                    id=bid,
                    name=f"Bench Buddy {n}",
                    status=status,
                    applied=applied,
                    limit=rng.randint(2, 6) if status == "active" else rng.randint(1, 4),
                    modes=rng.sample(MODES, rng.randint(1, 4)),
                )
            )
        return buddies

    def write_buddies(self, buddies) -> None:
        rng = self.rng
        training_ids = iter(self.ids("buddy_training", 2 * len(buddies)))
        for b in buddies:
            applied, status = b["applied"], b["status"]
            checked = status != "applicant"
            issued = min(applied + self.days(10, 40), self.today) if checked else None
            self.add(
                "buddy_profile",
                dict(
                    id=b["id"],
                    user_id=None,
                    name=b["name"],
                    email=f"buddy{b['id']}@volunteers.bench.example.org",
                    phone=f"+44 7700 9{rng.randint(0, 99999):05d}",
                    areas=sorted(rng.sample(DISTRICTS, rng.randint(1, 4))),
                    languages=["English", *rng.sample(LANGUAGES[8:], rng.randint(0, 2))],
                    skills=sorted(rng.sample(AREA_KEYS, rng.randint(2, 6))),
                    access_experience=sorted(rng.sample(ACCESS_KEYS, rng.randint(0, 2))),
                    availability=sorted(rng.sample(SLOTS, rng.randint(2, 8))),
                    visit_modes=b["modes"],
                    caseload_limit=b["limit"],
                    about="Happy to help people get online.",
                    status=status,
                    status_changed_at=_at(issued or applied, rng),
                    applied_at=_at(applied, rng),
                    notes="",
                    dbs_level=rng.choice(["enhanced", "enhanced", "standard"]) if checked else None,
                    dbs_certificate=f"{b['id']:012d}" if checked else None,
                    dbs_issued_on=issued,
                    dbs_renewal_due=issued.replace(year=issued.year + 3, day=min(issued.day, 28))
                    if checked
                    else None,
                ),
            )
            if checked:
                for kind in ("safeguarding", "data_protection"):
                    self.add(
                        "buddy_training",
                        dict(
                            id=next(training_ids),
                            buddy_id=b["id"],
                            kind=kind,
                            completed_on=min(applied + self.days(5, 50), self.today),
                            provider="Bench training partner",
                            recorded_at=_at(issued, rng),
                            recorded_by_id=None,
                        ),
                    )

    # -- devices and donations -----------------------------------------------------------

    def plan_devices(self) -> list[_Device]:
        """Donations (their devices), then devices bought or from national schemes."""
        rng = self.rng
        n_devices, n_donations = self.counts["devices"], self.counts["donations"]
        donor_ids = list(self.ids("donor", self.counts["donors"]))
        for n, donor_id in enumerate(donor_ids, start=1):
            self.add(
                "donor",
                dict(
                    id=donor_id,
                    business_name=f"Bench Business {n} Ltd",
                    contact_name=f"Contact {n}",
                    email=f"contact{n}@business{n}.bench.example.com",
                    phone="",
                    created_at=_at(self.start, rng),
                ),
            )
        donation_ids = list(self.ids("donation", n_donations))
        states = [_weighted(rng, DONATION_STATES) for _ in donation_ids]
        processed = [i for i, s in enumerate(states) if s == "processed"] or [0]
        states[processed[0]] = "processed"
        donated = round(n_devices * 0.8)
        # Split the donated devices over the processed donations, each at least one.
        shares = [1] * len(processed)
        for _ in range(max(0, donated - len(processed))):
            shares[rng.randrange(len(processed))] += 1
        per_donation = (
            dict(zip(processed, shares, strict=True)) if donated >= len(processed) else {}
        )
        device_ids = iter(self.ids("device", n_devices))
        item_ids = self.ids("donation_item", 0)  # grown as items are written
        item_next = item_ids.start
        devices: list[_Device] = []
        for i, (donation_id, state) in enumerate(zip(donation_ids, states, strict=True)):
            pledged = self.start + timedelta(days=rng.randint(0, DAYS - 30))
            received = pledged + self.days(3, 20) if state in ("received", "processed") else None
            processed_at = received + self.days(1, 10) if state == "processed" else None
            if state in ("pledged", "scheduled"):  # still to come: recent pledges
                pledged = self.today - self.days(1, 25)
            devices_here = per_donation.get(i, 0)  # only processed donations have devices
            kinds: dict[str, int] = {}
            for _ in range(devices_here or rng.randint(1, 12)):
                kind = _weighted(rng, KINDS)
                kinds[kind] = kinds.get(kind, 0) + 1
            self.add(
                "donation",
                dict(
                    id=donation_id,
                    reference=f"D-{i + 1:04d}",
                    donor_id=rng.choice(donor_ids),
                    receipt_token=f"bench{self.org}-{donation_id}-{rng.getrandbits(64):016x}",
                    status=state,
                    status_changed_at=_at(processed_at or received or pledged, rng),
                    donor_wiped=rng.random() < 0.3,
                    wipe_certificate="",
                    handover="drop_off" if rng.random() < 0.7 else "collection",
                    preferred_from=None,
                    preferred_to=None,
                    collection_address="",
                    notes="",
                    wants_account=False,
                    scheduled_for=pledged + self.days(5, 20) if state == "scheduled" else None,
                    decline_reason="Too old to run a supported system."
                    if state == "declined"
                    else "",
                    pledged_at=_at(pledged, rng),
                    received_at=_at(received, rng) if received else None,
                    processed_at=_at(processed_at, rng) if processed_at else None,
                ),
            )
            for position, (kind, quantity) in enumerate(sorted(kinds.items()), start=1):
                make, model = rng.choice(MODELS[kind])
                self.add(
                    "donation_item",
                    dict(
                        id=item_next,
                        donation_id=donation_id,
                        position=position,
                        kind=kind,
                        quantity=min(quantity, 500),
                        make_model=f"{make} {model}",
                        approx_age=rng.choice(["1_2", "3_4", "3_4", "5_plus"]),
                        condition=rng.choice(["good", "good", "worn"]),
                        chargers_included=rng.random() < 0.7,
                        quantity_received=min(quantity, 500) if received else None,
                    ),
                )
                item_next += 1
                if devices_here:
                    for _ in range(quantity):
                        devices.append(_Device(next(device_ids), kind, processed_at, donation_id))
        self.next_ids["donation_item"] = item_next
        while len(devices) < n_devices:  # bought with grants or from a national scheme
            created = self.start + timedelta(days=rng.randint(0, DAYS))
            devices.append(_Device(next(device_ids), _weighted(rng, KINDS), created, None))
        return devices

    def wipe_cycle(self, d: _Device, at: datetime) -> date | None:
        """awaiting wipe at ``at``, wiped and ready a few days later; the ready day, or None
        when that is still to come."""
        if at.date() > self.today:
            return None
        d.move(at, "awaiting_wipe")
        wiped = at + self.days(1, 8)
        if wiped.date() > self.today:
            return None
        d.wipes.append(wiped)
        d.wiped = True
        d.move(wiped + timedelta(minutes=5), "ready")
        return wiped.date() + timedelta(days=1)  # lent from the next day on

    # -- the lending desk ------------------------------------------------------------------

    def lend(self, residents: list[_Resident], devices: list[_Device]) -> dict:
        """Waiting residents are lent the next ready device in the order they joined."""
        rng = self.rng
        ready: list = []
        for d in devices:
            d.move(_at(d.created, rng), "received")
            if rng.random() < 0.04:  # broken on arrival: repaired later, or retired
                d.move(_at(d.created, rng, 14), rng.choice(["in_repair", "retired"]))
                continue
            day = self.wipe_cycle(d, _at(d.created + timedelta(days=1), rng))
            if day is not None:
                heapq.heappush(ready, (day, d.id, d))
        waiting = sorted(
            (r for r in residents if r.needs_device and r.assessed and r.assessed <= self.today),
            key=lambda r: (r.assessed, r.id),
        )
        loans, entries, extensions = [], [], []
        for r in waiting:
            entry = dict(
                resident=r, joined=r.assessed, status="waiting", changed=r.assessed, loan=None
            )
            entries.append(entry)
            if not ready:
                continue
            ready_day, _, d = ready[0]
            lent_on = max(ready_day, r.assessed) + self.days(0, 3)
            if r.close and r.close <= lent_on:
                entry.update(status="removed", changed=r.close)
                continue
            if lent_on > self.today:
                continue
            heapq.heappop(ready)
            lent_at = _at(lent_on, rng)
            d.move(lent_at, "on_loan")
            due = lent_on + timedelta(days=56)
            fate = rng.random()
            end_kind = (
                "lost"
                if fate < 0.03
                else "not_returned"
                if fate < 0.05
                else "gifted"
                if fate < 0.12
                else "returned"
            )
            # Eight weeks at first; many residents need longer (extended, or simply late).
            length = {"returned": (90, 365), "gifted": (120, 365)}.get(end_kind, (30, 200))
            ended_on = lent_on + self.days(*length)
            loan = dict(
                id=None,
                device=d,
                resident=r,
                lent_at=lent_at,
                due=due,
                end_kind=None,
                ended_at=None,
            )
            for _ in range(3):
                if min(ended_on, self.today) <= loan["due"] or rng.random() > 0.6:
                    break
                extensions.append(
                    dict(
                        loan=loan,
                        previous=loan["due"],
                        new=loan["due"] + timedelta(days=28),
                        at=_at(loan["due"] - self.days(0, 5), rng),
                    )
                )
                loan["due"] += timedelta(days=28)
            if ended_on <= self.today:
                ended_at = _at(ended_on, rng)
                loan.update(end_kind=end_kind, ended_at=ended_at)
                if end_kind == "returned":
                    d.move(ended_at, "returned")
                    day = self.wipe_cycle(d, ended_at + timedelta(minutes=2))
                    if day is not None:
                        heapq.heappush(ready, (day, d.id, d))
                else:
                    d.move(ended_at, {"gifted": "gifted"}.get(end_kind, "lost"))
                # A resident's case stays open while they hold a device.
                if r.close and r.close < ended_on:
                    r.close = ended_on + self.days(1, 14)
            else:
                r.holds_device = True
                if r.close and r.close <= self.today:
                    r.close = None
            r.supported = min(r.supported, lent_on) if r.supported else lent_on
            entry.update(status="lent", changed=lent_on, loan=loan)
            loans.append(loan)
        for entry in entries:  # who closed while waiting leaves the list
            r = entry["resident"]
            if entry["status"] == "waiting" and r.close and r.close <= self.today:
                entry.update(status="removed", changed=r.close)
        return dict(
            loans=sorted(loans, key=lambda x: x["lent_at"]), entries=entries, extensions=extensions
        )

    # -- writing -----------------------------------------------------------------------

    def write_residents(self, residents: list[_Resident]) -> None:
        from .demo import FIRST, LAST, POSTCODES

        rng = self.rng
        change_ids = self.ids("resident_status_change", 0)
        change_next = change_ids.start
        for r in residents:
            steps = [("referred", r.referral)]
            if r.early_close == "referred":
                steps.append(("closed", r.close))
            else:
                steps.append(("contacted", r.contacted))
                if r.early_close == "contacted":
                    steps.append(("closed", r.close))
                else:
                    steps += [("assessed", r.assessed), ("supported", r.supported)]
                    if r.close:
                        steps.append(("closed", max(r.close, r.supported)))
            steps = [(s, _at(day, rng)) for s, day in steps if day <= self.today]
            status, changed_at = steps[-1]
            closed = status == "closed"
            postcode = rng.choice(POSTCODES)
            language = rng.choice(LANGUAGES)
            consent = len(steps) > 1 or rng.random() < 0.5
            self.add(
                "resident",
                dict(
                    id=r.id,
                    reference=f"R-{r.number:06d}",
                    first_name=rng.choice(FIRST),
                    last_name=rng.choice(LAST),
                    phone=f"+44 7700 9{rng.randint(0, 99999):05d}",
                    email="",
                    date_of_birth=date(
                        self.today.year - rng.randint(25, 95), rng.randint(1, 12), 1
                    ),
                    postcode=postcode,
                    area=postcode.split(" ")[0],
                    preferred_language=language,
                    interpreter_needed=language != "English" and rng.random() < 0.5,
                    access_sight=rng.random() < 0.2,
                    access_hearing=rng.random() < 0.15,
                    access_dexterity=rng.random() < 0.12,
                    access_memory=rng.random() < 0.08,
                    access_learning=rng.random() < 0.06,
                    access_other=rng.random() < 0.03,
                    access_notes="",
                    needs_device=r.needs_device,
                    needs_data=r.needs_data,
                    needs_skills=r.needs_skills,
                    referral_source=_weighted(rng, SOURCES),
                    referrer_name="",
                    referrer_organisation="",
                    referrer_contact="",
                    referral_date=r.referral,
                    referral_reason="Generated for the benchmark.",
                    consent_given=consent,
                    consent_at=steps[min(1, len(steps) - 1)][1] if consent else None,
                    consent_method=rng.choice(["verbal", "written"]) if consent else None,
                    consent_recorded_by_id=None,
                    status=status,
                    status_changed_at=changed_at,
                    outcome=r.outcome if closed else None,
                    closed_at=changed_at if closed else None,
                    notes="",
                    created_at=steps[0][1],
                    anonymised_at=None,
                ),
            )
            previous = None
            for s, at in steps:
                self.add(
                    "resident_status_change",
                    dict(
                        id=change_next,
                        resident_id=r.id,
                        from_status=previous,
                        to_status=s,
                        outcome=r.outcome if s == "closed" else None,
                        note="",
                        at=at,
                        by_id=None,
                    ),
                )
                change_next += 1
                previous = s
        self.next_ids["resident_status_change"] = change_next

    def write_devices(self, devices: list[_Device]) -> None:
        rng = self.rng
        change_next = self.ids("device_status_change", 0).start
        wipe_next = self.ids("wipe", 0).start
        for d in devices:
            make, model = rng.choice(MODELS[d.kind])
            self.add(
                "device",
                dict(
                    id=d.id,
                    asset_tag=_tag(d.id),
                    kind=d.kind,
                    make=make,
                    model=model,
                    serial=f"BN{d.id:010d}" if rng.random() < 0.7 else None,
                    condition_grade=rng.choice("AABBBC"),
                    accessories="Charger, cable",
                    storage_location="Store room",
                    notes="",
                    donation_id=d.donation_id,
                    status=d.status,
                    status_changed_at=d.events[-1][0],
                    wiped=d.wiped,
                    created_at=d.events[0][0],
                ),
            )
            for at, from_status, to_status in d.events:
                self.add(
                    "device_status_change",
                    dict(
                        id=change_next,
                        device_id=d.id,
                        from_status=from_status,
                        to_status=to_status,
                        note="",
                        at=at,
                        by_id=None,
                    ),
                )
                change_next += 1
            for at in d.wipes:
                self.add(
                    "wipe",
                    dict(
                        id=wipe_next,
                        device_id=d.id,
                        method=rng.choice(["factory_reset_encrypted", "nist_clear"]),
                        wiped_by="Bench volunteer",
                        wiped_at=at,
                        certificate_reference=f"W-{wipe_next}",
                        notes="",
                        recorded_by_id=None,
                        recorded_at=at,
                    ),
                )
                wipe_next += 1
        self.next_ids["device_status_change"] = change_next
        self.next_ids["wipe"] = wipe_next

    def write_lending(self, desk: dict, residents: list[_Resident]) -> None:
        rng = self.rng
        loans = desk["loans"]
        for number, (loan, loan_id) in enumerate(
            zip(loans, self.ids("loan", len(loans)), strict=True), 1
        ):
            loan["id"] = loan_id
            self.add(
                "loan",
                dict(
                    id=loan_id,
                    reference=f"L-{number:05d}",
                    device_id=loan["device"].id,
                    resident_id=loan["resident"].id,
                    lent_at=loan["lent_at"],
                    lent_by_id=None,
                    due_on=loan["due"],
                    agreement_method=rng.choice(["paper", "phone", "screen"]),
                    accessories="Charger, cable",
                    notes="",
                    ended_at=loan["ended_at"],
                    end_kind=loan["end_kind"],
                    received_by="Bench coordinator" if loan["end_kind"] == "returned" else "",
                    return_condition=rng.choice("ABC") if loan["end_kind"] == "returned" else None,
                    accessories_back="Charger, cable" if loan["end_kind"] == "returned" else "",
                    end_note="",
                    ended_by_id=None,
                ),
            )
        extensions = desk["extensions"]
        for ext, ext_id in zip(
            extensions, self.ids("loan_extension", len(extensions)), strict=True
        ):
            self.add(
                "loan_extension",
                dict(
                    id=ext_id,
                    loan_id=ext["loan"]["id"],
                    previous_due_on=ext["previous"],
                    new_due_on=ext["new"],
                    reason="Needs longer to finish the course.",
                    at=ext["at"],
                    by_id=None,
                ),
            )
        entries = desk["entries"]
        for entry, entry_id in zip(
            entries, self.ids("waiting_list_entry", len(entries)), strict=True
        ):
            self.add(
                "waiting_list_entry",
                dict(
                    id=entry_id,
                    resident_id=entry["resident"].id,
                    priority=rng.choice([1, 2, 3, 3, 3]),
                    reason=rng.choice(
                        ["isolated", "health", "no_other_access", "job_seeking", "other"]
                    ),
                    joined_on=entry["joined"],
                    note="",
                    status=entry["status"],
                    status_changed_at=_at(entry["changed"], rng),
                    loan_id=entry["loan"]["id"] if entry["loan"] else None,
                    added_by_id=None,
                ),
            )
        self.write_bundles(loans, residents)

    def write_bundles(self, loans, residents: list[_Resident]) -> None:
        """SIMs with about half the loans of devices that take one, vouchers for residents who
        need data only (topped up until their case closes), and some stock."""
        rng = self.rng
        issued = []  # (resident, loan_id, kind, day)
        for loan in loans:
            if loan["device"].kind in ("tablet", "smartphone", "hotspot") and rng.random() < 0.5:
                kind = "hotspot_topup" if loan["device"].kind == "hotspot" else "sim"
                issued.append((loan["resident"], loan["id"], kind, loan["lent_at"].date()))
        for r in residents:
            if r.needs_data and not r.holds_device and r.assessed and r.assessed < self.today:
                day = r.assessed + self.days(1, 10)
                for _ in range(rng.randint(1, 4)):
                    if day > self.today or (r.close and day >= r.close):
                        break
                    issued.append((r, None, "voucher", day))
                    day += timedelta(days=rng.choice([30, 60, 90]))
        n_stock = self.counts["bundles_in_stock"]
        ids = self.ids("data_bundle", len(issued) + n_stock)
        for n, bundle_id in enumerate(ids):
            validity = rng.choice([30, 60, 90, 180])
            kind = issued[n][2] if n < len(issued) else rng.choice(["sim", "voucher", "esim"])
            row = dict(
                id=bundle_id,
                kind=kind,
                network=rng.choice(NETWORKS),
                allowance_gb=rng.choice([10, 20, 30, 50]),
                validity_days=validity,
                reference=(
                    f"894410{bundle_id:013d}" if kind in ("sim", "esim") else f"BN-V{bundle_id:09d}"
                ),
                source=rng.choice(["national_scheme", "national_scheme", "donation", "purchase"]),
                notes="",
            )
            if n < len(issued):
                resident, loan_id, _, day = issued[n]
                expires = day + timedelta(days=validity)
                status = "issued" if expires >= self.today else "expired"
                row.update(
                    status=status,
                    status_changed_at=_at(day if status == "issued" else expires, rng),
                    resident_id=resident.id,
                    loan_id=loan_id,
                    issued_at=_at(day, rng),
                    issued_by_id=None,
                    expires_on=expires,
                    added_at=_at(day - self.days(5, 60), rng),
                )
            else:
                added = self.today - self.days(0, 120)
                row.update(
                    status="in_stock",
                    status_changed_at=_at(added, rng),
                    resident_id=None,
                    loan_id=None,
                    issued_at=None,
                    issued_by_id=None,
                    expires_on=None,
                    added_at=_at(added, rng),
                )
            self.add("data_bundle", row)

    # -- buddies, sessions and checkpoints -------------------------------------------------

    def plan_matches(self, residents: list[_Resident], buddies: list[dict]) -> list[dict]:
        """Residents who want skills support, in the order they became ready, get a buddy
        with a free place (caseload limit) if one of a handful asked has one; the others do
        without (devices and data only, or group sessions). A match runs until the goals are
        met (three to ten months) or the case closes, whichever is first; a match still open
        today is with an active buddy."""
        rng = self.rng
        active = [b for b in buddies if b["status"] == "active"] or buddies
        helpers = [b for b in buddies if b["status"] != "applicant"] or buddies
        busy = {b["id"]: [] for b in buddies}  # heaps of the days each buddy's matches end
        candidates = []
        for r in residents:
            if not r.needs_skills or not r.assessed or r.assessed > self.today:
                continue
            if r.supported and r.supported <= self.today:
                candidates.append((r.supported, r.id, r))
            elif self.today - r.assessed <= timedelta(days=30) and rng.random() < 0.6:
                candidates.append((min(self.today, r.assessed + self.days(0, 5)), r.id, r))
        matches = []
        for day, _, r in sorted(candidates, key=lambda c: c[:2]):
            proposed_only = not (r.supported and r.supported <= self.today)
            if proposed_only:
                ends = None
            else:
                ends = day + self.days(90, 300)
                if r.close and r.close < ends:
                    ends = r.close
            open_today = ends is None or ends > self.today
            pool = active if open_today else helpers
            for buddy in rng.sample(pool, min(6, len(pool))):
                heap = busy[buddy["id"]]
                while heap and heap[0] <= day:
                    heapq.heappop(heap)
                if len(heap) < buddy["limit"]:
                    heapq.heappush(heap, ends if not open_today else date.max)
                    break
            else:
                continue  # no buddy free: no match
            if proposed_only:
                status, started, proposed, ended = "proposed", None, day, None
                reason = None
            else:
                started = day
                proposed = max(r.assessed, day - self.days(1, 4))
                status = "active" if open_today else "ended"
                ended = None if open_today else ends
                at_close = r.close is not None and ends == r.close
                reason = (
                    None
                    if open_today
                    else (
                        "resident_closed" if at_close and r.outcome != "goals_met" else "goals_met"
                    )
                )
            matches.append(
                dict(
                    resident=r,
                    buddy=buddy,
                    status=status,
                    proposed=proposed,
                    started=started,
                    ended=ended,
                    end_reason=reason,
                )
            )
        return matches

    def write_practice(
        self, residents: list[_Resident], buddies: list[dict], loans, bar_total
    ) -> None:
        rng = self.rng
        # A session during a loan used the lent device (as the practice form pre-selects it).
        lent = {
            loan["resident"].id: (
                loan["lent_at"].date(),
                loan["ended_at"].date() if loan["ended_at"] else self.today,
                loan["device"].id,
            )
            for loan in loans
        }
        task_ids = self.task_ids
        matches = self.plan_matches(residents, buddies)
        self.write_buddies(buddies)
        for m, match_id in zip(matches, self.ids("buddy_match", len(matches)), strict=True):
            ended = m["status"] == "ended"
            self.add(
                "buddy_match",
                dict(
                    id=match_id,
                    resident_id=m["resident"].id,
                    buddy_id=m["buddy"]["id"],
                    status=m["status"],
                    score=round(rng.uniform(40, 95), 1),
                    reasons=["speaks English", "covers the area"],
                    proposed_at=_at(m["proposed"], rng),
                    proposed_by_id=None,
                    confirmed_by_id=None,
                    started_at=_at(m["started"], rng) if m["started"] else None,
                    ended_at=_at(m["ended"], rng, 17) if ended else None,
                    end_reason=(
                        "goals_met" if m["resident"].outcome == "goals_met" else "resident_closed"
                    )
                    if ended
                    else None,
                    end_note="",
                    ended_by_id=None,
                ),
            )

        # Sessions: shared out over the matches in proportion to how long each has run.
        practising = [m for m in matches if m["started"]]
        spans = [max(0, ((m["ended"] or self.today) - m["started"]).days) for m in practising]
        caps = [s // 3 for s in spans]  # at most one session every three days
        total_span = sum(spans) or 1
        target = self.counts["sessions"]
        quotas = [
            min(cap, int(target * s / total_span)) for s, cap in zip(spans, caps, strict=True)
        ]
        short = target - sum(quotas)
        roomy = [i for i, (q, cap) in enumerate(zip(quotas, caps, strict=True)) if q < cap]
        while short > 0 and roomy:
            i = rng.choice(roomy)
            quotas[i] += 1
            short -= 1
            if quotas[i] >= caps[i]:
                roomy.remove(i)
        focus_sizes = [rng.randint(6, 12) for _ in practising]
        baselines = [rng.random() < 0.85 for _ in practising]
        n_sessions = sum(quotas)
        n_baseline = sum(f for f, b in zip(focus_sizes, baselines, strict=True) if b)
        per_session = max(1.0, (self.counts["checkpoints"] - n_baseline) / max(1, n_sessions))
        bar_total(n_sessions + n_baseline + round(per_session * n_sessions))

        session_next = self.ids("practice_session", 0).start
        checkpoint_next = self.ids("skill_checkpoint", 0).start
        for m, span, quota, focus_size, baseline in zip(
            practising, spans, quotas, focus_sizes, baselines, strict=True
        ):
            r = m["resident"]
            focus = rng.sample(task_ids, min(focus_size, len(task_ids)))
            levels = {t: rng.choice([0, 0, 0, 1, 1, 2, 2, 3]) for t in focus}
            speed = rng.choice([0.25, 0.35, 0.45, 0.6, 0.75])
            if baseline:
                at = _at(r.assessed, rng)
                for t in focus:
                    self.add(
                        "skill_checkpoint",
                        dict(
                            id=checkpoint_next,
                            resident_id=r.id,
                            task_id=t,
                            session_id=None,
                            level=levels[t],
                            recorded_on=r.assessed,
                            recorded_at=at,
                            recorded_by_id=None,
                        ),
                    )
                    checkpoint_next += 1
            days = sorted(rng.sample(range(1, span + 1), quota)) if quota else []
            modes = m["buddy"]["modes"]
            loan_from, loan_to, device_id = lent.get(r.id, (None, None, None))
            for offset in days:
                held_on = m["started"] + timedelta(days=offset)
                mode = rng.choice(modes)
                concern = rng.random() < 0.002
                actioned = concern and held_on < self.today - timedelta(days=7)
                self.add(
                    "practice_session",
                    dict(
                        id=session_next,
                        resident_id=r.id,
                        buddy_id=m["buddy"]["id"],
                        held_on=held_on,
                        minutes=rng.choice([30, 45, 60, 60, 75, 90]),
                        mode=mode,
                        place=PLACES[mode],
                        device_id=device_id
                        if loan_from and loan_from <= held_on <= loan_to
                        else None,
                        notes=rng.choice(SESSION_NOTES),
                        next_steps=rng.choice(NEXT_STEPS),
                        safeguarding_concern=concern,
                        safeguarding_description="Worried about a caller asking for bank details."
                        if concern
                        else "",
                        safeguarding_action="Called the resident and the link worker the same day."
                        if actioned
                        else "",
                        safeguarding_actioned_at=_at(held_on + timedelta(days=1), rng)
                        if actioned
                        else None,
                        safeguarding_actioned_by_id=None,
                        idempotency_token=f"bench-{self.org}-{session_next}",
                        recorded_at=_at(held_on, rng, 15),
                        recorded_by_id=None,
                    ),
                )
                k = int(per_session) + (rng.random() < per_session - int(per_session))
                # Tasks not yet mastered first; confident ones are checked again when few are left.
                open_tasks = [t for t in focus if levels[t] < 4]
                practised = rng.sample(open_tasks, min(k, len(open_tasks)))
                if len(practised) < k:
                    done = [t for t in focus if levels[t] == 4]
                    practised += rng.sample(done, min(k - len(practised), len(done)))
                for t in practised:
                    x = rng.random()
                    if x < speed:
                        levels[t] = min(4, levels[t] + 1)
                    elif x > 0.95:
                        levels[t] = max(0, levels[t] - 1)
                    self.add(
                        "skill_checkpoint",
                        dict(
                            id=checkpoint_next,
                            resident_id=r.id,
                            task_id=t,
                            session_id=session_next,
                            level=levels[t],
                            recorded_on=held_on,
                            recorded_at=_at(held_on, rng, 15),
                            recorded_by_id=None,
                        ),
                    )
                    checkpoint_next += 1
                session_next += 1
        self.next_ids["practice_session"] = session_next
        self.next_ids["skill_checkpoint"] = checkpoint_next

    def write_tasks(self) -> None:
        from buddies.practice.models import SEED_TASKS

        ids = self.ids("skill_task", len(SEED_TASKS))
        self.task_ids = list(ids)
        at = _at(self.start, self.rng)
        for position, (task_id, (key, (area, name))) in enumerate(
            zip(ids, SEED_TASKS.items(), strict=True)
        ):
            self.add(
                "skill_task",
                dict(
                    id=task_id,
                    area=area,
                    key=key,
                    name=name,
                    position=position,
                    created_at=at,
                    created_by_id=None,
                    retired_at=None,
                    retired_by_id=None,
                ),
            )


# ---- the organisation ---------------------------------------------------------------


def _existing_org():
    from .accounts.models import Organisation

    return db.session.scalar(select(Organisation).where(Organisation.code == BENCH_CODE))


def _delete_org(org) -> None:
    """Delete every row of the benchmark organisation, children first."""
    from .audit import AuditEvent

    if db.session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.organisation_id == org.id)
    ):
        raise RuleBroken(
            f"The organisation {BENCH_CODE} has audit events (someone worked in it), and the audit log "
            "is append-only: it cannot be replaced. Generate into a fresh database instead."
        )
    try:
        with db.session.begin_nested():
            for table in reversed(db.metadata.sorted_tables):
                if "organisation_id" in table.c and table.name != "audit_event":
                    db.session.execute(delete(table).where(table.c.organisation_id == org.id))
            db.session.execute(delete(org.__table__).where(org.__table__.c.id == org.id))
    except IntegrityError as err:
        raise RuleBroken(
            f"The organisation {BENCH_CODE} could not be deleted (other records refer to it: "
            f"{err.orig}). Generate into a fresh database instead."
        ) from None
    db.session.expunge(org)


def _continue_sequences(table_names) -> None:
    """PostgreSQL: move each table's id sequence past the explicit ids just written."""
    if db.engine.dialect.name != "postgresql":
        return
    for name in sorted(table_names):
        db.session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 1) FROM {name}))"
            )
        )


def _continue_references(org_id: int, written: dict[str, int]) -> None:
    """The next resident, donation and loan references follow the generated ones."""
    from .references import ReferenceCounter

    table = ReferenceCounter.__table__
    for kind, source in (("resident", "resident"), ("donation", "donation"), ("loan", "loan")):
        if written.get(source):
            db.session.execute(
                insert(table).values(organisation_id=org_id, kind=kind, last_value=written[source])
            )


def generate(
    scale: float = 1.0, *, replace: bool = False, seed: int = SEED, progress: bool = False
) -> dict:
    """Generate the benchmark organisation (see the module docstring); returns rows written
    per table. Refuses (``RuleBroken``) when it exists and ``replace`` is not given. Flushes,
    never commits: the CLI command commits once at its end."""
    if not (isinstance(scale, int | float) and 0 < scale <= MAX_SCALE):
        raise RuleBroken(f"The scale must be more than 0 and at most {MAX_SCALE:g}.", "scale")
    from .accounts.models import Organisation

    existing = _existing_org()
    if existing is not None:
        if not replace:
            raise RuleBroken(
                f"The benchmark organisation {BENCH_CODE} already exists: "
                "run with --replace to generate it again."
            )
        _delete_org(existing)
    org = Organisation(
        name=BENCH_NAME,
        code=BENCH_CODE,
        contact_phone="+44 1902 555000",
        contact_email="bench@bench.example.org",
        return_address="Benchmark Hub, 1 Test Street, WV1 1AA",
    )
    db.session.add(org)
    db.session.flush()

    counts = counts_for(scale)
    # A first estimate for the bar; the practice stage corrects it once it knows its totals.
    estimate = {"total": sum(counts.values()) * 2 + counts["checkpoints"] // 2}

    bar_cm = (
        click.progressbar(
            length=estimate["total"], label=f"Generating {BENCH_CODE} at scale {scale:g}"
        )
        if progress
        else contextlib.nullcontext(_NoBar())
    )
    with bar_cm as bar:
        writer = _Writer(bar)
        gen = _Generator(org.id, scale, seed, writer)
        residents = gen.plan_residents()
        buddies = gen.plan_buddies()
        devices = gen.plan_devices()
        desk = gen.lend(residents, devices)
        gen.write_residents(residents)
        gen.write_devices(devices)
        gen.write_lending(desk, residents)
        gen.write_tasks()

        def bar_total(practice_rows: int) -> None:
            if progress:
                done = sum(writer.written.values()) + sum(len(v) for v in writer.buffers.values())
                bar.length = done + practice_rows

        gen.write_practice(residents, buddies, desk["loans"], bar_total)
        writer.flush()
        if progress:
            bar.update(max(0, bar.length - bar.pos))
    _continue_sequences(gen.explicit_ids)
    _continue_references(org.id, writer.written)
    db.session.flush()
    return {"organisation_id": org.id, **dict(sorted(writer.written.items()))}


def analyse(tables) -> None:
    """PostgreSQL: ``VACUUM ANALYZE`` the tables just written, as autovacuum would within a
    minute or so of a bulk load (fresh planner statistics, and the visibility map that lets
    index-only scans skip the table), so what is timed next is the steady state. SQLite is
    left as a deployment runs it: without ``ANALYZE`` statistics. Run after the commit."""
    from sqlalchemy.engine import Engine

    if db.engine.dialect.name != "postgresql" or not isinstance(db.engine, Engine):
        return  # SQLite; or bound to an outer transaction's connection (tests): nothing to do
    names = ", ".join(sorted(t for t in tables if t.isidentifier()))
    if names:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f"VACUUM ANALYZE {names}"))
