"""One scenario: solved and written as a run directory (in a worker), or found finished.

A scenario is skipped when its folder holds a run.json whose config hash and input hashes
match the scenario's; with ``force`` it is solved again once (``scenario.json`` says which
sweep wrote a folder, so a task run again after a lost worker is still solved once).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any

from mergeopt._errors import InfeasibleError, NoSolutionError
from mergeopt.config import Config, config_hash
from mergeopt.engine.solvers.highs import reset_thread_pool
from mergeopt.inputs.hashes import input_hashes
from mergeopt.runs.folders import read_json, write_json
from mergeopt.runs.run import solve_config
from mergeopt.runs.rundir import read_record, write_outcome, write_run
from mergeopt.runs.sweep.plan import Scenario
from mergeopt.runs.sweep.table import FINISHED, Row, failed_row, row_of

#: The file in each scenario's run directory naming the sweep and scenario that wrote it.
SCENARIO_FILE = "scenario.json"

#: What a worker needs to solve one scenario: plain data, picklable anywhere.
Task = dict[str, Any]


def task_for(scenario: Scenario, folder: Path, *, force: bool, sweep_id: str) -> Task:
    """The task of a scenario whose run directory goes in ``folder``."""
    return {
        "scenario": scenario.name,
        "values": scenario.values,
        "config": scenario.config.model_dump(mode="json"),
        "source": scenario.config.source,
        "folder": str(folder / scenario.name),
        "force": force,
        "sweep": sweep_id,
    }


def solve_scenario(task: Mapping[str, Any]) -> Row:
    """Solve one scenario and write its run directory; return its comparison row.

    ``task`` is plain data (see :func:`task_for`): the scenario's name, values and config
    (as JSON-ready data), its source file, the folder to write, ``force`` and the sweep's
    id. A scenario already finished with the same config and inputs is not solved again,
    unless ``force``; with ``force``, one finished by this very sweep is kept (a task run
    again after its worker was lost must not be solved twice). Any error is returned as
    a ``failed`` row, never raised: one scenario must not stop the others.
    """
    try:
        return _solve_and_write(task)
    except Exception as exc:
        return failed_row(exc, located=True)


def _solve_and_write(task: Mapping[str, Any]) -> Row:
    started = time.perf_counter()
    folder = Path(task["folder"])
    config = Config.from_data(task["config"], source=task.get("source"))
    done = done_by(folder, config, task["sweep"], force=task["force"])
    if done is not None:
        return row_of(done)
    # HiGHS sizes one thread pool per thread at its first solve; a worker runs many
    # scenarios (and explanations at the default size): each starts afresh
    reset_thread_pool()
    stamp = partial(_write_stamp, {k: task[k] for k in ("sweep", "scenario", "values")})
    try:
        result = solve_config(config)
    except (InfeasibleError, NoSolutionError) as exc:
        write_outcome(
            config,
            folder,
            status="infeasible" if isinstance(exc, InfeasibleError) else "no_solution",
            text=str(exc),
            overrides=exc.overrides if isinstance(exc, InfeasibleError) else {},
            timings={"total_seconds": round(time.perf_counter() - started, 4)},
            force=True,
            extra=[stamp],
        )
    else:
        write_run(result, folder, force=True, maps=config.maps, extra=[stamp], shared_plotly=True)
    record = read_record(folder)
    if record is None:  # pragma: no cover - just written
        raise RuntimeError(f"{folder}: run.json missing after writing")
    return row_of(record)


def _write_stamp(stamp: dict[str, Any], staging: Path) -> None:
    """scenario.json: which sweep wrote this run directory, for which scenario and values."""
    write_json(staging / SCENARIO_FILE, stamp)


def finished_record(
    folder: Path, config: Config, hashes: dict[tuple[str, ...], dict[str, str]]
) -> dict[str, Any] | None:
    """The run.json of a folder finished with this very config and inputs, else None.

    ``hashes`` caches the input hashes by the paths hashed, across scenarios.
    """
    record = read_record(folder)
    if record is None or record.get("status") not in FINISHED:
        return None
    if record.get("config_hash") != config_hash(config):
        return None
    paths = tuple(
        str(p) for p in (*config.inputs.files().values(), *config.travel.files().values())
    )
    if paths not in hashes:
        hashes[paths] = input_hashes(config)
    return record if record.get("inputs") == hashes[paths] else None


def done_by(folder: Path, config: Config, sweep_id: str, *, force: bool) -> dict[str, Any] | None:
    """The run.json of a scenario that needs no solving: finished with this config and
    inputs (with ``force``: and by this very sweep), else None."""
    record = finished_record(folder, config, {})
    if record is None or not force:
        return record
    stamp = read_json(folder / SCENARIO_FILE)
    return record if stamp is not None and stamp.get("sweep") == sweep_id else None
