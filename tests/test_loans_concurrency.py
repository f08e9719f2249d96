"""Two desks at the same moment, on two real PostgreSQL connections (``pg_two_sessions``;
these tests are generated for PostgreSQL only).

Each desk reads what its page showed, waits until the other desk has read too, then acts:
without locks both would decide on the same stale rows. Exactly one may win; the other
gets a clear message and leaves nothing half-done.
"""

from __future__ import annotations

import time
from datetime import timedelta
from types import SimpleNamespace

from sqlalchemy import func, select

from devices.loans import service
from devices.loans.models import DataBundle, Loan, LoanExtension, WaitingListEntry
from devices.models import Device, DeviceStatusChange
from devices.service import change_device_status
from inclusion.accounts.models import User
from inclusion.audit import AuditEvent
from inclusion.clock import today
from inclusion.extensions import db
from inclusion.residents import service as residents
from inclusion.residents.models import Resident
from tests.factories import (
    DataBundleFactory,
    DeviceFactory,
    LoanFactory,
    OrganisationFactory,
    ResidentFactory,
    UserFactory,
    WaitingListEntryFactory,
)


def _lend(device_id: int, resident_id: int, bundle_id: int | None = None):
    """A desk lending a device (with a bundle) as the lend form would, from what it read."""

    def desk(ready):
        device = db.session.get(Device, device_id)
        resident = db.session.get(Resident, resident_id)
        bundle = db.session.get(DataBundle, bundle_id) if bundle_id else None
        assert device.status == "ready" and (bundle is None or bundle.status == "in_stock")
        ready()
        service.lend_device(
            device,
            resident,
            due_on=today() + timedelta(days=28),
            agreement_method="paper",
            bundle=bundle,
        )

    return desk


def _second(ready) -> None:
    """Wait with the other desk, then let it start first: without a lock this desk would
    overwrite what the other just did (with one, it waits and sees it)."""
    ready()
    time.sleep(0.3)


def _history_is_a_chain(session, device_id: int) -> bool:
    """Each status change starts where the previous one ended: no move decided on a stale row."""
    steps = session.scalars(
        select(DeviceStatusChange)
        .where(DeviceStatusChange.device_id == device_id)
        .order_by(DeviceStatusChange.at, DeviceStatusChange.id)
    ).all()
    return all(b.from_status == a.to_status for a, b in zip(steps, steps[1:], strict=False))


def _one_winner(outcomes: list[str], refusal: str) -> int:
    assert sorted(outcomes, key=lambda o: o != "done") == ["done", refusal], outcomes
    return outcomes.index("done")


def test_two_concurrent_lends_make_exactly_one_loan(pg_two_sessions):
    with pg_two_sessions.committed():
        org = OrganisationFactory()
        device = DeviceFactory(organisation=org)
        residents = [ResidentFactory(organisation=org) for _ in range(2)]
        ids = SimpleNamespace(
            device=device.id, tag=device.asset_tag, residents=[r.id for r in residents]
        )

    outcomes = pg_two_sessions.race(*(_lend(ids.device, r) for r in ids.residents))

    _one_winner(outcomes, f"{ids.tag} is already on loan. Return it first.")
    with pg_two_sessions.reading() as session:
        loans = session.scalar(
            select(func.count()).select_from(Loan).where(Loan.device_id == ids.device)
        )
        assert loans == 1
        assert session.get(Device, ids.device).status == "on_loan"


