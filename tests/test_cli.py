"""The command line as a commissioner uses it, on the real Hull and Somerset data."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from mergeopt._errors import InputError
from mergeopt.cli import app, parse_groups, parse_vary

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"
runner = CliRunner()


def invoke(*args: object) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def hull_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("hull") / "run"
    code, stdout, stderr = invoke("run", CONFIGS / "hull_pcn.yaml", "--out", out)
    assert code == 0, stderr
    assert "optimal" in stdout
    return out


def test_hull_pcn_run_writes_the_contract(hull_run):
    assignments = pd.read_csv(hull_run / "assignments.csv", dtype={"practice_code": str})
    groups = pd.read_csv(hull_run / "groups.csv")
    record = json.loads((hull_run / "run.json").read_text())
    practices = pd.read_csv(ROOT / "data/hull/practices.csv")
    # every practice appears once
    assert sorted(assignments["practice_code"]) == sorted(practices["practice_code"])
    # every group within 30,000-50,000, or the lone oversize practice B81048
    for row in groups.itertuples():
        if row.practice_codes == "B81048":
            assert row.list_size == 55_999 and row.oversize_alone
        else:
            assert 30_000 <= row.list_size <= 50_000
    assert groups["list_size"].sum() == 313_989
    # every practice within 20 minutes of its hub
    assert (assignments["travel"] <= 20).all()
    # run.json says what the solver proved, and the objective is the recomputed one
    assert record["status"] == "optimal"
    assert record["gap"] <= 1e-6
    assert record["objective"] == pytest.approx(record["metrics"]["objective"], rel=1e-9)
    weighted = (assignments["list_size"] * assignments["travel"]).sum()
    assert record["metrics"]["patient_weighted_travel"] == pytest.approx(weighted, rel=1e-4)
    assert record["solver"]["name"].startswith("HiGHS")
    assert set(record["inputs"]) == {
        str(ROOT / "data/hull/practices.csv"),
        str(ROOT / "data/hull/premises_illustrative.csv"),
    }


def test_run_directory_is_readable_by_colleagues(hull_run):
    """Written under a private temporary name, but renamed with ordinary permissions."""

    mask = os.umask(0)
    os.umask(mask)
    assert hull_run.stat().st_mode & 0o777 == 0o777 & ~mask


def test_existing_run_directory_is_kept_without_force(hull_run):
    before = (hull_run / "run.json").read_text()
    code, _, stderr = invoke("run", CONFIGS / "hull_pcn.yaml", "--out", hull_run)
    assert code == 2 and "--force" in stderr
    assert (hull_run / "run.json").read_text() == before


def test_yeovil_takeover_shares_one_group_under_the_named_hub(tmp_path):
    code, _, stderr = invoke(
        "run", CONFIGS / "somerset_yeovil_takeover.yaml", "--out", tmp_path / "run"
    )
    assert code == 0, stderr
    table = pd.read_csv(tmp_path / "run" / "assignments.csv").set_index("practice_code")
    assert set(table.loc[["L85007", "L85066", "L85026"], "hub"]) == {"L85007"}
    assert len(table) == 59


def test_hull_eight_groups_has_eight(tmp_path):
    code, _, stderr = invoke("run", CONFIGS / "hull_eight_groups.yaml", "--out", tmp_path / "r")
    assert code == 0, stderr
    assert len(pd.read_csv(tmp_path / "r" / "groups.csv")) == 8


def test_evaluate_current_networks_reports_metrics_and_violations(tmp_path):
    code, _, stderr = invoke(
        "evaluate", CONFIGS / "hull_pcn.yaml", "--grouping", "pcn_code", "--out", tmp_path / "e"
    )
    assert code == 0, stderr
    record = json.loads((tmp_path / "e" / "run.json").read_text())
    assert record["kind"] == "evaluation" and record["status"] == "evaluated"
    assert record["metrics"]["groups"] == 9  # 8 networks + the unallocated practice alone
    assert any("below the minimum 30,000" in v for v in record["violations"])
    assert "rule(s) broken" in stderr
    groups = pd.read_csv(tmp_path / "e" / "groups.csv")
    assert "U82095" in set(groups["group"])  # named by network code, not by hub


def test_infeasible_rules_name_the_practice(tmp_path):
    config = (CONFIGS / "hull_pcn.yaml").read_text().replace("oversize: alone", "oversize: stop")
    path = tmp_path / "hull_strict.yaml"
    path.write_text(config.replace("../data", str(ROOT / "data")))
    code, _, stderr = invoke("run", path, "--out", tmp_path / "run")
    assert code == 3
    assert "B81048" in stderr and "55,999" in stderr and "oversize: alone" in stderr
    assert not (tmp_path / "run").exists()


def _bad_copy(tmp_path: Path, edit_practices=None, edit_config=None) -> Path:
    shutil.copy(ROOT / "data/hull/premises_illustrative.csv", tmp_path / "premises.csv")
    practices = (ROOT / "data/hull/practices.csv").read_text()
    (tmp_path / "practices.csv").write_text(
        edit_practices(practices) if edit_practices else practices
    )
    config = (CONFIGS / "hull_pcn.yaml").read_text()
    config = config.replace("../data/hull/practices.csv", "practices.csv")
    config = config.replace("../data/hull/premises_illustrative.csv", "premises.csv")
    config = config.replace("../data", str(ROOT / "data"))
    path = tmp_path / "bad.yaml"
    path.write_text(edit_config(config) if edit_config else config)
    return path


BAD_INPUTS = {
    "missing column": (
        lambda t: t.replace("list_size", "patients"),
        None,
        r"practices.csv: missing column 'list_size'",
    ),
    "duplicated code": (
        lambda t: t + t.splitlines()[1] + "\n",
        None,
        r"'practice_code' has duplicated codes in rows 2, 27",
    ),
    "negative list size": (
        lambda t: t.replace(",10604,", ",-10604,"),
        None,
        r"'list_size' must be above 0 in row 3",
    ),
    "non-numeric list size": (
        lambda t: t.replace(",10604,", ",many,"),
        None,
        r"'list_size' is not a number in row 3",
    ),
    "missing coordinate": (
        lambda t: t.replace(",506635,", ",,"),
        None,
        r"'easting' is missing or not a number in row 3",
    ),
    "out of Britain": (
        lambda t: t.replace(",428505,", ",4285050,"),
        None,
        r"'northing' is outside Great Britain .* row 3",
    ),
    "unknown code in link": (
        None,
        lambda c: c + "rules:\n  must_link: [[B81008, X99999]]\n",
        r"bad.yaml: key 'rules.must_link': unknown practice code 'X99999'",
    ),
    "unknown code in takeover": (
        None,
        lambda c: c + "rules:\n  fixed: [{hub: Z1, practices: [B81008]}]\n",
        r"key 'rules.fixed\[0\].hub': unknown practice code 'Z1'",
    ),
    "min above max": (
        None,
        lambda c: c.replace("min_list_size: 30000", "min_list_size: 60000"),
        r"bad.yaml: key 'groups': min_list_size \(60,000\) is above max_list_size \(50,000\)",
    ),
    "unknown key": (None, lambda c: c + "colour: blue\n", r"bad.yaml: key 'colour': unknown key"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_one_line_exit_2_nothing_written(tmp_path, case):
    edit_practices, edit_config, match = BAD_INPUTS[case]
    path = _bad_copy(tmp_path, edit_practices, edit_config)
    code, stdout, stderr = invoke("run", path, "--out", tmp_path / "run")
    assert code == 2, stdout + stderr
    assert len(stderr.strip().splitlines()) == 1
    assert re.search(match, stderr), stderr
    assert not (tmp_path / "run").exists()
    assert not list(tmp_path.glob(".run.partial-*"))


def test_validate_checks_without_solving(tmp_path):
    code, stdout, _ = invoke("validate", CONFIGS / "hull_pcn.yaml")
    assert code == 0 and "25 practices, 313,989 patients" in stdout
    path = _bad_copy(tmp_path, lambda t: t.replace(",10604,", ",-1,"))
    code, _, stderr = invoke("validate", path)
    assert code == 2 and "list_size" in stderr


def test_prepare_then_run_an_area_never_seen_before(tmp_path):
    """Blackpool (sub-ICB 00R) from the national files: prepare, then run, no code edits."""
    nhs = ROOT / "data" / "nhs"
    table = tmp_path / "practices.csv"
    code, stdout, stderr = invoke(
        "prepare", "--out", table,
        "--list-sizes", nhs / "gp-reg-pat-prac-all.csv",
        "--mapping", nhs / "gp-reg-pat-prac-map.csv",
        "--postcodes", nhs / "practice_postcodes_latlon_nspl_may2025.csv",
        "--sub-icb", "00R",
    )  # fmt: skip
    assert code == 0, stderr
    assert "17 practices" in stdout
    assert (tmp_path / "practices_excluded.csv").exists()
    config = tmp_path / "area.yaml"
    config.write_text(
        "name: area\ninputs:\n  practices: practices.csv\n"
        "groups:\n  min_list_size: 30000\n  max_list_size: 50000\n  oversize: alone\n"
        "travel:\n  max_minutes: 30\n"
    )
    code, _, stderr = invoke("run", config, "--out", tmp_path / "run")
    assert code == 0, stderr
    assignments = pd.read_csv(tmp_path / "run" / "assignments.csv")
    assert len(assignments) == 17


def test_prepare_refuses_an_unknown_icb(tmp_path):
    nhs = ROOT / "data" / "nhs"
    code, _, stderr = invoke(
        "prepare", "--out", tmp_path / "p.csv",
        "--list-sizes", nhs / "gp-reg-pat-prac-all.csv",
        "--mapping", nhs / "gp-reg-pat-prac-map.csv",
        "--postcodes", nhs / "practice_postcodes_latlon_nspl_may2025.csv",
        "--icb", "QZZ",
    )  # fmt: skip
    assert code == 2 and "QZZ" in stderr
    assert not (tmp_path / "p.csv").exists()


def test_a_hub_both_forced_and_forbidden_is_reported(tmp_path):
    path = _bad_copy(tmp_path, edit_config=lambda c: c + "rules:\n  forbidden_hubs: [B81048]\n")
    code, _, stderr = invoke("run", path, "--out", tmp_path / "run")
    assert code == 3
    assert "B81048" in stderr and "both required and forbidden" in stderr


def test_map_of_a_run_without_a_grouping_says_why(tmp_path):
    """A sweep's infeasible scenario keeps only run.json: redrawing it is a clear error."""
    folder = tmp_path / "count=9"
    folder.mkdir()
    record = {"status": "infeasible", "status_text": "only 8 practices can host a group"}
    (folder / "run.json").write_text(json.dumps(record))
    code, _, stderr = invoke("map", folder)
    assert code == 2
    assert "has no grouping (infeasible: only 8 practices can host a group)" in stderr


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("6..10", [6, 7, 8, 9, 10]),
        ("8", [8]),
        ("6,8,10", [6, 8, 10]),
        (" 7 .. 9 ", [7, 8, 9]),
    ],
)
def test_groups_flag_parses_ranges_and_lists(text, expected):
    assert parse_groups(text) == expected


