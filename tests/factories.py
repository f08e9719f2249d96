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

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # Through the service, as the app does: what an organisation gets when it is
        # created (its skill taxonomy) comes with it.
        from inclusion.accounts import service

        return service.create_organisation(*args, **kwargs)


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
                    organisation_id=obj.organisation.id
                    if obj.organisation
                    else obj.organisation_id,
                    resident=obj,
                    from_status=None,
                    to_status=obj.status,
                    note="Referral received",
                )
            )
            db.session.flush()


# ---- buddies ---------------------------------------------------------------------------

from buddies.models import BuddyProfile, BuddyTraining, Match  # noqa: E402


class BuddyProfileFactory(Base):
    """An ACTIVE buddy with a current DBS check by default (``status="applicant"`` for a new one).

    Pass ``user=`` to link an account; trainings are added by ``trained=True`` (the default).
    """

    class Meta:
        model = BuddyProfile

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Buddy Volunteer{n}")
    email = factory.Sequence(lambda n: f"buddy{n}@volunteers.example.org")
    phone = "+44 7700 900123"
    areas = factory.LazyFunction(lambda: ["WV3"])
    languages = factory.LazyFunction(lambda: ["English"])
    skills = factory.LazyFunction(lambda: ["foundation", "communicating"])
    access_experience = factory.LazyFunction(list)
    availability = factory.LazyFunction(lambda: ["tue_morning", "thu_afternoon"])
    visit_modes = factory.LazyFunction(lambda: ["home", "phone"])
    caseload_limit = 3
    status = "active"
    dbs_level = "enhanced"
    dbs_certificate = "001234567890"
    dbs_issued_on = factory.LazyFunction(lambda: date.today().replace(day=1))
    dbs_renewal_due = factory.LazyAttribute(
        lambda o: (
            o.dbs_issued_on.replace(year=o.dbs_issued_on.year + 3) if o.dbs_issued_on else None
        )
    )

    @factory.post_generation
    def trained(obj, create, extracted, **kwargs):
        if create and extracted is not False:
            for kind in ("safeguarding", "data_protection"):
                db.session.add(
                    BuddyTraining(
                        organisation_id=obj.organisation.id,
                        buddy=obj,
                        kind=kind,
                        completed_on=date.today(),
                    )
                )
            db.session.flush()


class MatchFactory(Base):
    """An ACTIVE match between a resident and a buddy of the same organisation."""

    class Meta:
        model = Match

    organisation = factory.SubFactory(OrganisationFactory)
    resident = factory.SubFactory(
        ResidentFactory, organisation=factory.SelfAttribute("..organisation")
    )
    buddy = factory.SubFactory(
        BuddyProfileFactory, organisation=factory.SelfAttribute("..organisation")
    )
    status = "active"
    score = 42.0
    reasons = factory.LazyFunction(lambda: ["covers WV3"])
    started_at = factory.LazyFunction(now)


# ---- devices ---------------------------------------------------------------------------

from devices.models import Device, DeviceStatusChange, Donation, DonationItem, Donor, Wipe  # noqa: E402


class DonorFactory(Base):
    class Meta:
        model = Donor

    organisation = factory.SubFactory(OrganisationFactory)
    business_name = factory.Sequence(lambda n: f"Acme Builders {n} Ltd")
    contact_name = "Priya Shah"
    email = factory.Sequence(lambda n: f"it{n}@acme.example.com")
    phone = "+44 1902 555777"


class DonationFactory(Base):
    """A pledged donation with one line item (``items=0`` for none)."""

    class Meta:
        model = Donation

    organisation = factory.SubFactory(OrganisationFactory)
    donor = factory.SubFactory(DonorFactory, organisation=factory.SelfAttribute("..organisation"))
    reference = factory.Sequence(lambda n: f"D-{9000 + n:04d}")
    receipt_token = factory.Sequence(lambda n: f"receipt-token-{n:06d}-test")
    status = "pledged"
    handover = "drop_off"

    @factory.post_generation
    def items(obj, create, extracted, **kwargs):
        if create and extracted != 0:
            db.session.add(
                DonationItem(
                    organisation_id=obj.organisation.id,
                    donation=obj,
                    position=1,
                    kind="tablet",
                    quantity=extracted or 3,
                    make="Samsung",
                    model="Galaxy Tab A7",
                    approx_age="3_4",
                    condition="good",
                    chargers_included=True,
                )
            )
            db.session.flush()


