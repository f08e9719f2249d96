"""Two erasures of one resident at the same moment (a retention run and a coordinator, or
two coordinators), on two real PostgreSQL connections (``pg_two_sessions``; generated for
PostgreSQL only). Erasure locks the resident's row, so the second waits for the first and
then finds the record already anonymised: one erasure, one audit event."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from inclusion.accounts.models import User
from inclusion.audit import AuditEvent
from inclusion.dataprotection import service
from inclusion.dataprotection.models import ErasureRecord
from inclusion.extensions import db
from inclusion.residents.models import Resident
from tests.factories import OrganisationFactory, ResidentFactory, UserFactory


def test_two_erasures_of_one_resident_at_once_erase_once(pg_two_sessions):
    with pg_two_sessions.committed():
        org = OrganisationFactory()
        user = UserFactory(organisation=org, role="coordinator")
        resident = ResidentFactory(organisation=org, status="closed", outcome="goals_met")
        resident_id, user_id, reference = resident.id, user.id, resident.reference

    def erase(then, hold=0.0):
        def desk(ready):
            resident = db.session.get(Resident, resident_id)
            by = db.session.get(User, user_id)
            assert resident.anonymised_at is None  # what the erasure page showed
            then(ready)
            service.erase_resident(resident, by=by)
            time.sleep(hold)  # still erasing when the other desk arrives

        return desk

    def second(ready):
        ready()
        time.sleep(0.3)

    outcomes = pg_two_sessions.race(erase(lambda r: r(), hold=0.5), erase(second))

    assert outcomes == ["done", "This record is already anonymised."], outcomes
    with pg_two_sessions.reading() as session:
        assert session.get(Resident, resident_id).anonymised_at is not None
        erased = session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "resident.erased", AuditEvent.entity_id == resident_id)
        )
        assert erased == 1
        records = session.scalar(
            select(func.count())
            .select_from(ErasureRecord)
            .where(ErasureRecord.reference == reference)
        )
        assert records == 1


def test_an_edit_racing_an_erasure_never_writes_the_person_back(pg_two_sessions):
    """The edit page was open while another desk erased the person: saving it waits for
    the erasure, then is refused, and the record stays anonymised."""
    from inclusion.residents import service as residents

    with pg_two_sessions.committed():
        org = OrganisationFactory()
        user = UserFactory(organisation=org, role="coordinator")
        resident = ResidentFactory(organisation=org, status="closed", outcome="goals_met")
        resident_id, user_id = resident.id, user.id

    def erase(ready):
        resident = db.session.get(Resident, resident_id)
        ready()
        service.erase_resident(resident, by=db.session.get(User, user_id))
        time.sleep(0.5)  # still erasing when the edit is saved

    def edit(ready):
        resident = db.session.get(Resident, resident_id)
        by = db.session.get(User, user_id)
        assert resident.anonymised_at is None  # what the edit page showed
        ready()
        time.sleep(0.3)
        residents.update_resident(
            resident,
            {
                "first_name": "Margaret",
                "last_name": "Okafor",
                "phone": "07911 123456",
                "postcode": "WV3 0AA",
                "referral_source": resident.referral_source,
                "needs_skills": True,
            },
            consent_given=True,
            consent_method="verbal",
            by=by,
        )

    outcomes = pg_two_sessions.race(erase, edit)

    assert outcomes == ["done", "This record is anonymised: it can no longer be changed."]
    with pg_two_sessions.reading() as session:
        resident = session.get(Resident, resident_id)
        assert resident.anonymised_at is not None
        assert "Margaret" not in resident.full_name and "123456" not in (resident.phone or "")
