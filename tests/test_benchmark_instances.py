"""The benchmark's ICB instances are what ``mergeopt run`` builds for the same area.

The harness (``python -m benchmarks.run --only icb``) reports figures for "an ICB";
they describe the product only if its arrays are the ones a commissioner's run
solves. Here a config is written to a temporary folder as a user would write it (one
ICB selected from ``data/england/practices.csv``, networks of 30,000-50,000, oversize
practices alone, road travel within the limit, nested by ICB as the harness nests
England, so that the instance names its region) and built through the path
``mergeopt run`` takes (:func:`mergeopt.runs.prepare_problem`); every field of its
:class:`~mergeopt.engine.instance.Instance` must equal the benchmark's.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from benchmarks import instances
from mergeopt.config import load_config
from mergeopt.engine.instance import Instance
from mergeopt.runs.problem import prepare_problem

ROOT = Path(__file__).resolve().parents[1]
ENGLAND = ROOT / "data" / "england" / "practices.csv"


def _as_run_builds(tmp_path: Path, code: str, minutes: float) -> Instance:
    """The instance ``mergeopt run`` solves for one ICB, from a config file."""
    config = {
        "name": f"icb_{code}",
        "inputs": {"practices": str(ENGLAND), "select": {"icb_code": [code]}},
        "groups": {"min_list_size": 30000, "max_list_size": 50000, "oversize": "alone"},
        "travel": {"model": "road", "max_minutes": minutes},
        "rules": {"nest_by": "icb_code"},  # as the harness builds England: no effect on arcs
        "maps": False,
    }
    path = tmp_path / f"{code}.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    problem, _ = prepare_problem(load_config(path))
    return problem.instance


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        nan = a.dtype.kind == "f" and b.dtype.kind == "f"
        return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=nan))
    return bool(a == b)


def _differences(ours: Instance, theirs: Instance) -> list[str]:
    """The names of the Instance fields that differ."""
    return [
        field.name
        for field in dataclasses.fields(Instance)
        if not _same(getattr(ours, field.name), getattr(theirs, field.name))
    ]


# The smallest ICB, Somerset (its list sizes are newer than the 2021 ones elsewhere),
# Humber and North Yorkshire (Hull's practices: newer list sizes too), and one at the
# tightest limit the harness tries.
CASES = [("QOC", 30.0), ("QSL", 40.0), ("QOQ", 30.0), ("QT1", 20.0)]


@pytest.mark.parametrize(("code", "minutes"), CASES)
def test_icb_instance_is_what_mergeopt_run_builds(
    tmp_path: Path, code: str, minutes: float
) -> None:
    ours = instances.icb(code, minutes).instance
    theirs = _as_run_builds(tmp_path, code, minutes)
    assert ours.n == theirs.n > 0
    assert _differences(ours, theirs) == []


def test_icb_instance_holds_the_network_rules() -> None:
    """Independent of the builder: the arrays say what the ICB case claims."""
    case = instances.icb("QOC", 30.0)
    inst = case.instance
    size = inst.size
    assert inst.min_size == 30000
    oversize = size > 50000
    assert np.array_equal(inst.must_hub, oversize)
    assert np.all(inst.max_size[~oversize] == 50000)
    assert np.all(inst.max_size[oversize] == size[oversize])
    off = ~np.eye(inst.n, dtype=bool)
    assert np.all(inst.cost[inst.allowed & off] <= 30.0 + 1e-9)
    assert not inst.allowed[oversize][:, ~oversize].any()
    assert "30 min" in case.note
