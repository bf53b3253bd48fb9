"""A sweep end to end: a run directory per scenario, the folder opened again, resuming,
Ctrl-C, command-line errors, and a scenario equal to the same run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import mergeopt
from mergeopt._errors import InputError
from mergeopt.runs.sweep.run import load_sweep, run_sweep
from mergeopt.runs.sweep.table import TIMING_COLUMNS
from tests.hostile import TALLY
from tests.runs.sweep.helpers import (
    HULL,
    REGIONS,
    comparable,
    hull_config,
    invoke,
    leftovers,
    regions_config,
    run_stamps,
)

ROOT = Path(__file__).resolve().parents[3]


def test_cli_bad_vary_key_is_one_line_naming_it_and_writes_nothing(tmp_path):
    out = tmp_path / "sweep"
    code, _, stderr = invoke("sweep", HULL, "--vary", "travel.max_minuts=15,20", "--out", out)
    assert code == 2
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "travel.max_minuts" in lines[0], stderr
    assert not out.exists()


def test_cli_bad_value_and_missing_split_column_exit_2(tmp_path):
    config = regions_config(tmp_path)
    code, _, stderr = invoke("sweep", config, "--groups", "0,1", "--out", tmp_path / "a")
    assert code == 2 and "scenario count=0" in stderr and "at least 1, not 0" in stderr
    code, _, stderr = invoke("sweep", config, "--split-by", "icb_code", "--out", tmp_path / "b")
    assert code == 2 and "missing column 'icb_code'" in stderr
    code, _, stderr = invoke("sweep", config, "--out", tmp_path / "c")
    assert code == 2 and "nothing to sweep" in stderr
    code, _, stderr = invoke(
        "sweep", config, "--groups", "2..3", "--vary", "groups.count=1", "--out", tmp_path / "d"
    )
    assert code == 2 and "given twice" in stderr
    assert not any((tmp_path / name).exists() for name in "abcd")


def test_local_sweep_writes_a_run_directory_per_scenario(hull_sweep):
    config, result = hull_sweep
    folder = result.folder
    table = result.comparison
    assert table["scenario"].tolist() == ["count=7", "count=8", "count=9"]
    assert table["groups.count"].tolist() == [7, 8, 9]
    assert table["status"].tolist() == ["infeasible", "optimal", "infeasible"]
    # the solved scenario: the run contract, and its row is its run.json
    record = json.loads((folder / "count=8" / "run.json").read_text())
    assert {"assignments.csv", "groups.csv", "run.json"} <= {
        p.name for p in (folder / "count=8").iterdir()
    }
    row = table.set_index("scenario").loc["count=8"]
    assert row["objective"] == record["objective"] and row["gap"] == record["gap"]
    for name in (
        "mean_travel",
        "max_travel",
        "smallest_group",
        "largest_group",
        "practices_moved",
    ):
        assert row[name] == record["metrics"][name]
    assert record["config"]["solver"]["threads"] == 1
    stamp = json.loads((folder / "count=8" / "scenario.json").read_text())
    assert stamp["scenario"] == "count=8" and stamp["values"] == {"groups.count": 8}
    assert record["config"]["groups"]["count"] == 8
    # an infeasible scenario: run.json alone, with the explanation
    infeasible = json.loads((folder / "count=7" / "run.json").read_text())
    assert sorted(p.name for p in (folder / "count=7").iterdir()) == ["run.json", "scenario.json"]
    assert infeasible["status"] == "infeasible"
    # which rule blocks it, and the first change that works, checked by solving with it
    assert "first change that works: " in infeasible["status_text"]
    fixed = mergeopt.solve(config, overrides={"groups.count": 7, **infeasible["overrides"]})
    assert fixed.violations == []
    assert fixed.metrics["groups"] == infeasible["overrides"].get("groups.count", 7)
    assert table.set_index("scenario").loc["count=7", "status_text"] == infeasible["status_text"]
    # the chart, and nothing half-written
    assert (folder / "comparison.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert leftovers(folder) == []


def test_sweep_folder_opens_again_and_loads_a_scenario(hull_sweep):
    _, result = hull_sweep
    again = load_sweep(result.folder)
    assert again.varied == ("groups.count",)
    assert comparable(result.folder / "comparison.csv") == comparable(again.comparison)
    plan = again.load("count=8")
    assert plan.status == "optimal" and plan.metrics["groups"] == 8
    with pytest.raises(InputError, match="count=7' is infeasible"):
        again.load("count=7")
    with pytest.raises(InputError, match="no scenario 'count=12'"):
        again.load("count=12")
    _, axes = again.plot()
    assert len(axes) == 6 and axes[0].get_title() == "objective"


def test_resume_skips_finished_scenarios_and_force_redoes_them(tmp_path):
    config = regions_config(tmp_path)
    out = tmp_path / "sweep"
    options = {"out": out, "split_by": "region", "workers": 1, "progress": False}
    first = run_sweep(config, **options)
    assert first.reused == ()
    assert first.comparison["status"].tolist() == ["optimal"] * 3
    stamps = run_stamps(out)
    assert sorted(stamps) == ["region=MID", "region=NORTH", "region=SOUTH"]

    again = run_sweep(config, **options)
    assert again.reused == ("region=MID", "region=NORTH", "region=SOUTH")
    assert run_stamps(out) == stamps
    assert comparable(out / "comparison.csv") == first.comparison.drop(
        columns=list(TIMING_COLUMNS)
    ).to_csv(index=False)

    forced = run_sweep(config, force=True, **options)
    assert forced.reused == ()
    assert all(run_stamps(out)[name] != stamps[name] for name in stamps)

    # a changed input means the scenarios are no longer finished: solved again
    stamps = run_stamps(out)
    (tmp_path / "practices.csv").write_text(REGIONS.replace("9500", "9600"))
    changed = run_sweep(config, **options)
    assert changed.reused == ()
    assert all(run_stamps(out)[name] != stamps[name] for name in stamps)
    # so does a changed config
    stamps = run_stamps(out)
    config.write_text(config.read_text().replace("max_km: 15", "max_km: 16"))
    edited = run_sweep(config, **options)
    assert edited.reused == ()
    assert all(run_stamps(out)[name] != stamps[name] for name in stamps)
    # an extended sweep solves only the new scenarios
    extended = run_sweep(config, vary={"groups.count": [1, 2]}, **options)
    assert extended.reused == ()
    stamps = run_stamps(out)
    more = run_sweep(config, vary={"groups.count": [1, 2, 3]}, **options)
    assert set(more.reused) == {
        f"region={r}+count={k}" for r in ("MID", "NORTH", "SOUTH") for k in (1, 2)
    }
    assert all(run_stamps(out)[name] == stamps[name] for name in stamps)


def _sweep_process(config: Path, *args: object, env: dict[str, str] | None = None) -> Any:
    """``mergeopt sweep`` on one worker process, started as from a terminal (a shell's
    background job, as CI starts, ignores SIGINT, and Python keeps an ignored SIGINT
    ignored, so Ctrl-C would not arrive)."""
    command = [sys.executable, "-m", "mergeopt", "sweep", str(config), *map(str, args)]
    return subprocess.Popen(
        [*command, "--workers", "1"],
        cwd=ROOT,
        env=os.environ | {"PYTHONUNBUFFERED": "1"} | (env or {}),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def _interrupt_once(process: Any, ready: Callable[[], bool], missing: str) -> str:
    """Ctrl-C once ``ready()`` (within 600 s, on however loaded a machine); the sweep's
    standard error, after it checked that the sweep exited as interrupted (130)."""
    deadline = time.monotonic() + 600
    try:
        while not ready():
            assert process.poll() is None, process.communicate()
            if time.monotonic() > deadline:
                pytest.fail(f"{missing} in 600 s")
            time.sleep(0.05)
    except BaseException:
        process.kill()
        raise
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 130, stderr
    return str(stderr)


def test_interrupted_sweep_resumes_with_only_the_missing_scenarios(tmp_path):
    out = tmp_path / "sweep"
    config = hull_config(tmp_path)
    process = _sweep_process(config, "--groups", "6..10", "--out", out)
    # interrupt once a scenario's run directory is in place: a staging folder's run.json
    # (``.count=6.partial-*/run.json``, which ``*/run.json`` also matches) is written just
    # before the folder is renamed into place, so an interrupt then may rightly keep
    # nothing; on a loaded machine that window is wide
    stderr = _interrupt_once(process, lambda: bool(run_stamps(out)), "no scenario finished")
    assert "run the same command again" in stderr
    finished = run_stamps(out)
    assert 1 <= len(finished) < 5, finished
    assert leftovers(out) == []
    interrupted = pd.read_csv(out / "comparison.csv")
    assert sorted(interrupted["scenario"]) == sorted(finished)

    code, stdout, stderr = invoke("sweep", config, "--groups", "6..10", "--out", out)
    assert code == 0, stderr
    again = run_stamps(out)
    assert sorted(again) == ["count=10", "count=6", "count=7", "count=8", "count=9"]
    assert all(again[name] == stamp for name, stamp in finished.items())
    assert f"{5 - len(finished)} solved now, {len(finished)} already finished" in stdout
    table = pd.read_csv(out / "comparison.csv")
    assert table["scenario"].tolist() == [f"count={k}" for k in range(6, 11)]
    assert (out / "comparison.png").is_file() and leftovers(out) == []


# Loaded by the sweep's processes (PYTHONPATH): the run directory of the scenario named in
# HOLD_SCENARIO is complete in its staging folder (run.json written, last) but is held
# there, before being renamed into place, as a loaded machine may hold it.
HOLD = """
import os, time
import mergeopt.runs.folders as folders
swap_in = folders._swap_in
def held(staging, out, **options):
    if out.name == os.environ["HOLD_SCENARIO"] and (staging / "run.json").is_file():
        (staging.parent / "holding").touch()
        time.sleep(600)
    return swap_in(staging, out, **options)
