"""PuLP: CBC agrees with HiGHS; a CBC that fails is a solver error."""

from __future__ import annotations

import numpy as np
import pulp
import pytest

from mergeopt.engine.errors import SolverError
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
