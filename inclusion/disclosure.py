"""The small-number rule: counts that could identify a person are not shown.

Donors, and any export marked "for publication", see a count below
``SMALL_NUMBER_THRESHOLD`` as "fewer than 5". Staff reports for internal use show
exact figures. The rule lives here once; templates use the ``publishable`` filter.
"""

from __future__ import annotations

SMALL_NUMBER_THRESHOLD = 5
SUPPRESSED = f"fewer than {SMALL_NUMBER_THRESHOLD}"


def publishable(count: int | float | None) -> int | float | str:
    """``count`` when it is 0 or at least the threshold, otherwise "fewer than 5".

    Zero is shown as 0: it identifies no one, and readers need to tell "none"
    from "a few".
    """
    if count is None:
        return 0
    if 0 < count < SMALL_NUMBER_THRESHOLD:
        return SUPPRESSED
    return count


#: A count hidden only so that a small count beside it cannot be worked out.
NOT_SHOWN = "not shown"


def _parts_safe(counts: list[int], small: list[int], also: list[int]) -> bool:
    """Whether a reader who knows the exact total of ``small + also`` (the whole minus the
    parts shown) can still place each small count (1 to 4) anywhere from 1 to 4, knowing
    each of ``also`` is at least the threshold."""
    hidden = sum(counts[i] for i in small + also)
    others_least = (len(small) - 1) + SMALL_NUMBER_THRESHOLD * len(also)
    highest = min(SMALL_NUMBER_THRESHOLD - 1, hidden - others_least)
    lowest = 1 if also else max(1, hidden - (SMALL_NUMBER_THRESHOLD - 1) * (len(small) - 1))
    return highest == SMALL_NUMBER_THRESHOLD - 1 and lowest == 1


def protect_parts(counts: list[int]) -> tuple[list[int | str], bool]:
    """The counts of the parts of a whole that is published exactly (a programme's
    organisations, whose total the programme's own figures give): each from 1 to 4 is
    "fewer than 5"; and because the whole minus the parts shown would give a hidden count
    away, more parts are hidden ("not shown": the smallest that makes it safe, else the
    largest and again) until each small count could be anything from 1 to 4. Returns the
    parts as shown, and whether the whole may be published beside them (False when even
    every part hidden is not enough: e.g. 1 and 5, whose whole 6 says the 1)."""
    shown: list[int | str] = [publishable(c) for c in counts]
    small = [i for i, c in enumerate(counts) if 0 < c < SMALL_NUMBER_THRESHOLD]
    if not small or _parts_safe(counts, small, []):
        return shown, True
    if sum(counts) < SMALL_NUMBER_THRESHOLD:  # the whole is "fewer than 5" itself
        return shown, True
    candidates = sorted(
        (i for i, c in enumerate(counts) if c >= SMALL_NUMBER_THRESHOLD), key=lambda i: counts[i]
    )
    also: list[int] = []
    while candidates:
        enough = next((i for i in candidates if _parts_safe(counts, small, [*also, i])), None)
        chosen = enough if enough is not None else candidates[-1]
        also.append(chosen)
        candidates.remove(chosen)
        if enough is not None:
            break
    for i in also:
        shown[i] = NOT_SHOWN
    return shown, _parts_safe(counts, small, also)


def init_app(app) -> None:
    app.jinja_env.filters["publishable"] = publishable
