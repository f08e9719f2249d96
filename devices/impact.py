"""Donor impact: what a business's donated devices achieved, as counts only (read side).

Every figure is an SQL aggregate over the devices a donation became: their loans, the
residents who borrowed them, the practice sessions held on them (a session records the
lent device it used), and the data bundles issued with those loans. One query gives the figures per
donation and one the total (a resident who borrowed from two donations counts once), whatever
the number of donations, devices or loans.

Figures never name anyone. Donors see them through the small-number rule
(``inclusion.disclosure.publishable``, applied by :func:`published`); staff see exact ones.
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass, fields

from sqlalchemy import Float, distinct, func, literal, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from buddies.practice.models import PracticeSession
from inclusion.clock import now
from inclusion.disclosure import SUPPRESSED, publishable
from inclusion.extensions import db

from .loans.models import DataBundle, Loan
from .models import Device, Donation, DonorAccount

# An average month, so "months on loan" means the same on every database.
DAYS_PER_MONTH = 365.25 / 12

# (figure, what a donor reads), in the order pages, the CSV and the PDF show them.
FIGURES = (
    ("devices", "Devices received"),
    ("devices_lent", "Devices lent"),
    ("on_loan_now", "On loan now"),
    ("loans", "Loans"),
    ("residents", "Residents supported"),
    ("months_on_loan", "Months on loan"),
    ("sessions", "Practice sessions held"),
    ("practice_hours", "Hours of practice"),
    ("bundles", "Data bundles given"),
    ("data_gb", "Mobile data given (GB)"),
)


@dataclass(frozen=True)
class Impact:
    devices: int = 0
    devices_lent: int = 0
    on_loan_now: int = 0
    loans: int = 0
    residents: int = 0
    months_on_loan: int = 0
    sessions: int = 0
    practice_hours: int = 0
    bundles: int = 0
    data_gb: float = 0

    @classmethod
    def from_row(cls, row) -> Impact:
        derived = ("months_on_loan", "practice_hours")
        values = {
            f.name: row._mapping.get(f.name) or 0 for f in fields(cls) if f.name not in derived
        }
        gb = round(float(values["data_gb"]), 1)
        values["data_gb"] = int(gb) if gb.is_integer() else gb
        days = float(row._mapping.get("days_on_loan") or 0)
        values["months_on_loan"] = int(round(days / DAYS_PER_MONTH))
        values["practice_hours"] = int(round((row._mapping.get("practice_minutes") or 0) / 60))
        return cls(**values)

    def as_dict(self) -> dict:
        return asdict(self)


class days_between(FunctionElement):  # noqa: N801 - reads as the SQL function it compiles to
    """Days (fractional) from ``start`` to ``end``: the same figure on SQLite and PostgreSQL."""

    type = Float()
    inherit_cache = True


@compiles(days_between, "sqlite")
def _days_sqlite(element, compiler, **kw):
    start, end = list(element.clauses)
    return (
        f"(julianday({compiler.process(end, **kw)}) - julianday({compiler.process(start, **kw)}))"
    )


@compiles(days_between)
def _days_default(element, compiler, **kw):
    start, end = list(element.clauses)
    return (
        f"(EXTRACT(EPOCH FROM ({compiler.process(end, **kw)} - {compiler.process(start, **kw)}))"
        " / 86400.0)"
    )


def _figure_columns(devices_of):
    """Labelled scalar subqueries, one per figure, over the devices matched by ``devices_of``
    (a WHERE clause on ``Device``; correlated to ``Donation`` for per-donation figures)."""
    lent = select(Loan).join(Device, Device.id == Loan.device_id).where(devices_of)
    until = func.coalesce(Loan.ended_at, literal(now()))
    # Sessions record the lent device they used (kept after the loan ends).
    sessions = (
        select(PracticeSession)
        .join(Device, Device.id == PracticeSession.device_id)
        .where(devices_of)
    )
    bundles = (
        select(DataBundle)
        .join(Loan, Loan.id == DataBundle.loan_id)
        .join(Device, Device.id == Loan.device_id)
        .where(devices_of, DataBundle.issued_at.is_not(None))
    )
    return [
        select(func.count(Device.id)).where(devices_of).scalar_subquery().label("devices"),
        select(func.count(Device.id))
        .where(devices_of, Device.status == "on_loan")
        .scalar_subquery()
        .label("on_loan_now"),
        lent.with_only_columns(func.count(distinct(Loan.device_id)))
        .scalar_subquery()
        .label("devices_lent"),
        lent.with_only_columns(func.count(Loan.id)).scalar_subquery().label("loans"),
        lent.with_only_columns(func.count(distinct(Loan.resident_id)))
        .scalar_subquery()
        .label("residents"),
        lent.with_only_columns(func.sum(days_between(Loan.lent_at, until)))
        .scalar_subquery()
        .label("days_on_loan"),
        sessions.with_only_columns(func.count(PracticeSession.id))
        .scalar_subquery()
        .label("sessions"),
        sessions.with_only_columns(func.sum(PracticeSession.minutes))
        .scalar_subquery()
        .label("practice_minutes"),
        bundles.with_only_columns(func.count(DataBundle.id)).scalar_subquery().label("bundles"),
        bundles.with_only_columns(func.sum(DataBundle.allowance_gb))
        .scalar_subquery()
        .label("data_gb"),
    ]


def impact_by_donation(donation_ids) -> dict[int, Impact]:
    """Figures for each donation in ``donation_ids`` (a list or a select of ids): one query."""
    stmt = select(Donation.id, *_figure_columns(Device.donation_id == Donation.id)).where(
        Donation.id.in_(donation_ids)
    )
    return {row.id: Impact.from_row(row) for row in db.session.execute(stmt)}


def impact_total(donation_ids) -> Impact:
    """Figures for all of ``donation_ids`` together (a resident who borrowed from two
    donations counts once): one query."""
    ids = donation_ids if hasattr(donation_ids, "subquery") else list(donation_ids)
    row = db.session.execute(select(*_figure_columns(Device.donation_id.in_(ids)))).one()
    return Impact.from_row(row)


def donation_impact(donation: Donation) -> Impact:
    """Exact figures for one donation (staff)."""
    return impact_by_donation([donation.id]).get(donation.id, Impact())


def donation_ids_of_user(user):
    """The ids of the donations of the business a donor-role user follows (a select)."""
    donor_ids = select(DonorAccount.donor_id).where(DonorAccount.user_id == user.id)
    return select(Donation.id).where(Donation.donor_id.in_(donor_ids))


@dataclass
class DonorImpact:
    donations: list
    by_donation: dict[int, Impact]
    total: Impact


def donor_impact(user) -> DonorImpact:
    """A donor's donations with their figures and the total: a constant number of queries."""
    from .queries import donations_of_user

    donations = db.session.scalars(donations_of_user(user)).all()
    ids = [d.id for d in donations]
    if not ids:
        return DonorImpact([], {}, Impact())
    return DonorImpact(donations, impact_by_donation(ids), impact_total(ids))