def test_two_lends_of_different_devices_with_the_same_bundle_issue_it_once(pg_two_sessions):
    with pg_two_sessions.committed():
        org = OrganisationFactory()
        devices = [DeviceFactory(organisation=org) for _ in range(2)]
        residents = [ResidentFactory(organisation=org) for _ in range(2)]
        bundle = DataBundleFactory(organisation=org)
        ids = SimpleNamespace(
            devices=[d.id for d in devices],
            residents=[r.id for r in residents],
            bundle=bundle.id,
            reference=bundle.reference,
        )

    outcomes = pg_two_sessions.race(
        *(_lend(d, r, ids.bundle) for d, r in zip(ids.devices, ids.residents, strict=True))
    )

    winner = _one_winner(
        outcomes,
        f"Bundle {ids.reference} is not in stock any more: it has just been issued or "
        "withdrawn. Choose another bundle.",
    )
    loser = 1 - winner
    with pg_two_sessions.reading() as session:
        loan = session.scalars(select(Loan).where(Loan.device_id.in_(ids.devices))).one()
        assert loan.device_id == ids.devices[winner]
        bundle = session.get(DataBundle, ids.bundle)
        assert bundle.status == "issued" and bundle.loan_id == loan.id
        assert bundle.resident_id == ids.residents[winner]
        # nothing partial at the losing desk: its device is still ready, with no new history
        assert session.get(Device, ids.devices[loser]).status == "ready"
        moves = session.scalar(
            select(func.count())
            .select_from(DeviceStatusChange)
            .where(DeviceStatusChange.device_id == ids.devices[loser])
        )
        assert moves == 1  # only its first status
        issued = session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "data_bundle.issued", AuditEvent.entity_id == ids.bundle)
        )
        assert issued == 1


def test_data_issued_on_its_own_while_a_desk_lends_it_goes_out_once(pg_two_sessions):
    with pg_two_sessions.committed():
        org = OrganisationFactory()
        device = DeviceFactory(organisation=org)
        borrower, other = ResidentFactory(organisation=org), ResidentFactory(organisation=org)
        bundle = DataBundleFactory(organisation=org)
        ids = SimpleNamespace(
            device=device.id, borrower=borrower.id, other=other.id, bundle=bundle.id
        )
        reference = bundle.reference

    def issue_alone(ready):
        bundle = db.session.get(DataBundle, ids.bundle)
        resident = db.session.get(Resident, ids.other)
        assert bundle.status == "in_stock"
        _second(ready)
        service.issue_bundle(bundle, resident)

    outcomes = pg_two_sessions.race(_lend(ids.device, ids.borrower, ids.bundle), issue_alone)

    winner = _one_winner(
        outcomes,
        f"Bundle {reference} is not in stock any more: it has just been issued or "
        "withdrawn. Choose another bundle.",
    )
    with pg_two_sessions.reading() as session:
        bundle = session.get(DataBundle, ids.bundle)
        loans = session.scalars(select(Loan).where(Loan.device_id == ids.device)).all()
        if winner == 0:  # the lend won: the loan has the bundle
            assert len(loans) == 1 and bundle.loan_id == loans[0].id
            assert bundle.resident_id == ids.borrower
        else:  # the data went out on its own; the lend left nothing behind
            assert loans == [] and session.get(Device, ids.device).status == "ready"
            assert bundle.resident_id == ids.other and bundle.loan_id is None


def test_a_lend_and_a_move_to_repair_at_once_never_leave_a_loan_on_a_device_in_repair(
    pg_two_sessions,
):
    with pg_two_sessions.committed():
        org = OrganisationFactory()
        device = DeviceFactory(organisation=org)
        resident = ResidentFactory(organisation=org)
        ids = SimpleNamespace(device=device.id, resident=resident.id, tag=device.asset_tag)

    def to_repair(ready):
        device = db.session.get(Device, ids.device)
        assert device.status == "ready"  # what the status form offered from
        _second(ready)
        change_device_status(device, "in_repair", note="Screen flickers")

    outcomes = pg_two_sessions.race(_lend(ids.device, ids.resident), to_repair)

    with pg_two_sessions.reading() as session:
        device = session.get(Device, ids.device)
        open_loans = session.scalars(
            select(Loan).where(Loan.device_id == ids.device, Loan.ended_at.is_(None))
        ).all()
        if outcomes[0] == "done":
            assert outcomes[1] == f"{ids.tag} is on loan: return it or end its loan first."
            assert device.status == "on_loan" and len(open_loans) == 1
        else:
            assert outcomes == [
                f"{ids.tag} is in repair, not ready to lend. When it is repaired, record a wipe.",
                "done",
            ]
            assert device.status == "in_repair" and open_loans == []
        assert _history_is_a_chain(session, ids.device)