class DeviceFactory(Base):
    """A device in any status (default *ready*, with a wipe recorded); history starts with it."""

    class Meta:
        model = Device

    organisation = factory.SubFactory(OrganisationFactory)
    asset_tag = factory.Sequence(
        lambda n: (
            "TS-" + "".join("23456789ABCDEFGHJKLMNPQRSTUVWXYZ"[(n // 32**i) % 32] for i in range(4))
        )
    )
    kind = "tablet"
    make = "Samsung"
    model = "Galaxy Tab A7"
    serial = None
    condition_grade = "B"
    accessories = "Charger, case"
    storage_location = "Cupboard A"
    status = "ready"
    wiped = factory.LazyAttribute(lambda o: o.status in ("ready", "on_loan"))
    donation = None

    @factory.post_generation
    def timeline(obj, create, extracted, **kwargs):
        if not create:
            return
        org_id = obj.organisation.id
        db.session.add(
            DeviceStatusChange(
                organisation_id=org_id,
                device=obj,
                from_status=None,
                to_status=obj.status,
                note="Created by a test",
            )
        )
        if obj.wiped:
            db.session.add(
                Wipe(
                    organisation_id=org_id,
                    device=obj,
                    method="factory_reset_encrypted",
                    wiped_by="Test Wiper",
                    wiped_at=now(),
                    certificate_reference="CERT-1",
                )
            )
        db.session.flush()


# ---- practice: skill tasks, sessions, checkpoints -------------------------------------

from buddies.practice.models import Checkpoint, PracticeSession, SkillTask  # noqa: E402


class SkillTaskFactory(Base):
    class Meta:
        model = SkillTask

    organisation = factory.SubFactory(OrganisationFactory)
    area = "communicating"
    name = factory.Sequence(lambda n: f"Practice task {n}")
    position = factory.Sequence(lambda n: 100 + n)


class PracticeSessionFactory(Base):
    """A session of an ACTIVE match (pass ``match=``, or one is made)."""

    class Meta:
        model = PracticeSession
        exclude = ("match",)

    match = factory.SubFactory(MatchFactory)
    organisation = factory.SelfAttribute("match.organisation")
    resident = factory.SelfAttribute("match.resident")
    buddy = factory.SelfAttribute("match.buddy")
    held_on = factory.LazyFunction(lambda: date.today())
    minutes = 60
    mode = "home"
    idempotency_token = factory.Sequence(lambda n: f"factory-token-{n:08d}")


class CheckpointFactory(Base):
    """A level for a task; ``session=None`` makes it a baseline checkpoint."""

    class Meta:
        model = Checkpoint

    session = factory.SubFactory(PracticeSessionFactory)
    organisation = factory.LazyAttribute(lambda o: o.resident.organisation)
    resident = factory.LazyAttribute(lambda o: o.session.resident)
    task = factory.SubFactory(
        SkillTaskFactory, organisation=factory.SelfAttribute("..organisation")
    )
    level = 2
    recorded_on = factory.LazyAttribute(lambda o: o.session.held_on if o.session else date.today())


# ---- loans and data bundles ------------------------------------------------------------

from devices.loans.models import DataBundle, Loan, WaitingListEntry  # noqa: E402


class DataBundleFactory(Base):
    """An in-stock SIM (``status="issued", resident=...`` for one already given out)."""

    class Meta:
        model = DataBundle

    organisation = factory.SubFactory(OrganisationFactory)
    kind = "sim"
    network = "Vodafone"
    allowance_gb = 20
    validity_days = 30
    reference = factory.Sequence(lambda n: f"8944100000{n:010d}")
    source = "national_scheme"
    status = "in_stock"


class LoanFactory(Base):
    """An OPEN loan of an on-loan device to a resident (pass ``device=`` to reuse one)."""

    class Meta:
        model = Loan

    organisation = factory.SubFactory(OrganisationFactory)
    reference = factory.Sequence(lambda n: f"L-{90000 + n:05d}")
    device = factory.SubFactory(
        DeviceFactory, organisation=factory.SelfAttribute("..organisation"), status="on_loan"
    )
    resident = factory.SubFactory(
        ResidentFactory, organisation=factory.SelfAttribute("..organisation")
    )
    lent_at = factory.LazyFunction(now)
    due_on = factory.LazyFunction(
        lambda: date.today().replace(day=1).replace(year=date.today().year + 1)
    )
    agreement_method = "paper"
    accessories = "Charger"


class WaitingListEntryFactory(Base):
    class Meta:
        model = WaitingListEntry

    organisation = factory.SubFactory(OrganisationFactory)
    resident = factory.SubFactory(
        ResidentFactory, organisation=factory.SelfAttribute("..organisation")
    )
    priority = 3
    reason = "isolated"
    joined_on = factory.LazyFunction(date.today)
    status = "waiting"
