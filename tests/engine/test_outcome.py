"""What a solve reports: bounds rounded to whole numbers, the gap."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mergeopt.engine.outcome import (
    PROVEN_GAP,
    found,
    gap,
    infeasible,
    no_grouping,
    proven,
    round_bound,
    solver_ended,
)


def test_whole_number_objectives_round_the_bound_up():
    assert round_bound(981.2, True) == 982.0
    assert round_bound(981.0000001, True) == 981.0  # solver noise is not a whole unit
    assert round_bound(981.2, False) == 981.2


def test_gap_is_relative_to_the_objective():
    assert gap(200.0, 150.0) == pytest.approx(0.25)
    assert gap(100.0, 100.0 - 1e-10) == 0.0  # solver noise is no gap
    assert gap(0.0, -1.0) == pytest.approx(1e9)  # a zero objective does not divide by zero


def test_a_grouping_is_optimal_only_when_its_bound_proves_it():
    hub_of = np.array([0, 0, 2])
    assert found(hub_of, 100.0, 100.0, "Optimal").status == "optimal"
    assert found(hub_of, 100.0, 100.0 - 1e-5, "Optimal").status == "optimal"  # gap 1e-7
    unproven = found(hub_of, 100.0, 99.0, "Time limit reached")
    assert unproven.status == "feasible" and unproven.gap == pytest.approx(0.01)
    unbounded = found(hub_of, 100.0, None, "Time limit reached")
    assert unbounded.status == "feasible" and unbounded.gap is None


@given(
    st.floats(0, 1e9, allow_nan=False),
    st.one_of(st.none(), st.floats(-1e9, 1e9, allow_nan=False)),
)
def test_the_verdict_agrees_with_its_gap(objective: float, bound: float | None):
    outcome = found(np.zeros(1, dtype=np.int64), objective, bound, "")
    assert (outcome.status == "optimal") == proven(objective, bound)
    assert (outcome.status == "optimal") == (outcome.gap is not None and outcome.gap <= PROVEN_GAP)
    assert (outcome.gap is None) == (bound is None)


def test_no_grouping_and_infeasible_carry_no_objective():
    assert no_grouping(12.0, "Time limit reached").objective is None
    assert no_grouping(12.0, "Time limit reached").bound == 12.0
    assert infeasible("Infeasible").hub_of is None


def test_the_status_line_is_made_from_the_outcomes_own_figures():
    hub_of = np.array([0, 0, 2])
    assert found(hub_of, 100.0, 100.0, "Optimal").status_line() == (
        "optimal: the solver proved no better grouping exists"
    )
    line = found(hub_of, 1000.0, 986.0, "Time limit reached").status_line()
    assert line == (
        "feasible, not proven optimal: within 1.400% of the best possible (bound 986.0); "
        "stopped by Time limit reached"
    )
    assert "bound unknown" in found(hub_of, 10.0, None, "Time limit reached").status_line()
    assert no_grouping(5.0, "Time limit reached").status_line() == (
        "no grouping found (bound 5.0); stopped by Time limit reached"
    )
    assert infeasible("Infeasible").status_line().startswith("infeasible: no grouping meets")


def test_a_solver_that_ended_claims_its_tolerance_only_within_it():
    close = found(np.zeros(1, dtype=np.int64), 100.0, 99.5, "")
    assert solver_ended(close, 0.01) == "gap tolerance 0.01 reached"
    assert "reached" not in solver_ended(close, 1e-6)
    assert "reached" not in solver_ended(found(np.zeros(1, dtype=np.int64), 1.0, None, ""), 0.5)
