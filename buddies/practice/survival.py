"""A small Kaplan–Meier estimator: how many sessions until a skill is reached.

Each subject is one resident learning one task: ``time`` is the number of
practice sessions they had until they first reached the level (an *event*), or
the number of sessions they have had so far when they have not reached it yet
(*censored*: we only know it takes longer than that). At each session count t
with d events among n subjects still at risk, the chance of not having reached
it yet is multiplied by (1 - d / n). Censored subjects leave the risk set after
their time, without counting as failures — the reason a plain average of
"sessions taken" would be biased towards the quick learners.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    time: int  # sessions
    at_risk: int  # subjects still not reached and still followed just before ``time``
    events: int  # reached the level at ``time``
    censored: int  # followed up to ``time`` without reaching it
    survival: float  # estimated share not reached yet after ``time``

    @property
    def reached(self) -> float:
        """Estimated share that has reached the level by ``time``."""
        return 1.0 - self.survival


@dataclass(frozen=True)
class Estimate:
    steps: list[Step]
    subjects: int
    events: int

    @property
    def median(self) -> int | None:
        """The smallest time by which at least half are estimated to have reached it;
        ``None`` when the curve never falls to one half (not enough follow-up)."""
        for step in self.steps:
            if step.survival <= 0.5 + 1e-12:
                return step.time
        return None

    def at_risk(self, time: int) -> int:
        """Subjects still at risk just before ``time`` (followed for at least ``time``
        sessions and not reached the level before it)."""
        # Everyone is at risk before the first step; afterwards the risk set shrinks by
        # the events and censorings of every earlier time.
        remaining = self.subjects
        for step in self.steps:
            if step.time >= time:
                break
            remaining -= step.events + step.censored
        return remaining

    def survival_at(self, time: int) -> float:
        value = 1.0
        for step in self.steps:
            if step.time > time:
                break
            value = step.survival
        return value


def kaplan_meier(observations: list[tuple[int, bool]]) -> Estimate:
    """``observations``: (time, reached) per subject. Times are whole sessions ≥ 0.

    Events and censorings at the same time: the events happen first (the usual
    convention), so a subject censored at t still counts as at risk at t.
    """
    by_time: dict[int, list[int]] = {}
    for time, reached in observations:
        if time < 0:
            raise ValueError("times must not be negative")
        counts = by_time.setdefault(int(time), [0, 0])
        counts[0 if reached else 1] += 1
    at_risk = len(observations)
    survival = 1.0
    steps: list[Step] = []
    for time in sorted(by_time):
        events, censored = by_time[time]
        if at_risk > 0 and events:
            survival *= 1.0 - events / at_risk
        steps.append(Step(time, at_risk, events, censored, survival))
        at_risk -= events + censored
    return Estimate(
        steps=steps, subjects=len(observations), events=sum(1 for _, r in observations if r)
    )
