"""Demo data for reports (idempotent): this financial year's targets for each demo
organisation, so the reports page shows progress on ``make run``. Targets already set
are left alone."""

from __future__ import annotations

from inclusion.clock import today

from . import service
from .periods import financial_year_of

# Sized to the demo's few dozen residents, so the bars show real progress.
DEMO_TARGETS = {
    "WDI": {
        "referrals": 60,
        "devices_lent": 20,
        "bundles_issued": 15,
        "sessions": 200,
        "residents_gaining_skills": 15,
    },
    "DLW": {"referrals": 12, "sessions": 40},
}


def load(context) -> None:
    year = financial_year_of(today())
    for code, targets in DEMO_TARGETS.items():
        org = context.organisations.get(code)
        if org is None or service.targets_for(org.id, year):
            continue
        coordinator = next(
            (
                u
                for u in context.users.values()
                if u.organisation_id == org.id and u.role == "coordinator"
            ),
            None,
        )
        service.set_targets(org.id, year, dict(targets), by=coordinator)
