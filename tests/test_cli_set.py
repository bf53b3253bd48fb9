"""mergeopt run --set KEY=VALUE: a config key changed for one run, validated again."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from mergeopt.cli import app

ROOT = Path(__file__).resolve().parents[1]
HULL = ROOT / "configs" / "hull_pcn.yaml"


def test_run_set_changes_keys_for_one_run_and_validates_again(tmp_path):
    runner = CliRunner()
    out = tmp_path / "set"
    args = ["run", str(HULL), "--out", str(out), "--set", "travel.max_minutes=25",
            "--set", "maps=false"]  # fmt: skip
    done = runner.invoke(app, args)
    assert done.exit_code == 0, done.stderr
    record = json.loads((out / "run.json").read_text())
    assert record["config"]["travel"]["max_minutes"] == 25 and not (out / "map.html").exists()
    misspelt = runner.invoke(app, ["run", str(HULL), "--out", str(tmp_path / "x"),
                                   "--set", "groups.cont=8"])  # fmt: skip
    assert misspelt.exit_code == 2 and "did you mean 'count'" in misspelt.stderr
    negative = runner.invoke(app, ["run", str(HULL), "--out", str(tmp_path / "y"),
                                   "--set", "travel.max_minutes=-1"])  # fmt: skip
    assert negative.exit_code == 2 and "travel.max_minutes" in negative.stderr
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()
