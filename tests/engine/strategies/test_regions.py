"""Decomposition by region: regions solved in parallel, an infeasible one named, the
regions' reasons counted."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from mergeopt.engine.instance import Instance, feasible, objective_value
from mergeopt.engine.options import Progress, SolveOptions
from mergeopt.engine.outcome import Outcome, found, no_grouping
from mergeopt.engine.portfolio import solve_instance
from mergeopt.engine.strategies.regions import solve_regions
from tests.engine.cases import FAST, line_instance, two_regions


def test_an_infeasible_region_is_named():
    # two regions (far apart); the second cannot reach the minimum list size
    allowed = np.abs(np.subtract.outer([0, 1, 100, 101], [0, 1, 100, 101])) < 5
    inst = line_instance(
        [0, 1, 100, 101],
        [20, 20, 5, 5],
        min_size=25.0,
        allowed=allowed,
        region=("ICB_A", "ICB_A", "ICB_B", "ICB_B"),
    )
    report = solve_instance(inst, FAST)
    assert report.status == "infeasible" and report.hub_of is None
    assert "ICB_B" in report.stopped_by and "ICB_A" not in report.stopped_by


def test_regions_solved_in_parallel_match_one_process():
    inst = two_regions(3)
    serial = solve_instance(inst, SolveOptions(time_limit=60, threads=1))
    parallel = solve_instance(inst, SolveOptions(time_limit=60, threads=2))
    assert serial.status == parallel.status == "optimal"
    assert parallel.objective == pytest.approx(serial.objective, rel=1e-9)
    assert feasible(inst, parallel.hub_of)
    assert parallel.objective == pytest.approx(objective_value(inst, parallel.hub_of))
    assert "2 independent regions" in parallel.stopped_by


def test_regions_in_parallel_lanes_tell_the_progress_hook_as_each_ends():
    """Lanes in other processes cannot call the hook: each region's outcome comes back as
    it ends, and the hook hears the whole's figures (a bound from the start, the
    objective once every region has a grouping) and how many regions are solved."""
    inst = replace(two_regions(3), min_size=20.0)  # no practice alone: an objective above 0
    heard: list[Progress] = []
    outcome = solve_instance(inst, SolveOptions(time_limit=60, threads=2, progress=heard.append))
    assert outcome.status == "optimal" and outcome.objective is not None
    assert [p.phase for p in heard] == [
        f"{k} of 2 regions solved in 2 processes" for k in range(3)
    ]
    bounds = [p.bound for p in heard]
    assert None not in bounds and bounds == sorted(bounds) and heard[1].bound > heard[0].bound
    assert all(b <= outcome.objective + 1e-6 for b in bounds)
    assert heard[0].objective is None and heard[1].objective is None
    assert heard[-1].objective == pytest.approx(outcome.objective)
    assert heard[-1].gap == pytest.approx(0.0, abs=1e-6)


def test_an_infeasible_region_solved_in_parallel_is_named():
    inst = two_regions(4)
    allowed, can_hub = inst.allowed.copy(), inst.can_hub.copy()
    # ICB_B: one hub may serve all 50 practices, and it holds only 40 patients
    allowed[50:, 50:] = False
    allowed[50:, 75] = True
    allowed[np.arange(50, 100), np.arange(50, 100)] = True
    can_hub[50:] = np.arange(50, 100) == 75
    inst = replace(inst, allowed=allowed, can_hub=can_hub)
    report = solve_instance(inst, SolveOptions(time_limit=60, threads=2))
    assert report.status == "infeasible" and report.hub_of is None
    assert "ICB_B (50 practices)" in report.stopped_by
    assert "ICB_A" not in report.stopped_by


def _one_proven_one_not(inst: Instance, options: SolveOptions, deadline: float) -> Outcome:
    """A region solver for the test: the first region proven, the other stopped early."""
    hub_of = np.arange(inst.n)  # everyone alone: a grouping of this instance
    value = objective_value(inst, hub_of)
    if inst.codes[0] == "P0":
        return found(hub_of, value, value, "Optimal")
    return found(hub_of, value + 10.0, value - 5.0, "Time limit reached")


def test_mixed_region_reasons_are_counted_not_merged():
    allowed = np.abs(np.subtract.outer([0, 1, 100, 101], [0, 1, 100, 101])) < 5
    inst = line_instance([0, 1, 100, 101], [1, 1, 1, 1], allowed=allowed)
    whole = solve_regions(inst, SolveOptions(time_limit=5, threads=1), _one_proven_one_not)
    assert whole.status == "feasible"
    assert whole.stopped_by == (
        "Optimal [1 region]; Time limit reached [1 region] (2 independent regions)"
    )


def _second_finds_nothing(inst: Instance, options: SolveOptions, deadline: float) -> Outcome:
    """A region solver for the test: the first region proven, the second left without a
    grouping at its limit."""
    hub_of = np.arange(inst.n)
    value = objective_value(inst, hub_of)
    if inst.codes[0] == "P0":
        return found(hub_of, value, value, "Optimal")
    return no_grouping(None, "Time limit reached")


def test_regions_left_without_a_grouping_are_named():
    """A nested run with no grouping for one region says which, so that the user knows
    where the time ran out (all of England nested by ICB, 42 regions, 60 s)."""
    allowed = np.abs(np.subtract.outer([0, 1, 100, 101], [0, 1, 100, 101])) < 5
    inst = line_instance([0, 1, 100, 101], [1, 1, 1, 1], allowed=allowed)
    inst = replace(inst, region=("ICB_A", "ICB_A", "ICB_B", "ICB_B"))
    whole = solve_regions(inst, SolveOptions(time_limit=5, threads=1), _second_finds_nothing)
    assert whole.status == "no_solution" and whole.hub_of is None
    assert whole.stopped_by.endswith("; no grouping found in time in ICB_B (2 practices)")
    assert "ICB_A" not in whole.stopped_by
