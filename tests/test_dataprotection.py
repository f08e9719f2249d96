"""Data protection: subject access export, erasure that keeps every count, retention, backup."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import JSON, String, Text, func, select

from buddies.models import Match
from buddies.practice.models import Checkpoint, PracticeSession
from devices.loans.models import DataBundle, Loan, LoanExtension, ReminderCall, WaitingListEntry
from inclusion.audit import AuditEvent
from inclusion.clock import now, today
from inclusion.dataprotection import service
from inclusion.errors import RuleBroken
from inclusion.extensions import db
from inclusion.reports.queries import report_figures
from inclusion.residents import service as residents
from inclusion.residents.models import Resident, StatusChange
from tests.conftest import BACKENDS, PG_URL, make_test_app, row_counts
from tests.factories import (
    BuddyProfileFactory,
    CheckpointFactory,
    DataBundleFactory,
    DeviceFactory,
    LoanFactory,
    MatchFactory,
    OrganisationFactory,
    PracticeSessionFactory,
    ResidentFactory,
    SkillTaskFactory,
    UserFactory,
    WaitingListEntryFactory,
)

# ---- a varied dataset ----------------------------------------------------------------


def _person(n: int) -> dict:
    """Names, phone and email that appear nowhere else, so a scan can look for them."""
    return dict(
        first_name=f"Zebedee{n}",
        last_name=f"Quixotic{n}",
        phone=f"+44 7700 9{n:05d}",
        email=f"zq{n}@private.example.net",
        postcode="WV3 9DU",
        area="WV3",
        date_of_birth=date(1950 + n, 1 + n % 12, 1),
        access_notes=f"Quixotic{n} uses a magnifier",
        referral_reason=f"Zebedee{n} Quixotic{n} wants to see grandchildren",
        referrer_name=f"Dr Referrer{n}",
        referrer_contact=f"surgery{n}@nhs.example.net",
        notes=f"Call Zebedee{n} after lunch on +44 7700 9{n:05d}",
    )


def _history(org, resident, coordinator, n, *, tasks, buddy):
    """Everything a supported resident accumulates: loans, data, calls, matches, sessions."""
    device = DeviceFactory(
        organisation=org, status="awaiting_wipe", notes=f"Dropped by Zebedee{n} Quixotic{n}"
    )
    loan = LoanFactory(
        organisation=org,
        resident=resident,
        device=device,
        notes=f"Quixotic{n} prefers large text",
        ended_at=now(),
        end_kind="returned",
        end_note=f"Brought back by Zebedee{n}'s son",
        received_by="Desk volunteer",
        due_on=today() + timedelta(days=10),
    )
    db.session.add(
        LoanExtension(
            organisation_id=org.id,
            loan=loan,
            previous_due_on=today(),
            new_due_on=today() + timedelta(days=10),
            reason=f"Quixotic{n} was in hospital",
        )
    )
    DataBundleFactory(
        organisation=org,
        status="expired",
        resident=resident,
        loan=loan,
        issued_at=now(),
        expires_on=today() - timedelta(days=1),
        allowance_gb=10 + n,
        notes=f"Handed to Zebedee{n}",
    )
    WaitingListEntryFactory(
        organisation=org, resident=resident, status="lent", note=f"Quixotic{n} lives alone"
    )
    db.session.add(
        ReminderCall(
            organisation_id=org.id,
            resident=resident,
            outcome="spoke_returning",
            note=f"Spoke to Zebedee{n}",
            called_by_id=coordinator.id,
        )
    )
    match = MatchFactory(
        organisation=org,
        resident=resident,
        buddy=buddy,
        status="ended",
        ended_at=now(),
        end_reason="goals_met",
        end_note=f"Zebedee{n} is confident now",
    )
    for k in range(2):
        session = PracticeSessionFactory(
            match=match,
            minutes=30 + 15 * k,
            place=f"{n} Quixotic Road",
            notes=f"Zebedee{n} did well",
            next_steps=f"Quixotic{n} to practise",
            mode="home" if k else "phone",
            safeguarding_concern=bool(k),
            safeguarding_description=f"Zebedee{n} mentioned a scam call" if k else "",
            safeguarding_action="Reported to the hub" if k else "",
            safeguarding_actioned_at=now() if k else None,
        )
        for task, level in zip(tasks, (1 + k, 2 + k, 3 + k), strict=True):
            CheckpointFactory(
                session=session, organisation=org, resident=resident, task=task, level=level
            )
    for task in tasks:
        CheckpointFactory(session=None, organisation=org, resident=resident, task=task, level=0)
    buddy.notes = (buddy.notes or "") + f" Met Zebedee{n} Quixotic{n} at the library."
    db.session.flush()


def seed(org, coordinator, count=6):
    """Residents in every state; the even ones are closed and ready to erase."""
    tasks = [
        SkillTaskFactory(organisation=org, area=a)
        for a in ("foundation", "communicating", "safety")
    ]
    buddy = BuddyProfileFactory(organisation=org, notes="")
    people = []
    sources = ["gp", "social_care", "housing", "self", "family", "other"]
    for n in range(count):
        resident = ResidentFactory(
            organisation=org,
            referral_source=sources[n % len(sources)],
            needs_data=bool(n % 2),
            access_sight=bool(n % 3 == 0),
            **_person(n),
        )
        _history(org, resident, coordinator, n, tasks=tasks, buddy=buddy)
        residents.change_status(resident, "contacted", by=coordinator, note=f"Zebedee{n} answered")
        if n % 2 == 0:
            residents.change_status(
                resident,
                "closed",
                by=coordinator,
                outcome="goals_met",
                note=f"Quixotic{n} moved to Leeds",
            )
        people.append(resident)
    # Some that are not ready to erase: an open loan, someone on the waiting list.
    ResidentFactory(organisation=org, referral_source="gp")
    LoanFactory(organisation=org)
    WaitingListEntryFactory(organisation=org)
    db.session.flush()
    return people


# What erasure changes on purpose; everything else must stay exactly as it was.
ERASED_COLUMNS = {
    "resident": {
        "first_name",
        "last_name",
        "phone",
        "email",
        "postcode",
        "date_of_birth",
        "access_notes",
        "referral_reason",
        "referrer_name",
        "referrer_contact",
        "notes",
        "anonymised_at",
    },
}


def _snapshot(exclude_free_text=True):
    """Every row of every table except the audit log, minus what erasure may change:
    the person's identifying columns and free text (Text columns)."""
    data = {}
    for table in db.metadata.sorted_tables:
        if table.name in ("audit_event", "alembic_version", "erasure_register"):
            continue
        skip = ERASED_COLUMNS.get(table.name, set())
        cols = [
            c
            for c in table.c
            if c.name not in skip
            and not (exclude_free_text and isinstance(c.type, Text))
            and not (table.name == "practice_session" and c.name == "place")
        ]
        rows = db.session.execute(select(*cols).order_by(*table.primary_key.columns)).all()
        data[table.name] = [tuple(r) for r in rows]
    return data


