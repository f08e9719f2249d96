"""Outcomes: wellbeing (ONS4), loneliness (UCLA 3-item and the ONS direct question) and
digital independence at the baseline and at follow-ups; before/after statistics; the outcome
summary back to the referrer; and the commissioner's aggregate view across a programme.

It reads the checkpoints only through the declared interface ``independent_tasks`` (provided by
``buddies.practice``) and imports no other feature.
"""

from __future__ import annotations


def init_app(app) -> None:
    from inclusion.registry import registry

    from . import demo, models  # noqa: F401  (models: complete metadata for Alembic)
    from .views import bp

    app.register_blueprint(bp)
    reg = registry(app)
    reg.add_navigation("outcomes.record", "outcomes.follow_ups", "Follow-ups", group="residents")
    reg.add_navigation("reports.view", "outcomes.report_page", "Outcomes", group="reports")
    reg.add_navigation("programme.view", "outcomes.programme_page", "Programme", group="reports")
    # No account manages the whole deployment: programmes are set up with the CLI
    # (add-commissioner, programme-remove-organisation); an organisation's admin sees which
    # programmes read its figures, and who commissions them.
    reg.add_navigation("settings.manage", "outcomes.programmes", "Programmes", admin=True)
    reg.add_role_home("commissioner", "outcomes.programme_page")
    from .forms import last_twelve_months

    # The programme page reads each organisation's report of it (flask inclusion keep-figures).
    reg.add_kept_period(last_twelve_months)
    reg.add_resident_section("outcomes/_resident_section.html")
    reg.add_dashboard_panel("outcomes/_dashboard.html")
    from . import service

    reg.add_template_helper("outcome_answer_sets_of", service.answer_sets_of)
    reg.add_template_helper("outcome_follow_ups_due", _due_for_dashboard)
    reg.add_call_list_section("outcomes/_call_list.html", _due_for_call_list, _calls)
    reg.add_demo_loader("outcomes", demo.load)
    from .report import OUTCOMES_SECTION

    reg.add_report_section(OUTCOMES_SECTION)
    from .cli import add_commissioner, remove_programme_organisation

    reg.add_command(add_commissioner)
    reg.add_command(remove_programme_organisation)
    reg.provide("referral_outcome", service.referral_outcome)
    _declare_personal_data(app)


def _due_for_dashboard():
    from flask_login import current_user

    from inclusion.permissions import has_permission

    from . import service

    if not has_permission(current_user, "residents.manage"):
        return []
    return service.follow_ups_due(current_user.organisation_id)


def _due_for_call_list():
    """The follow-ups due that the signed-in user may ask (the call list is staff's)."""
    from flask_login import current_user

    from inclusion.permissions import can_view_resident, has_permission

    from . import service

    if not has_permission(current_user, "outcomes.record"):
        return []
    return [
        d
        for d in service.follow_ups_due(current_user.organisation_id)
        if can_view_resident(current_user, d.resident)
    ]


def _calls(due) -> list[tuple]:
    """The follow-ups due as rows of the call list's CSV."""
    return [(d.resident, f"Outcome questions: {d.label}", d.due_on) for d in due]


def _forget(answer_set) -> list[str]:
    """Erasure keeps the scores (they identify no one) and removes the link to the person
    and to who asked."""
    answer_set.resident_id = None
    answer_set.asked_by_id = None
    return ["resident_id", "asked_by_id"]


def _declare_personal_data(app) -> None:
    from inclusion.personal_data import declare, name_of

    from .models import AnswerSet

    declare(
        app,
        AnswerSet,
        resident_column="resident_id",
        not_free_text=(),
        export="outcome_answers",
        export_extra=lambda a: {
            "occasion": a.occasion_label,
            "how_asked": a.method_label,
            "asked_by": name_of(a.asked_by),
        },
        order_by=("asked_on", "id"),
        anonymise=_forget,
    )