folders._swap_in = held
"""


def test_interrupt_while_a_scenario_is_put_in_place_keeps_only_what_finished(tmp_path):
    """Ctrl-C between a scenario's last file and its folder's rename: the scenarios
    finished before it are kept, it is not (nothing half-placed, no staging folder
    left), and the next run solves it and the rest, reusing the finished one."""
    config = regions_config(tmp_path)
    out = tmp_path / "sweep"
    (tmp_path / "hold").mkdir()
    (tmp_path / "hold" / "sitecustomize.py").write_text(HOLD)
    env = {"PYTHONPATH": str(tmp_path / "hold"), "HOLD_SCENARIO": "region=NORTH"}
    process = _sweep_process(config, "--split-by", "region", "--out", out, env=env)

    def holding() -> bool:
        if not (out / "holding").exists():
            return False
        held = list(out.glob(".region=NORTH.partial-*"))
        assert len(held) == 1 and (held[0] / "run.json").is_file(), held
        return True

    _interrupt_once(process, holding, "the held scenario was not reached")
    (out / "holding").unlink()
    finished = run_stamps(out)
    assert sorted(finished) == ["region=MID"]
    assert leftovers(out) == []
    assert pd.read_csv(out / "comparison.csv")["scenario"].tolist() == ["region=MID"]

    again = run_sweep(config, out=out, split_by="region", workers=1, progress=False)
    assert again.reused == ("region=MID",)
    assert run_stamps(out)["region=MID"] == finished["region=MID"]
    assert again.scenarios == ["region=MID", "region=NORTH", "region=SOUTH"]
    assert again.comparison["status"].tolist() == ["optimal"] * 3
    assert leftovers(out) == []


def test_a_sweep_scenario_gives_the_tables_of_the_same_run(tmp_path):
    """The same config through `mergeopt run` and through a sweep's process pool gives
    byte-identical tables: the executor does not change the answer."""
    import mergeopt
    from mergeopt.runs.rundir import write_run

    config = mergeopt.load_config(ROOT / "configs" / "somerset_yeovil_takeover.yaml")
    config = config.with_overrides(**{"maps": False, "solver.threads": 1})
    sweep = mergeopt.run_sweep(
        config, out=tmp_path / "sweep", vary={"groups.count": [18]}, workers=1, progress=False
    )
    alone = write_run(mergeopt.solve(config, overrides={"groups.count": 18}), tmp_path / "run")
    TALLY["repeat runs compared"] += 1
    scenario = sweep.folders[sweep.scenarios[0]]
    for table in ("assignments.csv", "groups.csv"):
        assert (scenario / table).read_bytes() == (alone / table).read_bytes()
