"""The EcoIndex of a page (GreenIT / CNUMR), from its DOM size, requests and weight.

The formula and reference quantiles are those of the published EcoIndex, as
/work/shared/ECOINDEX.md quotes them: each figure is placed in its table (0 to 20,
interpolated linearly), and the DOM weighs three times, requests twice, size once.
"""

from typing import NamedTuple

DOM_QUANTILES = (
    0, 47, 75, 159, 233, 298, 358, 417, 476, 537, 603,
    674, 753, 843, 949, 1076, 1237, 1459, 1801, 2479, 594601,
)  # fmt: skip
REQUEST_QUANTILES = (
    0, 2, 15, 25, 34, 42, 49, 56, 63, 70, 78,
    86, 95, 105, 117, 130, 147, 170, 205, 281, 3920,
)  # fmt: skip
SIZE_QUANTILES = (
    0, 1.37, 144.7, 319.53, 479.46, 631.97, 783.38, 937.91, 1098.62, 1265.47, 1448.32,
    1648.27, 1876.08, 2142.06, 2465.37, 2866.31, 3401.59, 4155.73, 5400.08, 8037.54,
    223212.26,
)  # fmt: skip
# A score strictly above the bound earns the grade; below the last, G.
GRADES = (("A", 80), ("B", 70), ("C", 55), ("D", 40), ("E", 25), ("F", 10))


class EcoIndex(NamedTuple):
    score: int
    grade: str


def quantile(table: tuple[float, ...], value: float) -> float:
    """Return the position of `value` in `table`, interpolated between its bounds."""
    for position in range(1, len(table)):
        if value < table[position]:
            low, high = table[position - 1], table[position]
            return position - 1 + (value - low) / (high - low)
    return len(table) - 1


def grade(score: float) -> str:
    """Return the letter of an EcoIndex score."""
    for letter, bound in GRADES:
        if score > bound:
            return letter
    return "G"


def ecoindex(dom_elements: int, requests: int, size_kb: float) -> EcoIndex:
    """Compute the EcoIndex of a page; `size_kb` is the transferred bytes / 1000.

    The score is rounded before grading, as the reference implementation does: a
    page scoring 80.05 rounds to 80, which is not above 80, so it is a B.
    """
    weighted = (
        3 * quantile(DOM_QUANTILES, dom_elements)
        + 2 * quantile(REQUEST_QUANTILES, requests)
        + quantile(SIZE_QUANTILES, size_kb)
    )
    score = round(100 - 5 * weighted / 6)
    return EcoIndex(score, grade(score))
