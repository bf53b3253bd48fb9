"""HiGHS through highspy: quiet."""

from __future__ import annotations

import pytest

from mergeopt.engine.portfolio import solve_instance
from mergeopt.engine.solvers.highs import quiet_highs
from tests.engine.cases import FAST, line_instance


def test_highs_prints_no_banner(capfd: pytest.CaptureFixture[str]):
    quiet_highs()
    inst = line_instance([0, 1, 3], [1, 1, 1], count_max=1)
    solve_instance(inst, FAST)
    assert "HiGHS" not in capfd.readouterr().out