def broad_counts(org_id):
    """Report-like figures by SQL: rows grouped by status, source, kind, mode, level…"""
    figures = {}

    def grouped(name, model, *cols):
        stmt = select(*cols, func.count()).where(model.organisation_id == org_id).group_by(*cols)
        figures[name] = sorted((tuple(r) for r in db.session.execute(stmt)), key=repr)

    grouped(
        "residents",
        Resident,
        Resident.status,
        Resident.referral_source,
        Resident.outcome,
        Resident.area,
        Resident.preferred_language,
        Resident.access_sight,
        Resident.needs_data,
    )
    grouped("status_changes", StatusChange, StatusChange.to_status)
    grouped("loans", Loan, Loan.end_kind)
    grouped("bundles", DataBundle, DataBundle.status, DataBundle.kind, DataBundle.source)
    grouped("waiting", WaitingListEntry, WaitingListEntry.status, WaitingListEntry.reason)
    grouped("matches", Match, Match.status, Match.end_reason)
    grouped("sessions", PracticeSession, PracticeSession.mode, PracticeSession.safeguarding_concern)
    grouped("checkpoints", Checkpoint, Checkpoint.task_id, Checkpoint.level)
    figures["minutes"] = db.session.scalar(
        select(func.sum(PracticeSession.minutes)).where(PracticeSession.organisation_id == org_id)
    )
    figures["gb"] = db.session.scalar(
        select(func.sum(DataBundle.allowance_gb)).where(DataBundle.organisation_id == org_id)
    )
    return figures


def reports_page_figures(org_id):
    """The reports page's own figures over a range wider than the whole dataset."""
    return report_figures(org_id, date(2000, 1, 1), today() + timedelta(days=366))


def text_mentions(needles):
    """(table, column, needle) for every String, Text or JSON value that contains a needle."""
    found = []
    for table in db.metadata.sorted_tables:
        cols = [c for c in table.c if isinstance(c.type, String | Text | JSON)]
        if not cols:
            continue
        for row in db.session.execute(select(*cols)):
            for col, value in zip(cols, row, strict=True):
                text = json.dumps(value) if not isinstance(value, str) else value
                for needle in needles:
                    if value is not None and needle.lower() in text.lower():
                        found.append((table.name, col.name, needle))
    return found


def _needles(n):
    p = _person(n)
    return [
        p["first_name"],
        p["last_name"],
        p["phone"],
        p["email"],
        p["referrer_name"],
        p["referrer_contact"],
        f"{n} Quixotic Road",
    ]


# ---- erasure keeps every count ------------------------------------------------------


