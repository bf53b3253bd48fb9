"""The LP-guided start keeps every rule and never worsens its start."""

from __future__ import annotations

import time

from benchmarks import instances
from mergeopt.engine.formulation import model_arrays
from mergeopt.engine.instance import broken_rules, objective_value
from mergeopt.engine.options import SolveOptions
from mergeopt.engine.strategies import heuristics
from mergeopt.engine.strategies.lp_guided import lp_guided


def test_lp_guided_start_keeps_every_rule_and_never_worsens():
    inst = instances.icb("QT1").instance
    start = heuristics.construct(inst)
    assert start is not None
    found = lp_guided(inst, model_arrays(inst), SolveOptions(), time.perf_counter() + 5.0, start)
    assert found is not None and not broken_rules(inst, found)
    assert objective_value(inst, found) <= objective_value(inst, start)
