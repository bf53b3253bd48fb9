"""Two-level runs end to end: config, tables, run directory, evaluate, explain, sweep.

A small made-up area (three towns of four practices, 15 km apart) keeps each solve to a
second; Somerset's own figures are in the README and the notebook.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pytest
import yaml
from typer.testing import CliRunner

import mergeopt
from mergeopt.cli import app
from mergeopt.config import load_config
from mergeopt.runs.run import explain_two_levels, solve_config
from mergeopt.runs.rundir import load_run, write_run

TOWNS = {"A": (350_000, 150_000), "B": (365_000, 150_000), "C": (357_500, 163_000)}


def _practices(tmp_path: Path) -> Path:
    rows = []
    rng = np.random.default_rng(3)
    for town, (x, y) in TOWNS.items():
        for k in range(4):
            rows.append(
                {
                    "practice_code": f"{town}{k}",
                    "practice_name": f"Practice {town}{k}",
                    "list_size": int(rng.integers(10_500, 14_000)),
                    "easting": x + 1_500 * np.cos(k),
                    "northing": y + 1_500 * np.sin(k),
                    "pcn_code": f"PCN_{town}{k // 2}",
                    "place": "north" if town == "C" else "south",
                    "federation_today": f"FED_{town}",
                    "community_hub": "may" if k == 0 else "never",
                }
            )
    path = tmp_path / "practices.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def _config(tmp_path: Path, practices: Path | None = None, **federations: object) -> Path:
    data = {
        "name": "towns",
        "inputs": {"practices": str(practices or _practices(tmp_path))},
        "groups": {"min_list_size": 18_000, "max_list_size": 30_000},
        "travel": {"model": "road", "max_minutes": 25},
        "federations": {
            "mode": "joint",
            "min_list_size": 40_000,
            "max_list_size": 100_000,
            "max_minutes": 40,
            **federations,
        },
        "maps": False,
        "solver": {"time_limit": 60},
    }
    path = tmp_path / "towns.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@pytest.fixture
def towns(tmp_path: Path) -> Path:
    return _config(tmp_path)


def test_joint_run_writes_both_levels_and_is_no_worse_than_networks_first(
    towns: Path, tmp_path: Path
):
    joint = mergeopt.solve(towns)
    sequential = mergeopt.solve(towns, overrides={"federations.mode": "proposed"})
    assert joint.status == "optimal"
    assert joint.metrics["objective"] <= sequential.metrics["objective"] + 1e-6
    assert sequential.status == "feasible" and sequential.report.bound is None
    folder = write_run(joint, tmp_path / "run", maps=True)
    federations = pd.read_csv(folder / "federations.csv")
    # the maps outline the same federations over the networks
    outlines = pyogrio.read_dataframe(folder / "groups.gpkg", layer="federations")
    assert sorted(outlines["federation"]) == sorted(federations["federation"].astype(str))
    assert f"federation {federations['federation'][0]}" in (folder / "map.html").read_text()
    assert list(federations.columns[:7]) == [
        "federation", "hub", "hub_name", "networks", "network_hubs", "practices", "list_size",
    ]  # fmt: skip
    assert federations["list_size"].sum() == joint.metrics["patients"]
    assert federations["list_size"].between(40_000, 100_000).all()
    assert (federations["max_hub_travel"] <= 40 + 1e-9).all()
    assignments = pd.read_csv(folder / "assignments.csv")
    # every network lies whole inside one federation
    assert (assignments.groupby("hub")["federation_hub"].nunique() == 1).all()
    assert {"federation", "federation_hub", "federation_travel"} <= set(assignments.columns)
    assert "federation" in pd.read_csv(folder / "groups.csv").columns
    record = json.loads((folder / "run.json").read_text())
    block = record["federations"]
    assert block["mode"] == "joint" and block["status"] == "optimal"
    assert block["sequential_objective"] == pytest.approx(sequential.metrics["objective"])
    assert block["gain_over_sequential"] >= -1e-6
    assert record["objective"] == pytest.approx(joint.metrics["objective"])
    again = load_run(folder)
    assert again.federations is not None
    assert again.federations.labels == joint.federations.labels
    assert again.status_text() == joint.status_text()


def test_federations_of_todays_networks_keep_them_as_they_are(towns: Path):
    result = mergeopt.solve(towns, overrides={"federations.mode": "today"})
    today = result.assignments.groupby("group")["practice_code"].apply(set)
    assert set(result.assignments["group"]) == {f"PCN_{t}{k}" for t in "ABC" for k in (0, 1)}
    assert all(len(members) == 2 for members in today)
    assert result.status == "optimal"  # the best federations of these networks
    assert "federations of today's networks" in result.status_text()


def test_federation_hub_rule_and_nesting_hold(tmp_path: Path):
    path = _config(tmp_path, hub_column="community_hub", nest_by="place", min_list_size=30_000)
    result = mergeopt.solve(path)
    hubs = set(result.federations.table["hub"])
    assert hubs <= {"A0", "B0", "C0"}
    for _, members in result.assignments.groupby("federation"):
        assert len({code[0] == "C" for code in members["practice_code"]}) == 1  # one place


@pytest.mark.parametrize(
    ("federations", "message"),
    [
        ({"min_list_size": 200_000, "max_list_size": 100_000}, "key 'federations'"),
        ({"mode": "both"}, "key 'federations.mode'"),
        ({"count": 0}, "count must be at least 1"),
        ({"colour": "red"}, "key 'federations.colour': unknown key"),
        ({"premises": {"rule": "floor_area"}}, "needs m2_per_patient"),
    ],
)
def test_bad_federation_blocks_are_one_line_errors_with_exit_2(
    tmp_path: Path, federations: dict[str, object], message: str
):
    path = _config(tmp_path, **federations)
    run = CliRunner().invoke(app, ["run", str(path), "--out", str(tmp_path / "out")])
    assert run.exit_code == 2
    assert message in run.output and len(run.output.strip().splitlines()) <= 2
    assert not (tmp_path / "out").exists()


def test_cross_section_rules_name_the_key(tmp_path: Path):
    path = _config(tmp_path)
    config = load_config(path)
    with pytest.raises(mergeopt.InputError, match=r"key 'federations\.max_minutes'"):
        config.with_overrides(**{"travel.model": "straight_line", "travel.max_minutes": None})
    with pytest.raises(mergeopt.InputError, match=r"key 'federations\.mode'"):
        config.with_overrides(
            **{"inputs.columns.current_group": None, "federations.mode": "today"}
        )


def test_a_missing_federation_column_names_the_file_and_column(tmp_path: Path):
    path = _config(tmp_path, hub_column="community_specialists")
    run = CliRunner().invoke(app, ["run", str(path), "--out", str(tmp_path / "out")])
    assert run.exit_code == 2
    assert "practices.csv" in run.output and "community_specialists" in run.output


def test_a_window_no_networks_can_meet_gets_ranked_verified_advice(tmp_path: Path):
    # federations of 200,000-250,000 in an area of about 150,000 patients: none can form
    path = _config(tmp_path, min_list_size=200_000, max_list_size=250_000)
    status, found = explain_two_levels(load_config(path))
    assert status == "infeasible" and found is not None
    assert any("federation minimum list size" in line for line in found.findings)
    assert "federations.min_list_size" in found.overrides
    # the override offered first is verified: the run then succeeds
    fixed = mergeopt.solve(path, overrides=found.overrides)
    assert fixed.status in ("optimal", "feasible")
    run = CliRunner().invoke(app, ["run", str(path), "--out", str(tmp_path / "out")])
    assert run.exit_code == 3 and "verified" in run.output
    assert not (tmp_path / "out").exists()


def test_a_network_straddling_two_regions_is_named(tmp_path: Path):
    practices = _practices(tmp_path)
    table = pd.read_csv(practices)
    table.loc[table["practice_code"] == "A1", "place"] = "north"  # PCN_A0 now straddles
    table.to_csv(practices, index=False)
    path = _config(tmp_path, practices, mode="today", nest_by="place", min_list_size=30_000)
    status, found = explain_two_levels(load_config(path))
    assert status == "infeasible" and found is not None
    text = " ".join(found.findings)
    assert "PCN_A0" in text and "straddles place north and south" in text
    assert found.overrides == {"federations.nest_by": None}
    assert "(verified on today's networks)" in text
    run = CliRunner().invoke(app, ["explain", str(path)])
    # the change as it is written in a config file: null, not Python's None
    assert "federations.nest_by: null" in run.output and "None" not in run.output


def _with_a_far_practice(tmp_path: Path) -> Path:
    """The towns and practice D0 (5,000 patients), 20 km east of town B: beyond the
    network travel limit (25 minutes) of every other practice, and too small for a
    network of its own."""
    practices = _practices(tmp_path)
    table = pd.read_csv(practices)
    far = table.iloc[[0]].assign(
        practice_code="D0",
        practice_name="Practice D0",
        list_size=5_000,
        easting=385_000.0,
        northing=150_000.0,
        pcn_code="PCN_D0",
        place="south",
        federation_today="FED_D",
    )
    pd.concat([table, far]).to_csv(practices, index=False)
    return practices


@pytest.mark.parametrize("nest_by", [None, "place"])
def test_networks_that_cannot_be_formed_get_the_network_advice(tmp_path: Path, nest_by):
    """The two-level run says which practices keep the networks from forming and the
    first change that works, as a network run does, and `explain` ranks the changes."""
    path = _config(tmp_path, _with_a_far_practice(tmp_path), nest_by=nest_by)
    run = CliRunner().invoke(app, ["run", str(path), "--out", str(tmp_path / "out")])
    assert run.exit_code == 3, run.output
    assert "the networks cannot be formed" in run.output
    assert "can reach no group of 18,000 patients" in run.output
    assert "D0 (Practice D0" in run.output
    assert not (tmp_path / "out").exists()
    status, found = explain_two_levels(load_config(path))
    assert status == "infeasible" and found is not None
    assert found.overrides and "federations.nest_by" not in found.overrides
    # the changes offered let the networks form: the run goes on to both levels
    fixed = mergeopt.solve(path, overrides=found.overrides)
    assert fixed.status in ("optimal", "feasible")
    explained = CliRunner().invoke(app, ["explain", str(path)])
    assert explained.exit_code == 3
    assert "1. " in explained.output and "checked by solving" in explained.output


def test_evaluate_scores_existing_federations(towns: Path, tmp_path: Path):
    result = mergeopt.evaluate(towns, "pcn_code", federations="federation_today")
    assert result.status == "evaluated"
    assert set(result.federations.table["federation"]) == {"FED_A", "FED_B", "FED_C"}
    assert result.metrics["federations"] == 3
    # each town's 4 practices (over 42,000 patients) form a federation within the rules
    assert not [v for v in result.violations if v.startswith("federation FED_")]
    run = CliRunner().invoke(
        app,
        ["evaluate", str(towns), "--federations", "nowhere", "--out", str(tmp_path / "e")],
    )
    assert run.exit_code == 2 and "missing column 'nowhere'" in run.output


def test_a_sweep_varies_the_federation_count(towns: Path, tmp_path: Path):
    sweep = mergeopt.run_sweep(
        towns, out=tmp_path / "sweep", vary={"federations.count": [1, 2, 3]}, workers=1
    )
    table = sweep.comparison.set_index("federations.count")
    assert table.loc[1, "status"] == "infeasible"  # about 150,000 patients > 100,000
    assert table.loc[3, "status"] == "optimal"
    for count in (2, 3):
        if table.loc[count, "status"] in ("optimal", "feasible"):
            assert sweep.load(f"count={count}").metrics["federations"] == count


def test_the_printed_federations_table_fits_80_columns(
    towns: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from mergeopt import cli

    monkeypatch.setattr(cli.out_console, "width", 80)
    practices = pd.read_csv(tmp_path / "practices.csv")
    practices["practice_name"] += " Medical Centre And Community Health Partnership"
    practices.to_csv(tmp_path / "practices.csv", index=False)  # names as long as real ones
    run = CliRunner().invoke(app, ["run", str(towns), "--out", str(tmp_path / "run")])
    assert run.exit_code == 0, run.output
    table = pd.read_csv(tmp_path / "run" / "federations.csv")
    lines = run.output.splitlines()
    start = next(k for k, line in enumerate(lines) if "federations (travel" in line)
    for row in table.itertuples():  # each federation's figures printed whole
        line = next(line for line in lines[start:] if f"│ {row.hub} " in line)
        figures = (f"{row.list_size:,}", f"{row.mean_travel:.1f}", f"{row.max_travel:.1f}")
        assert all(f" {figure} " in line for figure in figures), line
    assert max(len(line) for line in lines) <= 80


@pytest.mark.parametrize(
    ("mode", "phases"),
    [
        ("today", ["federations of today's networks"]),
        ("proposed", ["networks, level 1 of 2", "federations, level 2 of 2"]),
        (
            "joint",
            [
                "the start: networks, level 1 of 2",
                "the start: federations, level 2 of 2",
                "both levels together",
            ],
        ),
    ],
)
def test_a_two_level_solve_tells_its_progress_hook_each_phase(towns: Path, mode, phases):
    """The live line of a two-level plan says which level is being solved (its figures
    are that level's, so the phase names it), in the order they run."""
    heard = []
    config = load_config(towns).with_overrides(**{"federations.mode": mode})
    result = solve_config(config, progress=heard.append)
    assert result.federations is not None
    named = [p.phase for p in heard]
    assert None not in named  # every report names its level
    firsts = list(dict.fromkeys(named))  # each phase once, in the order first heard
    assert [phase for phase in firsts if phase in phases] == phases
    assert all(p.bound is None or p.objective is None or p.bound <= p.objective for p in heard)