def test_erasure_keeps_every_count_and_leaves_no_trace(db, org, coordinator_user):
    people = seed(org, coordinator_user)
    counts_before = broad_counts(org.id)
    reports_before = reports_page_figures(org.id)
    assert reports_before["referrals"]["total"] == 9, "the figures see the dataset"
    assert (
        reports_before["practice"]["sessions"] == 12
        and reports_before["data"]["bundles_issued"] == 6
    )
    snapshot_before = _snapshot()
    events_before = db.session.scalar(select(func.max(AuditEvent.id)))

    erased = [p for p in people if p.status == "closed"]
    assert len(erased) == 3
    for resident in erased:
        service.erase_resident(resident, by=coordinator_user)
    db.session.flush()

    assert broad_counts(org.id) == counts_before
    assert _snapshot() == snapshot_before, "only identifying columns and free text may change"
    assert reports_page_figures(org.id) == reports_before
    # one audit event per erasure, and one per other record whose text mentioned them
    new_events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.id > events_before).order_by(AuditEvent.id)
    ).all()
    assert [e.action for e in new_events].count("resident.erased") == 3
    mentions = [e for e in new_events if e.action != "resident.erased"]
    assert {e.action for e in mentions} == {"mentions.erased"}
    assert {(e.entity_type, tuple(e.changed)) for e in mentions} == {
        ("Device", ("notes",)),
        ("BuddyProfile", ("notes",)),
    }

    gone = [needle for n in (0, 2, 4) for needle in _needles(n)]
    assert text_mentions(gone) == []
    # the others are untouched
    kept = [needle for n in (1, 3, 5) for needle in _needles(n)]
    assert {m[2] for m in text_mentions(kept)} == set(kept)

    r = db.session.get(Resident, erased[0].id)
    assert (r.full_name, r.phone, r.email, r.postcode, r.area) == (
        "Anonymised resident",
        "",
        "",
        "WV3",
        "WV3",
    )
    assert r.reference.startswith("R-") and r.anonymised_at is not None
    assert r.date_of_birth.day == 1
    session = db.session.scalars(
        select(PracticeSession).where(PracticeSession.resident_id == r.id)
    ).first()
    assert (session.notes, session.next_steps, session.place) == (service.REMOVED,) * 3


def test_erasure_audit_event_lists_field_names_only(db, org, coordinator_user):
    [resident, *_] = seed(org, coordinator_user, count=1)
    changed = service.erase_resident(resident, by=coordinator_user)
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "resident.erased")
    ).one()
    assert event.entity_id == resident.id and event.actor_id == coordinator_user.id
    assert event.changed == changed
    assert "resident.first_name" in changed and "practice_session.notes" in changed
    assert "buddy_profile.notes" in changed and "device.notes" in changed  # mentions swept
    assert all("." in name and " " not in name and "@" not in name for name in changed)


def test_an_erased_resident_cannot_be_erased_twice_or_edited(db, org, coordinator_user):
    [resident, *_] = seed(org, coordinator_user, count=1)
    service.erase_resident(resident, by=coordinator_user)
    with pytest.raises(RuleBroken, match="already anonymised"):
        service.erase_resident(resident, by=coordinator_user)
    with pytest.raises(RuleBroken, match="anonymised"):
        residents.update_resident(
            resident,
            {"first_name": "New"},
            consent_given=True,
            consent_method="verbal",
            by=coordinator_user,
        )
    with pytest.raises(RuleBroken, match="anonymised"):
        residents.change_status(resident, "referred", by=coordinator_user)


@pytest.mark.parametrize(
    "what, message",
    [
        ("open_case", "Close the case"),
        ("open_loan", "on loan"),
        ("waiting", "waiting list"),
        ("alert", "safeguarding"),
    ],
)
def test_erasure_waits_until_nothing_is_open(db, org, coordinator_user, what, message):
    resident = ResidentFactory(
        organisation=org, status="closed", outcome="declined", closed_at=now(), **_person(9)
    )
    if what == "open_case":
        resident.status, resident.outcome, resident.closed_at = "assessed", None, None
    elif what == "open_loan":
        LoanFactory(organisation=org, resident=resident)
    elif what == "waiting":
        WaitingListEntryFactory(organisation=org, resident=resident)
    else:
        match = MatchFactory(
            organisation=org,
            resident=resident,
            status="ended",
            ended_at=now(),
            end_reason="goals_met",
        )
        PracticeSessionFactory(
            match=match, safeguarding_concern=True, safeguarding_description="Worried"
        )
    db.session.flush()
    before = _snapshot(exclude_free_text=False)
    with pytest.raises(RuleBroken, match=message):
        service.erase_resident(resident, by=coordinator_user)
    assert _snapshot(exclude_free_text=False) == before


# ---- erasure through the page -------------------------------------------------------


def _closed_resident(org, coordinator_user, n=7):
    resident = ResidentFactory(organisation=org, **_person(n))
    residents.change_status(resident, "closed", by=coordinator_user, outcome="declined")
    db.session.flush()
    return resident


