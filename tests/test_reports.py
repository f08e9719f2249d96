"""Reports: exact figures of a seeded year on both databases, period boundaries, the
period chooser, targets (audited; bad input changes nothing), the CSV zip, the PDF, the
small-number rule for publication, and a constant number of queries as data grows."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, datetime

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from buddies.practice.models import Checkpoint
from inclusion.audit import AuditEvent
from inclusion.disclosure import SUPPRESSED
from inclusion.extensions import db
from inclusion.reports import service
from inclusion.reports.models import ReportTarget
from inclusion.reports.periods import financial_year, financial_year_of, last_quarter, this_month
from inclusion.reports.queries import report_figures
from inclusion.residents.models import StatusChange
from outcomes.report import GROUPS
from tests.conftest import row_counts
from tests.factories import (
    BuddyProfileFactory,
    CheckpointFactory,
    DataBundleFactory,
    DeviceFactory,
    LoanFactory,
    MatchFactory,
    PracticeSessionFactory,
    ResidentFactory,
    SkillTaskFactory,
    WaitingListEntryFactory,
)

FY = financial_year(2025)  # 1 April 2025 to 31 March 2026
START, END = FY.start, FY.end
YEAR_URL = "/reports/?period=year&year=2025"


def at(y, m, d, hh=0, mm=0, ss=0):
    return datetime(y, m, d, hh, mm, ss)


def seed_year(org) -> dict:
    """A year of one organisation's work with records on both sides of each boundary."""
    r = {}

    def resident(key, source, on, status="referred", **kw):
        r[key] = ResidentFactory(
            organisation=org, referral_source=source, referral_date=on, status=status, **kw
        )
        return r[key]

    resident("r1", "gp", date(2025, 4, 1))  # first day of the year
    resident("r2", "gp", date(2025, 5, 10), "contacted")
    resident("r3", "self", date(2025, 5, 20), "assessed")
    resident("r4", "housing", date(2026, 3, 31), "supported")  # last day
    resident("r5", "social_care", date(2025, 12, 1), "closed", outcome="goals_met")
    resident("r6", "gp", date(2025, 6, 15), "supported")
    resident("before", "gp", date(2025, 3, 31), "supported")
    resident("after", "self", date(2026, 4, 1))
    for step in ("contacted", "assessed"):  # r5 was assessed before the case closed
        db.session.add(StatusChange(organisation_id=org.id, resident=r["r5"], to_status=step))

    # Devices registered in the year (and one just before it).
    for when in (at(2025, 4, 1), at(2025, 8, 8, 12), at(2026, 3, 31, 23, 59, 59)):
        DeviceFactory(organisation=org, created_at=when)
    DeviceFactory(organisation=org, created_at=at(2025, 3, 31, 23, 59, 59))

    # Loans: lent, returned, lost, gifted, on loan at the end.
    LoanFactory(organisation=org, lent_at=at(2025, 4, 1))  # still open
    LoanFactory(
        organisation=org, lent_at=at(2025, 6, 1), ended_at=at(2025, 9, 1), end_kind="returned"
    )
    LoanFactory(
        organisation=org, lent_at=at(2025, 7, 1), ended_at=at(2026, 3, 31, 23, 59), end_kind="lost"
    )
    LoanFactory(
        organisation=org,
        lent_at=at(2026, 3, 31, 23, 59, 59),
        ended_at=at(2026, 4, 1),
        end_kind="returned",
    )
    LoanFactory(
        organisation=org,
        lent_at=at(2025, 3, 31, 23, 59),
        ended_at=at(2025, 4, 2),
        end_kind="gifted",
    )
    LoanFactory(organisation=org, lent_at=at(2026, 4, 1))

    # Data bundles.
    for when, gb in ((at(2025, 4, 1), 20), (at(2025, 10, 10), 15.5), (at(2026, 4, 1), 50)):
        DataBundleFactory(
            organisation=org,
            status="issued",
            resident=r["r1"],
            issued_at=when,
            expires_on=when.date(),
            allowance_gb=gb,
        )
    DataBundleFactory(organisation=org)  # in stock

    # Buddies and matches: A has two, B's ended before the year, C's started on its last day.
    a, b, c = (BuddyProfileFactory(organisation=org) for _ in range(3))
    m1 = MatchFactory(organisation=org, buddy=a, resident=r["r2"], started_at=at(2025, 1, 1))
    m2 = MatchFactory(organisation=org, buddy=a, resident=r["r3"], started_at=at(2025, 5, 1))
    MatchFactory(
        organisation=org,
        buddy=b,
        resident=r["before"],
        started_at=at(2024, 1, 1),
        status="ended",
        ended_at=at(2025, 3, 31, 23),
        end_reason="goals_met",
    )
    MatchFactory(organisation=org, buddy=c, resident=r["r6"], started_at=at(2026, 3, 31, 12))

    s1 = PracticeSessionFactory(match=m1, held_on=date(2025, 4, 1), minutes=60)
    s2 = PracticeSessionFactory(match=m1, held_on=date(2025, 5, 1), minutes=30)
    s3 = PracticeSessionFactory(match=m2, held_on=date(2026, 3, 31), minutes=90)
    s4 = PracticeSessionFactory(match=m1, held_on=date(2025, 3, 31), minutes=45)
    s5 = PracticeSessionFactory(match=m2, held_on=date(2026, 4, 1), minutes=60)

    # Skills. r2: communicating 1 (baseline) -> 2 -> 3; foundation 2 -> 2.
    #         r3: safety 1 only; foundation 0 (baseline in the year) -> 2; communicating 4 after.
    t1 = SkillTaskFactory(organisation=org, area="communicating")
    t2 = SkillTaskFactory(organisation=org, area="foundation")
    t3 = SkillTaskFactory(organisation=org, area="safety")
    CheckpointFactory(
        session=None,
        resident=r["r2"],
        organisation=org,
        task=t1,
        level=1,
        recorded_on=date(2025, 1, 10),
    )
    CheckpointFactory(session=s1, task=t1, level=2)
    CheckpointFactory(session=s2, task=t1, level=3)
    CheckpointFactory(session=s4, task=t2, level=2)
    CheckpointFactory(session=s1, task=t2, level=2)
    CheckpointFactory(session=s3, task=t3, level=1)
    CheckpointFactory(
        session=None,
        resident=r["r3"],
        organisation=org,
        task=t2,
        level=0,
        recorded_on=date(2025, 5, 2),
    )
    CheckpointFactory(session=s3, task=t2, level=2)
    CheckpointFactory(session=s5, task=t1, level=4)
    CheckpointFactory(
        session=None,
        resident=r["r6"],
        organisation=org,
        task=t1,
        level=0,
        recorded_on=date(2025, 3, 1),
    )

    # The device waiting list.
    def waiting(joined, status="waiting", changed=None):
        WaitingListEntryFactory(
            organisation=org,
            joined_on=joined,
            status=status,
            status_changed_at=changed or datetime.combine(joined, datetime.min.time()),
        )

    waiting(date(2025, 3, 1))  # still waiting: 395 days at the end of the year
    waiting(date(2025, 5, 1), "lent", at(2025, 5, 11))  # 10 days
    waiting(date(2025, 6, 1), "lent", at(2025, 7, 1))  # 30 days
    waiting(date(2025, 7, 1), "lent", at(2025, 7, 21))  # 20 days
    waiting(date(2025, 8, 1), "lent", at(2026, 4, 2))  # lent after the year: 242 days at its end
    waiting(date(2026, 4, 1))
    waiting(date(2025, 9, 1), "removed", at(2025, 10, 1))
    db.session.flush()
    return r


