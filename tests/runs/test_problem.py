"""From a config to the engine's instance: the rule values travel beside the arrays."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from mergeopt._errors import InputError
from mergeopt.config import load_config
from mergeopt.runs.diagnose import precheck
from mergeopt.runs.problem import prepare_problem
from mergeopt.runs.results import groups_table, violations

ROOT = Path(__file__).resolve().parents[2]


def test_the_instance_keeps_the_configs_rule_values():
    config = load_config(ROOT / "configs" / "hull_pcn.yaml")
    problem, _ = prepare_problem(config)
    inst = problem.instance
    assert inst.max_list_size == config.groups.max_list_size == 50000
    assert inst.min_size == inst.min_list_size == config.groups.min_list_size
    assert isinstance(inst.min_list_size, int) and isinstance(inst.max_list_size, int)
    assert inst.max_minutes == config.travel.max_minutes and inst.max_km == config.travel.max_km
    assert inst.travel_unit == config.travel.unit == "minutes"
    assert inst.oversize_alone and inst.oversize().tolist() == problem.oversize.tolist()
    capacity = problem.practices["capacity"].to_numpy(dtype=float)
    assert np.array_equal(inst.premises, np.where(np.isnan(capacity), np.inf, capacity))
    # each hub's bound is the smaller of U and its premises, or a lone oversize practice's size
    lone = inst.oversize()
    bound = np.minimum(inst.max_list_size, inst.premises)
    assert np.array_equal(inst.max_size[~lone], bound[~lone])
    assert np.array_equal(inst.max_size[lone], inst.size[lone])
    assert inst.nest_by is None and inst.region == ()


def test_nested_regions_are_named_in_the_instance():
    config = load_config(ROOT / "configs" / "hull_pcn.yaml").with_overrides(
        **{"rules.nest_by": "pcn_code"}
    )
    problem, _ = prepare_problem(config)
    inst = problem.instance
    assert inst.nest_by == "pcn_code"
    assert inst.region == tuple(str(r) for r in problem.practices["region"])
    assert len(set(inst.region)) > 1


def test_reports_read_the_rule_values_from_the_instance():
    """The tables, the rules broken and the pre-checks take the list-size bounds, the
    premises, the travel limit and the nesting from the instance, not from the config: the
    same problem told by a config with other values reports the same."""
    config = load_config(ROOT / "configs" / "hull_pcn.yaml")
    problem, _ = prepare_problem(config)
    other = config.with_overrides(
        **{
            "groups.min_list_size": 1,
            "groups.max_list_size": 90000,
            "groups.oversize": "stop",
            "travel.max_minutes": 99,
            "rules.nest_by": "pcn_code",
        }
    )
    told = dataclasses.replace(problem, config=other)
    alone = np.arange(problem.instance.n)  # every practice its own group: rules break
    assert groups_table(told, alone).equals(groups_table(problem, alone))
    assert violations(told, alone) == violations(problem, alone)
    assert any("below the minimum" in found for found in violations(problem, alone))
    assert precheck(told) == precheck(problem)
    assert told.oversize.tolist() == problem.oversize.tolist()
    stranded = dataclasses.replace(
        problem.instance, allowed=np.eye(problem.instance.n, dtype=bool), can_hub=alone == 0
    )
    far = dataclasses.replace(problem, instance=stranded)
    assert precheck(dataclasses.replace(far, config=other)) == precheck(far)
    assert any("more than 20 minutes from every eligible hub" in f for f in precheck(far))


def test_an_unknown_remote_practice_is_named_with_its_key():
    config = load_config(ROOT / "configs" / "hull_pcn.yaml").with_overrides(
        **{"groups.remote": ["B81008", "Z99999"]}
    )
    with pytest.raises(InputError, match=r"key 'groups.remote': unknown practice code 'Z99999'"):
        prepare_problem(config)


def test_remote_is_stop_alone_or_a_list():
    hull = load_config(ROOT / "configs" / "hull_pcn.yaml")
    assert hull.groups.remote == "stop" and hull.groups.remote_practices == []
    assert hull.with_overrides(**{"groups.remote": ["b81008"]}).groups.remote_practices
    with pytest.raises(InputError, match=r"groups\.remote"):
        hull.with_overrides(**{"groups.remote": "sometimes"})
