"""factory_boy factories: real objects in the real database, flushed into the test's transaction."""

from __future__ import annotations

from datetime import date

import factory
from factory.alchemy import SQLAlchemyModelFactory

from inclusion.accounts.models import Organisation, User
from inclusion.clock import now
from inclusion.extensions import db
from inclusion.passwords import hash_password
from inclusion.residents.models import Resident, StatusChange

PASSWORD = "correct horse battery staple"


class Base(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "flush"


class OrganisationFactory(Base):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Community Org {n}")
    code = factory.Sequence(lambda n: f"ORG{n}")
    contact_phone = "+44 1902 555123"
    contact_email = "hello@example.org"
    return_address = "Community Hub, 1 Market Street, Wolverhampton WV1 3AA"
    default_loan_days = 56
    retention_months = 24


class UserFactory(Base):
    class Meta:
        model = User

    organisation = factory.SubFactory(OrganisationFactory)
    email = factory.Sequence(lambda n: f"user{n}@example.org")
    name = factory.Sequence(lambda n: f"User {n}")
    role = "coordinator"
    active = True
    password_hash = factory.LazyFunction(lambda: hash_password(PASSWORD))


class ResidentFactory(Base):
    class Meta:
        model = Resident

    organisation = factory.SubFactory(OrganisationFactory)
    reference = factory.Sequence(lambda n: f"R-{900000 + n:06d}")
    first_name = factory.Iterator(["Margaret", "Harjit", "Olu", "Irene", "Kamal"])
    last_name = factory.Sequence(lambda n: f"Testperson{n}")
    phone = "+44 7911 123456"
    postcode = "WV3 0AA"
    area = "WV3"
    preferred_language = "English"
    needs_device = True
    needs_skills = True
    referral_source = "gp"
    referral_date = factory.LazyFunction(lambda: date.today())
    referral_reason = "Wants to video call family."
    consent_given = True
    consent_at = factory.LazyFunction(now)
    consent_method = "verbal"
    status = "referred"

    @factory.post_generation
    def timeline(obj, create, extracted, **kwargs):
        if create:
            db.session.add(
                StatusChange(
                    organisation_id=obj.organisation.id if obj.organisation else obj.organisation_id,
                    resident=obj,
                    from_status=None,
                    to_status=obj.status,
                    note="Referral received",
                )
            )
            db.session.flush()