def seed_other_org(other_org):
    """Activity of another organisation in the same year, which must never be counted."""
    resident = ResidentFactory(organisation=other_org, referral_date=date(2025, 6, 1))
    LoanFactory(organisation=other_org, lent_at=at(2025, 6, 1))
    match = MatchFactory(organisation=other_org, resident=resident, started_at=at(2025, 6, 1))
    session = PracticeSessionFactory(match=match, held_on=date(2025, 6, 2))
    task = SkillTaskFactory(organisation=other_org)
    CheckpointFactory(
        session=None,
        resident=resident,
        organisation=other_org,
        task=task,
        level=0,
        recorded_on=date(2025, 6, 1),
    )
    CheckpointFactory(session=session, task=task, level=4)
    db.session.flush()


EXPECTED_YEAR = {
    "referrals": {
        "total": 6,
        "by_source": {"gp": 3, "social_care": 1, "housing": 1, "self": 1, "family": 0, "other": 0},
        "by_month": {
            "2025-04": 1,
            "2025-05": 2,
            "2025-06": 1,
            "2025-07": 0,
            "2025-08": 0,
            "2025-09": 0,
            "2025-10": 0,
            "2025-11": 0,
            "2025-12": 1,
            "2026-01": 0,
            "2026-02": 0,
            "2026-03": 1,
        },
    },
    "funnel": {"referred": 6, "contacted": 5, "assessed": 4, "supported": 2, "closed": 1},
    "devices": {
        "received": 3,
        "lent": 4,
        "returned": 1,
        "lost": 1,
        "gifted": 1,
        "on_loan_at_end": 2,
        "residents_lent": 4,
    },
    "data": {"bundles_issued": 2, "gb_given": 35.5, "residents_given_data": 1},
    "practice": {
        "active_buddies": 2,
        "matches_started": 2,
        "matches_active": 3,
        "sessions": 3,
        "hours": 3.0,
        "residents_practised": 2,
    },
    "waiting": {
        "waiting_at_end": 2,
        "joined": 5,
        "lent": 3,
        "median_wait_days": 20.0,
        "median_waiting_days": 318.5,
    },
    "skills": {
        "residents_checked": 2,
        "residents_moved_up": 2,
        "residents_reached_can_do_alone": 1,
        "moved_up_by_area": {
            "foundation": 1,
            "communicating": 1,
            "information": 0,
            "transacting": 0,
            "problem_solving": 0,
            "safety": 0,
        },
    },
}


