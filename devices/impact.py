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

import io
from dataclasses import asdict, dataclass, field, fields

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Float, distinct, func, literal, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from inclusion.clock import now
from inclusion.csvfile import SafeCsvWriter
from inclusion.disclosure import SMALL_NUMBER_THRESHOLD, SUPPRESSED, publishable
from inclusion.extensions import db
from inclusion.registry import registry

from .loans.models import DataBundle, Loan
from .models import Device, Donation

# An average month, so "months on loan" means the same on every database.
DAYS_PER_MONTH = 365.25 / 12

# What a donor reads instead of a figure that is withheld for another's sake (see
# ``published_rows``), and instead of the data given when the bundle count is hidden.
FIVE_OR_MORE = f"{SMALL_NUMBER_THRESHOLD} or more"
NOT_SHOWN = "not shown"
HOW_WE_COUNT = (
    f'Counts from 1 to 4 are shown as "{SUPPRESSED}" so that no one can be identified; '
    f'where the total would give such a count away, another figure is shown as "{FIVE_OR_MORE}". '
    "Practice sessions are those residents held with an IT buddy on a device from your "
    "donation. Months on loan add up the time every device spent with a resident."
)

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


def _no_device_use(device_ids):
    return [literal(0).label("sessions"), literal(0).label("practice_minutes")]


