"""The fast path agrees with the plain model; the benchmark loaders read the files right.

No test here asserts a wall time: speed is measured by ``python -m benchmarks.run``.
"""

from __future__ import annotations

import importlib
import multiprocessing
import sys
import time
from dataclasses import replace
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from mergeopt import heuristics
from mergeopt.config import Solver
from mergeopt.hubsearch import hub_search, hub_search_applies
from mergeopt.lagrangian import lagrangian_applies, lagrangian_bound
from mergeopt.model import Instance, model_arrays, objective_value
from mergeopt.solve import solve_instance

ROOT = Path(__file__).resolve().parents[1]


def _benchmark(name: str) -> ModuleType:
    """A module of the repository's ``benchmarks/`` folder (not an installed package)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    return importlib.import_module(f"benchmarks.{name}")


baseline = _benchmark("baseline")
instances = _benchmark("instances")
FAST = Solver(time_limit=30)


@st.composite
def random_instances(draw: st.DrawFn) -> Instance:
    """Small capacitated instances: sizes, bounds, travel limit, group count, weights."""
    n = draw(st.integers(3, 9))
    coords = st.tuples(st.integers(0, 30), st.integers(0, 30))
    xy = np.array(draw(st.lists(coords, min_size=n, max_size=n)), dtype=float)
    size = np.array(draw(st.lists(st.integers(1, 12), min_size=n, max_size=n)), dtype=float)
    cost = np.floor(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)))
    limit = draw(st.sampled_from([np.inf, 12.0, 25.0]))
    upper = float(draw(st.integers(12, 40)))
    count = draw(st.one_of(st.none(), st.integers(1, max(1, n // 2))))
    return Instance(
        codes=tuple(f"P{k}" for k in range(n)),
        size=size,
        cost=cost,
        allowed=cost <= limit,
        min_size=float(draw(st.sampled_from([0, 0, 8, 15]))),
        max_size=np.full(n, upper),
        can_hub=np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
        | (np.arange(n) == 0),
        must_hub=np.zeros(n, dtype=bool),
        count_min=count,
        count_max=count,
        weights=(1.0, 0.0, float(draw(st.sampled_from([0, 0, 7]))), 0.0),
        travel_by_size=draw(st.booleans()),
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_instances())
def test_fast_path_matches_the_plain_model(inst: Instance):
    """Same optimum as the dense baseline wherever both prove optimality; same verdict."""
    ours = solve_instance(inst, FAST)
    plain = baseline.solve_plain(inst, time_limit=30)
    assert (ours.status == "infeasible") == (plain.status == "infeasible")
    if ours.status == "optimal" and plain.status == "optimal":
        assert ours.objective == pytest.approx(plain.objective, abs=1e-6)
        assert ours.objective == pytest.approx(objective_value(inst, ours.hub_of), abs=1e-6)
    if ours.bound is not None and plain.objective is not None:
        assert ours.bound <= plain.objective + 1e-6  # a proven bound never cuts off the optimum
    if plain.status == "optimal" and lagrangian_applies(inst):
        _lagrangian_keeps_the_optimum(inst, plain.hub_of, plain.objective)
    if plain.status == "optimal":  # the same grouping problem in units of 137.3 patients
        factor = 137.3
        scaled = replace(
            inst,
            size=inst.size * factor,
            min_size=inst.min_size * factor,
            max_size=inst.max_size * factor,
        )
        if lagrangian_applies(scaled, scaled=True):
            optimum = plain.objective * (factor if inst.travel_by_size else 1.0)
            _lagrangian_keeps_the_optimum(scaled, plain.hub_of, optimum)


def _lagrangian_keeps_the_optimum(inst: Instance, hub_of: np.ndarray, optimum: float) -> None:
    """Below a bound just above the optimum, nothing the optimum uses is fixed away."""
    lag = lagrangian_bound(inst, optimum + 1.0)
    assert lag.bound <= optimum + 1e-6 * max(1.0, optimum)
    assert not lag.closed[np.unique(hub_of)].any()  # the optimum's hubs stay open
    ai, aj = inst.arcs()
    assert not lag.arc_closed[hub_of[ai] == aj].any()  # and so do its arcs


def test_plain_baseline_is_dense_and_reads_its_status_honestly():
    inst = instances.pmedcap(1).instance
    prob, x = baseline.build_plain(inst)
    assert len(x) == inst.n * inst.n and len(prob.variables()) == inst.n * (inst.n + 1)
    stopped = baseline.solve_plain(instances.pmedcap(20).instance, time_limit=0.5)
    assert stopped.status in ("feasible", "no_solution")  # PuLP itself would say "Optimal"


@pytest.mark.parametrize(("number", "optimum"), [(1, 713.0), (11, 1006.0)])
def test_pmedcap_mapped_onto_the_model(number: int, optimum: float):
    case = instances.pmedcap(number)
    inst = case.instance
    assert case.optimum == optimum
    assert not inst.travel_by_size and inst.count_min == inst.count_max
    report = solve_instance(inst, Solver(time_limit=3))  # proven or not, both sides hold
    assert report.objective is not None and report.objective >= optimum - 1e-6
    assert report.bound is not None and report.bound <= optimum + 1e-6


def test_pmed_optima_and_shortest_paths():
    case = instances.pmed(1)
    assert case.optimum == 5819.0 and case.instance.n == 100
    cost = case.instance.cost
    assert np.allclose(cost, cost.T) and np.isfinite(cost).all()
    # shortest paths obey the triangle inequality through every vertex
    assert (cost[:, None, :] <= cost[:, :, None] + cost[None, :, :] + 1e-9).all()


@st.composite
def uncapacitated_instances(draw: st.DrawFn) -> Instance:
    """Small p-medians: no list-size bounds; a travel limit, a group count or a cost per
    group, candidate and forced hubs."""
    n = draw(st.integers(2, 12))
    coords = st.tuples(st.integers(0, 30), st.integers(0, 30))
    xy = np.array(draw(st.lists(coords, min_size=n, max_size=n)), dtype=float)
    size = np.array(draw(st.lists(st.integers(1, 12), min_size=n, max_size=n)), dtype=float)
    cost = np.floor(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)))
    limit = draw(st.sampled_from([np.inf, 12.0, 25.0]))
    count = draw(st.one_of(st.none(), st.integers(1, n)))
    can_hub = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    must_hub = np.zeros(n, dtype=bool)
    if draw(st.booleans()):
        must_hub[draw(st.integers(0, n - 1))] = True
    return Instance(
        codes=tuple(f"P{k}" for k in range(n)),
        size=size,
        cost=cost,
        allowed=cost <= limit,
        min_size=0.0,
        max_size=np.full(n, np.inf),
        can_hub=can_hub | must_hub | (np.arange(n) == 0),
        must_hub=must_hub,
        count_min=count,
        count_max=count,
        weights=(1.0, 0.0, float(draw(st.sampled_from([0, 5, 40]))), 0.0),
        travel_by_size=draw(st.booleans()),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(uncapacitated_instances())
def test_hub_search_matches_the_plain_model(inst: Instance):
    """The branch-and-bound over hubs proves the dense model's optimum and verdict."""
    assert hub_search_applies(inst)
    ours = solve_instance(inst, FAST)
    plain = baseline.solve_plain(inst, time_limit=30)
    assert plain.status in ("optimal", "infeasible")
    assert ours.status == plain.status
    if plain.status == "optimal":
        assert ours.objective == pytest.approx(plain.objective, abs=1e-6)
        assert ours.bound == pytest.approx(plain.objective, abs=1e-6)
        assert not heuristics.broken_rules(inst, ours.hub_of)
        assert "hub search" in ours.stopped_by


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(uncapacitated_instances())
def test_interchange_keeps_every_rule_and_never_worsens(inst: Instance):
    start = heuristics.construct(inst)
    if start is None:
        return
    swapped = heuristics.interchange(inst, start)
    assert not heuristics.broken_rules(inst, swapped)
    assert objective_value(inst, swapped) <= objective_value(inst, start) + 1e-9
    assert len(np.unique(swapped)) == len(np.unique(start))


