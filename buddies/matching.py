"""Matching residents with IT buddies: a transparent score, hard constraints, and
one optimal assignment for everyone waiting.

How a pair is scored (all weights live in ``WEIGHTS``, nowhere else):

- ``language``   the buddy speaks the resident's preferred language (other than English)
- ``area``       the buddy covers the resident's postcode district (e.g. WV3)
- ``slot``       per weekly slot both are free (day × morning/afternoon/evening), up to
                 ``MAX_SLOTS`` slots; only when the resident said when they are free
- ``access``     per access experience the resident's needs call for (BSL or hearing
                 loops for hearing, screen readers or large print for sight,
                 dementia-friendly for memory, learning disability)
- ``skill``      per skill area the resident wants that the buddy teaches, up to ``MAX_SKILLS``
- ``mode``       they share at least one visit mode (home, venue, phone, video)
- ``capacity``   × the share of the buddy's places still free, so load spreads out
- ``base``       every eligible pair gets it, so any eligible pair beats leaving
                 someone unmatched

Hard constraints exclude a buddy outright: not active, DBS check missing or due
for renewal, no free place, and no shared language when no interpreter can join
(a shared language is the resident's preferred language, or English when the
resident manages in English, i.e. does not need an interpreter).

Scoring is vectorised with numpy (residents × buddies matrices), so ranking one
resident and assigning thousands use the very same arithmetic; the words of the
reasons are produced from the same component matrices.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
from scipy.optimize import linear_sum_assignment

from inclusion.validators import normalise_district, postcode_district

from .models import ACCESS_EXPERIENCE, ACCESS_PHRASES, DAYS, PARTS, SKILL_AREAS, SLOTS, VISIT_MODES

WEIGHTS = {
    "base": 1.0,
    "language": 30.0,
    "area": 25.0,
    "slot": 5.0,
    "access": 10.0,
    "skill": 4.0,
    "mode": 5.0,
    "capacity": 10.0,
}
MAX_SLOTS = 3
MAX_SKILLS = 3
ENGLISH = "English"
BSL = "British Sign Language"

# Which buddy experience each resident access need calls for.
ACCESS_NEEDED = {
    "access_hearing": ("bsl", "hearing_loop"),
    "access_sight": ("screen_reader", "large_print"),
    "access_memory": ("dementia",),
    "access_learning": ("learning_disability",),
}
ACCESS_KEYS = list(ACCESS_EXPERIENCE)
SKILL_KEYS = list(SKILL_AREAS)
MODE_KEYS = list(VISIT_MODES)


@dataclass
class ResidentFacts:
    id: int
    language: str = ENGLISH
    interpreter_needed: bool = False
    interpreter_available: bool = False
    district: str = ""
    access: frozenset = frozenset()  # ACCESS_EXPERIENCE keys their needs call for
    slots: frozenset = frozenset()
    modes: frozenset = frozenset()
    skills: frozenset = frozenset()


@dataclass
class BuddyFacts:
    id: int
    name: str = ""
    active: bool = True
    dbs_current: bool = True
    languages: frozenset = frozenset({ENGLISH})
    areas: frozenset = frozenset()
    access: frozenset = frozenset()
    slots: frozenset = frozenset()
    modes: frozenset = frozenset()
    skills: frozenset = frozenset()
    limit: int = 1
    open_matches: int = 0

    @property
    def free(self) -> int:
        return max(self.limit - self.open_matches, 0)

    def speaks(self, language: str) -> bool:
        return language in self.languages or (language == BSL and "bsl" in self.access)


def resident_facts(resident, needs=None) -> ResidentFacts:
    """The facts matching uses about a resident (and their optional MatchingNeeds)."""
    district = normalise_district(postcode_district(resident.postcode or "")) or (
        normalise_district(resident.area or "") or ""
    )
    access = set()
    for flag, keys in ACCESS_NEEDED.items():
        if getattr(resident, flag, False):
            access.update(keys)
    if resident.preferred_language == BSL:
        access.add("bsl")
    return ResidentFacts(
        id=resident.id,
        language=resident.preferred_language or ENGLISH,
        interpreter_needed=bool(resident.interpreter_needed),
        interpreter_available=bool(needs and needs.interpreter_available),
        district=district,
        access=frozenset(access),
        slots=frozenset(needs.availability if needs else ()),
        modes=frozenset(needs.visit_modes if needs else ()),
        skills=frozenset(needs.skills if needs else ()),
    )


def buddy_facts(profile, open_matches: int, on: date) -> BuddyFacts:
    return BuddyFacts(
        id=profile.id,
        name=profile.name,
        active=profile.status == "active",
        dbs_current=profile.dbs_current(on),
        languages=frozenset(profile.languages or ()),
        areas=frozenset(profile.areas or ()),
        access=frozenset(profile.access_experience or ()),
        slots=frozenset(profile.availability or ()),
        modes=frozenset(profile.visit_modes or ()),
        skills=frozenset(profile.skills or ()),
        limit=profile.caseload_limit,
        open_matches=open_matches,
    )


# ---- the vectorised score -------------------------------------------------------------


def _onehot(sets, keys) -> np.ndarray:
    index = {k: i for i, k in enumerate(keys)}
    out = np.zeros((len(sets), len(keys)), dtype=np.float32)
    for row, values in enumerate(sets):
        for v in values:
            col = index.get(v)
            if col is not None:
                out[row, col] = 1.0
    return out


@dataclass
class Scores:
    """Residents × buddies: the total, whether the pair is allowed, and each component."""

    total: np.ndarray
    feasible: np.ndarray
    components: dict[str, np.ndarray]
    shared_language: np.ndarray
    buddy_ok: np.ndarray  # per buddy: active, DBS current, a free place
    fit: np.ndarray  # 0–100: the total as a share of the best this resident could get


def best_possible(r: ResidentFacts) -> float:
    """The highest score any buddy could get with this resident: every component the
    resident's needs call for, in full (the 100 of "how well they fit: 59 of 100")."""
    w = WEIGHTS
    return (
        w["base"]
        + (w["language"] if r.language != ENGLISH else 0.0)
        + (w["area"] if r.district else 0.0)
        + w["slot"] * min(len(r.slots), MAX_SLOTS)
        + w["access"] * len(r.access)
        + w["skill"] * min(len(r.skills), MAX_SKILLS)
        + (w["mode"] if r.modes else 0.0)
        + w["capacity"]
    )