def _figure_columns(devices_of):
    """Labelled scalar subqueries, one per figure, over the devices matched by ``devices_of``
    (a WHERE clause on ``Device``; correlated to ``Donation`` for per-donation figures)."""
    # Loans and bundles are found from the devices (IN, not a join): the database walks
    # a donation's few devices through their indexes instead of every loan of the
    # organisation (1.4 s for a donor's page at scale 1 on SQLite with the join).
    device_ids = select(Device.id).where(devices_of).correlate_except(Device)
    lent = select(Loan).where(Loan.device_id.in_(device_ids))
    until = func.coalesce(Loan.ended_at, literal(now()))
    # Sessions record the lent device they used (kept after the loan ends); the buddies
    # feature declares how to count them, and without it there are none.
    use_columns = registry().interface("device_use_columns", _no_device_use)
    bundles = select(DataBundle).where(
        DataBundle.loan_id.in_(
            select(Loan.id).where(Loan.device_id.in_(device_ids)).correlate_except(Loan)
        ),
        DataBundle.issued_at.is_not(None),
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
        *use_columns(select(Device.id).where(devices_of).correlate_except(Device)),
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


# What became of a processed donation's devices, by their status now: the words follow what
# actually happened to them, in this order ("lent" first, what is still to come last).
BECAME = (
    (("on_loan",), _l("on loan to residents")),
    (("gifted",), _l("given to residents to keep")),
    (("ready",), _l("ready to be lent")),
    (("received", "awaiting_wipe", "returned"), _l("being wiped")),
    (("in_repair",), _l("being repaired")),
    (("lost", "retired"), _l("no longer in use")),
)
DONATION_WORDS = {
    "pledged": _l("Pledged: we will contact you to arrange the hand-over."),
    "scheduled": _l("Scheduled: the hand-over date is agreed."),
    "received": _l("Received: thank you! Its devices are being registered."),
    "declined": _l("Declined."),
}


def device_states(donation_ids) -> dict[int, dict[str, int]]:
    """donation id -> {device status: how many of its devices are in it now}: one query."""
    rows = db.session.execute(
        select(Device.donation_id, Device.status, func.count(Device.id))
        .where(Device.donation_id.in_(donation_ids))
        .group_by(Device.donation_id, Device.status)
    )
    states: dict[int, dict[str, int]] = {}
    for donation_id, status, count in rows:
        states.setdefault(donation_id, {})[status] = count
    return states


def what_became_of(status: str, states: dict[str, int], devices_lent: int) -> str:
    """A donation's progress in words, from what actually happened to its devices (a
    processed donation's devices may be lent, ready or being wiped, or all of these).

    No counts: the figures beside it are the ones the small-number rule allows."""
    if status != "processed":
        return str(DONATION_WORDS.get(status, status))
    phrases = [str(words) for group, words in BECAME if any(states.get(s) for s in group)]
    if not phrases:
        return _("Received and registered as devices.")
    lent_now = bool(states.get("on_loan") or states.get("gifted"))
    if sum(states.values()) == 1:
        if devices_lent and not lent_now:
            return _(
                "Received. Its device has been lent to a resident and is now %(what)s.",
                what=phrases[0],
            )
        return _("Received. Its device is %(what)s.", what=phrases[0])
    if len(phrases) == 1:
        if devices_lent and not lent_now:
            return _(
                "Received. Its devices have been lent to residents and are now %(what)s.",
                what=phrases[0],
            )
        return _("Received. All its devices are %(what)s.", what=phrases[0])
    some = _("some of its devices are %(what)s", what=phrases[0])
    rest = [_("some are %(what)s", what=p) for p in phrases[1:]]
    sentence = ", ".join([some, *rest[:-1]]) + " " + _("and") + " " + rest[-1]
    text = _("Received.") + " " + sentence[0].upper() + sentence[1:] + "."
    if devices_lent and not lent_now:
        text += " " + _("Devices from it have been lent to residents before.")
    return text


@dataclass
class DonorImpact:
    """A donor's donations, their exact figures, and what the donor may be shown."""

    donations: list
    by_donation: dict[int, Impact]
    total: Impact
    shown_by_donation: dict[int, dict] = field(default_factory=dict)
    shown_total: dict = field(default_factory=dict)
    # What became of each donation, in words (``what_became_of``).
    words_by_donation: dict[int, str] = field(default_factory=dict)


def donor_impact(user) -> DonorImpact:
    """A donor's donations with their figures and the total: a constant number of queries."""
    from .queries import donations_of_user

    donations = db.session.scalars(donations_of_user(user)).all()
    ids = [d.id for d in donations]
    if not ids:
        return DonorImpact([], {}, Impact(), {}, published(Impact()))
    by_donation, total = impact_by_donation(ids), impact_total(ids)
    states = device_states(ids)
    words = {
        d.id: what_became_of(d.status, states.get(d.id, {}), by_donation[d.id].devices_lent)
        for d in donations
    }
    return DonorImpact(
        donations, by_donation, total, published_rows(by_donation), published(total), words
    )


def donor_headline(user) -> dict | None:
    """The published totals for a donor's home page (None when no donation is linked)."""
    figures = donor_impact(user)
    return figures.shown_total if figures.donations else None


def published(impact: Impact) -> dict:
    """The figures as a donor may see them: each through the small-number rule, and the
    data given not shown whenever the number of bundles is hidden (20 GB each would reveal it)."""
    shown = {name: publishable(value) for name, value in impact.as_dict().items()}
    if shown["bundles"] == SUPPRESSED:
        shown["data_gb"] = NOT_SHOWN
    return shown


def published_rows(by_donation: dict[int, Impact]) -> dict[int, dict]:
    """Per-donation figures as a donor may see them, next to an exact total.

    A lone "fewer than 5" in a column could be worked out as the total minus the other
    donations, so in such a column the smallest other figures are hidden too (shown as
    "5 or more", which is true) until at least two are hidden and together they add up
    to 5 or more.
    """
    rows = {i: published(impact) for i, impact in by_donation.items()}
    for name, _label in FIGURES:
        if name == "data_gb":
            continue
        values = {i: getattr(impact, name) for i, impact in by_donation.items()}
        hidden = {i for i, shown in rows.items() if shown[name] == SUPPRESSED}
        if not hidden:
            continue
        others = sorted((v, i) for i, v in values.items() if i not in hidden and v > 0)
        while others and (
            len(hidden) < 2 or sum(values[i] for i in hidden) < SMALL_NUMBER_THRESHOLD
        ):
            _, i = others.pop(0)
            hidden.add(i)
            rows[i][name] = FIVE_OR_MORE
    for shown in rows.values():
        if shown["bundles"] in (SUPPRESSED, FIVE_OR_MORE):
            shown["data_gb"] = NOT_SHOWN
    return rows


def impact_csv(figures: DonorImpact) -> str:
    """The donor's CSR table: one row per donation and a total, as the donor may see them."""
    out = io.StringIO()
    writer = SafeCsvWriter(out)
    writer.writerow(["Donation", "Pledged on", "Status", *(label for _, label in FIGURES)])
    for donation in figures.donations:
        shown = figures.shown_by_donation[donation.id]
        writer.writerow(
            [
                donation.reference,
                donation.pledged_at.date().isoformat(),
                donation.status,
                *(shown[name] for name, _ in FIGURES),
            ]
        )
    writer.writerow(["Total", "", "", *(figures.shown_total[name] for name, _ in FIGURES)])
    writer.writerow([])
    writer.writerow([HOW_WE_COUNT])
    return out.getvalue()