def flat(figures: dict) -> dict:
    """The figures with their lists turned into key -> count, to compare with EXPECTED_YEAR."""
    ref, skills = figures["referrals"], figures["skills"]
    return {
        "referrals": {
            "total": ref["total"],
            "by_source": {r["source"]: r["count"] for r in ref["by_source"]},
            "by_month": {r["month"]: r["count"] for r in ref["by_month"]},
        },
        "funnel": {r["status"]: r["count"] for r in figures["funnel"]},
        "devices": figures["devices"],
        "data": figures["data"],
        "practice": figures["practice"],
        "waiting": figures["waiting"],
        "skills": {
            **{k: v for k, v in skills.items() if k != "moved_up_by_area"},
            "moved_up_by_area": {r["area"]: r["count"] for r in skills["moved_up_by_area"]},
        },
    }


# ---- the figures ----------------------------------------------------------------------------


def test_figures_of_a_seeded_year_are_exact(db, org, other_org):
    seed_year(org)
    seed_other_org(other_org)
    figures = report_figures(org.id, START, END)
    assert flat(figures) == EXPECTED_YEAR
    assert figures["period"] == {"start": "2025-04-01", "end": "2026-03-31"}


def test_figures_are_plain_json_values(db, org):
    import json

    seed_year(org)
    figures = report_figures(org.id, START, END)
    assert json.loads(json.dumps(figures)) == figures


def test_another_organisation_sees_only_its_own(db, org, other_org):
    seed_year(org)
    seed_other_org(other_org)
    theirs = report_figures(other_org.id, START, END)
    assert theirs["referrals"]["total"] == 1
    assert theirs["devices"]["lent"] == 1
    assert theirs["practice"]["sessions"] == 1
    assert theirs["skills"]["residents_moved_up"] == 1
    assert theirs["data"]["bundles_issued"] == 0