def score(residents: list[ResidentFacts], buddies: list[BuddyFacts]) -> Scores:
    """Score every resident against every buddy (numpy; no Python loop over pairs)."""
    n, m = len(residents), len(buddies)
    languages = sorted(
        {ENGLISH, BSL}
        | {r.language for r in residents}
        | {lang for b in buddies for lang in b.languages}
    )
    lang_index = {lang: i for i, lang in enumerate(languages)}
    b_lang = _onehot(
        [b.languages | ({BSL} if "bsl" in b.access else set()) for b in buddies], languages
    ).astype(bool)
    r_lang = np.array([lang_index[r.language] for r in residents], dtype=np.int64)
    speaks = b_lang[:, r_lang].T if m else np.zeros((n, 0), dtype=bool)  # n × m
    english_ok = np.array([not r.interpreter_needed for r in residents], dtype=bool)
    b_english = b_lang[:, lang_index[ENGLISH]] if m else np.zeros(0, dtype=bool)
    shared_language = speaks | (english_ok[:, None] & b_english[None, :])
    interpreter = np.array([r.interpreter_available for r in residents], dtype=bool)
    non_english = np.array([r.language != ENGLISH for r in residents], dtype=bool)

    districts = sorted(
        {r.district for r in residents if r.district} | {a for b in buddies for a in b.areas}
    )
    b_area = _onehot([b.areas for b in buddies], districts).astype(bool)
    d_index = {d: i for i, d in enumerate(districts)}
    covers = np.zeros((n, m), dtype=bool)
    with_district = np.array([r.district in d_index for r in residents], dtype=bool)
    if m and with_district.any():
        cols = np.array([d_index.get(r.district, 0) for r in residents], dtype=np.int64)
        covers = b_area[:, cols].T & with_district[:, None]

    slots = (
        _onehot([r.slots for r in residents], SLOTS) @ _onehot([b.slots for b in buddies], SLOTS).T
    )
    access = (
        _onehot([r.access for r in residents], ACCESS_KEYS)
        @ _onehot([b.access for b in buddies], ACCESS_KEYS).T
    )
    skills = (
        _onehot([r.skills for r in residents], SKILL_KEYS)
        @ _onehot([b.skills for b in buddies], SKILL_KEYS).T
    )
    modes = (
        _onehot([r.modes for r in residents], MODE_KEYS)
        @ _onehot([b.modes for b in buddies], MODE_KEYS).T
    )

    limit = np.array([max(b.limit, 1) for b in buddies], dtype=np.float32)
    free = np.array([b.free for b in buddies], dtype=np.float32)
    buddy_ok = np.array([b.active and b.dbs_current and b.free > 0 for b in buddies], dtype=bool)

    w = WEIGHTS
    components = {
        "base": np.full((n, m), w["base"], dtype=np.float32),
        "language": w["language"] * (speaks & non_english[:, None]),
        "area": w["area"] * covers,
        "slot": w["slot"] * np.minimum(slots, MAX_SLOTS),
        "access": w["access"] * access,
        "skill": w["skill"] * np.minimum(skills, MAX_SKILLS),
        "mode": w["mode"] * (modes > 0),
        "capacity": np.broadcast_to(w["capacity"] * free / limit, (n, m)),
    }
    total = np.zeros((n, m), dtype=np.float64)
    for part in components.values():
        total += part
    total = np.round(total, 2)
    feasible = buddy_ok[None, :] & (shared_language | interpreter[:, None])
    best = np.array([best_possible(r) for r in residents], dtype=np.float64).reshape(n, 1)
    fit = np.clip(np.rint(100.0 * total / best), 0, 100).astype(np.int64) if n else total
    return Scores(
        total=total,
        feasible=feasible,
        components=components,
        shared_language=shared_language,
        buddy_ok=buddy_ok,
        fit=fit,
    )