def donor_headline(user) -> dict | None:
    """The published totals for a donor's home page (None when no donation is linked)."""
    figures = donor_impact(user)
    return published(figures.total) if figures.donations else None


def published(impact: Impact) -> dict:
    """The figures as a donor may see them: each through the small-number rule, and the
    data given hidden whenever the number of bundles is (20 GB each would reveal it)."""
    shown = {name: publishable(value) for name, value in impact.as_dict().items()}
    if shown["bundles"] == SUPPRESSED:
        shown["data_gb"] = SUPPRESSED
    return shown


def impact_csv(figures: DonorImpact) -> str:
    """The donor's CSR table: one row per donation and a total, through the small-number rule."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Donation", "Pledged on", "Status", *(label for _, label in FIGURES)])
    for donation in figures.donations:
        shown = published(figures.by_donation.get(donation.id, Impact()))
        writer.writerow(
            [
                donation.reference,
                donation.pledged_at.date().isoformat(),
                donation.status,
                *(shown[name] for name, _ in FIGURES),
            ]
        )
    shown = published(figures.total)
    writer.writerow(["Total", "", "", *(shown[name] for name, _ in FIGURES)])
    writer.writerow([])
    writer.writerow(
        [f'Counts from 1 to 4 are shown as "{SUPPRESSED}" so that no one can be identified.']
    )
    return out.getvalue()
