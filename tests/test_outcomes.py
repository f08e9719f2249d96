"""Outcomes: scoring, statistics, suppression, the follow-up schedule, the letter, the API
endpoint and the commissioner's isolation."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta

import pytest
from scipy import stats as scistats
from sqlalchemy import select

from inclusion.audit import AuditEvent
from inclusion.residents.models import StatusChange
from outcomes import service
from outcomes.measures import ucla_total
from outcomes.models import AnswerSet, Programme, ProgrammeCommissioner, ProgrammeMember
from outcomes.statistics import MIN_PAIRS, paired_change
from tests.conftest import row_counts, sign_in
from tests.factories import OrganisationFactory, ResidentFactory, UserFactory

ANSWERS = dict(
    life_satisfaction=4,
    worthwhile=5,
    happy=4,
    anxious=7,
    ucla_companionship=3,
    ucla_left_out=2,
    ucla_isolated=3,
    lonely_direct=1,
)


def _with_pair(org, by, before: dict, after: dict, **resident_kw):
    resident = ResidentFactory(organisation=org, status="supported", **resident_kw)
    service.record_answers(
        resident,
        "baseline",
        before,
        method="in_person",
        by=by,
        asked_on=date.today() - timedelta(days=100),
    )
    service.record_answers(resident, "months_3", after, method="phone", by=by)
    return resident


# ---- scoring -----------------------------------------------------------------------------


def test_ucla_total_counts_three_items_and_a_declined_item_leaves_it_missing():
    assert ucla_total({"ucla_companionship": 3, "ucla_left_out": 2, "ucla_isolated": 3}) == 8
    assert ucla_total({"ucla_companionship": 3, "ucla_left_out": None, "ucla_isolated": 3}) is None


def test_anxiety_falling_is_an_improvement():
    pairs = [(8, 5)] * 10  # anxiety fell by 3
    change = paired_change("anxious", pairs)
    assert change.mean == 3 and change.improved == 10
    assert "fell by 3.0 points out of 10" in change.sentence


# ---- statistics --------------------------------------------------------------------------


def test_statistics_match_scipy_on_a_fixed_dataset():
    before = [3, 4, 5, 2, 6, 4, 3, 5, 7, 4, 2, 6, 5, 3, 4]
    after = [5, 4, 7, 3, 6, 6, 2, 7, 8, 5, 4, 6, 6, 6, 3]
    change = paired_change("life_satisfaction", list(zip(before, after, strict=True)))
    diffs = [a - b for b, a in zip(before, after, strict=True)]
    ci = scistats.t.interval(
        0.95, len(diffs) - 1, loc=sum(diffs) / len(diffs), scale=scistats.sem(diffs)
    )
    assert change.pairs == 15
    assert change.mean == pytest.approx(sum(diffs) / 15)
    assert (change.ci_low, change.ci_high) == pytest.approx(ci)
    assert change.wilcoxon_p == pytest.approx(scistats.wilcoxon(diffs).pvalue)
    assert (change.improved, change.same, change.worse) == (10, 3, 2)


def test_statistics_by_hand_on_a_tiny_dataset():
    # changes: +1 ×5, 0 ×3, -1 ×2: mean 0.3, median 0.5 (middle of 0 and 1)
    pairs = [(5, 6)] * 5 + [(5, 5)] * 3 + [(5, 4)] * 2
    change = paired_change("life_satisfaction", pairs)
    assert change.mean == pytest.approx(0.3)
    assert change.median == pytest.approx(0.5)
    # sd = sqrt(sum((x-0.3)^2)/9) = sqrt((5*.49 + 3*.09 + 2*1.69)/9) = sqrt(6.1/9)
    half = 2.2621571628 * (6.1 / 9) ** 0.5 / 10**0.5
    assert change.ci_low == pytest.approx(0.3 - half, abs=1e-6)
    assert (change.improved, change.same, change.worse) == (5, 3, 2)


def test_fewer_than_ten_pairs_give_only_the_count():
    change = paired_change("life_satisfaction", [(3, 8)] * (MIN_PAIRS - 1))
    assert change.pairs == 9 and change.mean is None and change.wilcoxon_p is None
    assert "too few" in change.sentence


# ---- recording ---------------------------------------------------------------------------


def test_a_coordinator_records_a_baseline_with_a_declined_question(
    coordinator, coordinator_user, org, db
):
    resident = ResidentFactory(organisation=org, status="assessed")
    data = {k: str(v) for k, v in ANSWERS.items()} | {"anxious": "declined"}
    response = coordinator.post(
        f"/outcomes/residents/{resident.reference}/answers",
        data={**data, "occasion": "baseline", "method": "phone"},
    )
    assert response.status_code == 302
    saved = db.session.scalar(select(AnswerSet).where(AnswerSet.resident_id == resident.id))
    assert saved.anxious is None and saved.life_satisfaction == 4 and saved.method == "phone"
    assert saved.asked_by_id == coordinator_user.id
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "outcome.recorded"))
    assert event.actor_id == coordinator_user.id and event.entity_id == saved.id


def test_an_unanswered_question_is_refused_and_nothing_is_saved(coordinator, org, db):
    resident = ResidentFactory(organisation=org, status="assessed")
    before = row_counts(AnswerSet)
    data = {k: str(v) for k, v in ANSWERS.items() if k != "happy"}
    response = coordinator.post(
        f"/outcomes/residents/{resident.reference}/answers",
        data={**data, "occasion": "baseline", "method": "phone"},
    )
    assert response.status_code == 422
    assert "Choose an answer, or prefers not to say." in response.get_data(as_text=True)
    assert row_counts(AnswerSet) == before


def test_a_follow_up_needs_a_baseline(coordinator, org, db):
    resident = ResidentFactory(organisation=org, status="supported")
    data = {k: str(v) for k, v in ANSWERS.items()}
    response = coordinator.post(
        f"/outcomes/residents/{resident.reference}/answers",
        data={**data, "occasion": "months_3", "method": "phone"},
    )
    assert response.status_code == 422
    assert "Record the baseline first" in response.get_data(as_text=True)
    assert row_counts(AnswerSet) == {"outcome_answer_set": 0}


# ---- the follow-up schedule --------------------------------------------------------------


def test_a_follow_up_is_due_three_months_after_support_started(
    coordinator, coordinator_user, org, db
):
    resident = ResidentFactory(organisation=org, status="supported")
    started = datetime.combine(date.today() - timedelta(days=100), datetime.min.time())
    db.session.add(
        StatusChange(
            organisation_id=org.id,
            resident_id=resident.id,
            from_status="assessed",
            to_status="supported",
            at=started,
        )
    )
    service.record_answers(
        resident,
        "baseline",
        ANSWERS,
        method="in_person",
        by=coordinator_user,
        asked_on=started.date(),
    )
    due = service.follow_ups_due(org.id)
    assert [(d.resident.id, d.occasion) for d in due] == [(resident.id, "months_3")]
    page = coordinator.get("/outcomes/follow-ups").get_data(as_text=True)
    assert resident.reference in page and "3-month follow-up" in page
    service.record_answers(resident, "months_3", ANSWERS, method="phone", by=coordinator_user)
    assert service.follow_ups_due(org.id) == []
    assert (
        service.follow_ups_due(org.id, date.today() + timedelta(days=100))[0].occasion == "months_6"
    )


# ---- report ------------------------------------------------------------------------------


def test_the_report_shows_statistics_and_hides_small_groups(coordinator, coordinator_user, org, db):
    for i in range(12):
        after = ANSWERS | {"life_satisfaction": 4 + (i % 4), "lonely_direct": 1 + (i % 3)}
        _with_pair(
            org, coordinator_user, ANSWERS, after, referral_source="gp" if i < 11 else "housing"
        )
    page = coordinator.get("/outcomes/report").get_data(as_text=True)
    assert "for the 12 people asked at both times" in page
    assert "Of the 12 people often or always lonely at the start, 8 no longer were" in page
    csv_text = coordinator.get("/outcomes/report.csv").get_data(as_text=True)
    assert "Housing,1,,," in csv_text  # one pair: the count only
    assert coordinator.get("/outcomes/report.pdf").data.startswith(b"%PDF")


# ---- the letter and the API --------------------------------------------------------------


def test_the_outcome_letter_has_the_person_the_measures_and_the_outcome(
    coordinator, coordinator_user, org, db
):
    from pypdf import PdfReader

    resident = _with_pair(
        org,
        coordinator_user,
        ANSWERS,
        ANSWERS | {"life_satisfaction": 8},
        date_of_birth=date(1950, 5, 1),
    )
    response = coordinator.get(f"/outcomes/residents/{resident.reference}/letter.pdf")
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages)
    assert resident.full_name in text and "01 May 1950" in text
    assert "871731000000106" in text
    assert "Life satisfaction" in text and "8" in text


def test_the_api_returns_the_outcome_of_its_own_referrals_only(app, db, org, coordinator_user):
    from inclusion.api import service as api_service

    key, secret = api_service.create_key(org, name="GP system", by=coordinator_user)
    resident = _with_pair(
        org, coordinator_user, ANSWERS, ANSWERS | {"happy": 9}, consent_method="api"
    )
    not_api = ResidentFactory(organisation=org)
    client = app.test_client()
    ok = client.get(f"/api/referrals/{resident.reference}/outcome", headers={"X-API-Key": secret})
    assert ok.status_code == 200
    body = ok.get_json()
    assert body["referral"]["snomed"]["code"] == "871731000000106"
    assert body["measures"]["latest"]["answers"]["happy"] == 9
    assert client.get(f"/api/referrals/{resident.reference}/outcome").status_code == 401
    missing = client.get(
        f"/api/referrals/{not_api.reference}/outcome", headers={"X-API-Key": secret}
    )
    assert missing.status_code == 404


# ---- erasure -----------------------------------------------------------------------------


def test_erasure_keeps_the_scores_but_not_the_link(db, org, coordinator_user):
    from inclusion.dataprotection import service as dp

    resident = _with_pair(org, coordinator_user, ANSWERS, ANSWERS)
    resident.status = "closed"
    resident.outcome = "goals_met"
    db.session.flush()
    dp.erase_resident(resident, by=coordinator_user)
    rows = db.session.scalars(select(AnswerSet)).all()
    assert len(rows) == 2 and all(r.resident_id is None for r in rows)
    assert rows[0].person_key == rows[1].person_key and rows[0].life_satisfaction == 4


def test_the_answers_are_in_the_subject_access_export(db, org, coordinator_user):
    import json
    import zipfile

    from inclusion.dataprotection import service as dp

    resident = _with_pair(org, coordinator_user, ANSWERS | {"happy": None}, ANSWERS)
    archive = zipfile.ZipFile(io.BytesIO(dp.export_resident(resident, by=coordinator_user)))
    rows = json.loads(archive.read("outcome_answers.json"))
    assert [r["occasion"] for r in rows] == ["Baseline (first assessment)", "3-month follow-up"]
    assert rows[0]["happy"] is None and rows[0]["asked_by"] == coordinator_user.name


# ---- the commissioner --------------------------------------------------------------------


def test_a_commissioner_sees_aggregates_of_their_programme_only(app, db, org, coordinator_user):
    second = OrganisationFactory(name="Second Scheme", code="SEC")
    outside = OrganisationFactory(name="Outside Scheme", code="OUT")
    second_coordinator = UserFactory(organisation=second, role="coordinator")
    outside_coordinator = UserFactory(organisation=outside, role="coordinator")
    programme = Programme(name="Borough programme")
    db.session.add(programme)
    db.session.flush()
    for member in (org, second):
        db.session.add(ProgrammeMember(programme_id=programme.id, organisation_id=member.id))
    commissioner = UserFactory(organisation=org, role="commissioner")
    db.session.add(ProgrammeCommissioner(programme_id=programme.id, user_id=commissioner.id))
    named = []
    for _ in range(6):
        named.append(_with_pair(org, coordinator_user, ANSWERS, ANSWERS | {"life_satisfaction": 7}))
        named.append(
            _with_pair(second, second_coordinator, ANSWERS, ANSWERS | {"life_satisfaction": 6})
        )
    for _ in range(3):
        named.append(
            _with_pair(outside, outside_coordinator, ANSWERS, ANSWERS | {"life_satisfaction": 0})
        )
    db.session.flush()
    client = sign_in(app, commissioner)
    page = client.get("/outcomes/programme").get_data(as_text=True)
    assert "Borough programme" in page
    assert "for the 12 people asked at both times" in page  # 6 + 6, not the outside 3
    assert "Test Digital Inclusion" in page and "Second Scheme" in page
    assert "Outside Scheme" not in page
    assert "fell" not in page  # the outside scheme's drop is nowhere
    for resident in named:
        assert resident.full_name not in page and resident.reference not in page
    # no record, and no staff page, is served to a commissioner
    for url in (
        "/residents/",
        f"/residents/{named[0].reference}",
        "/outcomes/report",
        "/outcomes/follow-ups",
        "/reports/",
    ):
        assert client.get(url).status_code in (403, 404), url
    assert client.get("/dashboard").headers["Location"].endswith("/outcomes/programme")


# ---- the NHS number ----------------------------------------------------------------------


def test_nhs_number_modulus_11():
    from inclusion.validators import normalise_nhs_number

    assert normalise_nhs_number("943 476 5919") == "9434765919"
    assert normalise_nhs_number("943-476-5918") is None  # wrong check digit
    assert normalise_nhs_number("123") is None
    assert normalise_nhs_number("") == ""


def test_a_wrong_nhs_number_is_refused_next_to_the_field_and_changes_nothing(
    db, org, coordinator_user
):
    from inclusion.errors import RuleBroken
    from inclusion.residents import service as residents

    resident = ResidentFactory(organisation=org)
    data = {
        "first_name": resident.first_name,
        "last_name": resident.last_name,
        "phone": resident.phone,
        "postcode": resident.postcode,
        "referral_source": "gp",
        "needs_skills": True,
        "nhs_number": "9434765918",
    }
    with pytest.raises(RuleBroken) as refused:
        residents.update_resident(
            resident, data, consent_given=True, consent_method="verbal", by=coordinator_user
        )
    assert refused.value.field == "nhs_number"
    residents.update_resident(
        resident,
        data | {"nhs_number": "943 476 5919"},
        consent_given=True,
        consent_method="verbal",
        by=coordinator_user,
    )
    assert resident.nhs_number == "9434765919"


def test_the_cli_adds_a_commissioner_over_a_programme(app, db, org, other_org):
    from inclusion.cli import cli

    result = app.test_cli_runner().invoke(
        cli,
        [
            "add-commissioner",
            "--email=funder@icb.example.org",
            "--name=Fay Funder",
            "--programme=Borough",
            f"--organisation={org.code}",
            f"--organisation={other_org.code}",
            "--password=a long enough passphrase 2026",
        ],
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(
        select(UserFactory._meta.model).where(
            UserFactory._meta.model.email == "funder@icb.example.org"
        )
    )
    assert user.role == "commissioner"
    link = db.session.scalar(
        select(ProgrammeCommissioner).where(ProgrammeCommissioner.user_id == user.id)
    )
    members = db.session.scalars(
        select(ProgrammeMember.organisation_id).where(
            ProgrammeMember.programme_id == link.programme_id
        )
    ).all()
    assert sorted(members) == sorted([org.id, other_org.id])
