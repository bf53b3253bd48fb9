"""The rules a grouping breaks, in the words of the tables: each group named as its table
names it, a practice in no group counted once, travel lines naming only the rules the
config sets, a unit on every figure."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from mergeopt.cli import app
from mergeopt.config import load_config
from mergeopt.runs.problem import prepare_problem
from mergeopt.runs.results import violations
from mergeopt.runs.run import evaluate_config, solve_config

ROOT = Path(__file__).resolve().parents[2]
HULL = load_config(ROOT / "configs" / "hull_pcn.yaml").with_overrides(maps=False)
#: The one practice of Hull's table in no network today (pcn_code U).
UNALLOCATED = "B81097"


def test_evaluate_names_each_group_as_its_table_does():
    today = evaluate_config(HULL, "pcn_code")
    named = set(today.groups["group"].astype(str))
    said = [m for line in today.violations for m in re.findall(r"group (?!\()([^\s,)]+)", line)]
    assert said and set(said) <= named
    hubs = set(today.groups["hub"].astype(str)) - named
    assert not any(f"group {hub} " in line for line in today.violations for hub in hubs)


def test_a_practice_in_no_network_is_one_broken_rule():
    today = evaluate_config(HULL, "pcn_code")
    lines = [line for line in today.violations if UNALLOCATED in line]
    assert len(lines) == 1, today.violations
    assert "below the minimum 30,000 patients" in lines[0]
    assert "may not host a group" in lines[0]  # its second fault, on the same line


def test_every_figure_has_its_unit():
    today = evaluate_config(HULL, "pcn_code")
    for line in today.violations:
        for figure in re.findall(r"(?<![\w.])\d[\d,]*(?:\.\d+)?(?!\w)", line):
            after = line.split(figure, 1)[1].lstrip(" )")
            assert re.match(r"(patients|minutes|km|groups|pieces)", after), (figure, line)


def test_travel_lines_name_the_travel_limit_and_no_nesting_unless_set():
    tight = HULL.with_overrides(**{"travel.max_minutes": 10})
    today = evaluate_config(tight, "pcn_code")
    far = [line for line in today.violations if " from its hub " in line]
    assert far and all("beyond travel.max_minutes (10 minutes)" in line for line in far)
    assert not any("nest" in line for line in today.violations)


def test_travel_lines_name_the_nesting_column_when_the_config_sets_one():
    plan = solve_config(HULL)  # a proposal, grouped across today's networks
    nested = HULL.with_overrides(**{"rules.nest_by": "pcn_code"})
    problem, _ = prepare_problem(nested)
    lines = [line for line in violations(problem, plan.hub_of) if " from its hub " in line]
    assert lines and all("across rules.nest_by pcn_code (" in line for line in lines)
    assert not any("travel.max_minutes" in line for line in lines)  # within 20 minutes


def test_the_command_lists_them_once_each(tmp_path):
    result = CliRunner().invoke(
        app, ["evaluate", str(ROOT / "configs" / "hull_pcn.yaml"), "--out", str(tmp_path / "e")]
    )
    assert result.exit_code == 0, result.stderr
    listed = [line for line in result.stderr.splitlines() if line.startswith("  - ")]
    count = int(re.search(r"(\d+) rule\(s\) broken:", result.stderr).group(1))
    assert count == len(listed) == len(set(listed))
    assert sum(UNALLOCATED in line for line in listed) == 1
    table = pd.read_csv(tmp_path / "e" / "groups.csv")
    assert "U03824" in set(table["group"]) and any("group U03824 " in x for x in listed)


def test_the_table_on_screen_names_each_group_whole_within_the_width(tmp_path):
    """The group column showed "none:…" for none:B81097 on an 80-column screen."""
    from mergeopt.screen import out_console

    result = CliRunner().invoke(
        app, ["evaluate", str(ROOT / "configs" / "hull_pcn.yaml"), "--out", str(tmp_path / "e")]
    )
    assert result.exit_code == 0, result.stderr
    assert f"none:{UNALLOCATED}" in result.stdout
    table = [line for line in result.stdout.splitlines() if line.startswith(("│", "┃"))]
    assert len(table) == 10 and all(len(line) <= out_console.width for line in table)
    assert all(line.rstrip().endswith(("│", "┃")) for line in table)  # no column cut off
