"""The report as tables and charts, built once from ``report_figures`` and used by the
page, the CSV zip and the PDF alike, so all three always show the same numbers.

With ``publication=True`` every count from 1 to 4 is shown as "fewer than 5"
(``inclusion.disclosure.publishable``), and so is any figure worked out from so few
people or records (GB given, hours, a median wait). Staff on screen see exact figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from inclusion.disclosure import SMALL_NUMBER_THRESHOLD, SUPPRESSED, publishable

from .charts import BarChart, bar_chart
from .models import TARGET_MEASURES

MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass
class ReportTable:
    slug: str  # CSV file name and HTML id
    title: str
    columns: list[str]
    rows: list[list] = field(default_factory=list)
    note: str = ""


@dataclass
class Progress:
    measure: str
    label: str
    target: int
    actual: int | str
    percent: int | None  # None when the figure is suppressed
    bar: int  # 0..100 for the progress bar


class Shown:
    """Applies the small-number rule, or not."""

    def __init__(self, publication: bool):
        self.publication = publication

    def count(self, value):
        return publishable(value) if self.publication else value

    def derived(self, value, base: int):
        """A figure worked out from ``base`` people or records (hours, GB, a median)."""
        if value is None:
            return "none"
        if self.publication and 0 < base < SMALL_NUMBER_THRESHOLD:
            return SUPPRESSED
        return value


def month_label(key: str) -> str:
    year, month = key.split("-")
    return f"{MONTH_NAMES[int(month) - 1]} {year}"


def report_tables(figures: dict, publication: bool = False) -> list[ReportTable]:
    s = Shown(publication)
    ref, dev, data = figures["referrals"], figures["devices"], figures["data"]
    prac, wait, skills = figures["practice"], figures["waiting"], figures["skills"]
    tables = [
        ReportTable(
            "referrals_by_source",
            "Referrals by source",
            ["Source", "Referrals"],
            [[r["label"], s.count(r["count"])] for r in ref["by_source"]]
            + [["All sources", s.count(ref["total"])]],
        ),
        ReportTable(
            "referrals_by_month",
            "Referrals by month",
            ["Month", "Referrals"],
            [[month_label(r["month"]), s.count(r["count"])] for r in ref["by_month"]],
        ),
        ReportTable(
            "status_funnel",
            "How far residents referred in the period have got",
            ["Stage reached", "Residents"],
            [[r["status"].capitalize(), s.count(r["count"])] for r in figures["funnel"]],
            note="Each resident referred in the period counts at every stage they have "
            "reached so far; closed counts cases closed at any stage.",
        ),
        ReportTable(
            "devices",
            "Devices",
            ["Measure", "Number"],
            [
                ["Devices received (registered)", s.count(dev["received"])],
                ["Devices lent", s.count(dev["lent"])],
                ["Devices returned", s.count(dev["returned"])],
                ["Devices lost or not returned", s.count(dev["lost"])],
                ["Devices gifted to residents", s.count(dev["gifted"])],
                ["On loan at the end of the period", s.count(dev["on_loan_at_end"])],
                ["Residents lent a device", s.count(dev["residents_lent"])],
            ],
        ),
        ReportTable(
            "data_bundles",
            "Mobile data",
            ["Measure", "Number"],
            [
                ["Data bundles issued", s.count(data["bundles_issued"])],
                ["GB of data given", s.derived(data["gb_given"], data["bundles_issued"])],
                ["Residents given data", s.count(data["residents_given_data"])],
            ],
        ),
        ReportTable(
            "buddies_and_practice",
            "IT buddies and practice",
            ["Measure", "Number"],
            [
                [
                    "Active IT buddies (a match active in the period)",
                    s.count(prac["active_buddies"]),
                ],
                ["Matches started", s.count(prac["matches_started"])],
                ["Matches active", s.count(prac["matches_active"])],
                ["Practice sessions", s.count(prac["sessions"])],
                ["Hours of practice", s.derived(prac["hours"], prac["sessions"])],
                ["Residents who practised", s.count(prac["residents_practised"])],
            ],
        ),
        ReportTable(
            "skill_gains",
            "Skill gains",
            ["Measure", "Residents"],
            [
                ["Residents whose skills were checked", s.count(skills["residents_checked"])],
                ["Moved up at least one level in a task", s.count(skills["residents_moved_up"])],
                [
                    'Reached "can do it alone" (level 3) in at least one task',
                    s.count(skills["residents_reached_can_do_alone"]),
                ],
            ],
            note="A resident moved up when the highest level they reached in a task in the "
            "period is above their level before it (or their first level in it).",
        ),
        ReportTable(
            "skill_gains_by_area",
            "Residents who moved up, by skill area",
            ["Skill area", "Residents"],
            [[r["label"], s.count(r["count"])] for r in skills["moved_up_by_area"]],
        ),
        ReportTable(
            "waiting_list",
            "Device waiting list",
            ["Measure", "Number"],
            [
                ["Waiting at the end of the period", s.count(wait["waiting_at_end"])],
                ["Joined the list in the period", s.count(wait["joined"])],
                ["Lent a device from the list in the period", s.count(wait["lent"])],
                [
                    "Median wait of those lent a device (days)",
                    s.derived(wait["median_wait_days"], wait["lent"]),
                ],
                [
                    "Median time waiting so far of those still waiting (days)",
                    s.derived(wait["median_waiting_days"], wait["waiting_at_end"]),
                ],
            ],
        ),
    ]
    return tables


def progress_table(progress: list[Progress], year_label: str) -> ReportTable:
    return ReportTable(
        "targets",
        f"Progress against targets for {year_label}",
        ["Measure", "Target", "So far", "Per cent"],
        [
            [p.label, p.target, p.actual, "" if p.percent is None else f"{p.percent}%"]
            for p in progress
        ],
    )


def target_progress(
    targets: dict[str, int], year_figures: dict, publication: bool = False
) -> list[Progress]:
    s = Shown(publication)
    out = []
    for measure, (label, (section, key)) in TARGET_MEASURES.items():
        if measure not in targets:
            continue
        target = targets[measure]
        actual = year_figures[section][key]
        shown = s.count(actual)
        percent = round(100 * actual / target) if target else 100
        hidden = isinstance(shown, str)
        out.append(
            Progress(
                measure,
                label,
                target,
                shown,
                None if hidden else percent,
                0 if hidden else min(100, percent),
            )
        )
    return out


def report_charts(figures: dict, publication: bool = False) -> list[BarChart]:
    """The charts; a suppressed count is drawn as an empty bar and printed as in the table."""
    s = Shown(publication)

    def items(rows, label_of, value_key="count"):
        out = []
        for r in rows:
            shown = s.count(r[value_key])
            out.append((label_of(r), 0 if isinstance(shown, str) else r[value_key], shown))
        return out

    ref, dev, skills = figures["referrals"], figures["devices"], figures["skills"]
    devices = [
        {"label": "Received", "count": dev["received"]},
        {"label": "Lent", "count": dev["lent"]},
        {"label": "Returned", "count": dev["returned"]},
        {"label": "Lost or not returned", "count": dev["lost"]},
    ]
    return [
        bar_chart(
            "chart-referrals-month",
            "Referrals by month",
            f"Column chart of referrals in each month; {ref['total']} in all. "
            "The numbers are in the table below.",
            items(ref["by_month"], lambda r: month_label(r["month"])),
            "v",
            table="referrals_by_month",
        ),
        bar_chart(
            "chart-referrals-source",
            "Referrals by source",
            "Bar chart of referrals by where they came from. The numbers are in the table.",
            items(ref["by_source"], lambda r: r["label"]),
            table="referrals_by_source",
        ),
        bar_chart(
            "chart-funnel",
            "Stage reached",
            "Bar chart of how many residents referred in the period reached each stage.",
            items(figures["funnel"], lambda r: r["status"].capitalize()),
            table="status_funnel",
        ),
        bar_chart(
            "chart-devices",
            "Devices",
            "Bar chart of devices received, lent, returned and lost in the period.",
            items(devices, lambda r: r["label"]),
            table="devices",
        ),
        bar_chart(
            "chart-skills",
            "Residents who moved up, by skill area",
            "Bar chart of residents who moved up at least one level, by skill area.",
            items(skills["moved_up_by_area"], lambda r: r["label"]),
            table="skill_gains_by_area",
        ),
    ]
