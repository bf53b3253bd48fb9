"""HiGHS through highspy: quiet, and honest about what it proved for the grouping."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from mergeopt.engine.formulation import model_arrays
from mergeopt.engine.options import SolveOptions
from mergeopt.engine.portfolio import solve_instance
from mergeopt.engine.solvers.highs import quiet_highs, run_highs
from tests.engine.cases import FAST, line_instance


def test_highs_prints_no_banner(capfd: pytest.CaptureFixture[str]):
    quiet_highs()
    inst = line_instance([0, 1, 3], [1, 1, 1], count_max=1)
    solve_instance(inst, FAST)
    assert "HiGHS" not in capfd.readouterr().out


def test_highs_optimal_on_its_model_claims_no_tolerance_for_the_grouping():
    """HiGHS proves the model it was given; if the grouping's value recomputed from the
    instance is further from that bound, neither the status nor the detail says the gap
    tolerance was reached (it once said "gap tolerance 1e-06 reached" beside a 1.4% gap)."""
    inst = line_instance([0, 1, 3, 7, 8], [3, 1, 2, 2, 1], max_size=np.full(5, 5.0), count_max=2)
    free = replace(inst, cost=np.zeros_like(inst.cost))  # every grouping costs 0 here
    outcome = run_highs(model_arrays(free), inst, SolveOptions(time_limit=30), 30.0)
    assert outcome.status == "feasible" and outcome.objective is not None
    assert outcome.objective > 0 and outcome.bound == 0.0 and outcome.gap == 1.0
    assert "reached" not in outcome.stopped_by
    assert "short of the gap tolerance 1e-06" in outcome.stopped_by
    line = outcome.status_line()
    assert "within 100.000% of the best possible (bound " in line
    assert "tolerance 1e-06 reached" not in line


def test_highs_stopped_by_its_own_tolerance_says_so():
    inst = line_instance(
        [0, 1, 3, 7, 8, 12, 13], [3, 1, 2, 2, 1, 2, 2], max_size=np.full(7, 5.0), count_max=3
    )
    outcome = run_highs(model_arrays(inst), inst, SolveOptions(time_limit=30, gap=0.9), 30.0)
    if outcome.status == "feasible":  # HiGHS may still prove it outright
        assert outcome.gap is not None and outcome.gap <= 0.9
        assert outcome.stopped_by == "gap tolerance 0.9 reached"
