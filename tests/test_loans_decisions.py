"""Lending never does the wrong thing quietly: data only by a decision and only when it fits,
a return or end says what became of the data, a device that cannot be lent says why, and a
closed case is offered nothing. On both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from devices.loans import service
from devices.loans.models import BUNDLES_FOR_DEVICE, DataBundle, Loan, WaitingListEntry
from devices.models import Device, DeviceStatusChange
from inclusion.audit import AuditEvent
from inclusion.clock import now, today
from inclusion.errors import RuleBroken
from inclusion.extensions import db
from tests.conftest import BACKENDS, row_counts
from tests.factories import (
    DataBundleFactory,
    DeviceFactory,
    LoanFactory,
    ResidentFactory,
    WaitingListEntryFactory,
)

ALL_KINDS = ("sim", "esim", "voucher", "hotspot_topup")


def _lend_data(who, **overrides):
    data = {
        "resident": who.reference,
        "due_on": (today() + timedelta(days=56)).isoformat(),
        "bundle": "",
        "agreement_method": "paper",
        "notes": "",
    }
    data.update(overrides)
    return data


def _closed(org, **kw):
    return ResidentFactory(organisation=org, status="closed", outcome="goals_met", **kw)


# ---- a data bundle only by a decision, and only one that fits ---------------------------


@pytest.mark.parametrize(
    "device_kind, offered",
    [
        ("hotspot", {"hotspot_topup", "sim"}),
        ("laptop", {"voucher"}),
        ("chromebook", {"voucher"}),
        ("tablet", {"sim", "esim", "voucher"}),
        ("smartphone", {"sim", "esim", "voucher"}),
    ],
)
def test_the_lend_form_offers_only_bundles_that_fit_and_chooses_none(
    coordinator, org, device_kind, offered
):
    device = DeviceFactory(organisation=org, kind=device_kind)
    bundles = {kind: DataBundleFactory(organisation=org, kind=kind) for kind in ALL_KINDS}
    page = coordinator.get(f"/devices/{device.asset_tag}/lend").get_data(as_text=True)
    shown = {kind for kind, b in bundles.items() if f'value="{b.id}"' in page}
    assert shown == offered == set(BUNDLES_FOR_DEVICE[device_kind])
    select_html = page.split('name="bundle"')[1].split("</select>")[0]
    assert "selected" in select_html.split("No data bundle")[0]  # "No data bundle" is chosen
    assert select_html.count("selected") == 1


def test_the_lend_form_suggests_data_only_when_the_resident_needs_it(coordinator, org):
    device = DeviceFactory(organisation=org, kind="tablet")
    bundle = DataBundleFactory(organisation=org, kind="sim", network="Three")
    needs = ResidentFactory(organisation=org, needs_data=True, first_name="Nadia")
    page = coordinator.get(f"/devices/{device.asset_tag}/lend?resident={needs.reference}").get_data(
        as_text=True
    )
    assert "Nadia" in page and "needs include data" in page and bundle.reference in page
    assert f'value="{bundle.id}" selected' not in page  # suggested, not chosen

    no_need = ResidentFactory(organisation=org, needs_data=False)
    page = coordinator.get(
        f"/devices/{device.asset_tag}/lend?resident={no_need.reference}"
    ).get_data(as_text=True)
    assert "needs include data" not in page


def test_lend_device_refuses_a_bundle_that_does_not_fit(db, org):
    laptop = DeviceFactory(organisation=org, kind="laptop")
    sim = DataBundleFactory(organisation=org, kind="sim")
    before = row_counts(Loan, AuditEvent, DeviceStatusChange)
    with pytest.raises(RuleBroken, match="does not fit a laptop") as refused:
        service.lend_device(
            laptop,
            ResidentFactory(organisation=org),
            due_on=today() + timedelta(days=7),
            agreement_method="paper",
            bundle=sim,
        )
    assert refused.value.field == "bundle"
    assert row_counts(Loan, AuditEvent, DeviceStatusChange) == before


def test_a_misfit_bundle_posted_to_the_lend_form_changes_nothing(coordinator, org):
    """A hotspot top-up tops up a hotspot, not a laptop."""
    laptop = DeviceFactory(organisation=org, kind="laptop")
    sim = DataBundleFactory(organisation=org, kind="hotspot_topup")
    resident = ResidentFactory(organisation=org)
    before = row_counts(Loan, DataBundle, AuditEvent, DeviceStatusChange)
    response = coordinator.post(
        f"/devices/{laptop.asset_tag}/lend", data=_lend_data(resident, bundle=str(sim.id))
    )
    assert response.status_code == 422 and 'id="bundle-error"' in response.get_data(as_text=True)
    assert row_counts(Loan, DataBundle, AuditEvent, DeviceStatusChange) == before
    assert db.session.get(DataBundle, sim.id).status == "in_stock"


# ---- a return or an end says what became of the data ----------------------------------


def _loan_with_bundle(org):
    loan = LoanFactory(organisation=org)
    bundle = DataBundleFactory(organisation=org)
    service.issue_bundle(bundle, loan.resident, loan=loan)
    return loan, bundle


def _return_data(**extra):
    return {"condition": "B", "accessories_back": "", "received_by": "Cleo", **extra}


@pytest.mark.parametrize(
    "outcome, status, keeps_resident",
    [
        ("kept", "issued", True),
        ("returned_unused", "in_stock", False),
        ("cancelled", "cancelled", True),
    ],
)
def test_a_return_asks_about_the_bundle_and_its_status_follows(
    coordinator, org, outcome, status, keeps_resident
):
    loan, bundle = _loan_with_bundle(org)
    tag = loan.device.asset_tag
    form = coordinator.get(f"/devices/{tag}/return").get_data(as_text=True)
    assert 'name="bundle_outcome"' in form and bundle.reference in form

    response = coordinator.post(f"/devices/{tag}/return", data=_return_data(bundle_outcome=outcome))
    assert response.status_code == 302
    loan = db.session.get(Loan, loan.id)
    bundle = db.session.get(DataBundle, bundle.id)
    assert loan.bundle_outcome == outcome and bundle.status == status
    assert (bundle.resident_id == loan.resident_id) is keeps_resident
    page = coordinator.get(f"/loans/{loan.reference}").get_data(as_text=True)
    assert loan.bundle_outcome_label in page


def test_a_return_without_the_bundle_decision_is_refused_and_changes_nothing(coordinator, org):
    loan, bundle = _loan_with_bundle(org)
    before = row_counts(Loan, DataBundle, AuditEvent, DeviceStatusChange)
    response = coordinator.post(f"/devices/{loan.device.asset_tag}/return", data=_return_data())
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="bundle_outcome-error"' in page and "Say what happens to the data bundle" in page
    assert row_counts(Loan, DataBundle, AuditEvent, DeviceStatusChange) == before
    assert db.session.get(Loan, loan.id).is_open
    assert db.session.get(DataBundle, bundle.id).status == "issued"


def test_a_return_without_data_does_not_ask_about_it(coordinator, org):
    loan = LoanFactory(organisation=org)
    form = coordinator.get(f"/devices/{loan.device.asset_tag}/return").get_data(as_text=True)
    assert 'name="bundle_outcome"' not in form
    response = coordinator.post(f"/devices/{loan.device.asset_tag}/return", data=_return_data())
    assert response.status_code == 302
    assert db.session.get(Loan, loan.id).bundle_outcome is None


@pytest.mark.parametrize("end_kind", ["gifted", "lost", "not_returned"])
def test_ending_a_loan_another_way_asks_about_the_bundle_too(coordinator, org, end_kind):
    loan, bundle = _loan_with_bundle(org)
    form = coordinator.get(f"/loans/{loan.reference}/end").get_data(as_text=True)
    assert 'name="bundle_outcome"' in form
    before = row_counts(Loan, DataBundle, AuditEvent, DeviceStatusChange)
    refused = coordinator.post(
        f"/loans/{loan.reference}/end", data={"end_kind": end_kind, "note": "Told us"}
    )
    assert refused.status_code == 422 and 'id="bundle_outcome-error"' in refused.get_data(
        as_text=True
    )
    assert row_counts(Loan, DataBundle, AuditEvent, DeviceStatusChange) == before
    response = coordinator.post(
        f"/loans/{loan.reference}/end",
        data={"end_kind": end_kind, "note": "Told us", "bundle_outcome": "cancelled"},
    )
    assert response.status_code == 302
    assert db.session.get(DataBundle, bundle.id).status == "cancelled"
    assert db.session.get(Loan, loan.id).bundle_outcome == "cancelled"


def test_no_ended_loan_leaves_a_bundle_issued_without_a_decision(db, org):
    """Whatever way a loan ends, the services refuse to leave its data silently issued."""
    for end in (
        lambda loan: service.return_device(loan, condition="B", received_by="Cleo"),
        lambda loan: service.end_loan(loan, "gifted"),
        lambda loan: service.end_loan(loan, "lost", note="On the bus"),
    ):
        loan, _ = _loan_with_bundle(org)
        with pytest.raises(RuleBroken, match="Say what happens to the data bundle"):
            end(loan)
        assert db.session.get(Loan, loan.id).is_open
    silently_issued = db.session.scalars(
        select(DataBundle)
        .join(Loan, DataBundle.loan_id == Loan.id)
        .where(
            DataBundle.status == "issued",
            Loan.ended_at.is_not(None),
            Loan.bundle_outcome.is_(None),
        )
    ).all()
    assert silently_issued == []


def test_a_bundle_returned_unused_can_be_lent_again(db, org):
    loan, bundle = _loan_with_bundle(org)
    service.return_device(loan, condition="B", received_by="Cleo", bundle_outcome="returned_unused")
    again = service.lend_device(
        DeviceFactory(organisation=org),
        ResidentFactory(organisation=org),
        due_on=today() + timedelta(days=7),
        agreement_method="paper",
        bundle=db.session.get(DataBundle, bundle.id),
    )
    bundle = db.session.get(DataBundle, bundle.id)
    assert bundle.status == "issued" and bundle.loan_id == again.id


def test_the_database_refuses_to_issue_an_issued_bundle_again(db, org):
    """The schema's backstop: an issued bundle keeps its resident and its loan until it
    leaves "issued", whatever the code does."""
    loan, bundle = _loan_with_bundle(org)
    other = ResidentFactory(organisation=org)
    db.session.flush()
    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            db.session.execute(
                text("UPDATE data_bundle SET resident_id = :r WHERE id = :b"),
                {"r": other.id, "b": bundle.id},
            )
    other_loan = LoanFactory(organisation=org)
    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            db.session.execute(
                text("UPDATE data_bundle SET loan_id = :l WHERE id = :b"),
                {"l": other_loan.id, "b": bundle.id},
            )
    # correcting when it was issued stays possible
    db.session.execute(
        text("UPDATE data_bundle SET issued_at = :t WHERE id = :b"),
        {"t": now() - timedelta(days=2), "b": bundle.id},
    )


def test_the_database_knows_the_new_bundle_status_and_the_loan_decision(db, org):
    bundle = DataBundleFactory(organisation=org)
    db.session.execute(
        text("UPDATE data_bundle SET status = 'cancelled' WHERE id = :b"), {"b": bundle.id}
    )
    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            db.session.execute(
                text("UPDATE data_bundle SET status = 'mislaid' WHERE id = :b"), {"b": bundle.id}
            )
    loan = LoanFactory(organisation=org)
    with pytest.raises(IntegrityError):  # an open loan has no decision about its data yet
        with db.session.begin_nested():
            db.session.execute(
                text("UPDATE loan SET bundle_outcome = 'kept' WHERE id = :l"), {"l": loan.id}
            )


# ---- a device that cannot be lent says why and what next ---------------------------------


@pytest.mark.parametrize(
    "status, reason, next_link",
    [
        ("awaiting_wipe", "needs a wipe recorded first", "/wipe"),
        ("received", "needs a wipe recorded first", "/wipe"),
        ("in_repair", "is in repair", "/wipe"),
        ("lost", "mark it returned", None),
        ("retired", "has left the stock", "/devices?status=ready"),
        ("gifted", "has left the stock", "/devices?status=ready"),
    ],
)
def test_the_lend_page_of_a_device_that_is_not_ready_says_why_and_what_next(
    coordinator, org, status, reason, next_link
):
    device = DeviceFactory(organisation=org, status=status)
    response = coordinator.get(f"/devices/{device.asset_tag}/lend")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'name="agreement_method"' not in page and "cannot be lent now" in page
    assert reason in page
    if next_link:
        assert next_link in page


def test_posting_a_lend_for_a_device_that_is_not_ready_shows_why_and_changes_nothing(
    coordinator, org
):
    device = DeviceFactory(organisation=org, status="awaiting_wipe")
    resident = ResidentFactory(organisation=org)
    before = row_counts(Loan, AuditEvent, DeviceStatusChange)
    response = coordinator.post(f"/devices/{device.asset_tag}/lend", data=_lend_data(resident))
    assert response.status_code == 409
    assert f"/devices/{device.asset_tag}/wipe" in response.get_data(as_text=True)
    assert row_counts(Loan, AuditEvent, DeviceStatusChange) == before


# ---- closed cases get nothing from the device side --------------------------------------


def test_the_waiting_list_and_the_lend_suggestion_leave_out_closed_cases(coordinator, org):
    closed = WaitingListEntryFactory(
        organisation=org, resident=_closed(org, first_name="Clara"), priority=1
    )
    open_entry = WaitingListEntryFactory(organisation=org, priority=3)
    listing = coordinator.get("/waiting-list").get_data(as_text=True)
    assert open_entry.resident.full_name in listing
    assert closed.resident.full_name not in listing
    device = DeviceFactory(organisation=org)
    page = coordinator.get(f"/devices/{device.asset_tag}/lend").get_data(as_text=True)
    assert closed.resident.reference not in page  # neither suggested nor pre-filled
    assert open_entry.resident.reference in page
    assert service.suggest_resident(device).id == open_entry.id


def test_a_closed_case_cannot_join_the_waiting_list(coordinator, org):
    resident = _closed(org, needs_device=True)
    before = row_counts(WaitingListEntry, AuditEvent)
    response = coordinator.post(
        "/waiting-list/new",
        data={"resident": resident.reference, "priority": "1", "reason": "isolated"},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "is closed: re-open it as a new referral" in page and 'id="resident-error"' in page
    assert row_counts(WaitingListEntry, AuditEvent) == before


def test_a_closed_case_cannot_borrow_a_device(coordinator, org):
    device = DeviceFactory(organisation=org)
    resident = _closed(org)
    before = row_counts(Loan, AuditEvent, DeviceStatusChange)
    response = coordinator.post(f"/devices/{device.asset_tag}/lend", data=_lend_data(resident))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "is closed: re-open it as a new referral" in page and 'id="resident-error"' in page
    assert row_counts(Loan, AuditEvent, DeviceStatusChange) == before
    assert db.session.get(Device, device.id).status == "ready"


def test_a_closed_case_is_not_given_data_on_its_own(coordinator, org):
    bundle = DataBundleFactory(organisation=org)
    resident = _closed(org)
    response = coordinator.post(
        f"/bundles/{bundle.id}/issue", data={"resident": resident.reference}
    )
    assert (
        response.status_code == 422
        and "is closed: re-open it as a new referral" in response.get_data(as_text=True)
    )
    assert db.session.get(DataBundle, bundle.id).status == "in_stock"


def test_the_case_status_shows_wherever_a_resident_is_chosen(coordinator, org):
    closed = _closed(org, first_name="Clara", last_name="Shut")
    open_one = ResidentFactory(organisation=org, first_name="Clara", last_name="Open")
    device = DeviceFactory(organisation=org)
    # the lend form's list of matches
    response = coordinator.post(
        f"/devices/{device.asset_tag}/lend", data=_lend_data(closed, resident="Clara")
    )
    page = response.get_data(as_text=True)
    assert "tag-closed" in page and "tag-referred" in page
    # a chosen resident on the waiting-list and data forms
    for url in ("/waiting-list/new", f"/bundles/{DataBundleFactory(organisation=org).id}/issue"):
        page = coordinator.get(f"{url}?resident={closed.reference}").get_data(as_text=True)
        assert 'id="chosen-resident"' in page and "tag-closed" in page
    # the type-ahead
    rows = coordinator.get("/loans/residents.json?q=clara").get_json()
    labels = {r["reference"]: r["label"] for r in rows}
    assert "closed" in labels[closed.reference].lower()
    assert "closed" not in labels[open_one.reference].lower()
    # the waiting list
    WaitingListEntryFactory(organisation=org, resident=open_one)
    assert "tag-referred" in coordinator.get("/waiting-list").get_data(as_text=True)


def _before(revision: str) -> str:
    """The revision a migration follows (wherever the chain puts it)."""
    from pathlib import Path

    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent.parent / "migrations"))
    return ScriptDirectory.from_config(config).get_revision(revision).down_revision


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_migration_records_the_old_rule_for_loans_that_ended_before_it(make_database, backend):
    """Loans returned before the return form asked about data left it with the resident:
    upgrading records "kept" for them, so no ended loan has an undecided issued bundle."""
    from inclusion import create_app

    app = create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": make_database(backend)})
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "heads"]).exit_code == 0
    assert runner.invoke(args=["inclusion", "demo"]).exit_code == 0
    undecided = (
        "SELECT count(*) FROM loan JOIN data_bundle ON data_bundle.loan_id = loan.id "
        "WHERE loan.ended_at IS NOT NULL AND data_bundle.status = 'issued' "
        "AND loan.bundle_outcome IS NULL"
    )
    down = runner.invoke(args=["db", "downgrade", _before("lending_0001")])
    assert down.exit_code == 0, down.output
    # as the old code left it: a returned loan whose SIM is still issued to the resident
    with app.app_context(), db.engine.begin() as conn:
        loan_id, resident_id = conn.exec_driver_sql(
            "SELECT id, resident_id FROM loan WHERE ended_at IS NOT NULL ORDER BY id"
        ).first()
        bundle_id = conn.exec_driver_sql(
            "SELECT id FROM data_bundle WHERE status = 'in_stock' ORDER BY id"
        ).scalar()
        conn.execute(
            text(
                "UPDATE data_bundle SET status = 'issued', resident_id = :r, loan_id = :l, "
                "issued_at = :t, expires_on = :d WHERE id = :b"
            ),
            {"r": resident_id, "l": loan_id, "t": now(), "d": today(), "b": bundle_id},
        )
    up = runner.invoke(args=["db", "upgrade", "heads"])
    assert up.exit_code == 0, up.output
    with app.app_context(), db.engine.connect() as conn:
        assert conn.exec_driver_sql(undecided).scalar() == 0
        outcome = conn.execute(
            text("SELECT bundle_outcome FROM loan WHERE id = :l"), {"l": loan_id}
        ).scalar()
        assert outcome == "kept"
        db.engine.dispose()