def test_hub_search_stopped_early_reports_a_true_bound():
    """A search stopped after its root still holds a grouping and a bound below it."""
    case = instances.pmed(6)
    start = heuristics.construct(case.instance)
    found = hub_search(case.instance, start, deadline=0.0, integral=True)
    assert not found.finished and found.nodes == 1
    assert found.bound <= case.optimum <= objective_value(case.instance, found.hub_of)
    assert found.bound > 0.99 * case.optimum  # the root's Lagrangian bound is near the LP's


def test_pmed_proven_by_the_hub_search():
    case = instances.pmed(11)
    report = solve_instance(case.instance, Solver(time_limit=60))
    assert report.status == "optimal" and report.objective == case.optimum
    assert report.stopped_by.startswith("hub search")


def test_greedy_groups_the_largest_icb_at_twenty_minutes():
    """One practice of 20,084 patients fits no network it reaches; the greedy gathers a
    new one around it from networks that can spare members, instead of giving up."""
    inst = instances.icb(instances.largest_icb(), 20.0).instance
    start = heuristics.construct(inst)
    assert start is not None and not heuristics.broken_rules(inst, start)


def test_lp_guided_start_keeps_every_rule_and_never_worsens():
    inst = instances.icb("QT1").instance
    start = heuristics.construct(inst)
    assert start is not None
    solve_module = importlib.import_module("mergeopt.solve")
    found = solve_module._lp_guided(
        inst, model_arrays(inst), Solver(), time.perf_counter() + 5.0, start
    )
    assert found is not None and not heuristics.broken_rules(inst, found)
    assert objective_value(inst, found) <= objective_value(inst, start)