def test_a_lend_and_a_hand_move_to_gifted_at_once_keep_loan_and_status_together(
    pg_two_sessions,
):
    """The status form offered "gifted" for a ready device; a lend got there first."""
    with pg_two_sessions.committed():
        org = OrganisationFactory()
        device = DeviceFactory(organisation=org)
        resident = ResidentFactory(organisation=org)
        ids = SimpleNamespace(device=device.id, resident=resident.id)

    def to_gifted(ready):
        device = db.session.get(Device, ids.device)
        assert device.status == "ready"
        _second(ready)
        change_device_status(device, "gifted", note="Given to the church")

    outcomes = pg_two_sessions.race(_lend(ids.device, ids.resident), to_gifted)

    assert outcomes.count("done") == 1, outcomes
    with pg_two_sessions.reading() as session:
        device = session.get(Device, ids.device)
        open_loans = session.scalars(
            select(Loan).where(Loan.device_id == ids.device, Loan.ended_at.is_(None))
        ).all()
        assert (device.status == "on_loan") == (len(open_loans) == 1)
        assert _history_is_a_chain(session, ids.device)


def test_a_return_and_a_gift_of_one_loan_at_once_end_it_once(pg_two_sessions):
    with pg_two_sessions.committed():
        org = OrganisationFactory()
        user = UserFactory(organisation=org)
        loan = LoanFactory(organisation=org)
        ids = SimpleNamespace(loan=loan.id, device=loan.device_id, user=user.id)

    def give_back(ready):
        loan = db.session.get(Loan, ids.loan)
        assert loan.is_open
        ready()
        service.return_device(loan, condition="B", received_by="Cleo")

    def gift(ready):
        loan = db.session.get(Loan, ids.loan)
        assert loan.is_open
        _second(ready)
        service.end_loan(loan, "gifted", note="Kept it for good")

    outcomes = pg_two_sessions.race(give_back, gift)

    assert sorted(outcomes) == sorted(["done", "This loan has already ended."]), outcomes
    with pg_two_sessions.reading() as session:
        loan = session.get(Loan, ids.loan)
        device = session.get(Device, ids.device)
        if outcomes[0] == "done":
            assert loan.end_kind == "returned" and device.status == "awaiting_wipe"
        else:
            assert loan.end_kind == "gifted" and device.status == "gifted"
        ends = session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(
                AuditEvent.entity_type == "Loan",
                AuditEvent.entity_id == ids.loan,
                AuditEvent.action.in_(("loan.returned", "loan.ended")),
            )
        )
        assert ends == 1
        assert _history_is_a_chain(session, ids.device)


def test_a_return_and_a_loss_of_one_loan_at_once_end_it_once(pg_two_sessions):
    with pg_two_sessions.committed():
        org = OrganisationFactory()
        loan = LoanFactory(organisation=org)
        ids = SimpleNamespace(loan=loan.id, device=loan.device_id)

    def give_back(ready):
        loan = db.session.get(Loan, ids.loan)
        ready()
        service.return_device(loan, condition="C", received_by="Cleo")

    def lose(ready):
        loan = db.session.get(Loan, ids.loan)
        _second(ready)
        service.end_loan(loan, "lost", note="Left on the bus")

    outcomes = pg_two_sessions.race(give_back, lose)

    assert sorted(outcomes) == sorted(["done", "This loan has already ended."]), outcomes
    with pg_two_sessions.reading() as session:
        device = session.get(Device, ids.device)
        assert device.status == ("awaiting_wipe" if outcomes[0] == "done" else "lost")
        assert _history_is_a_chain(session, ids.device)