def test_first_and_last_day_of_a_period_are_included(db, org):
    seed_year(org)
    first = report_figures(org.id, START, START)
    assert first["referrals"]["total"] == 1
    assert first["devices"]["received"] == 1 and first["devices"]["lent"] == 1
    assert first["data"]["bundles_issued"] == 1
    assert first["practice"]["sessions"] == 1
    last = report_figures(org.id, END, END)
    assert last["referrals"]["total"] == 1
    assert last["devices"] == {
        "received": 1,
        "lent": 1,
        "returned": 0,
        "lost": 1,
        "gifted": 0,
        "on_loan_at_end": 2,
        "residents_lent": 1,
    }
    assert last["practice"]["sessions"] == 1
    assert last["practice"]["matches_started"] == 1
    # A day outside the year on either side sees none of the year's referrals.
    assert report_figures(org.id, date(2025, 3, 31), date(2025, 3, 31))["referrals"]["total"] == 1
    assert report_figures(org.id, date(2026, 4, 1), date(2026, 4, 1))["referrals"]["total"] == 1


def test_skill_gain_counts_only_what_moved_in_the_period(db, org):
    seed_year(org)
    # May 2025 alone: r2 reached 3 in communicating (from 2 in April); r3's baseline only.
    may = report_figures(org.id, date(2025, 5, 1), date(2025, 5, 31))["skills"]
    assert may["residents_checked"] == 2
    assert may["residents_moved_up"] == 1
    assert may["residents_reached_can_do_alone"] == 1
    # Before anything was recorded: nothing.
    empty = report_figures(org.id, date(2020, 1, 1), date(2020, 12, 31))["skills"]
    assert empty["residents_checked"] == empty["residents_moved_up"] == 0


def test_end_before_start_is_refused(db, org):
    with pytest.raises(ValueError):
        report_figures(org.id, END, START)


def test_periods():
    on = date(2026, 11, 23)
    assert (this_month(on).start, this_month(on).end) == (date(2026, 11, 1), date(2026, 11, 30))
    assert (last_quarter(on).start, last_quarter(on).end) == (date(2026, 7, 1), date(2026, 9, 30))
    january = last_quarter(date(2026, 1, 5))
    assert (january.start, january.end) == (date(2025, 10, 1), date(2025, 12, 31))
    assert financial_year_of(date(2026, 3, 31)) == 2025
    assert financial_year_of(date(2026, 4, 1)) == 2026
    assert (FY.start, FY.end) == (date(2025, 4, 1), date(2026, 3, 31))


# ---- the page --------------------------------------------------------------------------------


def test_the_page_shows_exact_figures_charts_and_tables(coordinator, org):
    seed_year(org)
    page = coordinator.get(YEAR_URL).get_data(as_text=True)
    assert "1 April 2025 to 31 March 2026" in page
    assert 'id="chart-referrals-source"' in page and "<svg" in page
    assert 'role="img"' in page and '<title id="chart-referrals-source-title">' in page
    assert 'id="table-referrals_by_source"' in page
    # Staff see exact small numbers on screen.
    assert (
        '<th class="govuk-table__header" scope="row">GP practice</th><td class="govuk-table__cell govuk-table__cell--numeric">3</td>'
        in page
    )
    assert SUPPRESSED not in page.split('id="downloads-heading"')[1].split("</section>")[1]


def test_custom_period_is_validated_next_to_the_fields(coordinator, org):
    response = coordinator.get("/reports/?period=custom&start=2026-05-01&end=2026-04-01")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert (
        'id="end-error"><span class="govuk-visually-hidden">Error:</span> The last day must be on or after the first day.'
        in page
    )
    response = coordinator.get("/reports/?period=custom&start=&end=")
    page = response.get_data(as_text=True)
    assert "Enter the first day of the report." in page
    assert "Enter the last day of the report." in page
    page = coordinator.get("/reports/?period=custom&start=31/02/2026&end=2026-04-01").get_data(
        as_text=True
    )
    assert (
        'id="start-error"><span class="govuk-visually-hidden">Error:</span> Enter a real date, for example 2026-04-01.'
        in page
    )


def test_custom_period_shows_those_dates(coordinator, org):
    seed_year(org)
    page = coordinator.get("/reports/?period=custom&start=2025-05-01&end=2025-05-31").get_data(
        as_text=True
    )
    assert "1 May 2025 to 31 May 2025" in page
    assert (
        '<th class="govuk-table__header" scope="row">All sources</th><td class="govuk-table__cell govuk-table__cell--numeric">2</td>'
        in page
    )


