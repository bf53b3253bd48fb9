"""The branch-and-bound over hubs proves the plain model's optima."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from benchmarks import baseline, instances
from mergeopt.engine.instance import Instance, broken_rules, objective_value
from mergeopt.engine.options import SolveOptions
from mergeopt.engine.portfolio import solve_instance
from mergeopt.engine.strategies import heuristics
from mergeopt.engine.strategies.hubsearch import hub_search, hub_search_applies
from tests.engine.cases import FAST, uncapacitated_instances


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
        assert not broken_rules(inst, ours.hub_of)
        assert "hub search" in ours.stopped_by


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
    report = solve_instance(case.instance, SolveOptions(time_limit=60))
    assert report.status == "optimal" and report.objective == case.optimum
    assert report.stopped_by.startswith("hub search")
