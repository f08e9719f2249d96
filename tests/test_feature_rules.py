"""Feature rules are defined once: "a loan is open" works in Python and in SQL alike, and the
bundle limits the form shows are the ones the service and the schema enforce."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from devices.loans import service
from devices.loans.forms import EndLoanForm
from devices.loans.models import (
    ENDS_WITHOUT_RETURN,
    LOST_END_KINDS,
    MAX_ALLOWANCE_GB,
    VALIDITY_DAYS,
    DataBundle,
    Loan,
)
from inclusion.errors import RuleBroken
from tests.factories import LoanFactory


def test_a_loan_is_open_in_python_and_in_sql(db, org):
    open_loan = LoanFactory(organisation=org)
    ended = LoanFactory(organisation=org, ended_at=datetime(2026, 1, 5), end_kind="returned")
    db.session.flush()

    assert open_loan.is_open and not ended.is_open
    assert db.session.scalars(select(Loan.id).where(Loan.is_open)).all() == [open_loan.id]
    assert db.session.scalars(select(Loan.id).where(~Loan.is_open)).all() == [ended.id]


def test_the_end_loan_form_offers_what_the_service_accepts(app, db, org):
    with app.test_request_context():
        offered = [value for value, _ in EndLoanForm(meta={"csrf": False}).end_kind.choices]
    assert tuple(offered) == ENDS_WITHOUT_RETURN and "returned" not in offered
    assert set(LOST_END_KINDS) <= set(ENDS_WITHOUT_RETURN)
    loan = LoanFactory(organisation=org)
    with pytest.raises(RuleBroken):
        service.end_loan(loan, "returned")  # a return goes through return_device


def _bundle(**overrides):
    data = dict(
        reference="89441000300012345678",
        kind="sim",
        network="Vodafone",
        allowance_gb="20",
        validity_days="30",
        source="national_scheme",
    )
    return {**data, **overrides}


@pytest.mark.parametrize(
    "field, too_much",
    [("allowance_gb", MAX_ALLOWANCE_GB + 1), ("validity_days", VALIDITY_DAYS[1] + 1)],
)
def test_the_bundle_limits_are_the_same_in_form_service_and_schema(
    coordinator, db, org, field, too_much
):
    page = coordinator.post("/bundles/new", data=_bundle(**{field: str(too_much)}))
    assert page.status_code == 422 and f'id="{field}-error"' in page.get_data(as_text=True)

    with pytest.raises(RuleBroken) as refused:
        service.add_bundle(org.id, _bundle(**{field: str(too_much)}))
    assert refused.value.field == field

    at_limit = {"allowance_gb": MAX_ALLOWANCE_GB, "validity_days": VALIDITY_DAYS[1]}[field]
    assert service.add_bundle(org.id, _bundle(**{field: str(at_limit)})).status == "in_stock"

    row = dict(
        organisation_id=org.id,
        reference="BN-OVER",
        kind="voucher",
        network="EE",
        allowance_gb=20,
        validity_days=30,
        source="purchase",
        status="in_stock",
        notes="",
    )
    row[field] = too_much
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.execute(insert(DataBundle.__table__), [row])