# ---- words ------------------------------------------------------------------------------


def _slot_words(slots) -> str:
    """'free Tuesday mornings and Thursday afternoons'."""
    ordered = [s for s in SLOTS if s in slots][:MAX_SLOTS]
    words = []
    for s in ordered:
        day, part = s.split("_")
        words.append(f"{DAYS[day]} {PARTS[part]}s")
    if len(words) > 1:
        return "free " + ", ".join(words[:-1]) + " and " + words[-1]
    return "free " + words[0]


def reasons_for(r: ResidentFacts, b: BuddyFacts, scores: Scores, i: int, j: int) -> list[str]:
    """The pair's score in words, one phrase per component that counted."""
    c = {k: float(v[i, j]) for k, v in scores.components.items()}
    out = []
    if c["language"]:
        out.append(f"speaks {r.language}")
    if c["area"]:
        out.append(f"covers {r.district}")
    if c["slot"]:
        out.append(_slot_words(r.slots & b.slots))
    if c["access"]:
        out.extend(ACCESS_PHRASES[k] for k in ACCESS_KEYS if k in r.access and k in b.access)
    if c["skill"]:
        shared = [
            SKILL_AREAS[k].split(" (")[0].lower()
            for k in SKILL_KEYS
            if k in r.skills and k in b.skills
        ]
        out.append("teaches " + ", ".join(shared))
    if c["mode"]:
        shared = [VISIT_MODES[k].lower() for k in MODE_KEYS if k in r.modes and k in b.modes]
        out.append("can meet by " + " or ".join(shared))
    if not scores.shared_language[i, j] and r.interpreter_available:
        out.append("with an interpreter")
    out.append(f"{b.free} of {b.limit} place{'s' if b.limit != 1 else ''} left")
    return out


def exclusions_for(r: ResidentFacts, b: BuddyFacts, scores: Scores, i: int, j: int) -> list[str]:
    """The hard constraints that rule the pair out, in words (empty when allowed)."""
    out = []
    if not b.active:
        out.append("not active")
    if not b.dbs_current:
        out.append("DBS check expired or missing")
    if b.free <= 0:
        out.append(f"no capacity ({b.open_matches} of {b.limit} places taken)")
    if not scores.shared_language[i, j] and not r.interpreter_available:
        out.append(f"no shared language ({r.language}) and no interpreter")
    return out


@dataclass
class Ranked:
    buddy: BuddyFacts
    score: float
    reasons: list[str] = field(default_factory=list)
    fit: int = 0  # 0–100


@dataclass
class Excluded:
    buddy: BuddyFacts
    because: list[str] = field(default_factory=list)