def test_navigation_has_reports_for_staff_only(coordinator, buddy):
    assert 'href="/reports/"' in coordinator.get("/dashboard").get_data(as_text=True)
    assert 'href="/reports/"' not in buddy.get("/dashboard").get_data(as_text=True)


# ---- targets ---------------------------------------------------------------------------------


def test_targets_are_set_audited_and_shown_as_progress(coordinator, org):
    seed_year(org)
    response = coordinator.post(
        "/reports/targets",
        data={
            "year": "2025",
            "target_referrals": "7,200",
            "target_devices_lent": "8",
            "target_sessions": "",
            "target_bundles_issued": "",
            "target_residents_gaining_skills": "4",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/reports/?period=year&year=2025")
    targets = service.targets_for(org.id, 2025)
    assert targets == {"referrals": 7200, "devices_lent": 8, "residents_gaining_skills": 4}
    events = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.entity_type == "ReportTarget")
    ).all()
    assert sorted(events) == ["report_target.set"] * 3

    page = coordinator.get(YEAR_URL).get_data(as_text=True)
    assert "Referrals: <strong>6</strong> of 7,200 (0%)" in page
    assert "Devices lent: <strong>4</strong> of 8 (50%)" in page
    assert '<progress id="progress-devices_lent" max="100" value="50">' in page
    assert "Residents gaining skills: <strong>2</strong> of 4 (50%)" in page

    # Changing one and clearing another: audited as such.
    coordinator.post(
        "/reports/targets",
        data={
            "year": "2025",
            "target_referrals": "7000",
            "target_devices_lent": "",
            "target_residents_gaining_skills": "4",
        },
    )
    assert service.targets_for(org.id, 2025) == {"referrals": 7000, "residents_gaining_skills": 4}
    actions = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.entity_type == "ReportTarget")
    ).all()
    assert actions.count("report_target.changed") == 1
    assert actions.count("report_target.removed") == 1


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"target_referrals": "lots"}, "target_referrals", "Enter a whole number, like 7200"),
        ({"target_sessions": "-3"}, "target_sessions", "Enter a number from 0 to 10,000,000."),
        (
            {"target_sessions": "20000000"},
            "target_sessions",
            "Enter a number from 0 to 10,000,000.",
        ),
        ({"year": "1999"}, "year", "Choose a financial year from the list."),
    ],
)
def test_bad_targets_change_nothing(coordinator, org, data, field, message):
    service.set_targets(org.id, 2025, {"referrals": 100}, by=None)
    db.session.flush()
    before = row_counts(ReportTarget, AuditEvent)
    form = {"year": "2025", "target_referrals": "7200", "target_sessions": "300"}
    form.update(data)
    response = coordinator.post("/reports/targets", data=form)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"><span class="govuk-visually-hidden">Error:</span> {message}' in page
    assert row_counts(ReportTarget, AuditEvent) == before
    assert service.targets_for(org.id, 2025) == {"referrals": 100}


def test_targets_form_shows_the_saved_values(coordinator, org):
    service.set_targets(org.id, 2025, {"sessions": 1500}, by=None)
    page = coordinator.get("/reports/targets?year=2025").get_data(as_text=True)
    assert 'name="target_sessions"' in page and 'value="1500"' in page


# ---- downloads ---------------------------------------------------------------------------


def _zip(response) -> dict[str, list[list[str]]]:
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    return {
        name: list(csv.reader(io.StringIO(archive.read(name).decode())))
        for name in archive.namelist()
        if name.endswith(".csv")
    }


