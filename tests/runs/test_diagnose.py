"""Every infeasible case is explained by name, and its suggested relaxation solves."""

from __future__ import annotations

from pathlib import Path

import pytest

import mergeopt
from mergeopt import InfeasibleError

ROOT = Path(__file__).resolve().parents[2]
HULL = ROOT / "configs" / "hull_pcn.yaml"
SOMERSET = ROOT / "configs" / "somerset_yeovil_takeover.yaml"

CASES = {
    "oversize practice, no oversize option": (
        HULL, {"groups.oversize": "stop"}, ["B81048", "55,999", "oversize: alone"]
    ),
    "travel limit too short": (HULL, {"travel.max_minutes": 8.0}, ["more than 8 minutes", "raise the travel limit"]),
    "too many groups for the minimum": (
        HULL, {"groups.count": 12}, ["12 groups of at least 30,000 need 360,000 patients", "there are 313,989"]
    ),
    "more groups than premises can host": (
        HULL, {"groups.count": 9}, ["only 8 practices can host a group", "allow 8 groups"]
    ),
    "premises too small": (HULL, {"premises.m2_per_patient": 0.06}, ["premises of", "serve"]),
    "minimum too high": (HULL, {"groups.min_list_size": 45000}, ["lower the minimum list size"]),
    "forced and forbidden hub": (HULL, {"rules.forbidden_hubs": ["B81048"]}, ["B81048", "forbidden"]),
    "must-link across Somerset": (
        SOMERSET, {"rules.must_link": [["L85003", "L85031"]]}, ["L85003", "L85031"]
    ),
    "takeover out of reach": (
        SOMERSET,
        {"rules.fixed": [{"hub": "L85007", "practices": ["L85066", "L85026", "L85003"]}]},
        ["L85003"],
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
def test_infeasible_rules_are_explained_and_the_relaxation_solves(case):
    config, overrides, words = CASES[case]
    with pytest.raises(InfeasibleError) as caught:
        mergeopt.solve(config, overrides=overrides)
    message = str(caught.value)
    for word in words:
        assert word in message, message
    assert caught.value.overrides, f"no relaxation suggested: {message}"
    relaxed = mergeopt.solve(config, overrides={**overrides, **caught.value.overrides})
    assert relaxed.status in ("optimal", "feasible")
    assert relaxed.violations == []


def test_explain_command_says_when_there_is_nothing_to_explain():
    from typer.testing import CliRunner

    from mergeopt.cli import app

    result = CliRunner().invoke(app, ["explain", str(HULL)])
    assert result.exit_code == 0 and "nothing to explain" in result.stdout