def test_erase_page_needs_the_typed_reference(coordinator, db, org, coordinator_user):
    resident = _closed_resident(org, coordinator_user)
    page = coordinator.get(f"/residents/{resident.reference}/erase").get_data(as_text=True)
    assert "cannot be undone" in page and f"Type the reference {resident.reference}" in page

    before = _snapshot(exclude_free_text=False)
    events = row_counts(AuditEvent)
    response = coordinator.post(
        f"/residents/{resident.reference}/erase", data={"reference": "R-999999"}
    )
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert 'id="reference-error"' in body and f"Type {resident.reference} exactly" in body
    assert _snapshot(exclude_free_text=False) == before and row_counts(AuditEvent) == events

    response = coordinator.post(
        f"/residents/{resident.reference}/erase",
        data={"reference": f" {resident.reference.lower()} "},
    )
    assert response.status_code == 302
    detail = coordinator.get(response.headers["Location"]).get_data(as_text=True)
    assert (
        "Anonymised resident" in detail
        and "Zebedee7" not in detail
        and "Edit details" not in detail
    )
    assert "can no longer be changed" in detail

    again = coordinator.get(f"/residents/{resident.reference}/erase").get_data(as_text=True)
    assert "cannot be erased twice" in again
    response = coordinator.post(
        f"/residents/{resident.reference}/erase", data={"reference": resident.reference}
    )
    assert response.status_code == 422 and "already anonymised" in response.get_data(as_text=True)
    response = coordinator.post(
        f"/residents/{resident.reference}/edit",
        data={
            "first_name": "Back",
            "last_name": "Again",
            "phone": "01902 555123",
            "postcode": "WV3 0AA",
            "referral_source": "gp",
            "needs_skills": "y",
            "referral_date": "2026-01-01",
        },
    )
    assert response.status_code == 422 and "anonymised" in response.get_data(as_text=True)
    assert db.session.get(Resident, resident.id).first_name == "Anonymised"


def test_erase_page_shows_what_to_finish_first(coordinator, db, org):
    resident = ResidentFactory(organisation=org, **_person(8))
    LoanFactory(organisation=org, resident=resident)
    page = coordinator.get(f"/residents/{resident.reference}/erase").get_data(as_text=True)
    assert "Finish these first" in page and "Close the case first" in page and "on loan" in page
    before = _snapshot(exclude_free_text=False)
    response = coordinator.post(
        f"/residents/{resident.reference}/erase", data={"reference": resident.reference}
    )
    assert response.status_code == 422
    assert _snapshot(exclude_free_text=False) == before


def test_other_roles_and_organisations_cannot_erase(app, db, org, buddy, donor, other_coordinator):
    resident = ResidentFactory(organisation=org)
    for client, code in ((buddy, 403), (donor, 403), (other_coordinator, 404)):
        url = f"/residents/{resident.reference}/erase"
        assert client.get(url).status_code == code
        assert client.post(url, data={"reference": resident.reference}).status_code == code
    assert db.session.get(Resident, resident.id).anonymised_at is None


# ---- subject access -----------------------------------------------------------------


def test_subject_access_export_holds_everything_and_is_audited(
    coordinator, db, org, coordinator_user
):
    [resident, *_] = seed(org, coordinator_user, count=1)
    page = coordinator.get(f"/residents/{resident.reference}").get_data(as_text=True)
    assert "Data protection" in page and f"/residents/{resident.reference}/export.zip" in page

    response = coordinator.post(f"/residents/{resident.reference}/export.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert f"{resident.reference}-subject-access.zip" in response.headers["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    names = set(archive.namelist())
    assert {
        "resident.json",
        "status_changes.json",
        "loans.json",
        "loan_extensions.json",
        "data_bundles.json",
        "waiting_list.json",
        "reminder_calls.json",
        "buddy_matches.json",
        "practice_sessions.json",
        "checkpoints.json",
        "audit_events.json",
        "summary.pdf",
        "README.txt",
    } <= names

    def load(name):
        return json.loads(archive.read(name))

    [record] = load("resident.json")
    assert (record["reference"], record["first_name"], record["email"]) == (
        resident.reference,
        "Zebedee0",
        "zq0@private.example.net",
    )
    assert record["consent_given"] is True and record["consent_method"] == "verbal"
    assert [s["to_status"] for s in load("status_changes.json")] == [
        "referred",
        "contacted",
        "closed",
    ]
    assert (
        len(load("loans.json")) == 1
        and load("loans.json")[0]["notes"] == "Quixotic0 prefers large text"
    )
    assert load("loan_extensions.json")[0]["reason"] == "Quixotic0 was in hospital"
    assert load("data_bundles.json")[0]["allowance_gb"] == 10
    assert len(load("waiting_list.json")) == 1 and len(load("reminder_calls.json")) == 1
    [match] = load("buddy_matches.json")
    assert match["status"] == "ended" and "email" not in match["buddy"]
    assert len(load("practice_sessions.json")) == 2
    assert len(load("checkpoints.json")) == 9
    assert all(
        c["task"].startswith("Practice task") and c["level_label"] for c in load("checkpoints.json")
    )
    actions = {e["action"] for e in load("audit_events.json")}
    assert "resident.status_changed" in actions

    text = "".join(
        p.extract_text() for p in PdfReader(io.BytesIO(archive.read("summary.pdf"))).pages
    )
    for expected in (
        "Information we hold about you",
        resident.reference,
        "Zebedee0 Quixotic0",
        "zq0@private.example.net",
        "Practice sessions",
        "Your skills",
        "Zebedee0 did well",
    ):
        assert expected in text, expected

    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "resident.exported")
    ).one()
    assert (event.entity_type, event.entity_id, event.actor_id) == (
        "Resident",
        resident.id,
        coordinator_user.id,
    )
    assert event.changed is None


