"""The numbered formulation as arrays: names after the families, plain infeasibility."""

from __future__ import annotations

import numpy as np

from mergeopt.engine.formulation import model_arrays, plainly_infeasible
from mergeopt.engine.solvers.pulp import build_model
from tests.engine.cases import line_instance


def test_constraints_are_named_after_the_formulation():
    inst = line_instance([0, 1, 2], [1, 1, 1], min_size=1.0, max_size=np.full(3, 2.0))
    names = set(build_model(inst).problem.constraints)
    assert {"c1_assign_P0", "c2_link_P0_P1", "c3_self_P0", "c4_min_P0", "c5_max_P0"} <= names


def test_a_practice_without_a_hub_is_plainly_infeasible():
    far = np.array([[1, 0, 0], [0, 1, 1], [0, 1, 1]], dtype=bool)
    alone = line_instance([0, 1, 2], [1, 1, 1], allowed=far, can_hub=np.array([False, True, True]))
    assert plainly_infeasible(model_arrays(alone))
    assert not plainly_infeasible(model_arrays(line_instance([0, 1, 2], [1, 1, 1])))


def test_arrays_name_rows_and_columns_after_the_formulation():
    inst = line_instance([0, 1, 2], [1, 1, 1], min_size=1.0, max_size=np.full(3, 2.0))
    arrays = model_arrays(inst)
    assert {"c1_assign_P0", "c2_link_P0_P1", "c3_self_P0", "c4_min_P0", "c5_max_P0"} <= set(
        arrays.row_names
    )
    assert {"y_P0", "x_P0_P1"} <= set(arrays.col_names)
    hub_of = np.array([1, 1, 1])
    assert arrays.hub_of(arrays.columns(inst, hub_of)).tolist() == hub_of.tolist()


def test_a_practice_standing_alone_has_no_minimum_in_the_model():
    # P2 stands alone with 5 patients (minimum 20): its own group, no c4 row holds it,
    # and family 12 counts it as a group of its own, so HiGHS finds the two groups
    from mergeopt.engine.options import SolveOptions
    from mergeopt.engine.solvers.highs import run_highs

    allowed = np.array([[1, 1, 0], [1, 1, 0], [0, 0, 1]], dtype=bool)
    inst = line_instance(
        [0, 1, 50], [10, 10, 5], min_size=20.0, allowed=allowed, alone=np.array([0, 0, 1], bool)
    )
    arrays = model_arrays(inst)
    minimum = arrays.row_names.index("c4_min_P2")
    assert arrays.row_lower[minimum] == 0.0
    start, end = arrays.row_start[minimum], arrays.row_start[minimum + 1]
    assert (arrays.row_value[start:end] >= 0).all()  # no -L on its hub
    found = run_highs(arrays, inst, SolveOptions(time_limit=10), 10.0)
    assert found.status == "optimal"
    assert found.hub_of[2] == 2 and found.hub_of[0] == found.hub_of[1]
