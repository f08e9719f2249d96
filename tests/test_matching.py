"""Matching: the score in words, the hard constraints, and the optimal assignment
checked against brute force."""

from __future__ import annotations

import itertools
import random

import pytest

from buddies import service
from buddies.matching import (
    ACCESS_KEYS,
    MODE_KEYS,
    SKILL_KEYS,
    WEIGHTS,
    BuddyFacts,
    ResidentFacts,
    assign,
    rank,
    score,
)
from buddies.models import SLOTS, Match
from inclusion.extensions import db
from tests.conftest import row_counts
from tests.factories import BuddyProfileFactory, MatchFactory, ResidentFactory


def test_ranking_gives_reasons_in_words():
    resident = ResidentFacts(
        id=1,
        language="Punjabi",
        interpreter_needed=True,
        district="WV3",
        access=frozenset({"bsl", "hearing_loop"}),
        slots=frozenset({"tue_morning"}),
    )
    best = BuddyFacts(
        id=1,
        name="Harpreet",
        languages=frozenset({"English", "Punjabi"}),
        areas=frozenset({"WV3"}),
        access=frozenset({"bsl"}),
        slots=frozenset({"tue_morning", "fri_evening"}),
        limit=4,
        open_matches=2,
    )
    plain = BuddyFacts(id=2, name="Alan", languages=frozenset({"English", "Punjabi"}), limit=1)
    ranked, excluded = rank(resident, [plain, best])
    assert [r.buddy.name for r in ranked] == ["Harpreet", "Alan"]
    assert ranked[0].reasons == [
        "speaks Punjabi",
        "covers WV3",
        "free Tuesday mornings",
        "has BSL",
        "2 of 4 places left",
    ]
    w = WEIGHTS
    assert ranked[0].score == pytest.approx(
        w["base"] + w["language"] + w["area"] + w["slot"] + w["access"] + w["capacity"] * 2 / 4
    )
    assert excluded == []


def test_hard_constraints_exclude_with_the_reason():
    resident = ResidentFacts(id=1, language="Urdu", interpreter_needed=True, district="WV1")
    buddies = [
        BuddyFacts(id=1, name="A Paused", active=False, languages=frozenset({"Urdu"}), limit=2),
        BuddyFacts(
            id=2, name="B Expired", dbs_current=False, languages=frozenset({"Urdu"}), limit=2
        ),
        BuddyFacts(id=3, name="C Full", languages=frozenset({"Urdu"}), limit=2, open_matches=2),
        BuddyFacts(id=4, name="D English", languages=frozenset({"English"}), limit=2),
        BuddyFacts(id=5, name="E Fine", languages=frozenset({"Urdu"}), limit=2),
    ]
    ranked, excluded = rank(resident, buddies)
    assert [r.buddy.name for r in ranked] == ["E Fine"]
    assert {e.buddy.name: e.because for e in excluded} == {
        "A Paused": ["not active"],
        "B Expired": ["DBS check expired or missing"],
        "C Full": ["no capacity (2 of 2 places taken)"],
        "D English": ["no shared language (Urdu) and no interpreter"],
    }
    # with an interpreter, language no longer excludes
    resident.interpreter_available = True
    ranked, _ = rank(resident, buddies)
    assert [r.buddy.name for r in ranked] == ["E Fine", "D English"]
    assert "with an interpreter" in ranked[1].reasons


def test_english_speakers_share_english_with_everyone():
    resident = ResidentFacts(id=1, language="Polish", interpreter_needed=False)
    ranked, excluded = rank(resident, [BuddyFacts(id=1, name="Anne", limit=1)])
    assert [r.buddy.name for r in ranked] == ["Anne"] and excluded == []


def _random_case(rng, n, m):
    def some(keys, k):
        return frozenset(rng.sample(keys, rng.randint(0, k)))

    residents = [
        ResidentFacts(
            id=i,
            language=rng.choice(["English", "Punjabi", "Polish"]),
            interpreter_needed=rng.random() < 0.5,
            district=rng.choice(["WV1", "WV2"]),
            access=some(ACCESS_KEYS, 2),
            slots=some(SLOTS[:6], 3),
            modes=some(MODE_KEYS, 2),
            skills=some(SKILL_KEYS, 2),
        )
        for i in range(n)
    ]
    buddies = [
        BuddyFacts(
            id=j,
            name=f"B{j}",
            active=rng.random() < 0.9,
            languages=frozenset(rng.sample(["English", "Punjabi", "Polish"], rng.randint(1, 2))),
            areas=some(["WV1", "WV2"], 2),
            access=some(ACCESS_KEYS, 3),
            slots=some(SLOTS[:6], 4),
            modes=some(MODE_KEYS, 3),
            skills=some(SKILL_KEYS, 3),
            limit=(limit := rng.randint(1, 3)),
            open_matches=rng.randint(0, limit),
        )
        for j in range(m)
    ]
    return residents, buddies


