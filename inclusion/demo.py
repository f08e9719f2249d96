"""Demo data: two organisations, an account for every role, residents in every state.

Idempotent: records are looked up by their natural keys (organisation code,
email, resident name) and only created when missing, so running it twice adds
nothing the second time. Packages add theirs through their ``demo.load``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial

import click
from sqlalchemy import select

from .accounts import service as accounts
from .accounts.models import ADMIN, BUDDY, COORDINATOR, DONOR, Organisation, User
from .clock import today
from .extensions import db
from .registry import registry
from .residents import service as residents
from .residents.models import Resident
from .residents.sample_names import FIRST, LAST, POSTCODES
from .tenancy import scoped_to

DEMO_PASSWORD = "demo-password-2026"
LANGUAGES = ["English"] * 6 + ["Punjabi", "Urdu", "Polish", "Somali", "Bengali", "Arabic"]

ORGANISATIONS = [
    dict(
        name="Wolverhampton Digital Inclusion CVS",
        code="WDI",
        contact_phone="+44 1902 555123",
        contact_email="hello@wdi.example.org",
        return_address="Digital Inclusion Desk, Community Hub, 1 Market Street, Wolverhampton WV1 3AA",
        areas=["WV1", "WV2", "WV3", "WV4", "WV6", "WV10", "WV11"],
    ),
    dict(
        name="Dudley Link Workers",
        code="DLW",
        contact_phone="+44 1384 555400",
        contact_email="team@dlw.example.org",
        return_address="Link Worker Office, 5 Castle Street, Dudley DY1 1LQ",
        areas=["DY1", "DY2", "DY3", "DY4", "DY5"],
    ),
]
USERS = [
    ("WDI", ADMIN, "admin@wdi.example.org", "Amrit Admin"),
    ("WDI", COORDINATOR, "coordinator@wdi.example.org", "Chloe Coordinator"),
    ("WDI", BUDDY, "buddy@wdi.example.org", "Bilal Buddy"),
    ("WDI", DONOR, "donor@acme.example.com", "Dana Donor (Acme Builders)"),
    ("DLW", COORDINATOR, "coordinator@dlw.example.org", "Dev Coordinator"),
]


@dataclass
class DemoContext:
    organisations: dict[str, Organisation]
    users: dict[str, User]
    rng: random.Random = field(default_factory=lambda: random.Random(2026))


def _organisation(spec) -> Organisation:
    org = db.session.scalar(select(Organisation).where(Organisation.code == spec["code"]))
    return org or accounts.create_organisation(**spec)


def _user(org, role, email, name) -> User:
    user = accounts.find_user_by_email(email)
    return user or accounts.create_user(
        org, email=email, name=name, role=role, password=DEMO_PASSWORD
    )


def _residents(org: Organisation, coordinator: User, rng: random.Random, count: int) -> None:
    with scoped_to(org.id):
        existing = {
            (r.first_name, r.last_name)
            for r in db.session.scalars(select(Resident).where(Resident.organisation_id == org.id))
        }
        walk = ["referred", "contacted", "assessed", "supported", "closed"]
        for i in range(count):
            first, last = FIRST[i % len(FIRST)], LAST[(i * 7) % len(LAST)]
            if (first, last) in existing:
                continue
            lang = rng.choice(LANGUAGES)
            resident = residents.create_referral(
                org,
                dict(
                    first_name=first,
                    last_name=last,
                    phone=f"07911 {123400 + i}",
                    postcode=POSTCODES[i % len(POSTCODES)],
                    preferred_language=lang,
                    interpreter_needed=lang != "English" and rng.random() < 0.5,
                    access_sight=rng.random() < 0.25,
                    access_hearing=rng.random() < 0.2,
                    access_dexterity=rng.random() < 0.15,
                    access_memory=rng.random() < 0.1,
                    access_learning=rng.random() < 0.08,
                    needs_device=rng.random() < 0.8,
                    needs_data=rng.random() < 0.6,
                    needs_skills=True,
                    referral_source=rng.choice(
                        ["gp", "gp", "social_care", "housing", "self", "family", "other"]
                    ),
                    referrer_name=rng.choice(
                        ["Dr Shah", "Link worker Sam", "Housing officer Lee", ""]
                    ),
                    referral_date=today() - timedelta(days=rng.randint(3, 200)),
                    referral_reason=rng.choice(
                        [
                            "Wants to video call grandchildren abroad.",
                            "Needs to order repeat prescriptions and book GP appointments online.",
                            "Isolated since bereavement; would like to join online groups.",
                            "Has to manage Universal Credit journal online.",
                            "Wants to shop online and pay bills safely.",
                        ]
                    ),
                    date_of_birth=today().replace(year=today().year - rng.randint(25, 92), day=1),
                ),
                consent_given=True,
                consent_method=rng.choice(["written", "verbal"]),
                recorded_by=coordinator,
            )
            steps = rng.choice([0, 1, 2, 3, 3, 3, 4])
            for status in walk[1 : steps + 1]:
                residents.change_status(
                    resident,
                    status,
                    by=coordinator,
                    outcome="goals_met" if status == "closed" else None,
                )


def load_demo(progress: bool = False) -> list[User]:
    """Create (or find) the demo organisations, users and residents; returns the users."""
    from .dataprotection import demo as dataprotection_demo
    from .reports import demo as reports_demo

    orgs = {spec["code"]: _organisation(spec) for spec in ORGANISATIONS}
    users = {email: _user(orgs[code], role, email, name) for code, role, email, name in USERS}
    ctx = DemoContext(organisations=orgs, users=users)
    steps = [
        (
            "residents",
            lambda: _residents(orgs["WDI"], users["coordinator@wdi.example.org"], ctx.rng, 30),
        ),
        (
            "residents (second organisation)",
            lambda: _residents(orgs["DLW"], users["coordinator@dlw.example.org"], ctx.rng, 6),
        ),
        *((loader.label, partial(loader.load, ctx)) for loader in registry().demo_loaders),
        ("old closed cases", lambda: dataprotection_demo.load(ctx)),
        ("report targets", lambda: reports_demo.load(ctx)),
    ]
    if progress:
        with click.progressbar(
            steps, label="Loading demo data", item_show_func=lambda s: s and s[0]
        ) as bar:
            for _, step in bar:
                step()
    else:
        for _, step in steps:
            step()
    db.session.flush()
    return list(users.values())
