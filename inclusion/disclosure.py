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


def init_app(app) -> None:
    app.jinja_env.filters["publishable"] = publishable