def test_export_of_an_erased_resident_shows_no_personal_data(
    coordinator, db, org, coordinator_user
):
    [resident, *_] = seed(org, coordinator_user, count=1)
    service.erase_resident(resident, by=coordinator_user)
    db.session.flush()
    archive = zipfile.ZipFile(
        io.BytesIO(coordinator.post(f"/residents/{resident.reference}/export.zip").data)
    )
    everything = " ".join(
        archive.read(n).decode() for n in archive.namelist() if n.endswith(".json")
    )
    assert (
        "Zebedee0" not in everything and "zq0@" not in everything and "Quixotic0" not in everything
    )
    assert "resident.erased" in everything


def test_export_is_refused_to_buddies_donors_and_other_organisations(
    db, org, buddy, donor, other_coordinator
):
    resident = ResidentFactory(organisation=org)
    url = f"/residents/{resident.reference}/export.zip"
    assert buddy.post(url).status_code == 403
    assert donor.post(url).status_code == 403
    assert other_coordinator.post(url).status_code == 404
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "resident.exported")
        )
        == 0
    )


# ---- retention ----------------------------------------------------------------------


def _closed_months_ago(org, coordinator_user, months, n):
    resident = _closed_resident(org, coordinator_user, n)
    resident.closed_at = now() - timedelta(days=31 * months)
    db.session.flush()
    return resident


def test_months_before():
    assert service.months_before(date(2026, 3, 31), 1) == date(2026, 2, 28)
    assert service.months_before(date(2026, 1, 15), 24) == date(2024, 1, 15)
    assert service.months_before(date(2026, 1, 15), 13) == date(2024, 12, 15)


def test_retention_lists_then_applies_and_is_idempotent(app, db, org, other_org, coordinator_user):
    org.retention_months = 24
    other_org.retention_months = 6
    old = _closed_months_ago(org, coordinator_user, 30, 1)
    recent = _closed_months_ago(org, coordinator_user, 12, 2)
    blocked = _closed_months_ago(org, coordinator_user, 30, 3)
    LoanFactory(organisation=org, resident=blocked)
    other_user = coordinator_user.__class__(
        organisation_id=other_org.id, email="x@other.example.org", name="Other", role="coordinator"
    )
    db.session.add(other_user)
    elsewhere = ResidentFactory(organisation=other_org, **_person(4))
    residents.change_status(elsewhere, "closed", by=other_user, outcome="moved_away")
    elsewhere.closed_at = now() - timedelta(days=31 * 12)
    db.session.flush()
    runner = app.test_cli_runner()

    before = _snapshot(exclude_free_text=False)
    dry = runner.invoke(args=["inclusion", "retention"])
    assert dry.exit_code == 0, dry.output
    assert old.reference in dry.output and elsewhere.reference in dry.output
    assert recent.reference not in dry.output
    assert (
        f"{blocked.reference}" in dry.output and "skipped: A device is still on loan" in dry.output
    )
    assert "2 would be anonymised, 1 skipped" in dry.output
    assert _snapshot(exclude_free_text=False) == before, "a dry run changes nothing"

    applied = runner.invoke(args=["inclusion", "retention", "--apply"])
    assert applied.exit_code == 0, applied.output
    assert "Anonymising" in applied.output and "2 anonymised, 1 skipped" in applied.output
    db.session.expire_all()
    assert db.session.get(Resident, old.id).anonymised_at is not None
    assert db.session.get(Resident, elsewhere.id).first_name == "Anonymised"
    assert db.session.get(Resident, recent.id).anonymised_at is None
    assert db.session.get(Resident, blocked.id).anonymised_at is None
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "resident.erased_by_retention")
        )
        == 2
    )

    after = _snapshot(exclude_free_text=False)
    again = runner.invoke(args=["inclusion", "retention", "--apply"])
    assert again.exit_code == 0 and "0 anonymised, 1 skipped" in again.output
    assert old.reference not in again.output
    assert _snapshot(exclude_free_text=False) == after, "a second run changes nothing"


