"""Large regions: the relaxation's bound holds for the whole instance, and the candidate
model's own bound is never reported."""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mergeopt.engine import portfolio
from mergeopt.engine.instance import Instance, arc_costs, feasible, objective_value
from mergeopt.engine.options import SolveOptions
from mergeopt.engine.strategies import large
from tests.engine.cases import brute_force, cost_instance, random_instances, tiny_instances


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_instances())
def test_the_relaxed_bound_never_cuts_off_the_optimum(inst: Instance) -> None:
    best = brute_force(inst)
    relaxed = large.relaxed_bound(inst, deadline=time.perf_counter() + 5, iterations=60)
    if np.isfinite(best):
        assert relaxed.bound <= best + 1e-6 * max(1.0, abs(best))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_instances(), st.data())
def test_the_quick_bound_never_cuts_off_the_optimum(inst: Instance, data: st.DataObject) -> None:
    """With the group count the list sizes allow, and practices standing alone (each a
    group below the minimum), the relaxation's bound stays at most the optimum."""
    alone = np.asarray(data.draw(st.lists(st.booleans(), min_size=inst.n, max_size=inst.n)))
    inst = replace(inst, alone=alone)
    best = brute_force(inst)
    bound = portfolio.quick_bound(inst, time.perf_counter() + 5)
    if bound is not None and np.isfinite(best):
        assert bound <= best + 1e-6 * max(1.0, abs(best))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_instances())
def test_dense_costs_are_the_arc_costs(inst: Instance) -> None:
    usable = inst.hubs_usable()
    assert np.array_equal(large.dense_costs(inst, usable), arc_costs(inst))


@pytest.mark.parametrize("threads", [1, None])
def test_a_large_region_reports_the_relaxation_bound_only(
    monkeypatch: pytest.MonkeyPatch, threads: int | None
) -> None:
    """Solved as a large region (the threshold lowered), a small instance gets a valid
    grouping, and its bound is the relaxation's, at most the optimum."""
    rng = np.random.default_rng(3)
    n = 30
    xy = rng.uniform(0, 100, size=(n, 2))
    cost = np.floor(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)))
    inst = cost_instance(
        cost,
        rng.integers(1, 10, n).astype(float),
        max_size=np.full(n, 60.0),
        count_min=4,
        count_max=4,
        travel_by_size=False,
    )
    whole = portfolio.solve_instance(inst, SolveOptions(time_limit=30, threads=1))
    assert whole.status == "optimal"
    monkeypatch.setattr(portfolio, "LARGE_ARCS", 10)
    monkeypatch.setattr(large, "MAX_ARCS", 300)  # ten candidate hubs of 30
    outcome = portfolio.solve_instance(inst, SolveOptions(time_limit=10, threads=threads))
    assert outcome.hub_of is not None and feasible(inst, outcome.hub_of)
    assert outcome.objective == pytest.approx(objective_value(inst, outcome.hub_of))
    assert outcome.bound is not None and outcome.bound <= whole.objective + 1e-6
    assert "p-median relaxation" in outcome.stopped_by
