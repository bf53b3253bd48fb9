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


class _Clock:
    """An injected ``time.perf_counter``: one tick per look, so a deadline of k ticks
    allows exactly k looks at the clock."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def test_every_step_of_the_greedy_stops_at_its_deadline(monkeypatch) -> None:
    """A greedy that looked at no clock ran 138-155 s of a 180 s limit on 3,000 points.
    With a clock that ticks once per look, a deadline of k ticks ends the construction
    within k looks, whatever the instance's size."""
    inst = instances.pmedcap(15).instance  # 100 points: many steps for each part
    full = heuristics.construct(inst)
    assert full is not None
    clock = _Clock()
    monkeypatch.setattr(heuristics.time, "perf_counter", clock)
    for ticks in (1.0, 3.0, 10.0):
        clock.now = 0.0
        hub_of = heuristics.construct(inst, deadline=ticks)
        assert clock.now <= ticks + 4  # the looks that found the deadline passed
        assert hub_of is None or not broken_rules(inst, hub_of)
    clock.now = 0.0
    improved = heuristics.local_search(inst, full, deadline=2.0)
    assert clock.now <= 2.0 + 4  # each of its three moves and its round look once more
    assert not broken_rules(inst, improved)  # stopped between moves: still a grouping