def test_retention_months_is_an_audited_admin_setting(admin, db, org):
    data = {
        "name": org.name,
        "contact_phone": "01902 555123",
        "contact_email": "",
        "return_address": "Hub, WV1 1AA",
        "default_loan_days": "28",
    }
    page = admin.get("/admin/settings").get_data(as_text=True)
    assert "Keep closed cases for (months)" in page
    response = admin.post("/admin/settings", data={**data, "retention_months": "300"})
    assert response.status_code == 422 and "Between 1 and 240 months." in response.get_data(
        as_text=True
    )
    db.session.expire_all()
    assert db.session.get(type(org), org.id).retention_months == 24
    assert admin.post("/admin/settings", data={**data, "retention_months": "36"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(type(org), org.id).retention_months == 36
    event = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == "organisation.updated")
        .order_by(AuditEvent.id.desc())
    ).first()
    assert "retention_months" in event.changed


# ---- backup and restore --------------------------------------------------------------


def _round_trip(app, backup_file):
    runner = app.test_cli_runner()
    with app.app_context():
        org = OrganisationFactory(code="BAK")
        seed(org, UserFactory(organisation=org), count=2)
        db.session.commit()
        before = _snapshot(exclude_free_text=False)
        assert before["resident"] and before["skill_checkpoint"]

    result = runner.invoke(args=["inclusion", "backup", str(backup_file)])
    assert result.exit_code == 0, result.output
    assert "Backed up" in result.output and backup_file.stat().st_size > 0
    refused = runner.invoke(args=["inclusion", "backup", str(backup_file)])
    assert refused.exit_code != 0 and "exists" in refused.output

    with app.app_context():  # lose data after the backup
        db.session.execute(Checkpoint.__table__.delete())
        db.session.execute(Resident.__table__.update().values(first_name="Changed"))
        db.session.commit()

    declined = runner.invoke(args=["inclusion", "restore", str(backup_file)], input="n\n")
    assert declined.exit_code != 0 and "Replace everything" in declined.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Checkpoint)) == 0

    result = runner.invoke(args=["inclusion", "restore", str(backup_file), "--yes"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert _snapshot(exclude_free_text=False) == before
        db.session.remove()
        db.engine.dispose()


def test_backup_and_restore_round_trip_a_seeded_sqlite_database(tmp_path):
    app = make_test_app(f"sqlite:///{tmp_path / 'live.sqlite3'}")
    _round_trip(app, tmp_path / "copy.sqlite3")


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL runs when INCLUSION_TEST_DATABASE_URL is set")
def test_backup_and_restore_round_trip_on_postgresql(make_database, tmp_path):
    app = make_test_app(make_database("postgresql"))
    _round_trip(app, tmp_path / "copy.dump")


def test_restore_refuses_a_file_that_is_not_a_backup(tmp_path):
    app = make_test_app(f"sqlite:///{tmp_path / 'live.sqlite3'}")
    (tmp_path / "junk.sqlite3").write_text("not a database")
    result = app.test_cli_runner().invoke(
        args=["inclusion", "restore", str(tmp_path / "junk.sqlite3"), "--yes"]
    )
    assert result.exit_code != 0 and "not an inclusion SQLite backup" in result.output
    result = app.test_cli_runner().invoke(
        args=["inclusion", "restore", str(tmp_path / "missing.db"), "--yes"]
    )
    assert result.exit_code != 0 and "does not exist" in result.output


def test_retention_skips_a_resident_erased_since_it_was_listed(db, org, coordinator_user):
    resident = _closed_months_ago(org, coordinator_user, 30, 5)
    [item] = service.due_for_retention(org)
    service.erase_resident(resident, by=coordinator_user)
    events = row_counts(AuditEvent)
    assert service.apply_retention(item) is False
    assert row_counts(AuditEvent) == events


# ---- the sweep: every free text, every written form ------------------------------------


def _erasable(org, coordinator_user, n, **extra):
    resident = ResidentFactory(organisation=org, **{**_person(n), **extra})
    residents.change_status(resident, "closed", by=coordinator_user, outcome="declined")
    db.session.flush()
    return resident


def test_erasure_sweeps_every_free_text_for_every_form_of_name_phone_email_and_birthday(
    db, org, coordinator_user
):
    person = _erasable(
        org,
        coordinator_user,
        11,
        first_name="Wilhelmina",
        last_name="Featherstonehaugh",
        phone="+44 7911 123403",
        email="Wil.F@Private.example.net",
        date_of_birth=date(1950, 3, 14),
    )
    other = ResidentFactory(
        organisation=org,
        first_name="Bob",
        last_name="Other",
        notes="Neighbour of WILHELMINA featherstonehaugh; she rings on (07911) 123-403.",
        access_notes="Annual review. Wilhelminas cat.",  # not whole words: kept
    )
    device = DeviceFactory(organisation=org, notes="Found by Wilhelmina, call 07911 123403")
    buddy = BuddyProfileFactory(
        organisation=org,
        about="I taught wilhelmina to video call",
        notes="Email wil.f@private.example.net; born 14/03/1950, i.e. 14th March 1950",
    )
    other_loan = LoanFactory(
        organisation=org, resident=other, notes="Ring +447911123403 or 0044 7911 123 403"
    )
    match = MatchFactory(organisation=org, resident=other, buddy=buddy, status="active")
    session = PracticeSessionFactory(
        match=match,
        notes="Bob's friend Featherstonehaugh joined (b. 1950-03-14, March 14, 1950)",
        next_steps="Call 07911 123 403 on 14.3.50",
    )
    unrelated = "Call 07911 123404 on 15/03/1950; Featherstone came"
    DeviceFactory(organisation=org, notes=unrelated)
    db.session.flush()
    ids = {"resident": other.id, "device": device.id, "buddy": buddy.id, "loan": other_loan.id}
    session_id = session.id

    changed = service.erase_resident(person, by=coordinator_user)

    db.session.expire_all()
    other = db.session.get(Resident, ids["resident"])
    assert other.notes == "Neighbour of [erased]; she rings on [erased]."
    assert other.access_notes == "Annual review. Wilhelminas cat."
    assert db.session.get(type(device), ids["device"]).notes == "Found by [erased], call [erased]"
    buddy = db.session.get(type(buddy), ids["buddy"])
    assert buddy.about == "I taught [erased] to video call"
    assert buddy.notes == "Email [erased]; born [erased], i.e. [erased]"
    assert db.session.get(Loan, ids["loan"]).notes == "Ring [erased] or [erased]"
    session = db.session.get(PracticeSession, session_id)
    assert session.notes == "Bob's friend [erased] joined (b. [erased], [erased])"
    assert session.next_steps == "Call [erased] on [erased]"
    assert db.session.scalar(select(func.count()).where(type(device).notes == unrelated)) == 1
    assert {
        "resident.notes",
        "device.notes",
        "buddy_profile.about",
        "buddy_profile.notes",
        "loan.notes",
        "practice_session.notes",
        "practice_session.next_steps",
    } <= set(changed)

    # Which records changed: table, id and field names, never a value.
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "mentions.erased")
    ).all()
    assert {(e.entity_type, e.entity_id, tuple(e.changed)) for e in events} == {
        ("Resident", ids["resident"], ("notes",)),
        ("Device", ids["device"], ("notes",)),
        ("BuddyProfile", ids["buddy"], ("about", "notes")),
        ("Loan", ids["loan"], ("notes",)),
        ("PracticeSession", session_id, ("next_steps", "notes")),
    }
    assert all(e.actor_id == coordinator_user.id for e in events)
    logged = json.dumps([e.changed for e in events]).lower()
    assert "wilhelmina" not in logged and "7911" not in logged


