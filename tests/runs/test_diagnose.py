"""Every infeasible case is explained by name, and its suggested relaxation solves."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import mergeopt
from mergeopt import InfeasibleError

ROOT = Path(__file__).resolve().parents[2]
HULL = ROOT / "configs" / "hull_pcn.yaml"
SOMERSET = ROOT / "configs" / "somerset_yeovil_takeover.yaml"
HULL_CODES = list(
    pd.read_csv(ROOT / "data" / "hull" / "practices.csv", dtype=str)["practice_code"]
)

CASES = {
    "oversize practice, no oversize option": (
        HULL, {"groups.oversize": "stop"}, ["B81048", "55,999", "oversize: stop -> alone"]
    ),
    "travel limit too short": (HULL, {"travel.max_minutes": 8.0}, ["more than 8 minutes", "travel limit 8 -> 14 minutes"]),
    "too many groups for the minimum": (
        HULL, {"groups.count": 12}, ["12 groups of at least 30,000 patients need 360,000 patients", "there are 313,989", "group count 12 -> 8"]
    ),
    "more groups than premises can host": (
        HULL, {"groups.count": 9}, ["only 8 practices can host a group", "group count 9 -> 8"]
    ),
    "premises too small": (HULL, {"premises.m2_per_patient": 0.06}, ["floor area per patient 0.06 -> 0.026"]),
    "minimum too high": (HULL, {"groups.min_list_size": 45000}, ["no whole number of groups of 45,000-50,000", "minimum list size 45,000 -> 31,900"]),
    "forced and forbidden hub": (HULL, {"rules.forbidden_hubs": ["B81048"]}, ["B81048", "both required and forbidden", "allow B81048"]),
    "every hub forbidden": (
        HULL, {"rules.forbidden_hubs": HULL_CODES}, ["no practice may host a group: of the 25 practices, 25 are forbidden as hubs", "allow B81008 (HULL FAMILY PRACTICE), "]
    ),
    "must-link across Somerset": (
        SOMERSET, {"rules.must_link": [["L85003", "L85031"]]}, ["no practice may host them both", "let L85003"]
    ),
    "takeover out of reach": (
        SOMERSET,
        {"rules.fixed": [{"hub": "L85007", "practices": ["L85066", "L85026", "L85003"]}]},
        ["72.5 minutes", "drop the takeover of L85003"],
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


def test_every_hub_forbidden_is_said_plainly_not_as_travel():
    with pytest.raises(InfeasibleError) as caught:
        mergeopt.solve(HULL, overrides={"rules.forbidden_hubs": HULL_CODES})
    message = str(caught.value)
    assert "no practice may host a group" in message
    assert "travel limit" not in message and "eligible hub" not in message
    assert "can reach no group" not in message
