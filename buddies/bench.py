"""The IT buddies of the benchmark organisation (registered in ``buddies.init_app``): their
profiles, planned at step 20 and written with their trainings at step 85, and their
matches: residents who want skills support, in the order they became ready, get a buddy
with a free place. The practice sessions within each match are ``buddies/practice/bench.py``."""

from __future__ import annotations

import heapq
from datetime import date, timedelta

from inclusion.bench import DAYS, LANGUAGES, Bench, at_time, weighted

ROWS_AT_SCALE_1 = {"buddies": 500}
DISTRICTS = [f"WV{n}" for n in range(1, 15)]
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
BUDDY_STATUSES = (("active", 75), ("paused", 8), ("left", 10), ("applicant", 7))


def plan_buddies(bench: Bench) -> None:
    """``bench.plans["buddies"]``: each buddy's status, when they applied, caseload limit
    and visit modes."""
    rng, buddies = bench.rng, []
    for n, bid in enumerate(bench.new_ids("buddy_profile", bench.counts["buddies"]), start=1):
        status = weighted(rng, BUDDY_STATUSES)
        applied = (
            bench.start - timedelta(days=60) + timedelta(days=int((DAYS + 40) * rng.random() ** 2))
        )
        applied = min(applied, bench.today - timedelta(days=1))
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
    bench.plans["buddies"] = buddies


def write_buddies(bench: Bench) -> None:
    """Buddy profiles, and the two trainings of each buddy past the application."""
    rng, today, buddies = bench.rng, bench.today, bench.plans["buddies"]
    training_ids = iter(bench.new_ids("buddy_training", 2 * len(buddies)))
    for b in buddies:
        applied, status = b["applied"], b["status"]
        checked = status != "applicant"
        issued = min(applied + bench.random_days(10, 40), today) if checked else None
        bench.add(
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
                status_changed_at=at_time(issued or applied, rng),
                applied_at=at_time(applied, rng),
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
                bench.add(
                    "buddy_training",
                    dict(
                        id=next(training_ids),
                        buddy_id=b["id"],
                        kind=kind,
                        completed_on=min(applied + bench.random_days(5, 50), today),
                        provider="Bench training partner",
                        recorded_at=at_time(issued, rng),
                        recorded_by_id=None,
                    ),
                )


def plan_matches(bench: Bench) -> list[dict]:
    """Residents who want skills support, in the order they became ready, get a buddy with a
    free place (caseload limit) if one of a handful asked has one; the others do without
    (devices and data only, or group sessions). A match runs until the goals are met (three
    to ten months) or the case closes, whichever is first; a match still open today is with
    an active buddy."""
    rng, today, buddies = bench.rng, bench.today, bench.plans["buddies"]
    active = [b for b in buddies if b["status"] == "active"] or buddies
    helpers = [b for b in buddies if b["status"] != "applicant"] or buddies
    busy = {b["id"]: [] for b in buddies}  # heaps of the days each buddy's matches end
    candidates = []
    for r in bench.plans["residents"]:
        if not r.needs_skills or not r.assessed or r.assessed > today:
            continue
        if r.supported and r.supported <= today:
            candidates.append((r.supported, r.id, r))
        elif today - r.assessed <= timedelta(days=30) and rng.random() < 0.6:
            candidates.append((min(today, r.assessed + bench.random_days(0, 5)), r.id, r))
    matches = []
    for day, _, r in sorted(candidates, key=lambda c: c[:2]):
        proposed_only = not (r.supported and r.supported <= today)
        if proposed_only:
            ends = None
        else:
            ends = day + bench.random_days(90, 300)
            if r.close and r.close < ends:
                ends = r.close
        open_today = ends is None or ends > today
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
        else:
            started = day
            proposed = max(r.assessed, day - bench.random_days(1, 4))
            status = "active" if open_today else "ended"
            ended = None if open_today else ends
        matches.append(
            dict(
                resident=r,
                buddy=buddy,
                status=status,
                proposed=proposed,
                started=started,
                ended=ended,
            )
        )
    return matches


def write_buddies_and_matches(bench: Bench) -> None:
    """``bench.plans["matches"]``, then the buddies and the matches written."""
    rng = bench.rng
    matches = bench.plans["matches"] = plan_matches(bench)
    write_buddies(bench)
    for m, match_id in zip(matches, bench.new_ids("buddy_match", len(matches)), strict=True):
        ended = m["status"] == "ended"
        bench.add(
            "buddy_match",
            dict(
                id=match_id,
                resident_id=m["resident"].id,
                buddy_id=m["buddy"]["id"],
                status=m["status"],
                score=round(rng.uniform(40, 95), 1),
                reasons=["speaks English", "covers the area"],
                proposed_at=at_time(m["proposed"], rng),
                proposed_by_id=None,
                confirmed_by_id=None,
                started_at=at_time(m["started"], rng) if m["started"] else None,
                ended_at=at_time(m["ended"], rng, 17) if ended else None,
                end_reason=(
                    "goals_met" if m["resident"].outcome == "goals_met" else "resident_closed"
                )
                if ended
                else None,
                end_note="",
                ended_by_id=None,
            ),
        )


def register(reg) -> None:
    reg.add_bench_loader("buddies: plan", plan_buddies, order=20, rows_at_scale_1=ROWS_AT_SCALE_1)
    reg.add_bench_loader("buddies: buddies and matches", write_buddies_and_matches, order=85)
