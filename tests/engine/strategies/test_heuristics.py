"""Construction, interchange and local search keep every rule."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings

from benchmarks import instances
from mergeopt.engine.instance import Instance, broken_rules, objective_value
from mergeopt.engine.strategies import heuristics
from tests.engine.cases import uncapacitated_instances


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(uncapacitated_instances())
def test_interchange_keeps_every_rule_and_never_worsens(inst: Instance):
    start = heuristics.construct(inst)
    if start is None:
        return
    swapped = heuristics.interchange(inst, start)
    assert not broken_rules(inst, swapped)
    assert objective_value(inst, swapped) <= objective_value(inst, start) + 1e-9
    assert len(np.unique(swapped)) == len(np.unique(start))


def test_greedy_groups_the_largest_icb_at_twenty_minutes():
    """One practice of 20,084 patients fits no network it reaches; the greedy gathers a
    new one around it from networks that can spare members, instead of giving up."""
    inst = instances.icb(instances.largest_icb(), 20.0).instance
    start = heuristics.construct(inst)
    assert start is not None and not broken_rules(inst, start)
