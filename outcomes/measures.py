"""The outcome measures: their wording, answer scales and scoring, defined once.

Sources (cited in README.md, "Outcome measures"):

- ONS4 personal wellbeing: the four questions as the ONS Annual Population Survey asks them
  (GSS harmonised standard "Personal well-being", https://gss.civilservice.gov.uk/policy-store/
  personal-well-being/ ; ONS "Personal well-being user guide", https://www.ons.gov.uk/
  peoplepopulationandcommunity/wellbeing/methodologies/personalwellbeingsurveyuserguide).
  Each 0 to 10, "where nought is 'not at all' and 10 is 'completely'". Higher is better except
  anxiety, where lower is better: its change is reversed so that "better" is always positive.
  Crown copyright, Open Government Licence v3.0.
- Loneliness: the ONS recommended national indicators for adults ("Measuring loneliness:
  guidance for use of the national indicators on surveys", https://www.ons.gov.uk/
  peoplepopulationandcommunity/wellbeing/methodologies/
  measuringlonelinessguidanceforuseofthenationalindicatorsonsurveys): the three-item UCLA
  loneliness scale (Hughes, Waite, Hawkley and Cacioppo 2004, "A short scale for measuring
  loneliness in large surveys", Research on Aging 26(6)), each item hardly ever or never (1) /
  some of the time (2) / often (3), total 3 to 9 (higher is lonelier), and the direct question
  "How often do you feel lonely?". Open Government Licence v3.0 for the ONS text; the UCLA items
  are cited to Hughes et al. (2004).

"Prefers not to say" is stored as NULL: it is an answer, never a zero, and a score that needs
a declined item is not computed (it is missing, not low).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _

PREFERS_NOT_TO_SAY = ""  # the form's value for "prefers not to say"

# The wording a resident reads (the questions, their hints and answers, on the page and on
# the printable questionnaire) is marked for translation; the short labels are staff's.
WELLBEING_INTRO = _(
    "Next I would like to ask you four questions about your feelings on aspects of your life. "
    "There are no right or wrong answers. For each of these questions I'd like you to give an "
    "answer on a scale of nought to 10, where nought is 'not at all' and 10 is 'completely'."
)


@dataclass(frozen=True)
class Item:
    key: str
    label: str  # short name in reports
    question: str  # the exact wording
    hint: str = ""
    higher_is_better: bool = True


WELLBEING = (
    Item(
        "life_satisfaction",
        "Life satisfaction",
        _("Overall, how satisfied are you with your life nowadays?"),
        _("Where nought is 'not at all satisfied' and 10 is 'completely satisfied'."),
    ),
    Item(
        "worthwhile",
        "Worthwhile",
        _(
            "Overall, to what extent do you feel that the things you do in your life are worthwhile?"
        ),
        _("Where nought is 'not at all worthwhile' and 10 is 'completely worthwhile'."),
    ),
    Item(
        "happy",
        "Happiness",
        _("Overall, how happy did you feel yesterday?"),
        _("Where nought is 'not at all happy' and 10 is 'completely happy'."),
    ),
    Item(
        "anxious",
        "Anxiety",
        _(
            "On a scale where nought is 'not at all anxious' and 10 is 'completely anxious', "
            "overall, how anxious did you feel yesterday?"
        ),
        "",
        higher_is_better=False,
    ),
)
WELLBEING_SCALE = tuple(range(0, 11))

UCLA = (
    Item(
        "ucla_companionship",
        "Lack companionship",
        _("How often do you feel that you lack companionship?"),
    ),
    Item("ucla_left_out", "Left out", _("How often do you feel left out?")),
    Item("ucla_isolated", "Isolated", _("How often do you feel isolated from others?")),
)
UCLA_ANSWERS = {1: _("Hardly ever or never"), 2: _("Some of the time"), 3: _("Often")}
UCLA_MIN, UCLA_MAX = 3, 9

DIRECT = Item(
    "lonely_direct",
    "How often lonely",
    _("How often do you feel lonely?"),
    higher_is_better=True,  # 1 often/always … 5 never: higher is less lonely
)
DIRECT_ANSWERS = {
    1: _("Often or always"),
    2: _("Some of the time"),
    3: _("Occasionally"),
    4: _("Hardly ever"),
    5: _("Never"),
}
OFTEN_OR_ALWAYS = 1

#: Digital independence: tasks whose latest checkpoint is "can do it alone" or above, and
#: whether the resident reached this many (the figure digital-skills programmes report).
INDEPENDENCE_TARGET = 4

ITEM_KEYS = tuple(i.key for i in WELLBEING) + tuple(i.key for i in UCLA) + (DIRECT.key,)

HOW_ASKED = {
    "in_person": "In person",
    "phone": "By phone",
    "paper": "On paper",
    "video": "By video call",
}


def ucla_total(answers: dict) -> int | None:
    """3 to 9; None when any of the three items was declined (a partial sum would look
    less lonely than the person is)."""
    values = [answers.get(i.key) for i in UCLA]
    if any(v is None for v in values):
        return None
    return sum(values)


def improvement(item_key: str, before: float, after: float) -> float:
    """The change from ``before`` to ``after`` with "better" positive: anxiety and the UCLA
    total (both higher = worse) are reversed."""
    if item_key in REVERSED:
        return before - after
    return after - before


REVERSED = {"anxious", "ucla_total"}

#: What the reports compare, in order: key -> (label, scale words).
OUTCOME_SCORES = {
    "life_satisfaction": ("Life satisfaction", "out of 10"),
    "worthwhile": ("Feeling the things they do are worthwhile", "out of 10"),
    "happy": ("Happiness yesterday", "out of 10"),
    "anxious": ("Anxiety yesterday", "out of 10"),
    "ucla_total": ("Loneliness (UCLA 3-item score)", "on a scale of 3 to 9"),
    "independent_tasks": ("Tasks they can do alone", "tasks"),
}


def scores(answer_set) -> dict[str, float | None]:
    """The comparable scores of one answer set (None where declined or not asked)."""
    values = {k: getattr(answer_set, k) for k in ITEM_KEYS}
    out = {k: values[k] for k in ("life_satisfaction", "worthwhile", "happy", "anxious")}
    out["ucla_total"] = ucla_total(values)
    out["independent_tasks"] = answer_set.independent_tasks
    return out
