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
