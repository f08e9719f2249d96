"""Demo data for the buddies package, loaded by `flask inclusion demo` (idempotent).

About ten IT buddies of WDI in every status (buddy@wdi.example.org is an active
buddy with several active matches), a couple for DLW, and matches proposed,
active and ended, made through the service so reasons and audit are real.
A buddy is looked up by (organisation, email); an existing one is left alone.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from inclusion.clock import now, today
from inclusion.extensions import db
from inclusion.residents.models import Resident
from inclusion.tenancy import scoped_to

from . import service
from .models import BuddyProfile, Match

ALL_SKILLS = [
    "foundation",
    "communicating",
    "information",
    "transacting",
    "problem_solving",
    "safety",
]

# name, email, status, languages, areas, access, slots, modes, limit, DBS age (days), matches
BUDDIES = {
    "WDI": [
        (
            "Bilal Buddy",
            "buddy@wdi.example.org",
            "active",
            ["English", "Urdu", "Punjabi"],
            ["WV1", "WV2", "WV3", "WV4"],
            ["large_print"],
            ["mon_morning", "tue_morning", "tue_afternoon", "thu_morning", "sat_morning"],
            ["home", "venue", "phone"],
            5,
            200,
            3,
        ),
        (
            "Harpreet Gill",
            "harpreet.gill@volunteers.example.org",
            "active",
            ["English", "Punjabi"],
            ["WV3", "WV4", "WV6"],
            ["bsl", "hearing_loop"],
            ["tue_morning", "wed_afternoon", "fri_morning"],
            ["home", "venue"],
            4,
            400,
            2,
        ),
        (
            "Agnieszka Nowak",
            "agnieszka.nowak@volunteers.example.org",
            "active",
            ["English", "Polish"],
            ["WV10", "WV11", "WV12"],
            ["screen_reader", "large_print"],
            ["mon_evening", "wed_evening", "sat_afternoon"],
            ["home", "video"],
            3,
            120,
            1,
        ),
        (
            "Samira Hussain",
            "samira.hussain@volunteers.example.org",
            "active",
            ["English", "Urdu", "Arabic"],
            ["WV1", "WV2", "WV14"],
            ["dementia"],
            ["tue_afternoon", "thu_afternoon"],
            ["venue", "phone"],
            2,
            3 * 365 - 20,
            1,
        ),
        (
            "Gareth Price",
            "gareth.price@volunteers.example.org",
            "active",
            ["English", "British Sign Language"],
            ["WV5", "WV6", "WV7", "WV8", "WV9"],
            ["bsl", "learning_disability"],
            ["mon_afternoon", "fri_afternoon"],
            ["home", "video"],
            3,
            60,
            0,
        ),
        (
            "Fatima Begum",
            "fatima.begum@volunteers.example.org",
            "active",
            ["English", "Bengali", "Somali"],
            ["WV2", "WV3", "WV13"],
            [],
            ["wed_morning", "sun_afternoon"],
            ["phone", "video"],
            2,
            30,
            1,
        ),
        (
            "Joyce Campbell",
            "joyce.campbell@volunteers.example.org",
            "paused",
            ["English"],
            ["WV13", "WV14"],
            ["dementia", "hearing_loop"],
            ["thu_morning"],
            ["home"],
            2,
            500,
            0,
        ),
        (
            "Tomasz Kowalski",
            "tomasz.kowalski@volunteers.example.org",
            "applicant",
            ["English", "Polish"],
            ["WV10"],
            [],
            ["sat_morning", "sun_morning"],
            ["venue", "video"],
            2,
            None,
            0,
        ),
        (
            "Priya Patel",
            "priya.patel@volunteers.example.org",
            "applicant",
            ["English", "Gujarati", "Hindi"],
            ["WV4", "WV5"],
            ["learning_disability"],
            ["mon_morning", "wed_morning"],
            ["home", "venue"],
            3,
            10,
            0,
        ),
        (
            "Derek Lloyd",
            "derek.lloyd@volunteers.example.org",
            "left",
            ["English"],
            ["WV6", "WV7"],
            [],
            ["fri_morning"],
            ["home"],
            1,
            700,
            0,
        ),
    ],
    "DLW": [
        (
            "Dina Dudley",
            "dina.dudley@volunteers.example.org",
            "active",
            ["English", "Punjabi"],
            ["DY1", "DY2", "DY3"],
            ["large_print"],
            ["tue_morning", "thu_morning"],
            ["home", "phone"],
            3,
            90,
            1,
        ),
        (
            "Colin Castle",
            "colin.castle@volunteers.example.org",
            "applicant",
            ["English"],
            ["DY1"],
            [],
            ["sat_morning"],
            ["venue"],
            1,
            None,
            0,
        ),
    ],
}


def _waiting(org):
    return db.session.scalars(
        service.waiting_residents().where(Resident.organisation_id == org.id)
    ).all()


def _match(profile, org, coordinator, count: int, *, end_it: bool = False, rng=None) -> None:
    """Propose and confirm ``count`` matches for ``profile`` with the residents it suits best."""
    scored = []
    for resident in _waiting(org):
        total, _, exclusions = service.pair_score(resident, profile)
        if not exclusions:
            scored.append((-total, resident.id, resident))
    for _, _, resident in sorted(scored, key=lambda s: s[:2]):
        if count <= 0:
            return
        match = service.propose_pair(resident, profile, by=coordinator)
        service.confirm_match(match, by=coordinator)
        # Back-date, so practice sessions have months to spread over.
        days = rng.randint(60, 150) if rng else 90
        match.proposed_at = now() - timedelta(days=days + 3)
        match.started_at = now() - timedelta(days=days)
        if end_it:
            service.end_match(
                match, reason="goals_met", note="Confident with video calls.", by=coordinator
            )
        count -= 1
        db.session.flush()


def _buddy(org, spec, coordinator, user, rng) -> None:
    (name, email, status, languages, areas, access, slots, modes, limit, dbs_age, matches) = spec
    exists = db.session.scalar(
        select(BuddyProfile.id).where(
            BuddyProfile.organisation_id == org.id, BuddyProfile.email == email
        )
    )
    if exists:
        return
    profile = service.apply_to_volunteer(
        org,
        dict(
            name=name,
            email=email,
            phone=f"07911 {rng.randint(200000, 299999)}",
            areas=areas,
            languages=languages,
            skills=rng.sample(ALL_SKILLS, rng.randint(3, 6)),
            access_experience=access,
            availability=slots,
            visit_modes=modes,
            caseload_limit=limit,
            about="Happy to help people get online.",
        ),
    )
    profile.applied_at = now() - timedelta(days=(dbs_age or 5) + 30)
    if dbs_age is not None:
        service.record_dbs(
            profile,
            level="enhanced",
            certificate=f"00{rng.randint(10**9, 10**10 - 1)}",
            issued_on=today() - timedelta(days=dbs_age),
            by=coordinator,
        )
    if status == "applicant":
        return
    for kind in ("safeguarding", "data_protection"):
        service.record_training(
            profile,
            kind=kind,
            completed_on=today() - timedelta(days=(dbs_age or 30) - 5),
            provider="WDI volunteer induction",
            by=coordinator,
        )
    service.change_status(profile, "active", by=coordinator)
    if user is not None:
        profile.user_id = user.id
    if status == "active":
        _match(profile, org, coordinator, matches, rng=rng)
    elif status == "paused":
        service.change_status(profile, "paused", by=coordinator)
    elif status == "left":
        _match(profile, org, coordinator, 1, end_it=True, rng=rng)
        service.change_status(profile, "left", by=coordinator)
    db.session.flush()


def _one_proposal(org, coordinator) -> None:
    """Leave one proposal waiting for the coordinator to confirm."""
    if db.session.scalar(
        select(Match.id).where(Match.organisation_id == org.id, Match.status == "proposed")
    ):
        return
    ranked_for = _waiting(org)
    for resident in ranked_for:
        ranked, _, profiles = service.rank_buddies(resident)
        if ranked:
            service.propose_pair(resident, profiles[ranked[0].buddy.id], by=coordinator)
            return


def _needs(org, rng) -> None:
    """What most waiting residents are looking for (when free, how to meet, what to learn)."""
    from .models import SLOTS, VISIT_MODES, MatchingNeeds

    if db.session.scalar(select(MatchingNeeds.id).where(MatchingNeeds.organisation_id == org.id)):
        return  # loaded before
    for resident in _waiting(org):
        if rng.random() < 0.25:
            continue
        service.save_matching_needs(
            resident,
            dict(
                availability=rng.sample(SLOTS[:15], rng.randint(2, 5)),
                visit_modes=rng.sample(list(VISIT_MODES), rng.randint(1, 2)),
                skills=rng.sample(ALL_SKILLS, rng.randint(1, 3)),
                interpreter_available=resident.interpreter_needed and rng.random() < 0.5,
            ),
        )


def load(context) -> None:
    """Add this package's demo records; `context` holds the demo organisations and users."""
    coordinators = {
        "WDI": context.users.get("coordinator@wdi.example.org"),
        "DLW": context.users.get("coordinator@dlw.example.org"),
    }
    for code, specs in BUDDIES.items():
        org = context.organisations[code]
        with scoped_to(org.id):
            _needs(org, context.rng)
            for spec in specs:
                user = context.users.get(spec[1])
                _buddy(org, spec, coordinators[code], user, context.rng)
            _one_proposal(org, coordinators[code])
    db.session.flush()

    from .practice import demo as practice_demo

    practice_demo.load(context)
