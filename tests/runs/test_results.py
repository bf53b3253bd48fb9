"""A run's results: the one rule checker of a run agrees with the engine's feasibility
test, and scoring an existing grouping names every rule it breaks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mergeopt
from mergeopt.engine.instance import broken_rules
from mergeopt.runs.results import violations

ROOT = Path(__file__).resolve().parents[2]
HULL = ROOT / "configs" / "hull_pcn.yaml"
CONTIGUOUS = {"geography.contiguous": True, "maps": False}


@pytest.fixture(scope="module")
def contiguous_plan():
    """Hull's optimal networks when every group's catchments must touch."""
    result = mergeopt.solve(HULL, overrides=CONTIGUOUS)
    assert result.status == "optimal" and result.violations == []
    return result


def test_evaluate_reports_a_split_catchment_under_contiguous():
    """Today's networks scored with `geography.contiguous: true`: the groups whose
    practices' catchments do not all touch are named (they were never reported)."""
    today = mergeopt.evaluate(HULL, "pcn_code", overrides=CONTIGUOUS)
    split = [line for line in today.violations if "pieces" in line]
    assert "group U03824 is in 3 pieces: its practices' catchments do not all touch " in (
        " ".join(split)
    )
    assert len(split) == 3
    plain = mergeopt.evaluate(HULL, "pcn_code")
    assert not [line for line in plain.violations if "pieces" in line]
    assert len(plain.violations) == len(today.violations) - 3


def test_a_grouping_broken_only_by_a_split_catchment_is_not_feasible(contiguous_plan):
    """Hull's optimum without the contiguity rule keeps every other rule but has a group
    in two pieces: under `contiguous: true` both checkers say it breaks a rule."""
    plain = mergeopt.solve(HULL, overrides={"maps": False})
    problem = contiguous_plan.problem
    assert broken_rules(problem.instance, plain.hub_of) == ["a group is not contiguous"]
    said = violations(problem, plain.hub_of)
    assert len(said) == 1 and "pieces" in said[0], said


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(moves=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 10**6)), max_size=4))
def test_the_run_checker_and_the_engine_agree_on_what_is_feasible(contiguous_plan, moves):
    """Groupings near the optimum (a few practices moved to another group): the run's
    checker finds a rule broken exactly when the engine's feasibility test does."""
    problem = contiguous_plan.problem
    hub_of = contiguous_plan.hub_of.copy()
    hubs = np.unique(hub_of)
    for practice, group in moves:
        i = practice % problem.instance.n
        if hub_of[i] != i:  # a hub stays in its own group
            hub_of[i] = hubs[group % len(hubs)]
    said = violations(problem, hub_of)
    assert (said == []) == (broken_rules(problem.instance, hub_of) == [])
