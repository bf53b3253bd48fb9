"""A model's rows: families added at once, packed into CSR in the order they were added;
the 'members less a bound times an indicator' and count shapes; the fewest largest
bounds that hold a total."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mergeopt.engine.rows import Rows, fewest_holding, one_row, stack


def dense(rows: Rows, columns: int) -> np.ndarray:
    names, _, _, start, index, value = rows.pack()
    matrix = np.zeros((len(names), columns))
    for r in range(len(names)):
        for k in range(start[r], start[r + 1]):
            matrix[r, index[k]] += value[k]
    return matrix


def test_linked_rows_hold_members_less_the_factor_times_their_own_column():
    rows = Rows()
    # x0 + x1 - 5 y3 <= 0 and 2 x2 - 7 y4 <= 0
    members = (np.array([0, 0, 1]), np.array([0, 1, 2]), np.array([1.0, 1.0, 2.0]))
    rows.add_linked(["a", "b"], -np.inf, 0.0, members, np.array([3, 4]), np.array([5.0, 7.0]))
    assert dense(rows, 5).tolist() == [[1, 1, 0, -5, 0], [0, 0, 2, 0, -7]]
    names, lower, upper, *_ = rows.pack()
    assert names == ["a", "b"] and lower.tolist() == [-np.inf] * 2 and upper.tolist() == [0, 0]


def test_count_rows_only_for_the_bounds_given():
    rows = Rows()
    rows.add_count(("low", "high"), np.array([2, 5]), 1, None)
    rows.add_count(("least", "most"), np.array([2, 5]), None, 3)
    names, lower, upper, *_ = rows.pack()
    assert names == ["low", "most"]
    assert lower.tolist() == [1, -np.inf] and upper.tolist() == [np.inf, 3]
    assert dense(rows, 6).tolist() == [[0, 0, 1, 0, 0, 1]] * 2


def test_implied_counts_keep_only_the_bounds_that_cut():
    rows = Rows()
    rows.add_implied_count(("min", "max"), np.array([0, 1, 2]), 1, 3)  # 1 and 3 of 3 cut nothing
    rows.add_implied_count(("min2", "max2"), np.array([0, 1, 2]), 2, 2)
    assert rows.pack()[0] == ["min2", "max2"]


def test_a_row_without_entries_keeps_its_bounds():
    rows = Rows()
    rows.add(["never"], 1.0, 1.0)
    rows.add(["x"], 0.0, 0.0, one_row(4, 2.0, 1, -1.0))
    names, lower, upper, start, index, value = rows.pack()
    assert names == ["never", "x"] and start.tolist() == [0, 0, 2]
    assert lower.tolist() == [1.0, 0.0] and upper.tolist() == [1.0, 0.0]
    assert index.tolist() == [4, 1] and value.tolist() == [2.0, -1.0]  # order kept in a row


@given(
    st.lists(
        st.lists(st.tuples(st.integers(0, 3), st.integers(0, 5), st.floats(-9, 9)), max_size=6),
        min_size=1,
        max_size=4,
    )
)
def test_packing_keeps_every_entry_in_its_row(families):
    rows = Rows()
    expected = []
    for f, entries in enumerate(families):
        rows.add([f"r{f}_{k}" for k in range(4)], 0.0, 1.0, stack(*(
            (np.array([r]), np.array([c]), np.array([v])) for r, c, v in entries
        )) if entries else None)  # fmt: skip
        block = np.zeros((4, 6))
        for r, c, v in entries:
            block[r, c] += v
        expected.append(block)
    assert dense(rows, 6) == pytest.approx(np.vstack(expected))


@pytest.mark.parametrize(
    ("caps", "total", "fewest"),
    [([5, 1, 3], 8, 2), ([5, 1, 3], 9, 3), ([5, 1, 3], 10, None), ([4], 4, 1), ([], 1, None)],
)
def test_fewest_largest_bounds_that_hold_a_total(caps, total, fewest):
    assert fewest_holding(np.asarray(caps, dtype=float), total) == fewest
