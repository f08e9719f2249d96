"""Honest before/after statistics for paired outcome scores.

For the people asked at both times (pairs), the change with "better" positive
(``measures.improvement``): mean with its 95% confidence interval (Student's t), median,
the shares who improved, stayed the same or got worse, and the Wilcoxon signed-rank test
(scipy; pairs with no change are dropped, as Wilcoxon's original method does). A group with
fewer than ``MIN_PAIRS`` pairs gets no statistics at all, only its count: a mean of four
people says nothing and may say something about one of them.
"""

from __future__ import annotations

import math
import statistics as pystats
from dataclasses import dataclass

from scipy import stats as scistats

from .measures import OUTCOME_SCORES, REVERSED, improvement

MIN_PAIRS = 10


@dataclass(frozen=True)
class Change:
    key: str
    pairs: int
    mean: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    median: float | None = None
    improved: int = 0
    same: int = 0
    worse: int = 0
    wilcoxon_p: float | None = None

    @property
    def enough(self) -> bool:
        return self.pairs >= MIN_PAIRS

    def share(self, count: int) -> float:
        return count / self.pairs if self.pairs else 0.0

    @property
    def sentence(self) -> str:
        return describe(self)


def paired_change(key: str, pairs: list[tuple[float, float]]) -> Change:
    """The change summary of ``pairs`` (before, after) of score ``key``."""
    changes = [improvement(key, before, after) for before, after in pairs]
    n = len(changes)
    if n < MIN_PAIRS:
        return Change(key, n)
    mean = sum(changes) / n
    sd = pystats.stdev(changes)
    half = scistats.t.ppf(0.975, n - 1) * sd / math.sqrt(n)
    p = None
    if any(changes):
        p = float(scistats.wilcoxon(changes, zero_method="wilcox").pvalue)
    return Change(
        key,
        n,
        mean=mean,
        ci_low=mean - half,
        ci_high=mean + half,
        median=float(pystats.median(changes)),
        improved=sum(1 for c in changes if c > 0),
        same=sum(1 for c in changes if c == 0),
        worse=sum(1 for c in changes if c < 0),
        wilcoxon_p=p,
    )


def _points(value: float, scale: str) -> str:
    value = abs(value)
    unit = "task" if scale == "tasks" else "point"
    plural = "" if round(value, 1) == 1 else "s"
    if scale == "tasks":
        return f"{value:.1f} {unit}{plural}"
    return f"{value:.1f} {unit}{plural} {scale}"


def describe(change: Change, *, count: bool = True) -> str:
    """One sentence in plain words, e.g. "On average, life satisfaction rose by 1.8 points out
    of 10 (between 1.2 and 2.4) for the 64 people asked at both times". ``count=False``
    leaves the number of people out (where it is hidden beside another's small count)."""
    label, scale = OUTCOME_SCORES[change.key]
    if not change.enough:
        if not count:
            return (
                "Too few people were asked at both times to say how "
                f"{label[0].lower() + label[1:]} changed."
            )
        return (
            f"{change.pairs} people were asked at both times: too few to say how "
            f"{label[0].lower() + label[1:]} changed."
        )
    # Reversed scores are described in their own direction: anxiety "fell" is better.
    raw_mean = -change.mean if change.key in REVERSED else change.mean
    low, high = sorted(
        (-change.ci_low, -change.ci_high)
        if change.key in REVERSED
        else (change.ci_low, change.ci_high)
    )
    subject = label[0].lower() + label[1:] if not label.startswith("UCLA") else label
    if round(raw_mean, 1) == 0:
        moved = f"{subject} hardly changed ({raw_mean:+.1f})"
    else:
        verb = "rose" if raw_mean > 0 else "fell"
        moved = f"{subject} {verb} by {_points(raw_mean, scale)}"
    if not count:
        return (
            f"On average, {moved} (between {low:+.1f} and {high:+.1f}) for the people asked "
            "at both times (how many is not shown, so that a small count beside it cannot "
            "be worked out)."
        )
    return (
        f"On average, {moved} (between {low:+.1f} and {high:+.1f}) for the "
        f"{change.pairs} people asked at both times."
    )


def significance_words(change: Change) -> str:
    if change.wilcoxon_p is None:
        return "No change to test."
    if change.wilcoxon_p < 0.05:
        return f"Unlikely to be chance (Wilcoxon signed-rank p = {change.wilcoxon_p:.3f})."
    return f"Could be chance (Wilcoxon signed-rank p = {change.wilcoxon_p:.3f})."
