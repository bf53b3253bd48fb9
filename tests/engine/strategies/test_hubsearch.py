"""The branch-and-bound over hubs proves the plain model's optima."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings

from benchmarks import baseline, instances
from mergeopt.engine.instance import Instance, broken_rules, objective_value
from mergeopt.engine.options import Progress, SolveOptions
from mergeopt.engine.outcome import gap
from mergeopt.engine.portfolio import solve_instance
from mergeopt.engine.strategies import heuristics
from mergeopt.engine.strategies.hubsearch import hub_search, hub_search_applies, run_hub_search
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


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(uncapacitated_instances())
def test_what_the_hub_search_tells_its_progress_hook_holds(inst: Instance):
    """Each report: a value no better than the optimum, a bound no worse, the gap between
    them; the last is the outcome's."""
    heard: list[Progress] = []
    outcome = run_hub_search(inst, None, time.perf_counter() + 30, progress=heard.append)
    assert heard
    if outcome.status == "infeasible":
        assert all(p.objective is None for p in heard)
        return
    assert outcome.status == "optimal" and outcome.objective is not None
    for p in heard:
        assert p.bound is None or p.bound <= outcome.objective + 1e-6
        assert p.objective is None or p.objective >= outcome.objective - 1e-6
        if p.objective is not None and p.bound is not None:
            assert p.gap == pytest.approx(gap(p.objective, p.bound))
    assert heard[-1].objective == pytest.approx(outcome.objective)
    assert heard[-1].bound == pytest.approx(outcome.objective)


def test_a_hub_search_solve_shows_its_figures_through_the_portfolio():
    """The hub search leading (one CPU) reports through the solve's progress hook."""
    case = instances.pmed(11)
    heard: list[Progress] = []
    options = SolveOptions(time_limit=60, threads=1, progress=heard.append)
    report = solve_instance(case.instance, options)
    assert report.status == "optimal" and report.stopped_by.startswith("hub search")
    assert heard and heard[-1].objective == report.objective == case.optimum
    assert all(p.bound is None or p.bound <= case.optimum for p in heard)
    assert all(p.objective is None or p.objective >= case.optimum for p in heard)
