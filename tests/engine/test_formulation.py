"""The numbered formulation as arrays: names after the families, plain infeasibility."""

from __future__ import annotations

import numpy as np

from mergeopt.engine.solvers.pulp import build_model
from tests.engine.cases import line_instance


def test_constraints_are_named_after_the_formulation():
    inst = line_instance([0, 1, 2], [1, 1, 1], min_size=1.0, max_size=np.full(3, 2.0))
    names = set(build_model(inst).problem.constraints)
    assert {"c1_assign_P0", "c2_link_P0_P1", "c3_self_P0", "c4_min_P0", "c5_max_P0"} <= names
