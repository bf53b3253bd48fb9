"""PuLP: CBC agrees with HiGHS."""

from __future__ import annotations

import numpy as np
import pytest

from mergeopt.engine.options import SolveOptions
from mergeopt.engine.portfolio import solve_instance
from tests.engine.cases import FAST, line_instance


def test_cbc_agrees_with_highs():
    inst = line_instance([0, 1, 3, 7, 8], [3, 1, 2, 2, 1], max_size=np.full(5, 5.0))
    highs = solve_instance(inst, FAST)
    cbc = solve_instance(inst, SolveOptions(solver="cbc", time_limit=30))
    assert cbc.status == highs.status == "optimal"
    assert cbc.objective == pytest.approx(highs.objective)
