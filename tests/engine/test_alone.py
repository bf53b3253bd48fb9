"""Practices that stand alone (remote practices): a group of their own below the minimum."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mergeopt.engine.instance import Instance, broken_rules, objective_value
from mergeopt.engine.options import Progress, SolveOptions
from mergeopt.engine.portfolio import solve_instance
from tests.engine.cases import FAST, brute_force, line_instance, tiny_instances


def standing_alone(inst: Instance, alone: np.ndarray) -> Instance:
    """What the front end makes of a remote practice: a forced hub with its self arc
    only, its own size as its bound, exempt from the minimum."""
    allowed = inst.allowed.copy()
    allowed[:, alone] = False
    allowed[alone, :] = False
    allowed[alone, alone] = True
    return replace(
        inst,
        alone=alone,
        allowed=allowed,
        must_hub=inst.must_hub | alone,
        max_size=np.where(alone, inst.size, inst.max_size),
    )


# three practices of 10 close together and an island of 3, 100 away; minimum 30, and
# no practice may join a hub more than 10 away
_CLUSTER = line_instance([0, 1, 2, 100], [10, 10, 10, 3], min_size=30.0)
ISLAND = replace(_CLUSTER, allowed=_CLUSTER.cost <= 10)
REMOTE = np.array([False, False, False, True])


def test_an_island_below_the_minimum_makes_the_rules_impossible() -> None:
    assert solve_instance(ISLAND, FAST).status == "infeasible"


def test_standing_alone_it_is_a_group_of_its_own() -> None:
    inst = standing_alone(ISLAND, REMOTE)
    assert inst.hubs_usable()[3]  # below the minimum, yet it may host its own group
    outcome = solve_instance(inst, FAST)
    assert outcome.status == "optimal"
    assert outcome.hub_of.tolist() == [1, 1, 1, 3]
    assert outcome.objective == pytest.approx(20.0) == outcome.bound
    assert broken_rules(inst, outcome.hub_of) == []
    assert broken_rules(ISLAND, outcome.hub_of) == ["a group is below the minimum list size"]


def test_the_group_count_and_its_weight_include_the_lone_groups() -> None:
    inst = replace(standing_alone(ISLAND, REMOTE), weights=(1.0, 0.0, 5.0, 0.0), count_max=2)
    outcome = solve_instance(inst, FAST)
    assert outcome.status == "optimal"
    assert outcome.objective == pytest.approx(20.0 + 2 * 5.0) == outcome.bound
    assert solve_instance(replace(inst, count_max=1), FAST).status == "infeasible"
    assert solve_instance(replace(inst, count_min=3, count_max=3), FAST).status == "infeasible"


def test_the_live_figures_include_the_lone_groups() -> None:
    """What the progress hook hears is the whole's objective and bound, not the rest's."""
    inst = replace(standing_alone(ISLAND, REMOTE), weights=(1.0, 0.0, 5.0, 0.0), count_max=2)
    heard: list[Progress] = []
    outcome = solve_instance(inst, replace(FAST, progress=heard.append))
    found = [p.objective for p in heard if p.objective is not None]
    bounds = [p.bound for p in heard if p.bound is not None]
    assert found and bounds
    # the rest alone is 20 + one group's weight, 5; the island's group adds another 5
    assert min(found) == pytest.approx(outcome.objective) == pytest.approx(30.0)
    assert max(bounds) == pytest.approx(30.0)
    assert all(p.bound <= p.objective + 1e-9 for p in heard if None not in (p.bound, p.objective))


@pytest.mark.parametrize("rule", ["must_link", "fixed"])
def test_a_rule_tying_it_to_another_cannot_hold(rule: str) -> None:
    inst = replace(standing_alone(ISLAND, REMOTE), **{rule: ((3, 0),)})
    assert solve_instance(inst, FAST).status == "infeasible"


def test_when_every_practice_stands_alone() -> None:
    inst = standing_alone(ISLAND, np.ones(4, dtype=bool))
    outcome = solve_instance(inst, SolveOptions(time_limit=5))
    assert outcome.status == "optimal" and outcome.hub_of.tolist() == [0, 1, 2, 3]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inst=tiny_instances(), data=st.data())
def test_optimum_equals_brute_force_with_a_practice_alone(inst: Instance, data) -> None:
    k = data.draw(st.integers(0, inst.n - 1))
    alone = np.zeros(inst.n, dtype=bool)
    alone[k] = True
    inst = replace(standing_alone(inst, alone), min_size=float(inst.size.max()))
    best = brute_force(inst)
    outcome = solve_instance(inst, FAST)
    if np.isinf(best):
        assert outcome.status == "infeasible"
    else:
        assert outcome.status == "optimal"
        assert outcome.hub_of[k] == k and (outcome.hub_of == k).sum() == 1
        assert objective_value(inst, outcome.hub_of) == pytest.approx(best)


def test_a_lone_practice_travelling_to_itself_keeps_the_proof() -> None:
    # a supplied matrix may give a practice a travel time to itself: that arc is fixed
    # before the rest is solved, and the bound must carry its cost as the objective does
    cost = ISLAND.cost.copy()
    cost[3, 3] = 7.0
    inst = replace(standing_alone(ISLAND, REMOTE), cost=cost)
    outcome = solve_instance(inst, FAST)
    assert outcome.hub_of is not None
    assert (
        outcome.objective == pytest.approx(20.0 + 3 * 7.0) == objective_value(inst, outcome.hub_of)
    )
    assert outcome.bound == pytest.approx(outcome.objective)
    assert outcome.status == "optimal"
