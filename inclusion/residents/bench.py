"""The core's part of the benchmark organisation: each resident's timeline (referred →
contacted → assessed → supported → closed, or an early close), planned first (step 10) so
the packages' steps can fit loans and matches to it, and written last of the plans (step
50), once the lending desk has moved a case's support or close to the device it holds."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

from inclusion.bench import DAYS, LANGUAGES, Bench, at_time, weighted

from .sample_names import FIRST, LAST, POSTCODES

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


@dataclass(slots=True)
class ResidentPlan:
    """One resident's timeline; a later step may bring ``supported`` forward (a loan) or
    move ``close`` (a case stays open while the resident holds a device)."""

    id: int
    number: int
    referral: date
    contacted: date | None = None
    assessed: date | None = None
    supported: date | None = None
    close: date | None = None
    outcome: str | None = None
    early_close: str | None = None  # the stage an early close happens at
    needs_device: bool = False
    needs_data: bool = False
    needs_skills: bool = False


def plan_residents(bench: Bench) -> None:
    """``bench.plans["residents"]``: every resident's timeline."""
    rng, plans = bench.rng, []
    for number, rid in enumerate(bench.new_ids("resident", bench.counts["residents"]), start=1):
        # sqrt: referrals grow over the three years, as a programme becomes known.
        referral = bench.start + timedelta(days=int(DAYS * math.sqrt(rng.random())))
        r = ResidentPlan(id=rid, number=number, referral=referral)
        r.needs_device = rng.random() < 0.75
        r.needs_data = rng.random() < 0.45
        r.needs_skills = rng.random() < 0.85 or not (r.needs_device or r.needs_data)
        r.contacted = referral + bench.random_days(1, 10)
        drop = rng.random()
        if drop < 0.04:
            r.early_close, r.close, r.outcome = (
                "referred",
                referral + bench.random_days(21, 45),
                "no_contact",
            )
        elif drop < 0.08:
            r.early_close, r.close, r.outcome = (
                "contacted",
                r.contacted + bench.random_days(7, 30),
                "declined",
            )
        else:
            r.assessed = r.contacted + bench.random_days(3, 21)
            r.supported = r.assessed + bench.random_days(2, 30)
            if rng.random() < 0.92:
                r.close = r.supported + bench.random_days(60, 420)
                r.outcome = weighted(rng, OUTCOMES)
        plans.append(r)
    bench.plans["residents"] = plans


def _steps_of(bench: Bench, r: ResidentPlan) -> list[tuple[str, date]]:
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
    return [(s, at_time(day, bench.rng)) for s, day in steps if day <= bench.today]


def write_residents(bench: Bench) -> None:
    """The residents and their status histories, as their timelines ended up."""
    rng = bench.rng
    change_next = bench.new_ids("resident_status_change", 0).start
    for r in bench.plans["residents"]:
        steps = _steps_of(bench, r)
        status, changed_at = steps[-1]
        closed = status == "closed"
        postcode = rng.choice(POSTCODES)
        language = rng.choice(LANGUAGES)
        consent = len(steps) > 1 or rng.random() < 0.5
        bench.add(
            "resident",
            dict(
                id=r.id,
                reference=f"R-{r.number:06d}",
                first_name=rng.choice(FIRST),
                last_name=rng.choice(LAST),
                phone=f"+44 7700 9{rng.randint(0, 99999):05d}",
                email="",
                date_of_birth=date(bench.today.year - rng.randint(25, 95), rng.randint(1, 12), 1),
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
                referral_source=weighted(rng, SOURCES),
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
            bench.add(
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
    bench.next_ids["resident_status_change"] = change_next
