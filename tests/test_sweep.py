"""Sweeps: scenarios from a config and flags, the local and Dask executors, resuming.

The Dask tests start a real ``distributed.LocalCluster`` on loopback. The scenarios are
small: Hull with maps off, or a synthetic table of three regions.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from mergeopt._errors import InputError
from mergeopt.cli import app, parse_groups, parse_vary
from mergeopt.config import load_config
from mergeopt.inputs.practices import read_practices
from mergeopt.runs.sweep.plan import plan_sweep
from mergeopt.runs.sweep.run import load_sweep, run_sweep
from mergeopt.runs.sweep.scenario import solve_scenario
from mergeopt.runs.sweep.table import TIMING_COLUMNS

ROOT = Path(__file__).resolve().parents[1]
HULL = ROOT / "configs" / "hull_pcn.yaml"
runner = CliRunner()

# Three regions of four practices, far apart: each region is a problem of its own.
REGIONS = """practice_code,practice_name,list_size,easting,northing,pcn_code,region
N1,North one,9000,450000,520000,P1,NORTH
N2,North two,8000,452000,521000,P1,NORTH
N3,North three,7000,451000,523000,P2,NORTH
N4,North four,6000,453000,519000,P2,NORTH
M1,Mid one,9500,450000,420000,P3,MID
M2,Mid two,8500,451500,421000,P3,MID
M3,Mid three,6500,449000,422500,P4,MID
M4,Mid four,5500,452500,418500,P4,MID
S1,South one,10000,450000,320000,P5,SOUTH
S2,South two,7000,452000,320500,P5,SOUTH
S3,South three,6000,451000,322000,P6,SOUTH
S4,South four,5000,448500,319000,P6,SOUTH
"""


def regions_config(folder: Path, practices: str = REGIONS, sweep: str = "") -> Path:
    (folder / "practices.csv").write_text(practices)
    path = folder / "regions.yaml"
    path.write_text(
        "name: regions\ninputs:\n  practices: practices.csv\n"
        "groups:\n  min_list_size: 10000\n  max_list_size: 20000\n"
        "travel:\n  model: straight_line\n  max_km: 15\nmaps: false\n" + sweep
    )
    return path


def hull_config(folder: Path, **changes: object) -> Path:
    """hull_pcn.yaml with maps off (and other top-level changes), paths made absolute."""
    data = yaml.safe_load(HULL.read_text())
    data["inputs"] = {k: str((HULL.parent / v).resolve()) for k, v in data["inputs"].items()}
    data["geography"] |= {
        key: str((HULL.parent / data["geography"][key]).resolve()) for key in ("boundary", "lsoa")
    }
    data |= {"maps": False} | changes
    path = folder / "hull_pcn.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def invoke(*args: object) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def run_stamps(folder: Path) -> dict[str, int]:
    """Each scenario's run.json modification time (ns): changes only if solved again.
    Staging folders (``.<scenario>.partial-*``, being written) are not scenarios."""
    found = folder.glob("*/run.json")
    return {
        p.parent.name: p.stat().st_mtime_ns for p in found if not p.parent.name.startswith(".")
    }


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".partial-" in p.name or ".old-" in p.name)


def comparable(path: Path) -> str:
    """comparison.csv without its timing columns, as text."""
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    return table.drop(columns=list(TIMING_COLUMNS)).to_csv(index=False)


# ---------------------------------------------------------------------------------------
# flags and the sweep block


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


def test_sweep_block_is_validated_like_the_rest(tmp_path):
    config = load_config(
        regions_config(
            tmp_path, sweep="sweep:\n  vary: {groups.count: [1, 2]}\n  split_by: region\n"
        )
    )
    assert config.sweep is not None and config.sweep.vary == {"groups.count": [1, 2]}
    with pytest.raises(InputError, match=r"key 'sweep.bogus': unknown key"):
        load_config(regions_config(tmp_path, sweep="sweep:\n  bogus: 1\n"))
    with pytest.raises(InputError, match=r"vary key 'groups.cont': no such key 'cont'"):
        load_config(regions_config(tmp_path, sweep="sweep:\n  vary: {groups.cont: [1]}\n"))
    with pytest.raises(InputError, match=r"key 'sweep.workers'"):
        load_config(regions_config(tmp_path, sweep="sweep:\n  workers: 0\n"))


def test_plan_is_every_combination_in_order():
    plan = plan_sweep(HULL, vary={"groups.count": [7, 8], "travel.max_minutes": [15, 20]})
    assert [s.name for s in plan] == [
        "count=7+max_minutes=15",
        "count=7+max_minutes=20",
        "count=8+max_minutes=15",
        "count=8+max_minutes=20",
    ]
    last = plan[-1].config
    assert (last.groups.count, last.travel.max_minutes) == (8, 20)
    assert plan[-1].values == {"groups.count": 8, "travel.max_minutes": 20}
    # one solver thread per scenario (the config sets none); the sweep block is dropped
    assert last.solver.threads == 1 and last.sweep is None
    # the config's own settings are kept
    assert last.groups.max_list_size == 50_000 and last.premises.rule == "floor_area"


def test_a_key_given_one_value_is_a_setting_not_part_of_the_names():
    plan = plan_sweep(HULL, vary={"groups.count": [7, 8], "maps": [False]})
    assert [s.name for s in plan] == ["count=7", "count=8"]
    assert [s.config.maps for s in plan] == [False, False]
    assert [s.name for s in plan_sweep(HULL, vary={"maps": [False]})] == ["maps=false"]


def test_split_by_selects_each_region_and_keeps_row_numbers(tmp_path):
    config = load_config(regions_config(tmp_path))
    plan = plan_sweep(config, split_by="region", vary={"groups.count": [1, 2]})
    assert [s.name for s in plan] == [
        "region=MID+count=1",
        "region=MID+count=2",
        "region=NORTH+count=1",
        "region=NORTH+count=2",
        "region=SOUTH+count=1",
        "region=SOUTH+count=2",
    ]
    north = read_practices(plan[2].config)
    assert list(north.index) == ["N1", "N2", "N3", "N4"]
    # a bad row in the selected region is named by its row in the file
    bad = REGIONS.replace("S3,South three,6000", "S3,South three,-5")
    chosen = load_config(regions_config(tmp_path, bad)).with_overrides(
        **{"inputs.select": {"region": ["SOUTH"]}}
    )
    with pytest.raises(InputError, match=r"column 'list_size' must be above 0 in row 12"):
        read_practices(chosen)
    with pytest.raises(InputError, match=r"no practice has region in \['WEST'\]"):
        read_practices(chosen.with_overrides(**{"inputs.select": {"region": ["WEST"]}}))


def test_split_by_column_with_empty_cells_is_refused(tmp_path):
    holes = REGIONS.replace("P2,NORTH\nM1", "P2,\nM1")
    with pytest.raises(InputError, match=r"column 'region' is empty in rows 5"):
        plan_sweep(regions_config(tmp_path, holes), split_by="region")


def test_split_by_within_a_selection_uses_the_one_selection(tmp_path):
    """The regions of a split are taken within ``inputs.select`` exactly as a run selects:
    a column it names that is missing is an error (it was ignored, and every region of the
    file planned), and an empty cell is named by its row in the file."""
    config = load_config(regions_config(tmp_path))
    missing = config.with_overrides(**{"inputs.select": {"zone": ["A"]}})
    with pytest.raises(InputError, match=r"missing column 'zone' named by inputs\.select"):
        plan_sweep(missing, split_by="region")
    holes = REGIONS.replace(
        "M3,Mid three,6500,449000,422500,P4,", "M3,Mid three,6500,449000,422500,,"
    )
    mid = load_config(regions_config(tmp_path, holes)).with_overrides(
        **{"inputs.select": {"region": ["MID"]}}
    )
    with pytest.raises(InputError, match=r"column 'pcn_code' is empty in rows 8:"):
        plan_sweep(mid, split_by="pcn_code")
    nothing = config.with_overrides(**{"inputs.select": {"region": ["WEST"]}})
    with pytest.raises(InputError, match=r"no practice has region in \['WEST'\]"):
        plan_sweep(nothing, split_by="pcn_code")


# ---------------------------------------------------------------------------------------
# local executor


@pytest.fixture(scope="module")
def hull_sweep(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hull")
    config = hull_config(folder)
    result = run_sweep(
        config, out=folder / "sweep", vary={"groups.count": [7, 8, 9]}, workers=2, progress=False
    )
    return config, result


def test_local_sweep_writes_a_run_directory_per_scenario(hull_sweep):
    _, result = hull_sweep
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
    assert "allow 8 groups" in infeasible["status_text"]
    assert "groups.count" in infeasible["overrides"]  # the change that would fix it
    assert "allow 8 groups" in table.set_index("scenario").loc["count=7", "status_text"]
    # the chart, and nothing half-written
    assert (folder / "comparison.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert leftovers(folder) == []


def test_sweep_folder_opens_again_and_loads_a_scenario(hull_sweep):
    _, result = hull_sweep
    again = load_sweep(result.folder)
    assert again.varied == ("groups.count",)
    assert comparable(result.folder / "comparison.csv") == again.comparison.drop(
        columns=list(TIMING_COLUMNS)
    ).to_csv(index=False)
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


def test_chart_for_several_keys_and_text_values(tmp_path):
    config = regions_config(tmp_path)
    result = run_sweep(
        config,
        out=tmp_path / "sweep",
        split_by="region",
        vary={"travel.max_km": [3, 15]},
        workers=2,
        progress=False,
    )
    assert result.varied == ("region", "travel.max_km")
    assert len(result.comparison) == 6
    assert set(result.comparison["status"]) <= {"optimal", "infeasible"}
    _, axes = result.plot()
    labels = [tick.get_text() for tick in axes[0].get_xticklabels()]
    assert labels[0] == "region=MID+max_km=3"


# ---------------------------------------------------------------------------------------
# Dask


@pytest.fixture(scope="module")
def cluster():
    # distributed is a dependency: if it cannot be imported, these tests fail, not skip
    import distributed

    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    ) as running:
        yield running


def test_dask_sweep_gives_the_same_comparison_as_local_processes(hull_sweep, cluster, tmp_path):
    config, local = hull_sweep
    result = run_sweep(
        config,
        out=tmp_path / "dask",
        vary={"groups.count": [7, 8, 9]},
        scheduler=cluster.scheduler_address,
        progress=False,
    )
    assert result.reused == ()
    assert comparable(tmp_path / "dask" / "comparison.csv") == comparable(
        local.folder / "comparison.csv"
    )
    for name in ("count=7", "count=8", "count=9"):
        ours = json.loads((tmp_path / "dask" / name / "run.json").read_text())
        theirs = json.loads((local.folder / name / "run.json").read_text())
        assert ours["config_hash"] == theirs["config_hash"]


def test_unreachable_scheduler_is_a_clear_error(tmp_path):
    import dask

    config = regions_config(tmp_path)
    with (
        dask.config.set({"distributed.comm.timeouts.connect": "2s"}),
        pytest.raises(
            InputError, match=r"cannot reach the Dask scheduler at tcp://127\.0\.0\.1:9"
        ),
    ):
        run_sweep(
            config,
            out=tmp_path / "sweep",
            split_by="region",
            scheduler="tcp://127.0.0.1:9",
            progress=False,
        )


def test_worker_killed_mid_sweep_every_scenario_done_once(cluster, tmp_path):
    from distributed import Client

    config = hull_config(tmp_path)
    out = tmp_path / "sweep"
    outcome: dict[str, object] = {}

    def sweep() -> None:
        try:
            outcome["result"] = run_sweep(
                config,
                out=out,
                vary={"groups.count": [6, 7, 8, 9]},
                scheduler=cluster.scheduler_address,
                progress=False,
            )
        except BaseException as exc:  # reported by the assertion below
            outcome["error"] = exc

    def executing(dask_worker) -> list[str]:
        return [str(key) for key in dask_worker.state.executing]

    with Client(cluster, set_as_default=False) as client:
        thread = threading.Thread(target=sweep)
        thread.start()
        deadline = time.monotonic() + 60
        victim = None
        while victim is None and time.monotonic() < deadline:
            busy = client.run(executing)
            victim = next((address for address, keys in busy.items() if keys), None)
            time.sleep(0.05)
        assert victim is not None, "no scenario started"
        pid = client.run(os.getpid, workers=[victim])[victim]
        os.kill(pid, signal.SIGKILL)
        thread.join(180)
    assert not thread.is_alive()
    assert "error" not in outcome, outcome.get("error")
    table = outcome["result"].comparison
    assert table["scenario"].tolist() == ["count=6", "count=7", "count=8", "count=9"]
    assert table["status"].tolist() == ["infeasible", "infeasible", "optimal", "infeasible"]
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == table["scenario"].tolist()
    assert all((out / name / "run.json").is_file() for name in table["scenario"])
    assert leftovers(out) == []


# ---------------------------------------------------------------------------------------
# Ctrl-C


def test_interrupted_sweep_resumes_with_only_the_missing_scenarios(tmp_path):
    out = tmp_path / "sweep"
    config = hull_config(tmp_path)
    command = [sys.executable, "-m", "mergeopt", "sweep", str(config), "--groups", "6..10"]
    command += ["--out", str(out), "--workers", "1"]
    env = os.environ | {"PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # as from a terminal: a shell's background job (CI started with `&`) ignores
        # SIGINT, and Python keeps an ignored SIGINT ignored, so Ctrl-C would not arrive
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 90
    while not list(out.glob("*/run.json")) and time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
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


def test_killed_local_worker_process_does_not_lose_or_repeat_a_scenario(tmp_path):
    """A local worker process dies mid-sweep (as under the out-of-memory killer): the
    scenarios it may have been running are run again, alone, and the sweep finishes."""
    config = hull_config(tmp_path)
    out = tmp_path / "sweep"
    (out / ".count=7.partial-x").mkdir(parents=True)  # as a killed earlier run leaves it
    outcome: dict[str, object] = {}

    def sweep() -> None:
        try:
            outcome["result"] = run_sweep(
                config, out=out, vary={"groups.count": [6, 7, 8]}, workers=2, progress=False
            )
        except BaseException as exc:  # reported by the assertion below
            outcome["error"] = exc

    before = set(multiprocessing.active_children())
    thread = threading.Thread(target=sweep)
    thread.start()
    # Once a scenario is written the workers are up and solving the others: kill one then
    # (a fixed wait raced the sweep, which can finish within it on a quick machine).
    deadline = time.monotonic() + 120
    while not run_stamps(out) and time.monotonic() < deadline:
        assert thread.is_alive(), outcome.get("error", "the sweep ended before a scenario")
        time.sleep(0.02)
    finished = run_stamps(out)
    assert finished, "no scenario finished"
    killed = None
    for worker in multiprocessing.active_children():
        if worker in before or "Dask" in worker.name or killed is not None:
            continue
        try:
            os.kill(worker.pid, signal.SIGKILL)
        except ProcessLookupError:  # it exited since it was listed: take the next
            continue
        killed = worker.pid
    assert killed is not None, "no live worker process to kill"
    assert thread.is_alive(), "the sweep finished before a worker was killed"
    known = {worker.pid for worker in multiprocessing.active_children()}
    replacements: set[int] = set()  # workers started to run again what the kill stopped
    deadline = time.monotonic() + 180
    while thread.is_alive() and time.monotonic() < deadline:
        started = {p.pid for p in multiprocessing.active_children() if "Dask" not in p.name}
        replacements |= started - known - {killed}
        time.sleep(0.02)
    thread.join(1)
    assert not thread.is_alive()
    assert "error" not in outcome, outcome.get("error")
    table = outcome["result"].comparison
    assert table["scenario"].tolist() == ["count=6", "count=7", "count=8"]
    assert table["status"].tolist() == ["infeasible", "infeasible", "optimal"]
    assert leftovers(out) == []
    assert replacements, "nothing was run again after the kill"
    stamps = run_stamps(out)
    assert all(stamps[name] == stamp for name, stamp in finished.items())  # not solved again