def test_csv_zip_holds_one_file_per_table_with_exact_figures(coordinator, org):
    seed_year(org)
    service.set_targets(org.id, 2025, {"referrals": 7200}, by=None)
    response = coordinator.get("/reports/report.zip?period=year&year=2025")
    assert "attachment" in response.headers["Content-Disposition"]
    files = _zip(response)
    assert set(files) == {
        "targets.csv",
        "referrals_by_source.csv",
        "referrals_by_month.csv",
        "status_funnel.csv",
        "devices.csv",
        "data_bundles.csv",
        "buddies_and_practice.csv",
        "skill_gains.csv",
        "skill_gains_by_area.csv",
        "waiting_list.csv",
        # the outcomes' section
        "outcome_change.csv",
        "loneliness_often.csv",
        "digital_independence.csv",
        "life_satisfaction_distribution.csv",
        "lonely_direct_distribution.csv",
        *(f"life_satisfaction_by_{group}.csv" for group in GROUPS),
    }
    assert files["referrals_by_source.csv"][0] == ["Source", "Referrals"]
    assert ["GP practice", "3"] in files["referrals_by_source.csv"]
    assert ["All sources", "6"] in files["referrals_by_source.csv"]
    assert len(files["referrals_by_month.csv"]) == 13
    assert ["GB of data given", "35.5"] in files["data_bundles.csv"]
    assert ["Referrals", "7200", "6", "0%"] in files["targets.csv"]


def test_publication_zip_shows_fewer_than_5(coordinator, org):
    seed_year(org)
    files = _zip(coordinator.get("/reports/report.zip?period=year&year=2025&publication=1"))
    assert ["GP practice", SUPPRESSED] in files["referrals_by_source.csv"]
    assert ["Family or friend", "0"] in files["referrals_by_source.csv"]  # none is not hidden
    assert ["All sources", "6"] in files["referrals_by_source.csv"]
    assert ["GB of data given", SUPPRESSED] in files["data_bundles.csv"]  # from 2 bundles
    assert ["Median wait of those lent a device (days)", SUPPRESSED] in files["waiting_list.csv"]
    for rows in files.values():
        for row in rows[1:]:
            for cell in row[1:]:
                assert cell not in {"1", "2", "3", "4"}, rows


def _pdf_text(response) -> str:
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_pdf_report_has_the_figures_and_charts(coordinator, org):
    seed_year(org)
    response = coordinator.get("/reports/report.pdf?period=year&year=2025")
    text = _pdf_text(response)
    assert org.name in text
    assert "1 April 2025 to 31 March 2026" in text
    assert "Referrals by source" in text and "GP practice" in text
    assert "Residents who moved up, by skill area" in text
    assert "For internal use" in text
    assert SUPPRESSED not in text


def test_publication_pdf_shows_fewer_than_5(coordinator, org):
    seed_year(org)
    text = _pdf_text(coordinator.get("/reports/report.pdf?period=year&year=2025&publication=1"))
    assert "For publication" in text
    assert SUPPRESSED in text


def test_download_with_a_bad_period_goes_back_to_the_page(coordinator, org):
    response = coordinator.get("/reports/report.pdf?period=custom&start=2026-05-01&end=2026-01-01")
    assert response.status_code == 302
    assert "/reports/" in response.headers["Location"]


# ---- a constant number of queries ----------------------------------------------------------


def _more_of_everything(org, n):
    for i in range(n):
        match = MatchFactory(organisation=org, started_at=at(2025, 5, 1))
        session = PracticeSessionFactory(match=match, held_on=date(2025, 6, 1 + i))
        CheckpointFactory(session=session, level=i % 5)
        LoanFactory(organisation=org, lent_at=at(2025, 6, 1), resident=match.resident)
        WaitingListEntryFactory(organisation=org, joined_on=date(2025, 5, 1))
        ResidentFactory(organisation=org, referral_date=date(2025, 7, 1))
    db.session.flush()


def test_figures_take_a_constant_number_of_queries(db, org, count_queries):
    seed_year(org)
    with count_queries() as few:
        report_figures(org.id, START, END)
    _more_of_everything(org, 8)
    with count_queries() as many:
        figures = report_figures(org.id, START, END)
    assert figures["practice"]["sessions"] == 3 + 8
    # six aggregate statements, and the outcomes' answer sets (with their residents when any)
    assert many.count == few.count <= 8


