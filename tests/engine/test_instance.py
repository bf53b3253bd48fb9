"""The instance and the checks on it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from mergeopt.engine.instance import (
    Instance,
    broken_rules,
    count_range,
    feasible,
    implied_count_max,
    independent_regions,
    integral_objective,
    region_name,
    unbounded_loads,
    uncapacitated,
)
from tests.engine.cases import feasible_by_hand, line_instance, tiny_instances


def test_whole_number_objectives_are_recognised():
    whole = line_instance([0, 1, 3], [1, 2, 1], travel_by_size=False)
    assert integral_objective(whole)
    assert not integral_objective(line_instance([0, 1.5, 3], [1, 2, 1]))


@settings(max_examples=60, deadline=None)
@given(tiny_instances(), st.data())
def test_broken_rules_agrees_with_every_rule_checked_by_hand(inst: Instance, data: st.DataObject):
    hub_of = np.asarray(
        data.draw(st.lists(st.integers(0, inst.n - 1), min_size=inst.n, max_size=inst.n))
    )
    assert feasible(inst, hub_of) == feasible_by_hand(inst, hub_of)
    assert (broken_rules(inst, hub_of) == []) == feasible(inst, hub_of)
    assert not feasible(inst, None)


def test_a_grouping_missing_a_practice_breaks_the_rules():
    inst = line_instance([0, 1, 2], [1, 1, 1])
    assert broken_rules(inst, np.array([0, 0])) == ["not every practice has a hub"]
    assert broken_rules(inst, np.array([0, 0, 5])) == ["not every practice has a hub"]


def test_count_range_fills_open_bounds():
    assert count_range(line_instance([0, 1], [1, 1]), 7) == (0, 7)
    assert count_range(line_instance([0, 1], [1, 1], count_min=2, count_max=3), 7) == (2, 3)


@settings(max_examples=60, deadline=None)
@given(tiny_instances(), st.data())
def test_no_grouping_has_more_groups_than_the_list_sizes_allow(
    inst: Instance, data: st.DataObject
):
    """Every feasible grouping has at most implied_count_max groups: each group holds
    at least the minimum list size, except those of practices standing alone."""
    alone = np.asarray(data.draw(st.lists(st.booleans(), min_size=inst.n, max_size=inst.n)))
    inst = replace(inst, alone=alone)
    limit = implied_count_max(inst)
    assert 1 <= limit <= inst.n
    hub_of = np.asarray(
        data.draw(st.lists(st.integers(0, inst.n - 1), min_size=inst.n, max_size=inst.n))
    )
    if feasible_by_hand(inst, hub_of):
        assert len(np.unique(hub_of)) <= limit


def test_the_list_sizes_bound_the_group_count():
    three = line_instance([0, 1, 2, 3], [10, 10, 10, 5], min_size=12.0)
    assert implied_count_max(three) == 2  # 35 patients, at least 12 in each group
    assert implied_count_max(replace(three, min_size=0.0)) == 4
    alone = replace(three, alone=np.array([False, False, False, True]))
    assert implied_count_max(alone) == 3  # 35 patients in groups of 12, and one alone


def test_capacity_tests():
    free = line_instance([0, 1, 2], [1, 1, 1])
    assert unbounded_loads(free) and uncapacitated(free)
    assert not uncapacitated(line_instance([0, 1, 2], [1, 1, 1], must_link=((0, 1),)))
    assert unbounded_loads(line_instance([0, 1, 2], [1, 1, 1], must_link=((0, 1),)))
    assert not unbounded_loads(line_instance([0, 1, 2], [1, 1, 1], min_size=2.0))
    assert not unbounded_loads(line_instance([0, 1, 2], [1, 1, 1], max_size=np.full(3, 2.0)))


def test_independent_regions_and_their_names():
    allowed = np.abs(np.subtract.outer([0, 1, 100, 101], [0, 1, 100, 101])) < 5
    inst = line_instance([0, 1, 100, 101], [1, 1, 1, 1], allowed=allowed)
    parts = independent_regions(inst)
    assert [p.tolist() for p in parts] == [[0, 1], [2, 3]]
    assert region_name(inst, parts[1]) == "2 practices: P2, P3"
    named = replace(inst, region=("A", "A", "B", "B"))
    assert region_name(named, parts[1]) == "B (2 practices)"
    counted = replace(inst, count_max=2)  # a group-count rule couples them
    assert [p.tolist() for p in independent_regions(counted)] == [[0, 1, 2, 3]]
    linked = replace(inst, must_link=((1, 2),))  # as does a rule naming both
    assert len(independent_regions(linked)) == 1


def test_a_subset_keeps_the_rule_values():
    inst = line_instance(
        [0, 1, 2],
        [10, 20, 30],
        max_list_size=25.0,
        premises=np.array([np.inf, 15.0, 40.0]),
        max_minutes=12.5,
        travel_unit="minutes",
        nest_by="icb_code",
        region=("A", "A", "B"),
    )
    assert inst.oversize().tolist() == [False, False, True]
    part = inst.subset(np.array([1, 2]))
    assert part.premises.tolist() == [15.0, 40.0] and part.region == ("A", "B")
    assert (part.max_list_size, part.max_minutes, part.nest_by) == (25.0, 12.5, "icb_code")
    assert not line_instance([0, 1], [1, 1e9]).oversize().any()  # no maximum: none oversize
