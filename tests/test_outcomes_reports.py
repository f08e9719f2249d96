"""Outcomes on the reports page (its CSV zip and its PDF), the follow-ups due on the call
list, and the commissioner's view of figures and targets across a programme, with a third
organisation outside it that nothing of reaches the commissioner."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime, timedelta

from pypdf import PdfReader
from sqlalchemy import select

from inclusion.residents.models import StatusChange
from outcomes import service
from outcomes.models import AnswerSet, Programme, ProgrammeCommissioner, ProgrammeMember
from tests.conftest import row_counts, sign_in
from tests.factories import OrganisationFactory, ResidentFactory, UserFactory
from tests.test_outcomes import ANSWERS, _with_pair

LAST_YEAR = "period=custom&start={start}&end={end}"


def _period() -> str:
    end = date.today()
    return LAST_YEAR.format(start=(end - timedelta(days=365)).isoformat(), end=end.isoformat())


def _pdf_text(response) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages)


def _twelve_pairs(org, by):
    """Eleven pairs referred by a GP (life satisfaction up by 0 to 3) and one by housing."""
    for i in range(12):
        after = ANSWERS | {"life_satisfaction": 4 + (i % 4), "lonely_direct": 1 + (i % 3)}
        _with_pair(org, by, ANSWERS, after, referral_source="gp" if i < 11 else "housing")


# ---- the reports page, its CSV zip and its PDF ---------------------------------------------


def test_the_reports_page_shows_the_outcomes_with_charts_beside_their_tables(
    coordinator, coordinator_user, org, db
):
    _twelve_pairs(org, coordinator_user)
    page = coordinator.get(f"/reports/?{_period()}").get_data(as_text=True)
    assert "Change from baseline to follow-up (better is positive)" in page
    assert "life satisfaction rose by 1.5 points out of 10" in page  # mean of 0,1,2,3,…
    assert "people asked at the start and at follow-up" in page  # the headline card
    # the before and the after distribution both drawn next to their one table
    assert 'id="life_satisfaction_distribution-before"' in page
    assert 'id="life_satisfaction_distribution-after"' in page
    assert page.index('id="life_satisfaction_distribution-after"') < page.index(
        'id="table-life_satisfaction_distribution"'
    )
    # a group of one pair shows its count and no statistics
    assert 'id="table-life_satisfaction_by_source"' in page


def test_the_csv_zip_and_the_pdf_carry_the_outcome_figures_suppressed_for_publication(
    coordinator, coordinator_user, org, db
):
    _twelve_pairs(org, coordinator_user)
    archive = zipfile.ZipFile(io.BytesIO(coordinator.get(f"/reports/report.zip?{_period()}").data))
    assert {"outcome_change.csv", "loneliness_often.csv", "life_satisfaction_by_source.csv"} <= set(
        archive.namelist()
    )
    by_source = archive.read("life_satisfaction_by_source.csv").decode("utf-8-sig")
    assert "Housing,1,,," in by_source  # internal: the exact count, no statistics
    public = zipfile.ZipFile(
        io.BytesIO(coordinator.get(f"/reports/report.zip?{_period()}&publication=1").data)
    )
    by_source = public.read("life_satisfaction_by_source.csv").decode("utf-8-sig")
    assert "Housing,fewer than 5,,," in by_source and "Housing,1" not in by_source
    assert "GP" in by_source and ",11," in by_source

    text = _pdf_text(coordinator.get(f"/reports/report.pdf?{_period()}&publication=1"))
    assert "Change from baseline to follow-up" in text
    assert "People asked about life satisfaction at both times" in text  # a key figure
    assert "Mean change in life satisfaction by source of referral" in text  # a chart


# ---- the call list -------------------------------------------------------------------------


def _supported_with_baseline(org, by, days_ago: int, **kw):
    resident = ResidentFactory(organisation=org, status="supported", **kw)
    started = datetime.combine(date.today() - timedelta(days=days_ago), datetime.min.time())
    from inclusion.extensions import db

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
        resident, "baseline", ANSWERS, method="in_person", by=by, asked_on=started.date()
    )
    return resident


def test_the_follow_ups_due_are_on_the_call_list_with_a_link_to_the_questions(
    coordinator, coordinator_user, org, other_org, db
):
    due = _supported_with_baseline(org, coordinator_user, 100, phone="07700 900123")
    not_yet = _supported_with_baseline(org, coordinator_user, 30)
    elsewhere = _supported_with_baseline(
        other_org, UserFactory(organisation=other_org, role="coordinator"), 100
    )
    page = coordinator.get("/reminders").get_data(as_text=True)
    assert "Outcome follow-ups due" in page
    assert f'id="follow-up-{due.reference}"' in page and "3-month follow-up" in page
    assert 'href="tel:07700900123">07700 900123<' in page
    link = f"/outcomes/residents/{due.reference}/answers?occasion=months_3&amp;next=/reminders"
    assert link in page
    assert not_yet.reference not in page and elsewhere.reference not in page
    csv_text = coordinator.get("/reminders.csv").get_data(as_text=True)
    assert f"{due.reference},{due.full_name},07700 900123" in csv_text
    assert "Outcome questions: 3-month follow-up" in csv_text
    assert not_yet.reference not in csv_text

    # Recorded from the call list: back to the call list, and the follow-up is no longer due.
    form = {k: str(v) for k, v in ANSWERS.items()} | {"occasion": "months_3", "method": "phone"}
    response = coordinator.post(
        f"/outcomes/residents/{due.reference}/answers?occasion=months_3&next=/reminders", data=form
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/reminders")
    page = coordinator.get("/reminders").get_data(as_text=True)
    assert f'id="follow-up-{due.reference}"' not in page
    assert "No outcome follow-ups are due." in page
    # six months on, the next one is due
    later = service.follow_ups_due(org.id, date.today() + timedelta(100))
    assert [d.occasion for d in later if d.resident.id == due.id] == ["months_6"]


def test_a_next_address_off_the_site_is_ignored(coordinator, coordinator_user, org, db):
    due = _supported_with_baseline(org, coordinator_user, 100)
    form = {k: str(v) for k, v in ANSWERS.items()} | {"occasion": "months_3", "method": "phone"}
    response = coordinator.post(
        f"/outcomes/residents/{due.reference}/answers?next=//evil.example/", data=form
    )
    assert response.headers["Location"].endswith("/outcomes/follow-ups")


def test_a_refused_answer_from_the_call_list_changes_nothing(
    coordinator, coordinator_user, org, db
):
    due = _supported_with_baseline(org, coordinator_user, 100)
    before = row_counts(AnswerSet)
    form = {k: str(v) for k, v in ANSWERS.items() if k != "happy"}
    response = coordinator.post(
        f"/outcomes/residents/{due.reference}/answers?next=/reminders",
        data=form | {"occasion": "months_3", "method": "phone"},
    )
    assert response.status_code == 422
    assert "Choose an answer, or prefers not to say." in response.get_data(as_text=True)
    assert row_counts(AnswerSet) == before


# ---- the commissioner across three organisations -------------------------------------------


def test_a_commissioner_sees_figures_and_targets_of_the_programme_and_nothing_of_a_third(
    app, db, org, coordinator_user
):
    from inclusion.reports import service as reports
    from inclusion.reports.periods import financial_year_of
    from tests.test_access_matrix import all_routes

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
    year = financial_year_of(date.today())
    reports.set_targets(org.id, year, {"referrals": 40}, by=coordinator_user)
    reports.set_targets(second.id, year, {"referrals": 7}, by=second_coordinator)
    reports.set_targets(outside.id, year, {"referrals": 9876}, by=outside_coordinator)
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
    assert "Borough programme" in page and "Second Scheme" in page
    assert "for the 12 people asked at both times" in page  # 6 + 6, not the outside 3
    assert "Progress against targets, by organisation" in page
    targets = page[page.index('id="programme-targets"') :]
    assert ">40<" in targets and ">7<" in targets  # each member's target
    assert "9,876" not in page and "Outside Scheme" not in page and "fell" not in page
    assert "fewer than 5" in page  # the second scheme's 6 referrals of this year… and small cells
    for resident in named:
        assert resident.full_name not in page and resident.reference not in page

    # No route gives the commissioner a record: every other page is refused or not found.
    world = {
        "resident_ref": named[-1].reference,
        "outcome_ref": named[-1].reference,
        "org_code": outside.code.lower(),
    }
    for route in all_routes():
        if route.method != "GET" or route.endpoint in ("outcomes.programme_page",):
            continue
        try:
            url = route.url.format(**world)
        except KeyError:
            continue  # a placeholder of another record kind: covered by the role matrix
        response = client.get(url)
        body = response.get_data(as_text=True) if response.status_code == 200 else ""
        for resident in named:
            assert resident.reference not in body and resident.full_name not in body, url
        if response.status_code == 200:
            assert route.commissioner == "ok", url
    assert db.session.scalar(select(AnswerSet.id).limit(1)) is not None


# ---- SNOMED CT ----------------------------------------------------------------------------


def test_a_declined_case_carries_the_checked_code_and_a_deployment_may_set_an_unknown_one(
    app, db, org, coordinator_user, monkeypatch
):
    resident = _with_pair(org, coordinator_user, ANSWERS, ANSWERS)
    resident.status, resident.outcome = "closed", "declined"
    summary = service.outcome_summary(resident)
    assert summary.referral_concept["code"] == "871731000000106"
    assert summary.outcome_concept["code"] == "871711000000103"
    assert "socialrx.co.uk" in summary.outcome_concept["source"]

    resident.outcome = "goals_met"  # no checked id: the words, without a code
    assert service.outcome_summary(resident).outcome_concept["code"] is None
    monkeypatch.setitem(app.config, "SNOMED_IDS", {"completed": "1234567890"})
    concept = service.outcome_summary(resident).outcome_concept
    assert concept["code"] == "1234567890" and "INCLUSION_SNOMED_IDS" in concept["source"]


def test_the_snomed_ids_setting_refuses_a_malformed_entry(tmp_path, monkeypatch):
    import pytest

    from inclusion.config import ConfigError, load_config

    monkeypatch.setenv("INCLUSION_SNOMED_IDS", "completed=1, declined")
    with pytest.raises(ConfigError, match="key=value"):
        load_config(str(tmp_path))
    monkeypatch.setenv("INCLUSION_SNOMED_IDS", "completed=1")
    assert load_config(str(tmp_path))["SNOMED_IDS"] == {"completed": "1"}


# ---- programmes: the CLI sets them up, an organisation's admin sees them --------------------


def test_an_admin_sees_which_programmes_include_their_organisation(
    admin, db, org, other_org, commissioner_user
):
    third = OrganisationFactory(name="Third Scheme", code="THR")
    elsewhere = Programme(name="Somewhere else")
    db.session.add(elsewhere)
    db.session.flush()
    db.session.add(ProgrammeMember(programme_id=elsewhere.id, organisation_id=third.id))
    db.session.flush()
    page = admin.get("/outcomes/programmes").get_data(as_text=True)
    assert "Test programme" in page and other_org.name in page
    assert commissioner_user.name in page
    assert "Somewhere else" not in page and "Third Scheme" not in page


def test_an_admin_of_an_organisation_in_no_programme_is_told_so(app, db, other_org):
    user = UserFactory(organisation=other_org, role="admin")
    page = sign_in(app, user).get("/outcomes/programmes").get_data(as_text=True)
    assert "Your organisation is in no programme" in page


def test_the_cli_takes_an_organisation_out_of_a_programme_audited(
    app, db, org, other_org, commissioner_user
):
    import pytest

    from inclusion.audit import AuditEvent
    from inclusion.cli import cli
    from inclusion.errors import RuleBroken

    before = row_counts(ProgrammeMember)
    with pytest.raises(RuleBroken, match="has their account at"):
        service.remove_member(programme_name="Test programme", code=org.code)
    with pytest.raises(RuleBroken, match="No programme is called 'Nope'"):
        service.remove_member(programme_name="Nope", code=org.code)
    with pytest.raises(RuleBroken, match="No organisation has the code"):
        service.remove_member(programme_name="Test programme", code="ZZZ")
    assert row_counts(ProgrammeMember) == before

    runner = app.test_cli_runner()
    done = runner.invoke(
        cli,
        [
            "programme-remove-organisation",
            "--programme=Test programme",
            f"--organisation={other_org.code}",
        ],
    )
    assert done.exit_code == 0, done.output
    members = db.session.scalars(select(ProgrammeMember.organisation_id)).all()
    assert other_org.id not in members and org.id in members
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "programme.member_removed")
    )
    assert event is not None and event.organisation_id == other_org.id
    page = sign_in(app, commissioner_user).get("/outcomes/programme").get_data(as_text=True)
    assert other_org.name not in page


def test_the_printable_questionnaire_is_in_large_print_with_every_question(coordinator, db):
    response = coordinator.get("/outcomes/questionnaire.pdf?language=xx")  # not offered: English
    assert response.status_code == 200
    assert 'filename="outcome-questions-en.pdf"' in response.headers["Content-Disposition"]
    text = " ".join(_pdf_text(response).split())  # lines wrap anywhere
    assert "are you with your life nowadays?" in text  # ("satisﬁed": a ligature)
    assert "How often do you feel lonely?" in text and "Prefer not to say" in text


def test_the_programme_total_does_not_give_away_a_hidden_organisation_count():
    from outcomes.programme import _total

    assert _total(23, [20, "fewer than 5"]) == "at least 20"
    assert _total(25, [20, 5]) == 25
    assert _total(3, ["fewer than 5"]) == "fewer than 5"
    assert _total(7, ["fewer than 5", "fewer than 5"]) == "5 or more"
    assert _total(0, [0, 0]) == 0


def test_the_outcome_figures_take_a_constant_number_of_queries(
    db, org, coordinator_user, count_queries
):
    from outcomes.report import outcome_figures

    end = date.today()
    start = end - timedelta(days=365)
    for _ in range(2):
        _with_pair(org, coordinator_user, ANSWERS, ANSWERS | {"happy": 6})
    with count_queries() as few:
        outcome_figures(start, end, [org.id])
    for _ in range(12):
        _with_pair(org, coordinator_user, ANSWERS, ANSWERS | {"happy": 7})
    with count_queries() as many:
        figures = outcome_figures(start, end, [org.id])
    assert figures["pairs"] == 14
    assert many.count == few.count <= 2


def test_the_call_list_shows_a_page_of_follow_ups_and_links_the_rest(
    coordinator, coordinator_user, org, app, monkeypatch
):
    monkeypatch.setitem(app.config, "PER_PAGE", 1)
    for _ in range(3):
        _supported_with_baseline(org, coordinator_user, 100)
    page = coordinator.get("/reminders").get_data(as_text=True)
    section = page.split('id="outcome-calls-heading"', 1)[1]
    assert section.count('id="follow-up-') == 1
    assert '<a class="govuk-link" href="/outcomes/follow-ups">2 more follow-ups due</a>' in section
    csv_text = coordinator.get("/reminders.csv").get_data(as_text=True)
    assert csv_text.count("Outcome questions: 3-month follow-up") == 3
    monkeypatch.setitem(app.config, "PER_PAGE", 2)
    page = coordinator.get("/reminders").get_data(as_text=True)
    assert "1 more follow-up due</a>" in page


def _consistent_small_values(counts, shown, hidden_index):
    """Every value the count at ``hidden_index`` could have, for a reader who sees
    ``shown`` and the exact whole ``sum(counts)`` (brute force over the hidden parts)."""
    from itertools import product

    from inclusion.disclosure import NOT_SHOWN, SUPPRESSED

    hidden = [i for i, s in enumerate(shown) if s in (SUPPRESSED, NOT_SHOWN)]
    rest = sum(c for c, s in zip(counts, shown, strict=True) if s not in (SUPPRESSED, NOT_SHOWN))
    ranges = [range(1, 5) if shown[i] == SUPPRESSED else range(5, 40) for i in hidden]
    found = set()
    for values in product(*ranges):
        if rest + sum(values) == sum(counts):
            found.add(values[hidden.index(hidden_index)])
    return found


def test_no_organisation_count_hidden_beside_the_programme_total_can_be_worked_out():
    """Every way of hiding: each "fewer than 5" could still be any of 1 to 4 for a reader
    who has the programme's exact total, and as few other counts are hidden as that needs."""
    import random

    from inclusion.disclosure import NOT_SHOWN, SUPPRESSED, protect_parts

    assert protect_parts([20, 30]) == ([20, 30], True)
    assert protect_parts([0, 20, 3, 8]) == ([0, 20, SUPPRESSED, NOT_SHOWN], True)  # 8 + 3 = 11
    assert protect_parts([9, 3, 5, 5]) == ([NOT_SHOWN, SUPPRESSED, 5, 5], True)  # 5 + 3 says 3
    assert protect_parts([2, 3]) == ([SUPPRESSED, SUPPRESSED], True)  # 5: 1+4, 2+3, 3+2, 4+1
    assert protect_parts([1, 5]) == ([SUPPRESSED, NOT_SHOWN], False)  # 6 would say the 1
    rng = random.Random(17)
    for _ in range(400):
        counts = [rng.choice([0, 1, 2, 3, 4, 5, 6, 7, 9, 12, 20]) for _ in range(rng.randint(1, 4))]
        shown, whole_safe = protect_parts(counts)
        for i, count in enumerate(counts):
            assert (shown[i] == count) or (shown[i] in (SUPPRESSED, NOT_SHOWN)), (counts, shown)
            if 0 < count < 5:
                assert shown[i] == SUPPRESSED
                if whole_safe and sum(counts) >= 5:
                    assert _consistent_small_values(counts, shown, i) == {1, 2, 3, 4}, (
                        counts,
                        shown,
                    )


