"""The matheuristic beside HiGHS: every rule, a true bound, stopped by a proof."""

from __future__ import annotations

import multiprocessing
import time

from benchmarks import instances
from mergeopt.engine import portfolio
from mergeopt.engine.instance import broken_rules, objective_value
from mergeopt.engine.options import SolveOptions
from mergeopt.engine.portfolio import solve_instance
from mergeopt.engine.strategies import heuristics


def test_matheuristic_beside_highs_keeps_every_rule_and_a_true_bound():
    inst = instances.icb("QT1").instance  # 127 practices: not proven in 12 s
    start = heuristics.construct(inst)
    assert start is not None
    assert portfolio.plan(inst)[2] == "matheuristic"
    run = solve_instance(inst, SolveOptions(time_limit=12.0))
    assert run.status == "feasible" and "matheuristic beside" in run.stopped_by
    assert not broken_rules(inst, run.hub_of)
    value = objective_value(inst, run.hub_of)
    assert value <= objective_value(inst, start)
    assert run.bound is not None and run.bound <= value
    assert not multiprocessing.active_children()


def test_highs_proof_stops_the_matheuristic_beside_it():
    """HiGHS proves ICB QOC in seconds; the matheuristic beside it, given an hour, is
    stopped then, not awaited (the bound on the wall time only guards against a hang)."""
    inst = instances.icb("QOC").instance
    began = time.perf_counter()
    report = solve_instance(inst, SolveOptions(time_limit=3600))
    assert report.status == "optimal" and report.gap is not None and report.gap <= 1e-6
    assert time.perf_counter() - began < 600
    assert not multiprocessing.active_children()
