"""Practice in the benchmark organisation (registered in ``buddies.practice.init_app``): the
skill tasks (step 80), then within each started match its practice sessions and skill
checkpoints (step 90), streamed to the row writer (never a million rows in memory at once).

Sessions are shared out over the matches in proportion to how long each has run, at most one
every three days; each resident works on a handful of tasks, from a baseline at the first
assessment, moving up at their own speed. A session held while the resident had a device on
loan used it (``bench.plans["devices_lent"]``, left by the lending desk when devices are
installed), as the practice form pre-selects it."""

from __future__ import annotations

from datetime import timedelta

from inclusion.bench import Bench, at_time

from .models import SEED_TASKS

ROWS_AT_SCALE_1 = {"sessions": 200_000, "checkpoints": 1_000_000}
PLACES = {"home": "At home", "venue": "Community Hub", "phone": "", "video": ""}
SESSION_NOTES = [
    "Practised slowly with lots of repetition; wrote the steps down on a card.",
    "Much more relaxed today. Did it twice without prompting.",
    "Tired today, so we kept it short and went over last week's steps.",
    "Struggled with the small buttons; we made the text bigger first.",
]
NEXT_STEPS = [
    "Practise every day before next week.",
    "Next time: ordering a repeat prescription in the NHS App.",
    "Bring the bill letter so we can pay it online together.",
]


def write_skill_tasks(bench: Bench) -> None:
    """The framework's tasks; ``bench.plans["skill_tasks"]``: their ids."""
    ids = bench.new_ids("skill_task", len(SEED_TASKS))
    bench.plans["skill_tasks"] = list(ids)
    at = at_time(bench.start, bench.rng)
    for position, (task_id, (key, (area, name))) in enumerate(
        zip(ids, SEED_TASKS.items(), strict=True)
    ):
        bench.add(
            "skill_task",
            dict(
                id=task_id,
                area=area,
                key=key,
                name=name,
                position=position,
                created_at=at,
                created_by_id=None,
                retired_at=None,
                retired_by_id=None,
            ),
        )


def _session_quotas(bench: Bench, spans: list[int]) -> list[int]:
    """Sessions per match: the target shared in proportion to each match's days, at most one
    every three days, the rest handed out at random to matches with room."""
    rng = bench.rng
    caps = [s // 3 for s in spans]
    total_span = sum(spans) or 1
    target = bench.counts["sessions"]
    quotas = [min(cap, int(target * s / total_span)) for s, cap in zip(spans, caps, strict=True)]
    short = target - sum(quotas)
    roomy = [i for i, (q, cap) in enumerate(zip(quotas, caps, strict=True)) if q < cap]
    while short > 0 and roomy:
        i = rng.choice(roomy)
        quotas[i] += 1
        short -= 1
        if quotas[i] >= caps[i]:
            roomy.remove(i)
    return quotas


def write_sessions_and_checkpoints(bench: Bench) -> None:
    rng, today = bench.rng, bench.today
    task_ids = bench.plans["skill_tasks"]
    devices_lent = bench.plans.get("devices_lent", {})
    practising = [m for m in bench.plans["matches"] if m["started"]]
    spans = [max(0, ((m["ended"] or today) - m["started"]).days) for m in practising]
    quotas = _session_quotas(bench, spans)
    focus_sizes = [rng.randint(6, 12) for _ in practising]
    baselines = [rng.random() < 0.85 for _ in practising]
    n_sessions = sum(quotas)
    n_baseline = sum(f for f, b in zip(focus_sizes, baselines, strict=True) if b)
    per_session = max(1.0, (bench.counts["checkpoints"] - n_baseline) / max(1, n_sessions))
    bench.rows.expect_more(n_sessions + n_baseline + round(per_session * n_sessions))

    session_next = bench.new_ids("practice_session", 0).start
    checkpoint_next = bench.new_ids("skill_checkpoint", 0).start

    def checkpoint(resident_id, task_id, session_id, level, on, at):
        nonlocal checkpoint_next
        bench.add(
            "skill_checkpoint",
            dict(
                id=checkpoint_next,
                resident_id=resident_id,
                task_id=task_id,
                session_id=session_id,
                level=level,
                recorded_on=on,
                recorded_at=at,
                recorded_by_id=None,
            ),
        )
        checkpoint_next += 1

    for m, span, quota, focus_size, baseline in zip(
        practising, spans, quotas, focus_sizes, baselines, strict=True
    ):
        r = m["resident"]
        focus = rng.sample(task_ids, min(focus_size, len(task_ids)))
        levels = {t: rng.choice([0, 0, 0, 1, 1, 2, 2, 3]) for t in focus}
        speed = rng.choice([0.25, 0.35, 0.45, 0.6, 0.75])
        if baseline:
            at = at_time(r.assessed, rng)
            for t in focus:
                checkpoint(r.id, t, None, levels[t], r.assessed, at)
        days = sorted(rng.sample(range(1, span + 1), quota)) if quota else []
        modes = m["buddy"]["modes"]
        loan_from, loan_to, device_id = devices_lent.get(r.id, (None, None, None))
        for offset in days:
            held_on = m["started"] + timedelta(days=offset)
            mode = rng.choice(modes)
            concern = rng.random() < 0.002
            actioned = concern and held_on < today - timedelta(days=7)
            bench.add(
                "practice_session",
                dict(
                    id=session_next,
                    resident_id=r.id,
                    buddy_id=m["buddy"]["id"],
                    held_on=held_on,
                    minutes=rng.choice([30, 45, 60, 60, 75, 90]),
                    mode=mode,
                    place=PLACES[mode],
                    device_id=device_id if loan_from and loan_from <= held_on <= loan_to else None,
                    notes=rng.choice(SESSION_NOTES),
                    next_steps=rng.choice(NEXT_STEPS),
                    safeguarding_concern=concern,
                    safeguarding_description="Worried about a caller asking for bank details."
                    if concern
                    else "",
                    safeguarding_action="Called the resident and the link worker the same day."
                    if actioned
                    else "",
                    safeguarding_actioned_at=at_time(held_on + timedelta(days=1), rng)
                    if actioned
                    else None,
                    safeguarding_actioned_by_id=None,
                    idempotency_token=f"bench-{bench.organisation_id}-{session_next}",
                    recorded_at=at_time(held_on, rng, 15),
                    recorded_by_id=None,
                ),
            )
            k = int(per_session) + (rng.random() < per_session - int(per_session))
            # Tasks not yet mastered first; confident ones are checked again when few are left.
            open_tasks = [t for t in focus if levels[t] < 4]
            practised = rng.sample(open_tasks, min(k, len(open_tasks)))
            if len(practised) < k:
                done = [t for t in focus if levels[t] == 4]
                practised += rng.sample(done, min(k - len(practised), len(done)))
            for t in practised:
                x = rng.random()
                if x < speed:
                    levels[t] = min(4, levels[t] + 1)
                elif x > 0.95:
                    levels[t] = max(0, levels[t] - 1)
                checkpoint(r.id, t, session_next, levels[t], held_on, at_time(held_on, rng, 15))
            session_next += 1
    bench.next_ids["practice_session"] = session_next
    bench.next_ids["skill_checkpoint"] = checkpoint_next


def register(reg) -> None:
    reg.add_bench_loader("practice: skill tasks", write_skill_tasks, order=80)
    reg.add_bench_loader(
        "practice: sessions and checkpoints",
        write_sessions_and_checkpoints,
        order=90,
        rows_at_scale_1=ROWS_AT_SCALE_1,
    )
