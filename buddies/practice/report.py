"""The buddies' part of the reports (registered in ``buddies.practice.init_app``): buddies
with a match active in the period, matches started and active, practice sessions held,
hours, residents who practised, and skill gains from the checkpoints."""

from __future__ import annotations

from datetime import date

from sqlalchemy import and_, case, func, or_, select, true

from inclusion.registry import ReportSection
from inclusion.reports.charts import bar_chart, chart_items
from inclusion.reports.sql import bounds, day_number, run, sum_if
from inclusion.reports.tables import ReportTable

from ..models import Match
from .models import AREAS, CAN_DO_ALONE, Checkpoint, PracticeSession, SkillTask


def practice_figures(org: int, start: date, end: date) -> dict:
    """Matches and sessions in one statement (a single-row aggregate of each, side by side),
    skill gains in another."""
    t0, t1 = bounds(start, end)
    matches = (
        select(
            func.count(func.distinct(Match.buddy_id)).label("active_buddies"),
            sum_if(Match.started_at >= t0).label("matches_started"),
            func.count().label("matches_active"),
        )
        .where(
            Match.organisation_id == org,
            Match.started_at.is_not(None),
            Match.started_at < t1,
            or_(Match.ended_at.is_(None), Match.ended_at >= t0),
        )
        .subquery()
    )
    sessions = (
        select(
            func.count().label("sessions"),
            func.coalesce(func.sum(PracticeSession.minutes), 0).label("minutes"),
            func.count(func.distinct(PracticeSession.resident_id)).label("residents_practised"),
        )
        .where(PracticeSession.organisation_id == org, PracticeSession.held_on.between(start, end))
        .subquery()
    )
    row = (
        run(select(*matches.c, *sessions.c).select_from(matches.join(sessions, true())))
        .one()
        ._mapping
    )

    def n(key) -> int:
        return int(row[key] or 0)

    return {
        "practice": {
            "active_buddies": n("active_buddies"),
            "matches_started": n("matches_started"),
            "matches_active": n("matches_active"),
            "sessions": n("sessions"),
            "hours": round(n("minutes") / 60, 1),
            "residents_practised": n("residents_practised"),
        },
        "skills": skill_gains(org, start, end),
    }


def skill_gains(org: int, start: date, end: date) -> dict:
    """For each resident and task checked in the period, the level before it (the latest
    checkpoint before the period, else the first in it) against the highest level reached
    in it: residents who moved up at least one level in any task (and per skill area), and
    residents who reached level 3 "can do it alone" in a task they were below 3 in.

    One statement: one grouped pass over the checkpoints up to ``end`` (in the order of the
    covering index ``ix_report_checkpoint_progress``), then aggregates. Ordering "which
    checkpoint came last" needs no window: each checkpoint gets a key, its day number × 10 +
    its level, so MAX/MIN of the key is the latest/first checkpoint and ``key % 10`` its
    level (on the same day the higher level counts as later).
    """
    key = day_number(Checkpoint.recorded_on) * 10 + Checkpoint.level
    in_period = Checkpoint.recorded_on >= start
    pairs = (
        select(
            Checkpoint.resident_id.label("rid"),
            Checkpoint.task_id.label("tid"),
            func.coalesce(
                func.max(case((Checkpoint.recorded_on < start, key))),
                func.min(case((in_period, key))),
            ).label("before_key"),
            func.max(case((in_period, Checkpoint.level))).label("top"),
        )
        .where(Checkpoint.organisation_id == org, Checkpoint.recorded_on <= end)
        .group_by(Checkpoint.resident_id, Checkpoint.task_id)
        .subquery()
    )
    before = pairs.c.before_key % 10
    up = pairs.c.top > before
    per_resident = (
        select(
            pairs.c.rid,
            func.max(case((up, 1), else_=0)).label("up"),
            func.max(
                case((and_(before < CAN_DO_ALONE, pairs.c.top >= CAN_DO_ALONE), 1), else_=0)
            ).label("alone"),
            *(
                func.max(case((and_(up, SkillTask.area == area), 1), else_=0)).label(f"up_{area}")
                for area in AREAS
            ),
        )
        .join(SkillTask, SkillTask.id == pairs.c.tid)
        .where(pairs.c.top.is_not(None))  # checked at least once in the period
        .group_by(pairs.c.rid)
        .subquery()
    )
    row = (
        run(
            select(
                func.count().label("checked"),
                func.coalesce(func.sum(per_resident.c.up), 0).label("up"),
                func.coalesce(func.sum(per_resident.c.alone), 0).label("alone"),
                *(func.coalesce(func.sum(per_resident.c[f"up_{a}"]), 0).label(a) for a in AREAS),
            ).select_from(per_resident)
        )
        .one()
        ._mapping
    )
    return {
        "residents_checked": int(row["checked"]),
        "residents_moved_up": int(row["up"]),
        "residents_reached_can_do_alone": int(row["alone"]),
        "moved_up_by_area": [
            {"area": a, "label": label, "count": int(row[a])} for a, label in AREAS.items()
        ],
    }


def practice_tables(figures: dict, s) -> list[ReportTable]:
    prac, skills = figures["practice"], figures["skills"]
    return [
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
    ]


def practice_charts(figures: dict, s) -> list:
    return [
        bar_chart(
            "chart-skills",
            "Residents who moved up, by skill area",
            "Bar chart of residents who moved up at least one level, by skill area.",
            chart_items(s, figures["skills"]["moved_up_by_area"], lambda r: r["label"]),
            table="skill_gains_by_area",
        )
    ]


def practice_headlines(figures: dict) -> list[tuple]:
    prac = figures["practice"]
    return [
        (prac["sessions"], f"practice sessions ({prac['hours']} hours)"),
        (figures["skills"]["residents_moved_up"], "residents moved up a skill level"),
    ]


def practice_key_figures(tables: dict) -> list[list]:
    return [
        ["Practice sessions", tables["buddies_and_practice"].rows[3][1]],
        ["Residents who moved up a skill level", tables["skill_gains"].rows[1][1]],
    ]


PRACTICE_SECTION = ReportSection(
    "practice",
    "IT buddies, practice and skills",
    figures=practice_figures,
    tables=practice_tables,
    charts=practice_charts,
    headlines=practice_headlines,
    key_figures=practice_key_figures,
    order=30,
)
