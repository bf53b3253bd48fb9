"""Lagrangian fixing: the reduced model keeps every cost, so a proof of it is reported."""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from benchmarks import baseline
from mergeopt.engine.formulation import model_arrays
from mergeopt.engine.instance import Instance, feasible, objective_value
from mergeopt.engine.strategies.fixing import _reduced, fixing_applies, lagrangian_fixing
from mergeopt.engine.strategies.heuristics import construct
from mergeopt.engine.strategies.lagrangian import lagrangian_bound
from tests.engine.cases import FAST, random_instances


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_instances())
def test_the_reduced_model_prices_a_grouping_as_the_instance_does(inst: Instance) -> None:
    """Nothing is fixed out of the objective: a grouping the reduced model holds costs
    the same in its columns as recomputed from the instance, so the reduced model's
    objective and bound are the whole instance's."""
    plain = baseline.solve_plain(inst, time_limit=30)
    if plain.status != "optimal" or not fixing_applies(inst):
        return
    lag = lagrangian_bound(inst, plain.objective + 1.0, integral=True)
    reduced = _reduced(inst, lag)
    arrays = model_arrays(reduced)
    assert feasible(reduced, plain.hub_of)  # the optimum survives the fixing
    priced = float(arrays.col_cost @ arrays.columns(reduced, plain.hub_of))
    assert priced == pytest.approx(objective_value(inst, plain.hub_of), abs=1e-6)
    assert objective_value(reduced, plain.hub_of) == pytest.approx(plain.objective, abs=1e-6)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_instances())
def test_a_proof_found_on_the_reduced_model_is_reported(inst: Instance) -> None:
    plain = baseline.solve_plain(inst, time_limit=30)
    if plain.status != "optimal" or not fixing_applies(inst):
        return
    outcome = lagrangian_fixing(
        inst, model_arrays(inst), FAST, time.perf_counter() + 30, construct(inst)
    )
    assert outcome.status == "optimal"
    assert outcome.objective == pytest.approx(plain.objective, abs=1e-6)
    assert outcome.bound == pytest.approx(plain.objective, abs=1e-6)
    assert np.isfinite(outcome.bound)
