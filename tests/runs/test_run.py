"""One run: the config's solver block reaches the engine as plain options, once, and a
solver failure leaves the engine as the run's SolverError (exit code 5)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mergeopt._errors import MergeoptError, SolverError
from mergeopt.config import load_config
from mergeopt.engine import errors as engine_errors
from mergeopt.engine.options import SolveOptions
from mergeopt.runs import run as runs
from mergeopt.runs.problem import prepare_problem
from tests.hostile import TALLY

ROOT = Path(__file__).resolve().parents[2]


def test_the_solver_block_becomes_plain_options(monkeypatch: pytest.MonkeyPatch):
    config = load_config(ROOT / "configs" / "hull_pcn.yaml").with_overrides(
        **{"solver.time_limit": 7, "solver.gap": 0.01, "solver.threads": 1, "solver.name": "cbc"}
    )
    problem, _ = prepare_problem(config)
    seen: list[SolveOptions] = []

    def engine(inst: object, options: SolveOptions, *, name: str) -> object:
        seen.append(options)
        raise engine_errors.SolverError("HiGHS failed on this model (Solve error)")

    monkeypatch.setattr(runs, "solve_instance", engine)
    with pytest.raises(SolverError, match="HiGHS failed on this model") as caught:
        runs.solve_problem(problem)
    assert seen == [SolveOptions(solver="cbc", time_limit=7, gap=0.01, threads=1, log=False)]
    assert isinstance(caught.value, MergeoptError) and caught.value.exit_code == 5


def test_same_config_and_inputs_give_identical_tables(tmp_path):
    config = ROOT / "configs" / "somerset_yeovil_takeover.yaml"
    for name in ("a", "b"):
        command = [
            sys.executable,
            "-m",
            "mergeopt",
            "run",
            str(config),
            "--out",
            str(tmp_path / name),
        ]
        subprocess.run(command, check=True, capture_output=True)
    TALLY["repeat runs compared"] += 1
    for table in ("assignments.csv", "groups.csv"):
        assert (tmp_path / "a" / table).read_bytes() == (tmp_path / "b" / table).read_bytes()
    first, second = (json.loads((tmp_path / n / "run.json").read_text()) for n in ("a", "b"))
    for key in ("status", "objective", "bound", "metrics", "config_hash", "inputs"):
        assert first[key] == second[key]


def test_write_run_writes_what_run_writes_maps_as_the_config_says(tmp_path: Path):
    import mergeopt

    result = mergeopt.solve(ROOT / "configs" / "hull_pcn.yaml")
    assert result.config.maps
    folder = mergeopt.write_run(result, tmp_path / "run")
    assert {"groups.gpkg", "map.png", "map.html", "map_compare.png"} <= {
        p.name for p in folder.iterdir()
    }
    plain = mergeopt.write_run(
        mergeopt.solve(ROOT / "configs" / "hull_pcn.yaml", overrides={"maps": False}),
        tmp_path / "plain",
    )
    assert not list(plain.glob("map*")) and not (plain / "groups.gpkg").exists()