def test_a_case_closed_while_a_desk_lends_to_it_gets_no_device(pg_two_sessions):
    """The case is closed at one desk while another desk, whose page still showed it open,
    lends it a device: the lend waits for the close and is refused."""
    with pg_two_sessions.committed():
        org = OrganisationFactory()
        user = UserFactory(organisation=org)
        device = DeviceFactory(organisation=org)
        resident = ResidentFactory(organisation=org)
        ids = SimpleNamespace(
            device=device.id, resident=resident.id, user=user.id, ref=resident.reference
        )
        name = resident.full_name

    def close(ready):
        resident = db.session.get(Resident, ids.resident)
        by = db.session.get(User, ids.user)
        ready()
        residents.change_status(resident, "closed", by=by, outcome="goals_met")
        time.sleep(0.5)  # still closing when the lend arrives

    def lend(ready):
        device = db.session.get(Device, ids.device)
        resident = db.session.get(Resident, ids.resident)
        assert resident.status != "closed"  # what the lend page showed
        _second(ready)
        service.lend_device(
            device, resident, due_on=today() + timedelta(days=28), agreement_method="paper"
        )

    outcomes = pg_two_sessions.race(close, lend)

    assert outcomes == [
        "done",
        f"{name}'s case ({ids.ref}) is closed: re-open it as a new referral first.",
    ], outcomes
    with pg_two_sessions.reading() as session:
        assert session.scalars(select(Loan).where(Loan.device_id == ids.device)).all() == []
        assert session.get(Device, ids.device).status == "ready"


def test_an_extension_racing_a_return_of_the_loan_is_refused_on_the_ended_loan(pg_two_sessions):
    """The extend page showed the loan open; a return at another desk got there first: the
    extension waits for the return, then sees the loan has ended and leaves no extension."""
    with pg_two_sessions.committed():
        org = OrganisationFactory()
        loan = LoanFactory(organisation=org, due_on=today() + timedelta(days=14))
        ids = SimpleNamespace(loan=loan.id, device=loan.device_id)
        due_on = loan.due_on

    def give_back(ready):
        loan = db.session.get(Loan, ids.loan)
        ready()
        service.return_device(loan, condition="B", received_by="Cleo")
        time.sleep(0.5)  # still returning when the extension arrives

    def extend(ready):
        loan = db.session.get(Loan, ids.loan)
        assert loan.is_open  # what the extend page showed
        _second(ready)
        service.extend_loan(loan, today() + timedelta(days=30), reason="Exams")

    outcomes = pg_two_sessions.race(give_back, extend)

    assert outcomes == ["done", "This loan has ended."], outcomes
    with pg_two_sessions.reading() as session:
        loan = session.get(Loan, ids.loan)
        assert loan.end_kind == "returned" and loan.due_on == due_on
        assert (
            session.scalars(select(LoanExtension).where(LoanExtension.loan_id == ids.loan)).all()
            == []
        )
        extended = session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "loan.extended", AuditEvent.entity_id == ids.loan)
        )
        assert extended == 0


def test_two_extensions_of_one_loan_at_once_each_start_from_the_date_the_other_left(
    pg_two_sessions,
):
    """Two desks extend the same loan from the same page: the second waits, and its earlier
    date is refused instead of moving the due date back."""
    with pg_two_sessions.committed():
        org = OrganisationFactory()
        loan = LoanFactory(organisation=org, due_on=today() + timedelta(days=14))
        ids = SimpleNamespace(loan=loan.id)
        first_due = loan.due_on

    def extend(days, wait):
        def desk(ready):
            loan = db.session.get(Loan, ids.loan)
            assert loan.due_on == first_due
            wait(ready)
            service.extend_loan(loan, today() + timedelta(days=days))
            if wait is not _second:
                time.sleep(0.5)  # still extending when the other desk arrives

        return desk

    outcomes = pg_two_sessions.race(extend(60, lambda ready: ready()), extend(30, _second))

    later = today() + timedelta(days=60)
    assert outcomes == ["done", f"Choose a date after the current due date ({later:%d %b %Y})."]
    with pg_two_sessions.reading() as session:
        assert session.get(Loan, ids.loan).due_on == later
        extensions = session.scalars(
            select(LoanExtension).where(LoanExtension.loan_id == ids.loan)
        ).all()
        assert [(e.previous_due_on, e.new_due_on) for e in extensions] == [(first_due, later)]