def test_the_page_takes_a_constant_number_of_queries(coordinator, org, count_queries):
    seed_year(org)
    service.set_targets(org.id, 2025, {"referrals": 7200}, by=None)
    db.session.commit()
    with count_queries() as few:
        coordinator.get("/reports/?period=custom&start=2025-05-01&end=2025-06-30")
    _more_of_everything(org, 6)
    db.session.commit()  # a new data version: the figures are computed again, not kept
    with count_queries() as many:
        coordinator.get("/reports/?period=custom&start=2025-05-01&end=2025-06-30")
    assert many.count == few.count
    assert db.session.scalar(select(Checkpoint.id).limit(1)) is not None


# ---- targets of a shorter period, hidden counts in the charts -------------------------------


def _pdf_lines(response) -> list[tuple[str, float, float, tuple]]:
    """Every piece of text on the PDF's pages: (text, x, y, its matrix), as the text layer
    has it (rotated text too)."""
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    found = []
    for page in PdfReader(io.BytesIO(response.data)).pages:

        def visit(text, cm, tm, font, size):
            if text.strip():
                a, b, c, d, e, f = cm
                x, y = tm[4] * a + tm[5] * c + e, tm[4] * b + tm[5] * d + f
                found.append((text.strip(), x, y, (tm[0] * a + tm[1] * c, tm[0] * b + tm[1] * d)))

        page.extract_text(visitor_text=visit)
    return found


def _words(text: str) -> str:
    return " ".join(text.split())


def test_a_custom_period_compares_its_figures_with_pro_rated_targets(coordinator, org):
    seed_year(org)
    service.set_targets(org.id, 2025, {"referrals": 120, "devices_lent": 8}, by=None)
    query = "period=custom&start=2025-04-01&end=2025-07-31"  # 122 of the year's 365 days

    text = _words(_pdf_text(coordinator.get(f"/reports/report.pdf?{query}")))
    assert "Progress against targets, 1 April 2025 to 31 July 2025" in text
    assert "Target for these 4 months" in text and "Yearly target (2025–26)" in text
    # Four referrals from April to July, against 40 of the year's 120.
    assert "Referrals 40 4 10% 120" in text
    assert "Referrals, 40 for these 4 months, pro-rated from 120 a year" in text
    assert "Devices lent, 3 for these 4 months, pro-rated from 8 a year" in text
    assert "122 days; 2025–26 has 365" in text

    page = coordinator.get(f"/reports/?{query}").get_data(as_text=True)
    assert "Targets for these 4 months" in page
    assert "Referrals: <strong>4</strong> of 40 (10%)" in page
    assert "target for these 4 months, pro-rated from 120 a year" in page
    assert 'id="targets-prorated"' in page

    files = _zip(coordinator.get(f"/reports/report.zip?{query}"))
    assert files["targets.csv"][0] == [
        "Measure",
        "Target for these 4 months",
        "Done",
        "Per cent",
        "Yearly target (2025–26)",
    ]
    assert ["Referrals", "40", "4", "10%", "120"] in files["targets.csv"]


def test_a_month_and_a_run_of_days_say_how_long_they_are(coordinator, org):
    seed_year(org)
    service.set_targets(org.id, 2025, {"referrals": 365}, by=None)
    text = _words(
        _pdf_text(
            coordinator.get("/reports/report.pdf?period=custom&start=2025-05-01&end=2025-05-31")
        )
    )
    assert "Referrals, 31 for this month, pro-rated from 365 a year" in text
    text = _words(
        _pdf_text(
            coordinator.get("/reports/report.pdf?period=custom&start=2025-05-05&end=2025-05-14")
        )
    )
    assert "Referrals, 10 for these 10 days, pro-rated from 365 a year" in text


def test_the_whole_year_keeps_its_yearly_targets(coordinator, org):
    seed_year(org)
    service.set_targets(org.id, 2025, {"referrals": 120}, by=None)
    text = _words(_pdf_text(coordinator.get("/reports/report.pdf?period=year&year=2025")))
    assert "Progress against targets for 2025–26" in text
    assert "Referrals 120 6 5%" in text and "pro-rated" not in text


