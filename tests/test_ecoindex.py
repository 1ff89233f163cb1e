"""The EcoIndex computation of the page-weight browser test, without a browser."""

import pytest

from tests.browser.ecoindex import ecoindex, grade, quantile


@pytest.mark.parametrize(
    ("dom_elements", "requests", "size_kb", "expected"),
    [
        # The worked examples of the EcoIndex note.
        (221, 1, 6.2, (89, "A")),
        (300, 3, 30, (85, "A")),
        (400, 5, 50, (80, "B")),
        (600, 10, 100, (71, "B")),
    ],
)
def test_ecoindex_matches_the_worked_examples(
    dom_elements, requests, size_kb, expected
):
    assert ecoindex(dom_elements, requests, size_kb) == expected


def test_quantile_interpolates_between_bounds():
    table = (0, 10, 30)

    assert quantile(table, 0) == 0
    assert quantile(table, 5) == 0.5
    assert quantile(table, 20) == 1.5
    assert quantile(table, 30) == 2
    assert quantile(table, 1000) == 2


def test_an_empty_page_scores_100():
    assert ecoindex(0, 0, 0) == (100, "A")


@pytest.mark.parametrize(
    ("score", "letter"),
    [(100, "A"), (81, "A"), (80, "B"), (71, "B"), (70, "C"), (56, "C"), (55, "D")]
    + [(41, "D"), (40, "E"), (26, "E"), (25, "F"), (11, "F"), (10, "G"), (0, "G")],
)
def test_grade_needs_a_score_above_its_bound(score, letter):
    assert grade(score) == letter
