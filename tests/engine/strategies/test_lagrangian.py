"""The knapsack step shared by the Lagrangian bound and the branch-and-price pricing."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from mergeopt.engine.strategies.lagrangian import knapsack_step


def _textbook(current: np.ndarray, units: tuple[int, int], gain: np.ndarray, width: int):
    """The recurrence entry by entry: not taken, else the first size, else the second,
    a later choice kept only where it is strictly better."""
    best = current.copy()
    choice = np.zeros(current.shape, dtype=np.int8)
    for row in range(current.shape[0]):
        for w in range(width):
            for kind, q in ((1, units[0]), (2, units[1])):
                if kind == 2 and q == units[0]:
                    continue
                if w - q >= 0 and current[row, w - q] + gain[row] < best[row, w]:
                    best[row, w] = current[row, w - q] + gain[row]
                    choice[row, w] = kind
    return best, choice


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 4),
    st.integers(1, 12),
    st.integers(0, 14),
    st.integers(0, 2),
    st.data(),
)
def test_a_step_is_the_textbook_recurrence(rows: int, width: int, low: int, extra: int, data):
    values = st.one_of(st.just(np.inf), st.integers(-20, 20).map(float))
    current = np.asarray(
        data.draw(st.lists(values, min_size=rows * width, max_size=rows * width)), dtype=float
    ).reshape(rows, width)
    gain = np.asarray(
        data.draw(st.lists(st.integers(-9, 9).map(float), min_size=rows, max_size=rows))
    )
    before = current.copy()
    best, choice = knapsack_step(current, (low, low + extra), gain, width)
    expected_best, expected_choice = _textbook(current, (low, low + extra), gain, width)
    assert np.array_equal(best, expected_best)
    assert np.array_equal(choice, expected_choice)
    assert np.array_equal(current, before)  # the tables handed in are left alone