def test_a_year_not_yet_over_says_how_much_has_gone_by(coordinator, org):
    year = financial_year_of(date.today())  # the clock of the tests: the year is under way
    service.set_targets(org.id, year, {"referrals": 120}, by=None)
    report = service.build_report(org.id, financial_year(year))
    if report.year_elapsed == 100:  # pragma: no cover - the clock is at the year's last day
        pytest.skip("the year is over")
    text = _words(_pdf_text(coordinator.get(f"/reports/report.pdf?period=year&year={year}")))
    assert "which is not over:" in text and f"{report.year_elapsed}% of it had gone by" in text


def test_hidden_counts_are_drawn_and_labelled_in_the_publication_pdf(coordinator, org):
    seed_year(org)
    response = coordinator.get("/reports/report.pdf?period=year&year=2025&publication=1")
    lines = _pdf_lines(response)
    # Referrals by source: GP practice (3) is hidden; its bar's label "fewer than 5" is on
    # the same line as the category, to its right.
    gp = [(x, y) for t, x, y, _ in lines if t == "GP practice"]
    hidden = [(x, y) for t, x, y, _ in lines if t == SUPPRESSED]
    chart_gp = gp[0]  # the chart comes before its table
    assert any(abs(y - chart_gp[1]) < 1 and x > chart_gp[0] for x, y in hidden)
    # Referrals by month: single referrals are hidden, their label reads upwards.
    upwards = [m for t, *_, m in lines if t == SUPPRESSED and abs(m[0]) < 0.01 and m[1] > 0]
    assert len(upwards) >= 4  # April, May, June, December 2025, March 2026 each had 1 to 4
    assert "a count from 1 to 4, not shown exactly" in _words(_pdf_text(response))
    # The hidden bars are drawn: dashed outlines with hatching, not nothing.
    streams = b"".join(
        p.get_contents().get_data() for p in PdfReader(io.BytesIO(response.data)).pages
    )
    assert streams.count(b"[3 2] 0 d") >= 5


def test_the_page_draws_hidden_counts_as_hatched_outlines(app):
    from flask import render_template_string

    from inclusion.reports.charts import bar_chart

    for orientation in ("h", "v"):
        chart = bar_chart(
            f"c-{orientation}",
            "Loans by kind",
            "How many of each kind were lent.",
            [("Laptop", 12, 12), ("Tablet", 0, SUPPRESSED), ("Phone", 0, 0)],
            orientation,
            table="loans",
        )
        with app.test_request_context():
            html = render_template_string(
                '{% from "reports/_report_parts.html" import bar_chart %}{{ bar_chart(c, "Loans") }}',
                c=chart,
            )
        tablet = html.split('class="report-bar report-bar-suppressed"')[1].split("</g>")[0]
        assert f'fill="url(#c-{orientation}-hatch)"' in tablet and "stroke-dasharray" in tablet
        assert f'<pattern id="c-{orientation}-hatch"' in html
        height = float(tablet.split('height="')[1].split('"')[0])
        width = float(tablet.split('width="')[1].split('"')[0])
        assert height > 0 and width > 0  # drawn, as tall as 4 would be
        assert f">{SUPPRESSED}</text>" in tablet
        assert "A hatched, dashed outline is a count from 1 to 4" in html
        # The caption names the table and says neither "below" nor "beside".
        assert (
            'the same numbers are in the table <a class="govuk-link" href="#table-loans">Loans</a>'
            in html
        )
        assert "below" not in html and "beside" not in html
    phone = html.split("Phone:")[0].rsplit("<rect", 1)[1]
    assert 'height="0.0"' in phone  # none is still drawn as none


def test_report_captions_do_not_say_below(coordinator, org):
    seed_year(org)
    page = coordinator.get(YEAR_URL).get_data(as_text=True)
    captions = page.split("<figcaption")[1:]
    assert captions and all("below" not in c.split("</figcaption>")[0] for c in captions)
    assert (
        'Referrals by month: the same numbers are in <a class="govuk-link" '
        'href="#table-referrals_by_month">its table</a>.' in page
    )
    assert (
        'Stage reached: the same numbers are in the table <a class="govuk-link" '
        'href="#table-status_funnel">How far residents referred in the period have got</a>.' in page
    )