def _brute_force(residents, buddies):
    scores = score(residents, buddies)
    best = 0.0
    options = [None, *range(len(buddies))]
    for choice in itertools.product(options, repeat=len(residents)):
        used = {}
        total = 0.0
        for i, j in enumerate(choice):
            if j is None:
                continue
            if not scores.feasible[i, j]:
                break
            used[j] = used.get(j, 0) + 1
            if used[j] > buddies[j].free:
                break
            total += scores.total[i, j]
        else:
            best = max(best, total)
    return best


@pytest.mark.parametrize("seed", range(12))
def test_assignment_is_optimal_against_brute_force(seed):
    rng = random.Random(seed)
    residents, buddies = _random_case(rng, n=rng.randint(2, 6), m=rng.randint(1, 3))
    pairs = assign(residents, buddies)
    used = {}
    scores = score(residents, buddies)
    for i, j, _ in pairs:
        assert scores.feasible[i, j]
        used[j] = used.get(j, 0) + 1
    assert all(used[j] <= buddies[j].free for j in used)
    assert len({i for i, _, _ in pairs}) == len(pairs)
    assert sum(s for _, _, s in pairs) == pytest.approx(_brute_force(residents, buddies))


# ---- with the database ---------------------------------------------------------------------


def test_rank_page_shows_reasons_and_exclusions(coordinator, org):
    resident = ResidentFactory(
        organisation=org,
        preferred_language="Punjabi",
        interpreter_needed=True,
        postcode="WV3 0AA",
        access_hearing=True,
    )
    BuddyProfileFactory(
        organisation=org,
        name="Harpreet Gill",
        languages=["English", "Punjabi"],
        areas=["WV3"],
        access_experience=["bsl"],
        caseload_limit=4,
    )
    BuddyProfileFactory(
        organisation=org, name="Paula Paused", status="paused", languages=["Punjabi"]
    )
    BuddyProfileFactory(organisation=org, name="Ernie English", languages=["English"])
    page = coordinator.get(f"/matching/residents/{resident.reference}").get_data(as_text=True)
    assert "Harpreet Gill" in page and "speaks Punjabi" in page and "covers WV3" in page
    assert "has BSL" in page and "4 of 4 places left" in page
    assert "Paula Paused: not active" in page
    assert "Ernie English: no shared language (Punjabi) and no interpreter" in page


def test_propose_confirm_and_end_keep_score_reasons_and_who(coordinator, coordinator_user, org):
    resident = ResidentFactory(organisation=org, postcode="WV3 0AA")
    buddy = BuddyProfileFactory(organisation=org, areas=["WV3"], caseload_limit=2)
    response = coordinator.post(
        f"/matching/residents/{resident.reference}/propose", data={"buddy_id": buddy.id}
    )
    assert response.status_code == 302
    match = db.session.scalars(db.select(Match)).one()
    assert match.status == "proposed" and "covers WV3" in match.reasons and match.score > 0
    assert not service.is_waiting(resident)

    assert coordinator.post(f"/matches/{match.id}/confirm").status_code == 302
    match = db.session.get(Match, match.id)
    assert match.status == "active" and match.confirmed_by_id == coordinator_user.id
    assert match.started_at is not None

    assert (
        coordinator.post(
            f"/matches/{match.id}/end", data={"reason": "goals_met", "note": "Uses NHS App"}
        ).status_code
        == 302
    )
    match = db.session.get(Match, match.id)
    assert (match.status, match.end_reason, match.end_note) == (
        "ended",
        "goals_met",
        "Uses NHS App",
    )
    assert service.is_waiting(match.resident)