def rank(r: ResidentFacts, buddies: list[BuddyFacts]) -> tuple[list[Ranked], list[Excluded]]:
    """Eligible buddies best first (ties by name), and the others with why not."""
    scores = score([r], buddies)
    ranked, excluded = [], []
    for j, b in enumerate(buddies):
        if scores.feasible[0, j]:
            ranked.append(
                Ranked(
                    b,
                    float(scores.total[0, j]),
                    reasons_for(r, b, scores, 0, j),
                    int(scores.fit[0, j]),
                )
            )
        else:
            excluded.append(Excluded(b, exclusions_for(r, b, scores, 0, j)))
    ranked.sort(key=lambda x: (-x.score, x.buddy.name, x.buddy.id))
    excluded.sort(key=lambda x: (x.buddy.name, x.buddy.id))
    return ranked, excluded


def assign(
    residents: list[ResidentFacts], buddies: list[BuddyFacts], scores: Scores | None = None
) -> list[tuple[int, int, float]]:
    """One assignment maximising the total score, each buddy taking at most their free
    places: ``[(resident index, buddy index, score), …]``.

    Each buddy's column is repeated once per free place and
    ``scipy.optimize.linear_sum_assignment`` solves the rectangular problem.
    Forbidden pairs score 0 and every allowed pair scores at least ``WEIGHTS["base"]``
    (> 0), so a forbidden cell never displaces an allowed one and is dropped after.
    """
    if scores is None:
        scores = score(residents, buddies)
    free = np.array(
        [b.free if ok else 0 for b, ok in zip(buddies, scores.buddy_ok, strict=True)],
        dtype=np.int64,
    )
    rows = np.flatnonzero(scores.feasible.any(axis=1)) if len(buddies) else np.array([], int)
    columns = np.repeat(np.arange(len(buddies)), free)
    if not len(rows) or not len(columns):
        return []
    matrix = np.where(
        scores.feasible[np.ix_(rows, columns)], scores.total[np.ix_(rows, columns)], 0.0
    )
    ri, ci = linear_sum_assignment(matrix, maximize=True)
    out = []
    for a, c in zip(ri, ci, strict=True):
        i, j = int(rows[a]), int(columns[c])
        if scores.feasible[i, j]:
            out.append((i, j, float(scores.total[i, j])))
    return out


# ---- who an assignment leaves without a buddy, and why ------------------------------------

#: Why a resident is left without a buddy, in the order a page gives them.
LEFT_OUT_REASONS = ("no_buddies", "language", "full", "area", "time")


@dataclass(frozen=True)
class LeftOut:
    """One reason an assignment leaves a resident without a buddy.

    ``code`` is one of ``LEFT_OUT_REASONS``: ``no_buddies`` (no buddy is active with a
    current DBS check), ``language`` (none of those speaks their language, or English
    when they manage in it, and no interpreter can join: ``detail`` is the language),
    ``full`` (every buddy who could take them has no place left for them: ``count`` of
    them, ``taken`` when some of those places go to other residents in this assignment),
    ``area`` (none of those buddies covers their district: ``detail``), ``time`` (none of
    those buddies is free when they said they are)."""

    code: str
    detail: str = ""
    count: int = 0
    taken: bool = False


def left_without_buddy(
    residents: list[ResidentFacts],
    buddies: list[BuddyFacts],
    scores: Scores,
    assignment: list[tuple[int, int, float]],
) -> dict[int, list[LeftOut]]:
    """resident index -> why the ``assignment`` leaves them without a buddy, for every
    resident it does not pair.

    Language is the hard constraint; capacity is what an optimal assignment runs out
    of (a buddy who could take them and still had a place after it would have been
    given them, since any allowed pair scores above nothing). Area and free time only
    weigh in the score, so they say why the places went to others."""
    assigned = {i for i, _, _ in assignment}
    usable = np.array([b.active and b.dbs_current for b in buddies], dtype=bool)
    out: dict[int, list[LeftOut]] = {}
    for i, r in enumerate(residents):
        if i in assigned:
            continue
        if not usable.any():
            out[i] = [LeftOut("no_buddies")]
            continue
        can = usable & (scores.shared_language[i] | r.interpreter_available)
        candidates = [buddies[j] for j in np.flatnonzero(can)]
        if not candidates:
            out[i] = [LeftOut("language", detail=r.language)]
            continue
        reasons = [
            LeftOut("full", count=len(candidates), taken=any(b.free > 0 for b in candidates))
        ]
        if r.district and not any(r.district in b.areas for b in candidates):
            reasons.append(LeftOut("area", detail=r.district))
        if r.slots and not any(r.slots & b.slots for b in candidates):
            reasons.append(LeftOut("time"))
        out[i] = reasons
    return out
