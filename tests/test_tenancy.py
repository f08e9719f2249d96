"""One way to see across organisations: ``unscoped()`` (and ``scoped_to()`` for a block of
work in one organisation) give the scope back afterwards, whatever happens inside."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from inclusion.extensions import db
from inclusion.residents.models import Resident
from inclusion.tenancy import current_scope, scope_session, scoped_to, unscoped
from tests.factories import ResidentFactory


def test_unscoped_sees_every_organisation_and_gives_the_scope_back(db, org, other_org):
    ours, theirs = ResidentFactory(organisation=org), ResidentFactory(organisation=other_org)
    db.session.flush()
    scope_session(db.session, org.id)
    try:
        assert db.session.scalars(select(Resident.id)).all() == [ours.id]
        with unscoped():
            assert set(db.session.scalars(select(Resident.id))) == {ours.id, theirs.id}
        assert current_scope(db.session) == org.id
        with pytest.raises(RuntimeError), unscoped():
            raise RuntimeError("a refusal inside")
        assert db.session.scalars(select(Resident.id)).all() == [ours.id]
    finally:
        scope_session(db.session, None)


def test_scoped_to_scopes_a_block_and_restores_what_was_there(db, org, other_org):
    ResidentFactory(organisation=org)
    theirs = ResidentFactory(organisation=other_org)
    db.session.flush()
    with scoped_to(other_org.id):
        assert db.session.scalars(select(Resident.id)).all() == [theirs.id]
        with scoped_to(org.id):
            assert current_scope(db.session) == org.id
        assert current_scope(db.session) == other_org.id
    assert current_scope(db.session) is None


def test_a_receipt_link_opens_for_staff_of_another_organisation(other_coordinator, org):
    from tests.factories import DonationFactory

    donation = DonationFactory(organisation=org)
    db.session.commit()
    response = other_coordinator.get(f"/donate/receipts/{donation.receipt_token}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