@pytest.mark.parametrize("text", ["10..6", "six", "6.5", "", "6..x", "true"])
def test_groups_flag_rejects_what_is_not_group_counts(text):
    with pytest.raises(InputError, match="--groups"):
        parse_groups(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("travel.max_minutes=15,20", ("travel.max_minutes", [15, 20])),
        ("groups.count=6..8", ("groups.count", [6, 7, 8])),
        ("groups.count={min: 6, max: 9},8", ("groups.count", [{"min": 6, "max": 9}, 8])),
        ("objective.moved_patients=0,0.5", ("objective.moved_patients", [0, 0.5])),
        ("solver.gap=1e-4", ("solver.gap", [1e-4])),
        ("maps=true,false", ("maps", [True, False])),
        ("inputs.select={region: [MID]}", ("inputs.select", [{"region": ["MID"]}])),
    ],
)
def test_vary_flag_reads_typed_values(text, expected):
    assert parse_vary(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("groups.count", "give KEY=V1,V2"),
        ("=6,7", "give KEY=V1,V2"),
        ("groups.cont=6,7", "config key 'groups.cont': no such key 'cont' in 'groups'"),
        ("maps.colour=1", "'maps' is a value, not a section"),
        ("sweep.workers=1,2", "cannot vary its own sweep block"),
    ],
)
def test_vary_flag_rejects_bad_keys(text, message):
    with pytest.raises(InputError, match=message):
        parse_vary(text)


def test_the_table_on_screen_lists_forty_groups_and_counts_the_rest(tmp_path):
    """Each of Somerset's 59 practices as a group of its own: the screen lists the first 40
    groups of groups.csv and counts the other 19 (all of England has about 1,700 groups)."""
    from mergeopt.screen import SHOWN_GROUPS

    out = tmp_path / "alone"
    config = CONFIGS / "somerset_yeovil_takeover.yaml"
    code, stdout, _ = invoke("evaluate", config, "--grouping", "practice_code", "--out", out)
    assert code == 0
    groups = pd.read_csv(out / "groups.csv")
    assert len(groups) == 59 and SHOWN_GROUPS == 40
    rows = [line.split("│")[1].strip() for line in stdout.splitlines() if line.startswith("│")]
    assert rows == groups["group"].astype(str).head(40).tolist()
    assert "and 19 more groups: every group is in groups.csv" in stdout