def test_matheuristic_beside_highs_keeps_every_rule_and_a_true_bound():
    inst = instances.icb("QT1").instance  # 127 practices: not proven in 12 s
    start = heuristics.construct(inst)
    assert start is not None
    solve_module = importlib.import_module("mergeopt.solve")
    run = solve_module._highs_beside_improve(model_arrays(inst), inst, Solver(), 12.0, start)
    assert run.status == "feasible" and "matheuristic beside HiGHS" in run.stopped_by
    assert not heuristics.broken_rules(inst, run.hub_of)
    value = objective_value(inst, run.hub_of)
    assert value <= objective_value(inst, start)
    assert run.bound is not None and run.bound <= value
    assert not multiprocessing.active_children()


def test_highs_proof_stops_the_matheuristic_beside_it():
    """HiGHS proves ICB QOC in seconds; the matheuristic beside it, given an hour, is
    stopped then, not awaited (the bound on the wall time only guards against a hang)."""
    inst = instances.icb("QOC").instance
    began = time.perf_counter()
    report = solve_instance(inst, Solver(time_limit=3600))
    assert report.status == "optimal" and report.gap is not None and report.gap <= 1e-6
    assert time.perf_counter() - began < 600
    assert not multiprocessing.active_children()


def _two_regions(seed: int, *, reach: float = 10.0) -> Instance:
    """Two ICBs of 50 practices each, 1,000 apart: capacitated networks in each."""
    rng = np.random.default_rng(seed)
    xy = rng.integers(0, 30, size=(100, 2)).astype(float)
    xy[50:, 0] += 1000.0
    cost = np.floor(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)))
    return Instance(
        codes=tuple(f"P{k}" for k in range(100)),
        size=rng.integers(1, 12, size=100).astype(float),
        cost=cost,
        allowed=cost <= reach,
        min_size=0.0,
        max_size=np.full(100, 40.0),
        can_hub=np.ones(100, dtype=bool),
        must_hub=np.zeros(100, dtype=bool),
        region=("ICB_A",) * 50 + ("ICB_B",) * 50,
    )


def test_regions_solved_in_parallel_match_one_process():
    inst = _two_regions(3)
    serial = solve_instance(inst, Solver(time_limit=60, threads=1))
    parallel = solve_instance(inst, Solver(time_limit=60, threads=2))
    assert serial.status == parallel.status == "optimal"
    assert parallel.objective == pytest.approx(serial.objective, rel=1e-9)
    assert heuristics.feasible(inst, parallel.hub_of)
    assert parallel.objective == pytest.approx(objective_value(inst, parallel.hub_of))
    assert "2 independent regions" in parallel.stopped_by


def test_an_infeasible_region_solved_in_parallel_is_named():
    inst = _two_regions(4)
    allowed, can_hub = inst.allowed.copy(), inst.can_hub.copy()
    # ICB_B: one hub may serve all 50 practices, and it holds only 40 patients
    allowed[50:, 50:] = False
    allowed[50:, 75] = True
    allowed[np.arange(50, 100), np.arange(50, 100)] = True
    can_hub[50:] = np.arange(50, 100) == 75
    inst = replace(inst, allowed=allowed, can_hub=can_hub)
    report = solve_instance(inst, Solver(time_limit=60, threads=2))
    assert report.status == "infeasible" and report.hub_of is None
    assert "ICB_B (50 practices)" in report.stopped_by
    assert "ICB_A" not in report.stopped_by


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(random_instances())
def test_bound_study_figures_are_true_bounds(inst: Instance):
    """benchmarks/bounds.py: LP <= DW <= optimum, and with whole list sizes (exact
    pricing) the converged master LP is the Lagrangian value it reports."""
    bounds = _benchmark("bounds")
    plain = baseline.solve_plain(inst, time_limit=30)
    counted = bounds.with_count_bounds(inst)
    assume(plain.status == "optimal" and lagrangian_applies(counted, scaled=True))
    lp = bounds.lp_bound(inst)
    dw = bounds.dw_bound(inst)
    tol = 1e-6 * max(1.0, abs(plain.objective))
    assert lp <= plain.objective + tol
    assert dw["dw"] <= plain.objective + tol
    assert dw["dw_converged"] and dw["dw_unit"] == 1.0
    assert dw["dw"] == pytest.approx(dw["dw_master"], abs=tol)
    assert dw["dw"] >= lp - tol