# ---- personal data is declared -------------------------------------------------------


def test_every_table_about_residents_and_every_free_text_column_is_declared(app):
    from inclusion import personal_data

    with app.app_context():
        assert personal_data.undeclared(db.metadata.sorted_tables) == []
        declared = {d.name: d for d in personal_data.declarations()}
    for table in db.metadata.sorted_tables:
        if "resident_id" in table.c:
            assert declared[table.name].resident_column == "resident_id", table.name
    assert declared["loan_extension"].via == ("loan_id", "loan")
    assert {"about", "notes"} <= set(declared["buddy_profile"].free_text)


def test_a_new_table_or_free_text_column_that_is_not_declared_is_found(app):
    from sqlalchemy import Column, ForeignKey, Integer, MetaData, Table

    from inclusion import personal_data

    metadata = MetaData()
    Table("resident", metadata, Column("id", Integer, primary_key=True))
    visits = Table(
        "home_visit",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("resident_id", ForeignKey("resident.id")),
        Column("summary", Text),
    )
    device = Table(
        "device",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("notes", Text),
        Column("colour", String(300)),
        Column("tag", String(20)),
    )
    with app.app_context():
        assert personal_data.undeclared([visits, device]) == [
            "home_visit",
            "home_visit.summary",
            "device.colour",
        ]


def test_data_protection_names_no_feature_model():
    from pathlib import Path

    import inclusion.dataprotection as package

    for source in Path(package.__file__).parent.glob("*.py"):
        text = source.read_text()
        assert "from devices" not in text and "from buddies" not in text, source.name
        assert "import devices" not in text and "import buddies" not in text, source.name


# ---- no copy left in the SQLite file ---------------------------------------------------


def test_erased_values_are_in_neither_the_sqlite_file_nor_its_wal(tmp_path):
    path = tmp_path / "live.sqlite3"
    app = make_test_app(f"sqlite:///{path}")
    with app.app_context():
        org = OrganisationFactory(code="WAL")
        coordinator = UserFactory(organisation=org)
        people = seed(org, coordinator, count=2)
        db.session.commit()
        erased, kept = people[0], people[1]
        assert erased.status == "closed"
        needles = [n.encode() for n in _needles(0)]
        on_disk = path.read_bytes() + Path(f"{path}-wal").read_bytes()
        assert all(n in on_disk for n in needles[:4]), "the values were written to disk"

        service.erase_resident(erased, by=coordinator)
        db.session.commit()
        assert db.session.get(Resident, kept.id).first_name == "Zebedee1"
        db.session.remove()

        wal = Path(f"{path}-wal")
        on_disk = path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
        assert [n for n in needles if n in on_disk] == []
        assert b"Zebedee1" in on_disk, "the others are still there"
        db.engine.dispose()


