"""PuLP: CBC agrees with HiGHS; a CBC that fails is a solver error; its objective is the grouping's."""

from __future__ import annotations

import numpy as np
import pulp
import pytest

from mergeopt.engine.errors import SolverError
from mergeopt.engine.instance import objective_value
from mergeopt.engine.options import SolveOptions
from mergeopt.engine.portfolio import solve_instance
from mergeopt.engine.solvers.pulp import solve_cbc
from tests.engine.cases import FAST, line_instance


def test_cbc_agrees_with_highs():
    inst = line_instance([0, 1, 3, 7, 8], [3, 1, 2, 2, 1], max_size=np.full(5, 5.0))
    highs = solve_instance(inst, FAST)
    cbc = solve_instance(inst, SolveOptions(solver="cbc", time_limit=30))
    assert cbc.status == highs.status == "optimal"
    assert cbc.objective == pytest.approx(highs.objective)


def _crash(self: object, lp: pulp.LpProblem, **kwargs: object) -> int:
    raise pulp.PulpSolverError("Pulp: Error while executing cbc (injected)")


def _undefined(self: object, lp: pulp.LpProblem, **kwargs: object) -> int:
    lp.assignStatus(pulp.LpStatusUndefined, pulp.LpSolutionNoSolutionFound)
    return int(lp.status)


@pytest.mark.parametrize("fault", [_crash, _undefined], ids=["crashed", "undefined"])
def test_a_failing_cbc_is_a_solver_error_never_a_time_limit(monkeypatch, fault):
    monkeypatch.setattr(pulp.PULP_CBC_CMD, "actualSolve", fault)
    inst = line_instance([0, 1, 3], [1, 1, 1], count_max=1)
    with pytest.raises(SolverError, match="CBC failed on this model"):
        solve_cbc(inst, SolveOptions(solver="cbc", time_limit=30))


def test_the_objective_is_the_groupings_own_value_not_cbcs_sum(monkeypatch):
    """CBC returns a binary as 1 within its tolerance (0.99999999...), so PuLP's sum of the
    objective over CBC's values is off in its last digits (446,228.53363 against the
    grouping's 446,228.53293, found by the reference property test): the objective
    reported is the grouping's own value, as for HiGHS."""
    solve = pulp.PULP_CBC_CMD.actualSolve

    def nearly_one(self: pulp.PULP_CBC_CMD, lp: pulp.LpProblem, **kwargs: object) -> int:
        status = int(solve(self, lp, **kwargs))
        for var in lp.variables():
            if (var.varValue or 0.0) > 0.5:
                var.varValue = 1.0 - 1e-7
        return status

    monkeypatch.setattr(pulp.PULP_CBC_CMD, "actualSolve", nearly_one)
    inst = line_instance([0, 1.3, 3, 7, 8.1], [3e3, 1e3, 2e3, 2e3, 1e3], count_max=2)
    outcome = solve_cbc(inst, SolveOptions(solver="cbc", time_limit=30))
    assert outcome.status == "optimal" and outcome.hub_of is not None and outcome.objective > 0
    assert outcome.objective == objective_value(inst, outcome.hub_of)


def _crash_without_preprocessing(monkeypatch: pytest.MonkeyPatch) -> None:
    """CBC 2.10.3 as it was found: without preprocessing it crashes (a segmentation fault
    writing its solution) on some infeasible models, which PuLP reports as an error."""
    solve = pulp.PULP_CBC_CMD.actualSolve

    def crash(self: pulp.PULP_CBC_CMD, lp: pulp.LpProblem, **kwargs: object) -> int:
        if "preprocess off" in self.options:
            raise pulp.PulpSolverError("Pulp: Error while trying to execute (injected)")
        return int(solve(self, lp, **kwargs))

    monkeypatch.setattr(pulp.PULP_CBC_CMD, "actualSolve", crash)


def test_cbc_crashing_without_preprocessing_is_solved_again_with_it(monkeypatch):
    """Found by the reference property test with solver.name: cbc: an infeasible model
    crashed CBC without preprocessing (exit 5, solver failed). Solved again as CBC does by
    default, it is infeasible; a grouping from that run is never called optimal."""
    _crash_without_preprocessing(monkeypatch)
    infeasible = line_instance([0, 1, 3], [5, 6, 7], min_size=9.0, max_size=np.full(3, 11.0))
    options = SolveOptions(solver="cbc", time_limit=30)
    assert solve_cbc(infeasible, options).status == "infeasible"
    feasible = line_instance([0, 1, 3, 7, 8], [3, 1, 2, 2, 1], max_size=np.full(5, 5.0))
    outcome = solve_cbc(feasible, options)
    assert outcome.status == "feasible" and outcome.bound is None
