"""A feature written only for the registry test: it plugs in as devices and buddies do."""

from __future__ import annotations

from flask import Blueprint

from inclusion.permissions import requires

bp = Blueprint("noticeboard", __name__)


@bp.route("/noticeboard")
@requires("residents.view")
def index():
    return "Noticeboard"


def init_app(app) -> None:
    from inclusion.registry import registry

    app.register_blueprint(bp)
    reg = registry(app)
    reg.add_navigation("residents.view", "noticeboard.index", "Noticeboard")
    reg.add_template_helper("noticeboard_greeting", lambda: "Notices for the desk")
    reg.add_report_section(NOTICES_SECTION)


def _notice_figures(organisation_id, start, end) -> dict:
    return {"notices": {"pinned": 7, "period_days": (end - start).days + 1}}


def _notice_tables(figures, shown):
    from inclusion.reports.tables import ReportTable

    notices = figures["notices"]
    return [
        ReportTable(
            "notices",
            "Notices on the board",
            ["Measure", "Number"],
            [["Notices pinned", shown.count(notices["pinned"])]],
        )
    ]


def _notice_charts(figures, shown):
    from inclusion.reports.charts import bar_chart, chart_items

    rows = [{"label": "Pinned", "count": figures["notices"]["pinned"]}]
    return [
        bar_chart(
            "chart-notices",
            "Notices",
            "Bar chart of notices pinned.",
            chart_items(shown, rows, lambda r: r["label"]),
            table="notices",
        )
    ]


def _section():
    from inclusion.registry import ReportSection

    return ReportSection(
        "notices",
        "Noticeboard",
        figures=_notice_figures,
        tables=_notice_tables,
        charts=_notice_charts,
        headlines=lambda figures: [(figures["notices"]["pinned"], "notices pinned")],
        key_figures=lambda tables: [["Notices pinned", tables["notices"].rows[0][1]]],
        order=25,
    )


NOTICES_SECTION = _section()
