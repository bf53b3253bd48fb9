"""The numbered formulation as arrays: names after the families, plain infeasibility,
the plain model's order."""

from __future__ import annotations

from typing import Any

import numpy as np
import pulp
import pytest
from hypothesis import HealthCheck, given, settings

from benchmarks import baseline, instances
from mergeopt.engine.formulation import model_arrays, plain_order, plainly_infeasible
from mergeopt.engine.instance import Instance, is_contiguous, objective_value
from mergeopt.engine.options import SolveOptions
from mergeopt.engine.solvers.highs import highs_from_arrays, reset_thread_pool, run_highs
from mergeopt.engine.solvers.pulp import build_model
from tests.engine.cases import line_instance, random_instances


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


def _highs_path(highs: Any) -> tuple[int, int, float]:
    info = highs.getInfo()
    return (
        int(info.mip_node_count),
        int(info.simplex_iteration_count),
        info.objective_function_value,
    )


@pytest.mark.parametrize("case", [1, 5])
def test_in_the_plain_order_highs_takes_the_plain_models_path(case: int):
    # HiGHS's path through a MIP hangs on the order of its columns and rows (on
    # pmedcap1 #1, 1,285 simplex iterations in one order, 1,695 in mergeopt's own); in
    # plain_order's form mergeopt's model is solved step for step as the benchmarks'
    # plain PuLP model is (same threads, same seed, no start)
    inst = instances.pmedcap(case).instance
    plain, _ = baseline.build_plain(inst)
    reset_thread_pool()
    plain.solve(pulp.HiGHS(msg=False, threads=1, gapRel=1e-6, random_seed=0))
    theirs = _highs_path(plain.solverModel)
    reset_thread_pool()
    highs = highs_from_arrays(plain_order(model_arrays(inst)))
    for option, value in (("threads", 1), ("mip_rel_gap", 1e-6), ("random_seed", 0)):
        highs.setOptionValue(option, value)
    highs.run()
    ours = _highs_path(highs)
    assert theirs[1] > 500  # a path long enough to part on any difference
    assert ours[:2] == theirs[:2]
    assert ours[2] == pytest.approx(theirs[2])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_instances())
def test_plain_order_is_the_same_model(inst: Instance):
    # the same columns and rows but family 12, reordered: same optimum, and a grouping's
    # columns read back as the same grouping
    arrays = model_arrays(inst)
    plain = plain_order(arrays)
    assert sorted(plain.col_names) == sorted(arrays.col_names)
    assert sorted(plain.row_names) == sorted(
        n for n in arrays.row_names if not n.startswith("c12")
    )
    options = SolveOptions(time_limit=20)
    ours, theirs = run_highs(plain, inst, options, 20.0), run_highs(arrays, inst, options, 20.0)
    assert ours.status == theirs.status
    if ours.status == "optimal":
        assert ours.objective == pytest.approx(theirs.objective)
        assert objective_value(inst, ours.hub_of) == pytest.approx(ours.objective)
        assert plain.hub_of(plain.columns(inst, ours.hub_of)).tolist() == ours.hub_of.tolist()


def test_plain_order_keeps_the_longest_travel_and_contiguity_columns():
    # z and the flows stay after x and y, in their order: the same optimum, contiguous
    inst = line_instance(
        [0, 1, 2, 3, 4, 5],
        [4, 4, 4, 4, 4, 4],
        min_size=8.0,
        max_size=np.full(6, 12.0),
        adjacency=((0, 1), (1, 2), (2, 3), (3, 4), (4, 5)),
        contiguous=True,
        weights=(1.0, 0.0, 0.0, 3.0),
    )
    arrays = model_arrays(inst)
    plain = plain_order(arrays)
    assert plain.z_col is not None and len(plain.flows)
    options = SolveOptions(time_limit=20)
    ours, theirs = run_highs(plain, inst, options, 20.0), run_highs(arrays, inst, options, 20.0)
    assert ours.status == theirs.status == "optimal"
    assert ours.objective == pytest.approx(theirs.objective)
    assert is_contiguous(inst, ours.hub_of)
    assert plain.hub_of(plain.columns(inst, ours.hub_of)).tolist() == ours.hub_of.tolist()
