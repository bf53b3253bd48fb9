"""Executors: local processes and Dask give the same comparison; a killed worker loses or
repeats no scenario; an unreachable scheduler is a clear error."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import threading
import time

import pytest

from mergeopt._errors import InputError
from mergeopt.runs.sweep.run import run_sweep
from tests.runs.sweep.helpers import comparable, hull_config, leftovers, regions_config, run_stamps


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


def test_one_cpu_highs_apart_in_a_dask_worker_is_stopped_at_the_deadline(cluster):
    """In a Dask worker (a daemonic process), one CPU's HiGHS on a model whose root may
    overrun still runs apart and is stopped at the deadline: the worker reports what it
    had shared, not a run that went on past the limit."""
    from distributed import Client

    from tests.engine import beside_strategies

    with Client(cluster.scheduler_address, set_as_default=False) as client:
        daemonic, outcome, greedy, past = client.submit(
            beside_strategies.apart_in_this_process, 2.0, pure=False
        ).result(timeout=120)
    assert daemonic  # as Dask starts its workers: the case this test is for
    assert outcome.stopped_by == "HiGHS overran and was stopped"
    assert outcome.objective == pytest.approx(greedy)
    assert outcome.bound == pytest.approx(greedy / 2)
    assert past < 30.0  # stopped; the strategy itself never ends


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
