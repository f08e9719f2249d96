"""The buddy's phone and the buddies parts of the desk: the buddy's home (their residents,
the next planned visit first), planning the next visit, how well a pair fits, why the
all-waiting assignment leaves someone without a buddy, and plain words on screen."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from buddies import matching
from buddies.matching import BuddyFacts, ResidentFacts
from buddies.models import Match
from buddies.practice.models import PracticeSession
from inclusion.audit import AuditEvent
from tests.conftest import row_counts
from tests.factories import (
    BuddyProfileFactory,
    CheckpointFactory,
    MatchFactory,
    PracticeSessionFactory,
    ResidentFactory,
)

TODAY = date.today()


@pytest.fixture
def profile(db, org, buddy_user):
    return BuddyProfileFactory(organisation=org, user=buddy_user, caseload_limit=10)


def _match(org, profile, first_name, next_visit=None, **resident):
    resident = ResidentFactory(organisation=org, first_name=first_name, **resident)
    return MatchFactory(
        organisation=org, buddy=profile, resident=resident, next_visit_on=next_visit
    )


def _names_in_order(html):
    return re.findall(
        r'<h2 class="govuk-heading-m"><a class="govuk-link" href="[^"]+">([^<]+)</a>', html
    )


def _audits(action):
    return db_count(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action))


def db_count(stmt):
    from inclusion.extensions import db

    return db.session.scalar(stmt)


# ---- the buddy's home --------------------------------------------------------------------


def test_a_buddy_lands_on_their_residents_next_visit_first(db, org, buddy, profile):
    later = _match(org, profile, "Later", TODAY + timedelta(days=6))
    _match(org, profile, "Unplanned", None)
    soon = _match(org, profile, "Soon", TODAY + timedelta(days=1))
    PracticeSessionFactory(
        match=soon, held_on=TODAY - timedelta(days=6), minutes=50, next_steps="Try the NHS App."
    )
    MatchFactory(organisation=org)  # someone else's resident

    home = buddy.get("/dashboard")
    assert home.status_code == 302 and home.headers["Location"].endswith("/practice/residents")
    html = buddy.get("/practice/residents").get_data(as_text=True)
    names = _names_in_order(html)
    assert [n.split(" ")[0] for n in names] == ["Soon", "Later", "Unplanned"]
    soon_card = html.split(f'id="resident-{soon.resident.reference}"', 1)[1].split("</li>", 1)[0]
    assert "(tomorrow)" in soon_card
    assert (TODAY - timedelta(days=6)).strftime("%a %d %b %Y") in soon_card
    assert "50 minutes" in soon_card and "Try the NHS App." in soon_card
    later_card = html.split(f'id="resident-{later.resident.reference}"', 1)[1].split("</li>", 1)[0]
    assert "in 6 days" in later_card and "No sessions yet" in later_card
    assert "Not planned yet" in html
    # One tap from the list to the log form with the resident chosen.
    assert f'href="/practice/residents/{soon.resident.reference}/sessions/new"' in soon_card


def test_the_buddy_home_is_paginated_in_a_constant_number_of_queries(
    app, db, org, buddy, profile, count_queries, monkeypatch, tasks
):
    monkeypatch.setitem(app.config, "PER_PAGE", 3)
    _match(org, profile, "First", TODAY + timedelta(days=1))
    with count_queries() as one:
        assert buddy.get("/practice/residents").status_code == 200
    for day in range(2, 9):
        m = _match(org, profile, f"Day{day}", TODAY + timedelta(days=day))
        s = PracticeSessionFactory(match=m)
        CheckpointFactory(session=s, task=tasks[0], level=3)
    with count_queries() as many:
        html = buddy.get("/practice/residents").get_data(as_text=True)
    assert html.count('class="card"') == 3
    assert many.count == one.count
    page3 = buddy.get("/practice/residents?page=3").get_data(as_text=True)
    assert [n.split(" ")[0] for n in _names_in_order(page3)] == ["Day7", "Day8"]
    assert "Page 3 of 3" in page3


@pytest.fixture
def tasks(db, org):
    from buddies.practice import service
    from buddies.practice.models import SkillTask

    service.ensure_taxonomy(org.id)
    return db.session.scalars(
        select(SkillTask).where(SkillTask.organisation_id == org.id).order_by(SkillTask.position)
    ).all()


# ---- planning the next visit -------------------------------------------------------------


def test_the_buddy_plans_and_clears_the_next_visit(db, org, buddy, buddy_user, profile):
    m = _match(org, profile, "Plan")
    url = f"/practice/residents/{m.resident.reference}/next-visit"
    assert buddy.get(url).status_code == 200
    on = TODAY + timedelta(days=7)
    response = buddy.post(url, data={"next_visit_on": on.isoformat()})
    assert response.status_code == 302 and response.headers["Location"].endswith(
        "/practice/residents"
    )
    assert db.session.get(Match, m.id).next_visit_on == on
    event = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "match.next_visit_planned", AuditEvent.entity_id == m.id
        )
    ).one()
    assert event.actor_id == buddy_user.id
    page = buddy.get("/practice/residents").get_data(as_text=True)
    assert on.strftime("%a %d %b") in page

    assert buddy.post(url, data={"next_visit_on": ""}).status_code == 302
    assert db.session.get(Match, m.id).next_visit_on is None


def test_a_coordinator_plans_the_visit_from_the_resident_page(db, org, coordinator):
    m = MatchFactory(organisation=org)
    page = coordinator.get(f"/residents/{m.resident.reference}").get_data(as_text=True)
    assert f"/practice/residents/{m.resident.reference}/next-visit" in page
    assert "not planned yet" in page
    on = TODAY + timedelta(days=3)
    response = coordinator.post(
        f"/practice/residents/{m.resident.reference}/next-visit",
        data={"next_visit_on": on.isoformat()},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/residents/{m.resident.reference}")
    assert db.session.get(Match, m.id).next_visit_on == on
    page = coordinator.get(f"/residents/{m.resident.reference}").get_data(as_text=True)
    assert on.strftime("%a %d %b %Y") in page


@pytest.mark.parametrize(
    "value, message",
    [
        ((TODAY - timedelta(days=1)).isoformat(), "The next visit cannot be in the past."),
        ((TODAY + timedelta(days=400)).isoformat(), "Plan the next visit within the next year."),
        ("next tuesday", "Enter the date of the next visit"),
    ],
)
def test_a_bad_next_visit_is_refused_next_to_the_field(db, org, buddy, profile, value, message):
    m = _match(org, profile, "Bad", TODAY + timedelta(days=2))
    before = _audits("match.next_visit_planned")
    response = buddy.post(
        f"/practice/residents/{m.resident.reference}/next-visit", data={"next_visit_on": value}
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="next_visit_on-error"' in html and message in html
    assert db.session.get(Match, m.id).next_visit_on == TODAY + timedelta(days=2)
    assert _audits("match.next_visit_planned") == before


def test_no_next_visit_without_an_active_match(db, org, buddy, coordinator, profile):
    proposed = MatchFactory(organisation=org, status="proposed", started_at=None)
    url = f"/practice/residents/{proposed.resident.reference}/next-visit"
    assert coordinator.get(url).status_code == 404
    other = MatchFactory(organisation=org)  # another buddy's resident
    assert buddy.get(f"/practice/residents/{other.resident.reference}/next-visit").status_code == (
        403
    )


def test_ending_a_match_clears_its_next_visit_and_the_schema_keeps_it_so(db, org):
    from buddies import service
    from inclusion.extensions import db as _db

    m = MatchFactory(organisation=org, next_visit_on=TODAY + timedelta(days=2))
    service.end_match(m, reason="goals_met")
    assert m.next_visit_on is None
    m.next_visit_on = TODAY + timedelta(days=2)
    with pytest.raises(Exception) as refused:  # noqa: PT011 - the driver's IntegrityError
        with _db.session.begin_nested():
            _db.session.flush()
    assert "next_visit_only_active" in str(refused.value)


# ---- logging a session sets the next visit ------------------------------------------------


def _session_post(tasks, **overrides):
    data = {
        "token": "tok-visit-0123456789",
        "held_on": TODAY.isoformat(),
        "minutes": "45",
        "mode": "home",
        f"practised_{tasks[0].id}": "y",
        f"level_{tasks[0].id}": "2",
    }
    data.update(overrides)
    return data


def test_the_session_form_plans_the_next_visit_and_remembers_the_last_one(
    db, org, buddy, profile, tasks
):
    m = _match(org, profile, "Logged", TODAY)  # today's visit, as planned
    PracticeSessionFactory(match=m, held_on=TODAY - timedelta(days=7), minutes=75, mode="venue")
    form = buddy.get(f"/practice/residents/{m.resident.reference}/sessions/new").get_data(
        as_text=True
    )
    # Pre-filled from the last session, and today's planned visit is not offered again.
    assert 'name="minutes" required type="number" value="75"' in form
    assert 'checked class="govuk-radios__input" id="mode-1" name="mode"' in form
    assert 'name="next_visit_on" type="date" value=""' in form
    planned = TODAY + timedelta(days=3)
    m.next_visit_on = planned
    db.session.flush()
    form = buddy.get(f"/practice/residents/{m.resident.reference}/sessions/new").get_data(
        as_text=True
    )
    assert f'name="next_visit_on" type="date" value="{planned.isoformat()}"' in form

    on = TODAY + timedelta(days=7)
    response = buddy.post(
        f"/practice/residents/{m.resident.reference}/sessions/new",
        data=_session_post(tasks, next_visit_on=on.isoformat()),
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert f"Next visit: {on:%A} {on.day} {on:%B %Y}." in response.get_data(as_text=True)
    assert db.session.get(Match, m.id).next_visit_on == on
    # Logged without a next visit: the plan is cleared (the visit has happened).
    response = buddy.post(
        f"/practice/residents/{m.resident.reference}/sessions/new",
        data=_session_post(tasks, token="tok-visit-second-0001", next_visit_on=""),
    )
    assert response.status_code == 302
    assert db.session.get(Match, m.id).next_visit_on is None


def test_a_next_visit_before_the_session_is_refused_and_nothing_saved(
    db, org, buddy, profile, tasks
):
    m = _match(org, profile, "Early", TODAY + timedelta(days=3))
    before = row_counts(PracticeSession)
    response = buddy.post(
        f"/practice/residents/{m.resident.reference}/sessions/new",
        data=_session_post(tasks, next_visit_on=TODAY.isoformat()),
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "The next visit must be after this session." in html
    assert 'id="next_visit_on-error"' in html
    assert row_counts(PracticeSession) == before
    assert db.session.get(Match, m.id).next_visit_on == TODAY + timedelta(days=3)


# ---- how well a pair fits ------------------------------------------------------------------


def test_a_perfect_pair_fits_100_of_100_and_the_page_says_why(db, org, coordinator):
    resident = ResidentFactory(
        organisation=org, postcode="WV3 0AA", preferred_language="Punjabi", interpreter_needed=True
    )
    BuddyProfileFactory(
        organisation=org, name="Perfect Fit", areas=["WV3"], languages=["English", "Punjabi"]
    )
    BuddyProfileFactory(organisation=org, name="Far Away", areas=["WV10"], languages=["Punjabi"])
    page = coordinator.get(f"/matching/residents/{resident.reference}").get_data(as_text=True)
    assert "How well they fit: 100 of 100, because speaks Punjabi, covers WV3" in page
    # Far Away misses the 25 points of the area out of the 66 possible.
    assert f"How well they fit: {round(100 * 41 / 66)} of 100" in page
    assert "How this is worked out" in page
    assert not re.search(r"score \d", page)


def test_a_proposed_match_keeps_its_fit(db, org, coordinator):
    resident = ResidentFactory(organisation=org, postcode="WV3 0AA")
    buddy = BuddyProfileFactory(organisation=org, areas=["WV3"])
    coordinator.post(
        f"/matching/residents/{resident.reference}/propose", data={"buddy_id": buddy.id}
    )
    match = db.session.scalars(select(Match)).one()
    assert match.fit == 100
    page = coordinator.get("/matching").get_data(as_text=True)
    assert "How well they fit: 100 of 100, because covers WV3" in page
    assert "Supported" in page or "Referred" in page  # the resident's case status tag


def test_fit_is_a_share_of_the_best_this_resident_could_get():
    r = ResidentFacts(1, district="WV3", slots=frozenset({"tue_morning"}))
    best = matching.best_possible(r)
    assert best == 1 + 25 + 5 + 10
    b = BuddyFacts(
        10,
        "Half Free",
        areas=frozenset({"WV3"}),
        slots=frozenset({"tue_morning"}),
        limit=2,
        open_matches=1,
    )
    scores = matching.score([r], [b])
    # base, area, one shared slot, and half the capacity points: 36 of 41
    assert int(scores.fit[0, 0]) == round(100 * 36 / 41)


# ---- why the all-waiting assignment leaves someone out -------------------------------------


def _left(residents, buddies):
    scores = matching.score(residents, buddies)
    pairs = matching.assign(residents, buddies, scores)
    return matching.left_without_buddy(residents, buddies, scores, pairs), pairs


def _codes(reasons):
    return [why.code for why in reasons]


def test_left_out_because_no_buddy_speaks_their_language():
    r = ResidentFacts(1, language="Tigrinya", interpreter_needed=True)
    left, pairs = _left([r], [BuddyFacts(10, languages=frozenset({"English"}), limit=2)])
    assert pairs == [] and _codes(left[0]) == ["language"] and left[0][0].detail == "Tigrinya"


def test_an_interpreter_lifts_the_language_reason():
    r = ResidentFacts(1, language="Tigrinya", interpreter_needed=True, interpreter_available=True)
    left, pairs = _left([r], [BuddyFacts(10, limit=1)])
    assert left == {} and len(pairs) == 1


def test_left_out_because_all_buddies_are_full():
    r = ResidentFacts(1)
    left, _ = _left(
        [r], [BuddyFacts(10, limit=2, open_matches=2), BuddyFacts(11, limit=1, open_matches=1)]
    )
    assert _codes(left[0]) == ["full"]
    assert left[0][0].count == 2 and not left[0][0].taken


def test_left_out_because_no_buddy_covers_their_area_and_others_took_the_place():
    near = ResidentFacts(1, district="WV3")
    far = ResidentFacts(2, district="WV10")
    left, pairs = _left([near, far], [BuddyFacts(10, areas=frozenset({"WV3"}), limit=1)])
    assert [(i, j) for i, j, _ in pairs] == [(0, 0)]
    assert _codes(left[1]) == ["full", "area"]
    assert left[1][0].taken and left[1][1].detail == "WV10"


def test_left_out_because_no_buddy_is_free_when_they_are():
    free_tuesday = ResidentFacts(1, slots=frozenset({"tue_morning"}))
    free_sunday = ResidentFacts(2, slots=frozenset({"sun_evening"}))
    buddy = BuddyFacts(10, slots=frozenset({"tue_morning"}), limit=1)
    left, pairs = _left([free_tuesday, free_sunday], [buddy])
    assert [(i, j) for i, j, _ in pairs] == [(0, 0)]
    assert _codes(left[1]) == ["full", "time"]


def test_left_out_because_no_buddy_is_active_with_a_current_dbs():
    left, _ = _left([ResidentFacts(1)], [BuddyFacts(10, dbs_current=False)])
    assert _codes(left[0]) == ["no_buddies"]
    left, _ = _left([ResidentFacts(1)], [])
    assert _codes(left[0]) == ["no_buddies"]


def test_the_assignment_page_says_why_each_resident_is_left_out(db, org, coordinator):
    BuddyProfileFactory(organisation=org, areas=["WV3"], languages=["English"], caseload_limit=1)
    placed = ResidentFactory(organisation=org, postcode="WV3 0AA", first_name="Placed")
    far = ResidentFactory(organisation=org, postcode="WV10 9AA", first_name="Faraway")
    tigrinya = ResidentFactory(
        organisation=org,
        first_name="Tsega",
        preferred_language="Tigrinya",
        interpreter_needed=True,
    )
    page = coordinator.get("/matching/assignment").get_data(as_text=True)
    assert "2 residents left without a buddy" in page
    far_card = page.split(f'id="left-out-{far.reference}"', 1)[1].split('id="left-out-', 1)[0]
    assert (
        "The buddy who could take them is full: their free place goes to someone else here."
        in far_card
    )
    assert "None of them covers their area (WV10)." in far_card
    assert "Referred" in far_card  # case status
    tsega = page.split(f'id="left-out-{tigrinya.reference}"', 1)[1]
    assert "No buddy speaks Tigrinya, and no interpreter can join." in tsega
    assert f'id="left-out-{placed.reference}"' not in page
    assert "How well they fit: 100 of 100" in page
    assert "1 pair." in page and "The best overall pairing for the 3 residents waiting" in page


def test_accepting_pairs_says_how_many_in_plain_plurals(db, org, coordinator):
    BuddyProfileFactory(organisation=org, caseload_limit=2)
    first = ResidentFactory(organisation=org)
    ResidentFactory(organisation=org)
    from buddies.models import BuddyProfile

    buddy = db.session.scalars(select(BuddyProfile)).one()
    response = coordinator.post(
        "/matching/assignment", data={"pair": [f"{first.id}-{buddy.id}"]}, follow_redirects=True
    )
    html = response.get_data(as_text=True)
    assert "1 match proposed. Confirm it once both agree." in html
    assert "match(es)" not in html


# ---- case status wherever a resident is listed ----------------------------------------------


def test_buddy_pages_show_each_residents_case_status(db, org, coordinator):
    profile = BuddyProfileFactory(organisation=org)
    m = MatchFactory(
        organisation=org,
        buddy=profile,
        resident=ResidentFactory(organisation=org, status="supported"),
    )
    waiting = ResidentFactory(organisation=org, status="assessed")
    detail = coordinator.get(f"/buddies/{profile.id}").get_data(as_text=True)
    assert "tag-supported" in detail
    matching_page = coordinator.get("/matching").get_data(as_text=True)
    assert "tag-assessed" in matching_page and waiting.full_name in matching_page
    rank = coordinator.get(f"/matching/residents/{waiting.reference}").get_data(as_text=True)
    assert "tag-assessed" in rank
    assert m.resident.full_name in detail


# ---- plain words on the programme page ------------------------------------------------------


def test_the_programme_page_speaks_plainly_and_keeps_the_method_in_a_detail(
    db, org, coordinator, tasks
):
    m = MatchFactory(organisation=org)
    s = PracticeSessionFactory(match=m)
    CheckpointFactory(session=s, task=tasks[0], level=1)
    html = coordinator.get("/practice/progress").get_data(as_text=True)
    method = html.split('id="method"', 1)[1].split("</details>", 1)[0]
    outside = html.replace(method, "")
    assert "How this is worked out" in html and "Kaplan–Meier" in method
    for jargon in ("Kaplan", "censored", "at risk", "At risk"):
        assert jargon not in outside, jargon
    assert "Still learning at session 4" in outside
    assert "Median sessions to “can do it alone”" in outside


def test_the_assignment_page_lists_those_left_out_a_page_at_a_time(app, db, org, coordinator):
    """With no buddy at all, everyone waiting is left out: 25 a page, the count the whole."""
    waiting = [ResidentFactory(organisation=org, first_name=f"Wait{i:02d}") for i in range(27)]
    first = coordinator.get("/matching/assignment").get_data(as_text=True)
    assert "27 residents left without a buddy" in first
    assert first.count('id="left-out-R-') == app.config["PER_PAGE"] == 25
    assert 'class="govuk-pagination"' in first and "page=2" in first

    second = coordinator.get("/matching/assignment?page=2").get_data(as_text=True)
    assert "27 residents left without a buddy" in second
    assert second.count('id="left-out-R-') == 2
    shown = {r.reference for r in waiting if f'id="left-out-{r.reference}"' in first + second}
    assert shown == {r.reference for r in waiting}
