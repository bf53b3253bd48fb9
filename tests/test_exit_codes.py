"""Documented exit codes and failure paths, through the command line and the public API.

README.md's exit codes 4 (no grouping within the time limit) and 5 (the solver itself
failed, never reported as a time limit); a sweep scenario with no grouping in time; a
local sweep worker process that dies (``failed``); a Dask worker lost with
``distributed.scheduler.allowed-failures`` at 0 (``KilledWorker``); CBC stopped by its
time limit (``feasible``, never ``optimal``).

Faults are injected at the boundary mergeopt does not own (the solvers' own classes, or
an audit hook that kills the process opening one file), never by patching mergeopt, so
these tests hold whatever mergeopt's modules are called.
"""

from __future__ import annotations

import csv
import json
import os
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import dask
import distributed
import highspy
import pandas as pd
import pulp
import pytest
import yaml
from typer.testing import CliRunner

import mergeopt
from mergeopt.cli import app
from tests.reference.area import read_area
from tests.reference.scoring import broken_rules, objective

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def invoke(*args: object) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def write_config(folder: Path, rows: list[dict[str, object]], **sections: object) -> Path:
    """practices.csv from ``rows`` and a config reading it (maps off), with ``sections``."""
    with (folder / "practices.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    path = folder / "area.yaml"
    config = {"name": "area", "inputs": {"practices": "practices.csv"}, "maps": False}
    path.write_text(yaml.safe_dump(config | sections, sort_keys=False))
    return path


def exact_groups(folder: Path, *, time_limit: float = 1.0) -> tuple[Path, dict[str, str]]:
    """50 practices that group only into networks of exactly 50,000 patients.

    A hidden grouping exists (ten groups of five whose sizes add up to 50,000), so the
    rules can be met; finding any such grouping is a hard partition problem, which
    neither the greedy start nor HiGHS solves in seconds (HiGHS found none in 30 s on
    the development machine, so a one-second limit leaves a wide margin).
    """
    rng = random.Random(11)
    rows, hidden = [], {}
    for g in range(10):
        sizes = [rng.randrange(5_000, 12_000) for _ in range(4)]
        for k, size in enumerate([*sizes, 50_000 - sum(sizes)]):
            code = f"H{5 * g + k:03d}"
            hidden[code] = f"H{5 * g:03d}"
            rows.append(
                {
                    "practice_code": code,
                    "list_size": size,
                    "easting": 450_000 + rng.randrange(20_000),
                    "northing": 430_000 + rng.randrange(20_000),
                }
            )
    config = write_config(
        folder,
        rows,
        groups={"min_list_size": 50_000, "max_list_size": 50_000},
        solver={"time_limit": time_limit},
    )
    return config, hidden


def small_area(folder: Path, **sections: object) -> Path:
    """Six practices in two towns; networks of 10,000-20,000 patients (bounded: HiGHS)."""
    sites = [(450_000, 430_000), (451_000, 430_500), (450_500, 431_500)]
    sites += [(470_000, 440_000), (471_200, 440_300), (470_400, 441_000)]
    rows = [
        {"practice_code": f"S{k}", "list_size": 4_000 + 900 * k, "easting": x, "northing": y}
        for k, (x, y) in enumerate(sites)
    ]
    groups = {"min_list_size": 10_000, "max_list_size": 20_000}
    return write_config(folder, rows, groups=groups, **sections)


# ---------------------------------------------------------------------------------------
# exit code 4: no grouping within the time limit


def test_no_grouping_within_the_time_limit_exits_4_and_writes_nothing(tmp_path):
    config, hidden = exact_groups(tmp_path)
    area = read_area(config)
    assert broken_rules(area, hidden) == []  # the rules can be met: 4 is time, not rules
    out = tmp_path / "run"
    code, stdout, stderr = invoke("run", config, "--out", out)
    assert code == 4, stdout + stderr
    assert "no grouping found within the time limit of 1 s" in stderr
    assert "raise solver.time_limit" in stderr
    assert len(stderr.strip().splitlines()) == 1
    assert not out.exists() and not list(tmp_path.glob(".run.partial-*"))


def test_a_sweep_scenario_with_no_grouping_in_time_is_recorded_not_failed(tmp_path):
    """The scenario's run.json says ``no_solution``; the others carry on; exit code 0."""
    config, _ = exact_groups(tmp_path)
    out = tmp_path / "sweep"
    code, stdout, stderr = invoke(
        "sweep",
        config,
        "--vary",
        "groups.max_list_size=50000,60000",
        "--out",
        out,
        "--workers",
        "1",
    )
    assert code == 0, stdout + stderr
    table = pd.read_csv(out / "comparison.csv")
    assert table["scenario"].tolist() == ["max_list_size=50000", "max_list_size=60000"]
    first, second = table.to_dict("records")
    assert first["status"] == "no_solution"
    assert "no grouping found within the time limit" in first["status_text"]
    assert pd.isna(first["objective"]) and pd.isna(first["groups"])
    assert second["status"] in ("optimal", "feasible")
    record = json.loads((out / "max_list_size=50000" / "run.json").read_text())
    assert record["status"] == "no_solution" and record["objective"] is None
    assert sorted(p.name for p in (out / "max_list_size=50000").iterdir()) == [
        "run.json",
        "scenario.json",
    ]
    sweep = mergeopt.load_sweep(out)
    with pytest.raises(mergeopt.InputError, match=r"no grouping|no_solution"):
        sweep.load("max_list_size=50000")
    assert sweep.load("max_list_size=60000").metrics["groups"] == second["groups"]


# ---------------------------------------------------------------------------------------
# exit code 5: the solver itself failed


def _highs_classes() -> list[type]:
    """The HiGHS classes a model may be solved on: the compiled one and its wrapper."""
    core = getattr(getattr(highspy, "_core", None), "_Highs", None)
    return [cls for cls in (core, highspy.Highs) if cls is not None]


@pytest.mark.parametrize("failure", ["kSolveError", "kPostsolveError", "kModelError"])
def test_highs_failing_exits_5_with_its_status_never_as_a_time_limit(
    tmp_path, monkeypatch, failure
):
    status = getattr(highspy.HighsModelStatus, failure)
    for cls in _highs_classes():
        monkeypatch.setattr(cls, "getModelStatus", lambda self, status=status: status)
    text = highspy.Highs().modelStatusToString(status)
    out = tmp_path / "run"
    code, stdout, stderr = invoke("run", small_area(tmp_path), "--out", out)
    assert code == 5, stdout + stderr
    assert "HiGHS failed" in stderr and text in stderr
    assert "time limit" not in stderr
    assert not out.exists()


def _cbc_fails(self, lp, **kwargs):
    raise pulp.PulpSolverError("Pulp: Error while executing cbc (injected)")


def _cbc_undefined(self, lp, **kwargs):
    lp.assignStatus(pulp.LpStatusUndefined, pulp.LpSolutionNoSolutionFound)
    return lp.status


@pytest.mark.parametrize("fault", [_cbc_fails, _cbc_undefined], ids=["crashed", "undefined"])
def test_cbc_failing_exits_5_never_as_a_time_limit(tmp_path, monkeypatch, fault):
    monkeypatch.setattr(pulp.PULP_CBC_CMD, "actualSolve", fault)
    out = tmp_path / "run"
    config = small_area(tmp_path, solver={"name": "cbc", "time_limit": 30})
    code, stdout, stderr = invoke("run", config, "--out", out)
    assert code == 5, stdout + stderr
    assert "CBC" in stderr and "time limit" not in stderr
    assert not out.exists()


# ---------------------------------------------------------------------------------------
# CBC at its time limit


def test_cbc_stopped_by_its_time_limit_is_feasible_with_a_true_gap_never_optimal(tmp_path):
    """60 practices, exactly 6 networks of at most 42,000 patients: CBC finds groupings
    at once but does not prove one in a second. Scored by the independent reference."""
    rng = random.Random(5)
    rows = [
        {
            "practice_code": f"C{k:03d}",
            "list_size": rng.randrange(2_000, 6_000),
            "easting": 440_000 + rng.randrange(30_000),
            "northing": 420_000 + rng.randrange(30_000),
        }
        for k in range(60)
    ]
    config = write_config(
        tmp_path,
        rows,
        groups={"max_list_size": 42_000, "count": 6},
        solver={"name": "cbc", "time_limit": 1},
    )
    try:
        result = mergeopt.solve(config)
    except mergeopt.NoSolutionError as exc:  # CBC found nothing in its second: also honest
        assert "time limit" in str(exc)
        return
    assert result.status == "feasible", result.status_text()
    report = result.report
    assert report is not None and report.gap is not None and report.gap > 1e-6
    assert report.bound is not None and report.objective is not None
    assert report.bound < report.objective
    area = read_area(config)
    hub_of = dict(zip(result.assignments["practice_code"], result.assignments["hub"], strict=True))
    assert broken_rules(area, hub_of) == []
    assert abs(objective(area, hub_of) - report.objective) <= 1e-6 * report.objective


# ---------------------------------------------------------------------------------------
# Sweep workers that die


def _poison_hook(marker: str) -> str:
    """Python source that kills any process but the main one the moment it opens a file
    whose name ends with ``marker`` (an audit hook: no mergeopt code is touched)."""
    return textwrap.dedent(
        f"""
        import multiprocessing, os, signal, sys

        def _poison(event, args):
            if event == "open" and isinstance(args[0], str) and args[0].endswith({marker!r}):
                if multiprocessing.current_process().name != "MainProcess":
                    os.kill(os.getpid(), signal.SIGKILL)

        sys.addaudithook(_poison)
        """
    )


def _two_tables(folder: Path) -> Path:
    """good.csv and poison.csv (the same practices) and a config over good.csv."""
    config = small_area(folder)
    (folder / "good.csv").write_bytes((folder / "practices.csv").read_bytes())
    (folder / "poison.csv").write_bytes((folder / "practices.csv").read_bytes())
    return config


def test_a_local_worker_that_dies_marks_only_its_scenario_failed(tmp_path):
    """The scenario whose worker process is killed (each time it runs) is ``failed``; the
    other finishes; exit code 1. Run as a command, with the hook in sitecustomize."""
    config = _two_tables(tmp_path)
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(_poison_hook("poison.csv"))
    env = os.environ | {
        "PYTHONPATH": os.pathsep.join([str(hooks), *filter(None, [os.environ.get("PYTHONPATH")])])
    }
    out = tmp_path / "sweep"
    command = [sys.executable, "-m", "mergeopt", "sweep", str(config), "--out", str(out)]
    command += ["--vary", "inputs.practices=good.csv,poison.csv", "--workers", "2"]
    done = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 1, done.stdout + done.stderr
    table = pd.read_csv(out / "comparison.csv")
    assert table["scenario"].tolist() == ["practices=good.csv", "practices=poison.csv"]
    assert table["status"].tolist() == ["optimal", "failed"]
    assert "worker process running it died" in table.loc[1, "status_text"]
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["practices=good.csv"]
    assert not list(out.glob(".*partial*"))


def test_a_dask_worker_lost_with_no_allowed_failures_fails_its_scenario(tmp_path):
    """With ``distributed.scheduler.allowed-failures: 0`` a scenario whose worker dies is
    not run again: it fails with ``KilledWorker``; the other scenario finishes."""
    config = _two_tables(tmp_path)
    settings = {
        "distributed.scheduler.allowed-failures": 0,
        "distributed.scheduler.worker-saturation": 1.0,  # one scenario per worker at a time
    }
    with (
        dask.config.set(settings),
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
        ) as cluster,
        distributed.Client(cluster, set_as_default=False) as client,
    ):
        client.run(exec, _poison_hook("poison.csv"), {})
        sweep = mergeopt.run_sweep(
            config,
            out=tmp_path / "sweep",
            vary={"inputs.practices": [str(tmp_path / "good.csv"), str(tmp_path / "poison.csv")]},
            scheduler=cluster.scheduler_address,
            progress=False,
        )
    table = sweep.comparison
    assert table["status"].tolist() == ["optimal", "failed"]
    assert "KilledWorker" in table.loc[1, "status_text"]
    assert sweep.failed and list(sweep.failed) == [table.loc[1, "scenario"]]
