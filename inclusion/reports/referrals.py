"""The core's part of the reports: referrals by source and by month, and how far the
residents referred in the period have got (registered first, by ``reports.init_app``)."""

from __future__ import annotations

from inclusion.registry import ReportSection

from .charts import bar_chart, chart_items
from .queries import referral_figures
from .tables import ReportTable, month_label


def referral_tables(figures: dict, s) -> list[ReportTable]:
    ref = figures["referrals"]
    return [
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
    ]


def referral_charts(figures: dict, s) -> list:
    ref = figures["referrals"]
    return [
        bar_chart(
            "chart-referrals-month",
            "Referrals by month",
            f"Column chart of referrals in each month; {ref['total']} in all. "
            "The numbers are in the table below.",
            chart_items(s, ref["by_month"], lambda r: month_label(r["month"])),
            "v",
            table="referrals_by_month",
        ),
        bar_chart(
            "chart-referrals-source",
            "Referrals by source",
            "Bar chart of referrals by where they came from. The numbers are in the table.",
            chart_items(s, ref["by_source"], lambda r: r["label"]),
            table="referrals_by_source",
        ),
        bar_chart(
            "chart-funnel",
            "Stage reached",
            "Bar chart of how many residents referred in the period reached each stage.",
            chart_items(s, figures["funnel"], lambda r: r["status"].capitalize()),
            table="status_funnel",
        ),
    ]


REFERRALS_SECTION = ReportSection(
    "referrals",
    "Referrals",
    figures=referral_figures,
    tables=referral_tables,
    charts=referral_charts,
    headlines=lambda figures: [(figures["referrals"]["total"], "referrals")],
    key_figures=lambda tables: [["Referrals", tables["referrals_by_source"].rows[-1][1]]],
    order=10,
)
