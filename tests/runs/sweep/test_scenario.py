"""One scenario: a task run twice is solved once; a failed one writes nothing and is tried
again."""

from __future__ import annotations

import pandas as pd

from mergeopt.runs.sweep.plan import plan_sweep
from mergeopt.runs.sweep.scenario import solve_scenario
from tests.runs.sweep.helpers import invoke, regions_config, run_stamps


def test_a_scenario_task_run_twice_is_solved_once(tmp_path):
    """What makes a task that Dask runs again after a lost worker harmless."""
    (scenario,) = plan_sweep(regions_config(tmp_path), vary={"travel.max_km": [15]})
    folder = tmp_path / "sweep" / scenario.name
    task = {
        "scenario": scenario.name,
        "values": scenario.values,
        "config": scenario.config.model_dump(mode="json"),
        "source": scenario.config.source,
        "folder": str(folder),
        "force": True,
        "sweep": "first",
    }
    row = solve_scenario(task)
    assert row["status"] == "optimal"
    written = (folder / "run.json").stat().st_mtime_ns
    assert solve_scenario(task) == row  # the same sweep, even with force: not again
    assert (folder / "run.json").stat().st_mtime_ns == written
    solve_scenario(task | {"sweep": "second"})  # a new forced sweep: solved again
    assert (folder / "run.json").stat().st_mtime_ns != written
    written = (folder / "run.json").stat().st_mtime_ns
    solve_scenario(task | {"sweep": "third", "force": False})  # finished: not again
    assert (folder / "run.json").stat().st_mtime_ns == written
    broken = solve_scenario(task | {"config": {"name": "x"}, "sweep": "fourth"})
    assert broken["status"] == "failed"
    assert broken["status_text"].startswith("ValidationError: 1 validation error for Config")


def test_failed_scenario_is_reported_does_not_stop_the_others_and_is_retried(tmp_path):
    config = regions_config(tmp_path)
    out = tmp_path / "sweep"
    args = ("sweep", config, "--vary", "inputs.select={region: [MID]},{region: [WEST]}")
    code, stdout, stderr = invoke(*args, "--out", out, "--workers", "2")
    assert code == 1, stderr
    table = pd.read_csv(out / "comparison.csv")
    assert table["status"].tolist() == ["optimal", "failed"]
    assert "no practice has region in ['WEST']" in table.loc[1, "status_text"]
    assert "InputError" in table.loc[1, "status_text"]
    assert "failed" in stdout and "1 failed" in stdout
    names = sorted(p.name for p in out.iterdir() if p.is_dir())
    assert names == ["select=region-MID"]  # a failed scenario writes no run directory
    stamps = run_stamps(out)
    code, stdout, _ = invoke(*args, "--out", out, "--workers", "2")
    assert code == 1
    assert "0 solved now, 1 already finished (not solved again), 1 failed" in stdout
    assert run_stamps(out) == stamps


def test_a_sweep_ships_plotly_once_for_every_scenario_map(tmp_path):
    from mergeopt.geo.maps.web import PLOTLY_JS
    from mergeopt.runs.rundir import load_run, redraw
    from mergeopt.runs.sweep.run import run_sweep
    from tests.runs.sweep.helpers import hull_config

    config = hull_config(tmp_path, maps=True)
    sweep = run_sweep(
        config, out=tmp_path / "sweep", vary={"groups.min_list_size": [28000, 30000]},
        progress=False, workers=1,
    )  # fmt: skip
    folders = list(sweep.folders.values())
    assert len(folders) == 2
    assert (sweep.folder / PLOTLY_JS).stat().st_size > 1_000_000
    for folder in folders:
        page = (folder / "map.html").read_text()
        assert f'<script src="../{PLOTLY_JS}"></script>' in page
        assert not (folder / PLOTLY_JS).exists() and len(page) < 1_000_000
    redraw(load_run(folders[0]), folders[0])  # mergeopt map on a scenario keeps sharing it
    assert not (folders[0] / PLOTLY_JS).exists()
