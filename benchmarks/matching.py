"""Benchmark: one optimal assignment for 2,000 waiting residents and 500 buddies.

Scoring (numpy) plus the assignment (scipy's linear_sum_assignment on a
2,000 × (sum of free places) matrix) must take under 2 s. Prints the figure and
exits non-zero on a miss. Run: ``python benchmarks/matching.py``.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from buddies.matching import (  # noqa: E402
    ACCESS_KEYS,
    MODE_KEYS,
    SKILL_KEYS,
    BuddyFacts,
    ResidentFacts,
    assign,
    score,
)
from buddies.models import SLOTS  # noqa: E402

TARGET_SECONDS = 2.0
LANGUAGES = ["English"] * 8 + [
    "Punjabi",
    "Urdu",
    "Polish",
    "Somali",
    "Bengali",
    "Arabic",
    "British Sign Language",
]
DISTRICTS = [f"WV{n}" for n in range(1, 15)]


def population(n_residents=2000, n_buddies=500, seed=7):
    rng = random.Random(seed)

    def some(keys, k):
        return frozenset(rng.sample(keys, rng.randint(0, k)))

    residents = [
        ResidentFacts(
            id=i,
            language=(lang := rng.choice(LANGUAGES)),
            interpreter_needed=lang != "English" and rng.random() < 0.5,
            interpreter_available=rng.random() < 0.2,
            district=rng.choice(DISTRICTS),
            access=some(ACCESS_KEYS, 2),
            slots=some(SLOTS, 5),
            modes=some(MODE_KEYS, 2),
            skills=some(SKILL_KEYS, 3),
        )
        for i in range(n_residents)
    ]
    buddies = [
        BuddyFacts(
            id=j,
            name=f"Buddy {j}",
            active=rng.random() < 0.9,
            dbs_current=rng.random() < 0.95,
            languages=frozenset({"English", *rng.sample(LANGUAGES, rng.randint(0, 2))}),
            areas=frozenset(rng.sample(DISTRICTS, rng.randint(1, 4))),
            access=some(ACCESS_KEYS, 3),
            slots=some(SLOTS, 8),
            modes=some(MODE_KEYS, 4),
            skills=some(SKILL_KEYS, 6),
            limit=(limit := rng.randint(1, 5)),
            open_matches=rng.randint(0, limit - 1),
        )
        for j in range(n_buddies)
    ]
    return residents, buddies


def run(residents, buddies) -> tuple[float, int, int, float]:
    """Score everyone and assign: (seconds, free places, pairs, total score)."""
    places = sum(b.free for b in buddies if b.active and b.dbs_current)
    start = time.perf_counter()
    scores = score(residents, buddies)
    pairs = assign(residents, buddies, scores)
    elapsed = time.perf_counter() - start
    return elapsed, places, len(pairs), sum(s for _, _, s in pairs)


def main() -> int:
    """Two populations: a typical one (some places taken, fewer places than people) and
    a demanding one (every buddy free, more places than people: the widest matrix).
    Each is timed three times and the best run counts, as timeit does, so a
    neighbour's burst of CPU on this shared machine does not decide the result."""
    typical = population()
    demanding = population(seed=11)
    rng = random.Random(1)
    for b in demanding[1]:
        b.active, b.dbs_current, b.limit, b.open_matches = True, True, rng.randint(2, 8), 0
    missed = False
    for label, (residents, buddies) in (("typical", typical), ("all buddies free", demanding)):
        runs = [run(residents, buddies) for _ in range(3)]
        best = min(r[0] for r in runs)
        _, places, pairs, total = runs[0]
        print(
            f"matching ({label}): {len(residents)} residents × {len(buddies)} buddies, "
            f"{places} free places → {pairs} assigned, total score {total:.1f}; "
            f"best of 3: {best:.3f} s (target < {TARGET_SECONDS:.1f} s)"
        )
        missed |= best >= TARGET_SECONDS
    if missed:
        print("MISSED the target", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