# ---- restore keeps erased people erased -------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_restore_erases_again_everyone_erased_after_the_backup(backend, make_database, tmp_path):
    url = f"sqlite:///{tmp_path / 'live.sqlite3'}" if backend == "sqlite" else None
    app = make_test_app(url or make_database("postgresql"))
    runner = app.test_cli_runner()
    backup_file = tmp_path / "before-erasure.backup"
    with app.app_context():
        org = OrganisationFactory(code="RST")
        coordinator = UserFactory(organisation=org)
        erased, kept = seed(org, coordinator, count=2)
        db.session.commit()
        erased_id, kept_id, reference = erased.id, kept.id, erased.reference
        db.session.remove()

    result = runner.invoke(args=["inclusion", "backup", str(backup_file)])
    assert result.exit_code == 0, result.output

    with app.app_context():
        service.erase_resident(db.session.get(Resident, erased_id))
        db.session.commit()
        erased_at = db.session.get(Resident, erased_id).anonymised_at
        db.session.remove()

    result = runner.invoke(args=["inclusion", "restore", str(backup_file), "--yes"])
    assert result.exit_code == 0, result.output
    assert f"erased again: {reference}" in result.output
    with app.app_context():
        resident = db.session.get(Resident, erased_id)
        assert (resident.full_name, resident.phone, resident.anonymised_at) == (
            "Anonymised resident",
            "",
            erased_at,
        )
        assert text_mentions(_needles(0)) == []
        assert db.session.get(Resident, kept_id).first_name == "Zebedee1"
        assert [e.reference for e in service.erasure_register()] == [reference]
        assert db.session.scalar(
            select(func.count()).where(AuditEvent.action == "resident.erased_again_after_restore")
        )
        db.session.remove()

    # Restoring the same old backup again still leaves them erased.
    result = runner.invoke(args=["inclusion", "restore", str(backup_file), "--yes"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.get(Resident, erased_id).first_name == "Anonymised"
        db.session.remove()
        db.engine.dispose()


def test_restore_refuses_when_the_current_database_has_no_erasure_register(tmp_path):
    from sqlalchemy import text

    app = make_test_app(f"sqlite:///{tmp_path / 'live.sqlite3'}")
    runner = app.test_cli_runner()
    backup_file = tmp_path / "copy.sqlite3"
    assert runner.invoke(args=["inclusion", "backup", str(backup_file)]).exit_code == 0
    with app.app_context():
        OrganisationFactory(code="NEW")
        db.session.execute(text("DROP TABLE erasure_register"))
        db.session.commit()
        db.session.remove()

    result = runner.invoke(args=["inclusion", "restore", str(backup_file), "--yes"])
    assert result.exit_code != 0 and "no erasure register" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OrganisationFactory._meta.model))
        db.session.remove()
    result = runner.invoke(
        args=["inclusion", "restore", str(backup_file), "--yes", "--without-erasure-register"]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert service.erasure_register() == []
        db.session.remove()
        db.engine.dispose()


def test_a_retention_batch_sweeps_once_for_everyone_in_it(db, org, coordinator_user):
    first = _closed_months_ago(org, coordinator_user, 30, 21)
    second = _closed_months_ago(org, coordinator_user, 30, 22)
    device = DeviceFactory(organisation=org, notes="Zebedee21 and quixotic22 share it")
    db.session.flush()
    device_id = device.id
    items = service.due_for_retention(org)
    assert {i.resident.id for i in items} == {first.id, second.id}

    assert service.apply_retention_batch(items) == 2

    db.session.expire_all()
    assert db.session.get(type(device), device_id).notes == "[erased] and [erased] share it"
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "resident.erased_by_retention")
    ).all()
    assert {e.entity_id for e in events} == {first.id, second.id}
    assert all("device.notes" in e.changed for e in events)
    assert service.apply_retention_batch(items) == 0


def test_a_name_of_several_words_is_swept_as_a_phrase(db, org, coordinator_user):
    person = _erasable(org, coordinator_user, 23, first_name="Mary Ann", last_name="O'Neill-Ng")
    device = DeviceFactory(organisation=org, notes="Lent to mary ann; O'NEILL-NG's son has it")
    db.session.flush()
    device_id = device.id
    service.erase_resident(person, by=coordinator_user)
    db.session.expire_all()
    assert (
        db.session.get(type(device), device_id).notes == "Lent to [erased]; [erased]'s son has it"
    )