def _issued_with_loan(org, *, expired: bool = False):
    """An open loan whose SIM was issued with it (already past its expiry, if asked)."""
    loan = LoanFactory(organisation=org)
    bundle = DataBundleFactory(organisation=org)
    service.issue_bundle(bundle, loan.resident, loan=loan)
    if expired:
        bundle.expires_on = today() - timedelta(days=1)
    return loan, bundle


def test_a_bundle_handed_back_while_the_expiry_run_goes_stays_in_stock(pg_two_sessions):
    """A return puts the loan's SIM back in stock ("returned unused") while the expiry run,
    which read it as issued and past its date, goes through the bundles: it waits and
    leaves the bundle in stock."""
    with pg_two_sessions.committed():
        org = OrganisationFactory()
        loan, bundle = _issued_with_loan(org, expired=True)
        ids = SimpleNamespace(loan=loan.id, bundle=bundle.id, org=org.id)

    def give_back(ready):
        loan = db.session.get(Loan, ids.loan)
        ready()
        service.return_device(
            loan, condition="B", received_by="Cleo", bundle_outcome="returned_unused"
        )
        time.sleep(0.5)  # still returning when the expiry run writes

    def expire(ready):
        assert db.session.get(DataBundle, ids.bundle).status == "issued"
        _second(ready)
        assert service.expire_bundles(ids.org) == 0

    outcomes = pg_two_sessions.race(give_back, expire)

    assert outcomes == ["done", "done"], outcomes
    with pg_two_sessions.reading() as session:
        bundle = session.get(DataBundle, ids.bundle)
        assert bundle.status == "in_stock" and bundle.resident_id is None


def test_a_bundle_issued_while_another_desk_withdraws_it_stays_with_the_resident(
    pg_two_sessions,
):
    with pg_two_sessions.committed():
        org = OrganisationFactory()
        resident = ResidentFactory(organisation=org)
        bundle = DataBundleFactory(organisation=org)
        ids = SimpleNamespace(bundle=bundle.id, resident=resident.id, reference=bundle.reference)

    def issue(ready):
        bundle = db.session.get(DataBundle, ids.bundle)
        resident = db.session.get(Resident, ids.resident)
        ready()
        service.issue_bundle(bundle, resident)
        time.sleep(0.5)

    def withdraw(ready):
        bundle = db.session.get(DataBundle, ids.bundle)
        assert bundle.status == "in_stock"  # what the bundle page showed
        _second(ready)
        service.withdraw_bundle(bundle)

    outcomes = pg_two_sessions.race(issue, withdraw)

    assert outcomes == [
        "done",
        f"Bundle {ids.reference} is not in stock any more: it has just been issued or "
        "withdrawn. Choose another bundle.",
    ], outcomes
    with pg_two_sessions.reading() as session:
        bundle = session.get(DataBundle, ids.bundle)
        assert bundle.status == "issued" and bundle.resident_id == ids.resident


def test_a_resident_lent_a_device_while_another_desk_takes_them_off_the_list_stays_lent(
    pg_two_sessions,
):
    with pg_two_sessions.committed():
        org = OrganisationFactory()
        device = DeviceFactory(organisation=org)
        resident = ResidentFactory(organisation=org, needs_device=True)
        entry = WaitingListEntryFactory(organisation=org, resident=resident)
        ids = SimpleNamespace(device=device.id, resident=resident.id, entry=entry.id)

    def lend(ready):
        _lend(ids.device, ids.resident)(ready)
        time.sleep(0.5)  # still lending when the removal arrives

    def remove(ready):
        entry = db.session.get(WaitingListEntry, ids.entry)
        assert entry.status == "waiting"  # what the waiting list showed
        _second(ready)
        service.remove_from_waiting_list(entry)

    outcomes = pg_two_sessions.race(lend, remove)

    assert outcomes == [
        "done",
        "A device has just been lent to them: they are off the waiting list.",
    ], outcomes
    with pg_two_sessions.reading() as session:
        entry = session.get(WaitingListEntry, ids.entry)
        assert entry.status == "lent" and entry.loan_id is not None