def _two_scheme_programme(db, org, name: str):
    """A programme of ``org`` and a second organisation called ``name``, with a commissioner:
    (the second organisation, its coordinator, the commissioner)."""
    second = OrganisationFactory(name=name, code=name[:3].upper())
    second_coordinator = UserFactory(organisation=second, role="coordinator")
    programme = Programme(name=f"Programme with {name}")
    db.session.add(programme)
    db.session.flush()
    for member in (org, second):
        db.session.add(ProgrammeMember(programme_id=programme.id, organisation_id=member.id))
    commissioner = UserFactory(organisation=org, role="commissioner")
    db.session.add(ProgrammeCommissioner(programme_id=programme.id, user_id=commissioner.id))
    return second, second_coordinator, commissioner


def test_the_programme_page_hides_a_second_count_so_a_small_one_cannot_be_worked_out(
    app, db, org, coordinator_user
):
    second, second_coordinator, commissioner = _two_scheme_programme(db, org, "Small Scheme")
    for _ in range(12):
        _with_pair(org, coordinator_user, ANSWERS, ANSWERS | {"life_satisfaction": 7})
    for _ in range(3):
        _with_pair(second, second_coordinator, ANSWERS, ANSWERS | {"life_satisfaction": 6})
    db.session.flush()

    page = sign_in(app, commissioner).get("/outcomes/programme").get_data(as_text=True)
    table = page[page.index('id="programme-organisations"') :].split("</table>", 1)[0]
    mine = table.split(org.name, 1)[1].split("</tr>", 1)[0]
    small = table.split("Small Scheme", 1)[1].split("</tr>", 1)[0]
    cells = lambda row: [c.split(">", 1)[1].split("<", 1)[0] for c in row.split("<td")[1:]]  # noqa: E731
    # referrals, people asked at both times, life satisfaction
    assert cells(small)[1] == "fewer than 5"
    # 15 across the programme: the 12 shown would give the small scheme's 3 away
    assert cells(mine)[1] == "not shown"
    assert "for the people asked at both times (how many is not shown" in cells(mine)[2]
    assert "for the 15 people asked at both times" in page  # the programme's own figure
    key_figures = page[page.index('id="programme-key-figures"') :].split("</table>", 1)[0]
    head = key_figures.split("</thead>", 1)[0]
    headers = [
        h.split(">", 1)[1].split("<", 1)[0].strip() for h in head.split('<th scope="col"')[1:]
    ]
    column = headers.index("People asked about life satisfaction at both times") - 1
    mine_key = key_figures.split(org.name, 1)[1].split("</tr>", 1)[0]
    got = cells(mine_key)
    assert got[column] == "not shown", (headers, got)


def test_the_programme_outcomes_are_withheld_when_hiding_counts_is_not_enough(
    app, db, org, coordinator_user
):
    """5 and 1: the whole, 6, says the 1 whatever is hidden (the other is at least 5)."""
    second, second_coordinator, commissioner = _two_scheme_programme(db, org, "Tiny Scheme")
    for _ in range(5):
        _with_pair(org, coordinator_user, ANSWERS, ANSWERS)
    _with_pair(second, second_coordinator, ANSWERS, ANSWERS)
    db.session.flush()

    page = sign_in(app, commissioner).get("/outcomes/programme").get_data(as_text=True)
    assert 'id="programme-outcomes-withheld"' in page
    assert "6 people" not in page and ">6<" not in page
    table = page[page.index('id="programme-organisations"') :].split("</table>", 1)[0]
    assert "not shown" in table and "fewer than 5" in table