def test_propose_refuses_an_excluded_buddy(coordinator, org):
    resident = ResidentFactory(organisation=org, preferred_language="Urdu", interpreter_needed=True)
    buddy = BuddyProfileFactory(organisation=org, languages=["English"])
    before = row_counts(Match)
    response = coordinator.post(
        f"/matching/residents/{resident.reference}/propose", data={"buddy_id": buddy.id}
    )
    assert response.status_code == 422
    assert "no shared language (Urdu) and no interpreter" in response.get_data(as_text=True)
    assert row_counts(Match) == before


def test_assignment_is_proposed_and_accepted_in_part(coordinator, org):
    buddy = BuddyProfileFactory(organisation=org, areas=["WV3"], caseload_limit=2)
    first = ResidentFactory(organisation=org)
    second = ResidentFactory(organisation=org)
    third = ResidentFactory(organisation=org)
    page = coordinator.get("/matching/assignment").get_data(as_text=True)
    assert page.count('name="pair"') == 2  # two places for three residents
    proposal, waiting = service.assign_all_waiting()
    assert waiting == 3 and len(proposal) == 2
    accepted = f"{proposal[0][0].id}-{buddy.id}"
    response = coordinator.post("/matching/assignment", data={"pair": [accepted]})
    assert response.status_code == 302
    assert db.session.scalars(db.select(Match.resident_id)).all() == [proposal[0][0].id]
    assert {first.id, second.id, third.id} - {proposal[0][0].id}


def test_assignment_with_nothing_ticked_changes_nothing(coordinator, org):
    BuddyProfileFactory(organisation=org)
    ResidentFactory(organisation=org)
    before = row_counts(Match)
    response = coordinator.post("/matching/assignment", data={})
    assert response.status_code == 422
    assert "Tick at least one pair to accept." in response.get_data(as_text=True)
    assert row_counts(Match) == before


def test_end_needs_a_reason(coordinator, org):
    match = MatchFactory(organisation=org)
    response = coordinator.post(f"/matches/{match.id}/end", data={"reason": ""})
    assert response.status_code == 422
    assert "Choose why the match ends." in response.get_data(as_text=True)
    assert db.session.get(Match, match.id).status == "active"


def test_matching_needs_feed_the_score(coordinator, org):
    resident = ResidentFactory(organisation=org)
    BuddyProfileFactory(organisation=org, name="Tess Tuesday", availability=["tue_morning"])
    response = coordinator.post(
        f"/matching/residents/{resident.reference}/needs",
        data={"availability": ["tue_morning", "wed_evening"], "visit_modes": ["video"]},
    )
    assert response.status_code == 302
    page = coordinator.get(f"/matching/residents/{resident.reference}").get_data(as_text=True)
    assert "free Tuesday mornings" in page


def test_matching_needs_refuses_unknown_slots(coordinator, org):
    from buddies.models import MatchingNeeds

    resident = ResidentFactory(organisation=org)
    before = row_counts(MatchingNeeds)
    response = coordinator.post(
        f"/matching/residents/{resident.reference}/needs", data={"availability": ["someday"]}
    )
    assert response.status_code == 422
    assert "is not a valid choice" in response.get_data(as_text=True)
    assert row_counts(MatchingNeeds) == before


def test_resident_page_shows_the_match(coordinator, org):
    match = MatchFactory(organisation=org, reasons=["speaks Polish", "covers WV3"])
    page = coordinator.get(f"/residents/{match.resident.reference}").get_data(as_text=True)
    assert match.buddy.name in page and "speaks Polish, covers WV3" in page


def test_matching_page_takes_constant_queries(coordinator, org, count_queries):
    for _ in range(2):
        MatchFactory(organisation=org, status="proposed", started_at=None)
        ResidentFactory(organisation=org)
    with count_queries() as few:
        coordinator.get("/matching")
    for _ in range(5):
        MatchFactory(organisation=org, status="proposed", started_at=None)
        ResidentFactory(organisation=org)
    with count_queries() as more:
        assert coordinator.get("/matching").status_code == 200
    assert more.count == few.count


def test_the_benchmark_script_runs_on_a_small_population():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "benchmarks" / "matching.py"
    spec = importlib.util.spec_from_file_location("matching_benchmark", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    residents, buddies = bench.population(n_residents=60, n_buddies=15)
    seconds, places, pairs, total = bench.run(residents, buddies)
    assert 0 < pairs <= min(60, places) and total > 0 and seconds < 2
