"""Outcomes routes: follow-ups, the questions, the PDFs, the report, the schedule, and the
commissioner's programme page (the only page a commissioner gets, besides signing in and out)."""

from __future__ import annotations

from tests.factories import ResidentFactory

from . import DENY, LOGIN, OK, Route, admin_only, staff


def arrange(world) -> None:
    world.outcome_ref = ResidentFactory(organisation=world.org, status="assessed").reference


def _recorders(endpoint, url, method="GET", record=False) -> Route:
    """Staff, and a buddy for a resident matched to them (this one is not: 403)."""
    return staff(endpoint, url, method, record=record)


ROUTES = [
    staff("outcomes.follow_ups", "/outcomes/follow-ups", buddy=OK),
    staff("outcomes.questionnaire", "/outcomes/questionnaire.pdf", buddy=OK),
    _recorders("outcomes.record", "/outcomes/residents/{outcome_ref}/answers", record=True),
    _recorders("outcomes.record", "/outcomes/residents/{outcome_ref}/answers", "POST", record=True),
    staff("outcomes.letter", "/outcomes/residents/{outcome_ref}/letter.pdf", record=True),
    staff("outcomes.report_page", "/outcomes/report"),
    staff("outcomes.report_csv", "/outcomes/report.csv"),
    staff("outcomes.report_pdf", "/outcomes/report.pdf"),
    admin_only("outcomes.schedule", "/outcomes/schedule"),
    admin_only("outcomes.schedule", "/outcomes/schedule", "POST"),
    # The programmes that include the admin's own organisation (names only, no figures).
    admin_only("outcomes.programmes", "/outcomes/programmes"),
    Route(
        "outcomes.programme_page",
        "/outcomes/programme",
        anon=LOGIN,
        admin=DENY,
        coordinator=DENY,
        buddy=DENY,
        donor=DENY,
        other=DENY,
        commissioner=OK,
    ),
]
