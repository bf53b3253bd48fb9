"""A run directory: written whole, with one groups.csv contract, and opened again."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import mergeopt
from mergeopt.cli import app
from mergeopt.runs.rundir import write_run
from tests.hostile import TALLY

ROOT = Path(__file__).resolve().parents[2]
HULL = ROOT / "configs" / "hull_pcn.yaml"


def test_groups_csv_has_the_same_columns_and_figures_with_or_without_maps(tmp_path):
    """groups.csv carries each group's catchment area and pieces whether or not the maps
    were drawn: its columns never depend on ``maps``."""
    result = mergeopt.solve(HULL, overrides={"maps": False})
    drawn = write_run(result, tmp_path / "drawn", maps=True)
    plain = write_run(result, tmp_path / "plain", maps=False)
    assert (drawn / "groups.csv").read_bytes() == (plain / "groups.csv").read_bytes()
    table = pd.read_csv(plain / "groups.csv")
    assert list(table.columns[-2:]) == ["area_km2", "pieces"]
    assert (table["area_km2"] > 0).all() and (table["pieces"] >= 1).all()
    assert not (plain / "map.png").exists() and (drawn / "map.png").is_file()


def _complete(run_dir: Path) -> bool:
    names = {p.name for p in run_dir.iterdir()}
    if not {"assignments.csv", "groups.csv", "run.json"} <= names:
        return False
    json.loads((run_dir / "run.json").read_text())
    return True


@pytest.mark.parametrize("delay", [0.3, 0.8, 1.2, 1.6, 2.0, 2.6])
def test_killing_a_run_leaves_the_previous_or_the_complete_new_directory(
    tmp_path, delay, hull_run
):
    """SIGKILL at a moment in reading, solving or writing: never a half-written run."""
    out = tmp_path / "run"
    config = ROOT / "configs" / "hull_pcn.yaml"
    base = [sys.executable, "-m", "mergeopt", "run", str(config), "--out", str(out)]
    shutil.copytree(hull_run, out)  # the previous run: the same command's, made once
    before = (out / "run.json").read_text()
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    process = subprocess.Popen([*base, "--force"], **quiet)
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    process.wait()
    TALLY["faults injected (SIGKILL during a run)"] += 1
    assert _complete(out)
    after = (out / "run.json").read_text()
    TALLY[
        "killed runs: previous run intact" if after == before else "killed runs: new run complete"
    ] += 1
    # the next run sweeps away whatever staging folder the killed one left behind
    subprocess.run([*base, "--force"], check=True, capture_output=True)
    assert _complete(out)
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_map_command_redraws_without_solving(hull_run):
    before = (hull_run / "run.json").read_text()
    (hull_run / "map.png").unlink()
    result = CliRunner().invoke(app, ["map", str(hull_run)])
    assert result.exit_code == 0, result.stderr
    assert (hull_run / "map.png").exists()
    assert (hull_run / "run.json").read_text() == before
    assert json.loads(before)["status"] == "optimal"
