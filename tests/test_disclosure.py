"""The small-number rule shown to donors and in exports for publication."""

from inclusion.disclosure import SUPPRESSED, publishable


def test_counts_below_five_are_suppressed_but_zero_and_five_are_shown():
    assert publishable(0) == 0
    assert publishable(None) == 0
    assert [publishable(n) for n in (1, 2, 3, 4)] == [SUPPRESSED] * 4
    assert SUPPRESSED == "fewer than 5"
    assert publishable(5) == 5
    assert publishable(120) == 120


def test_templates_have_the_publishable_filter(app):
    with app.app_context():
        template = app.jinja_env.from_string("{{ 3 | publishable }} / {{ 7 | publishable }}")
        assert template.render() == "fewer than 5 / 7"
