"""Batches of scenarios: one config tried with several values, or split by region.

A sweep is a list of scenarios, each the config with some dotted keys changed
(``groups.count: 8``) and/or the practices of one region selected (``inputs.select:
{icb_code: [QOQ]}``, one scenario per value of a ``split_by`` column). Each scenario is
solved by the engine of ``mergeopt run`` (:func:`mergeopt.runs.solve_config`) and written
as a run directory of its own; at the top of the sweep folder, ``comparison.csv`` has one
row per scenario and ``comparison.png`` draws its figures against the varied value.

The sweep folder
----------------
==========================  ============================================================
``<scenario>/``             a run directory (the contract of ``mergeopt run``, maps
                            included when the config has ``maps: true``) and
                            ``scenario.json`` (the sweep's id, the scenario's name and
                            varied values). An infeasible scenario, or one with no
                            grouping within the time limit, gets only ``run.json`` (its
                            status and the explanation) and ``scenario.json``.
``comparison.csv``          one row per finished scenario, in plan order (see below)
``comparison.png``          the figures against the varied value
==========================  ============================================================

``comparison.csv`` columns: ``scenario`` (the folder name), one column per varied key
(and the ``split_by`` column), then ``status`` (optimal, feasible, infeasible,
no_solution or failed), ``objective``, ``bound``, ``gap``, ``groups``, ``mean_travel``
(patient-weighted mean travel to hub), ``max_travel``, ``smallest_group``,
``largest_group`` (list sizes), ``practices_moved``, ``patients_moved``, ``travel_unit``,
``status_text`` (what was proved; for an infeasible or failed scenario, why), and the
timing columns ``solve_seconds`` (the solver) and ``total_seconds`` (the whole scenario).
Apart from the two timing columns the file is the same whichever executor ran the sweep.

Executors
---------
Without a scheduler, scenarios run in a pool of local processes (``workers``, default one
per CPU). With ``scheduler="tcp://host:8786"`` they are submitted to an existing Dask
distributed cluster, whose workers need mergeopt installed and the same paths (inputs
and the sweep folder) on a shared file system. Each scenario's solver runs on one thread
unless the config sets ``solver.threads``: scenarios, not threads, are the parallelism,
and the results do not depend on how many run at once.

Resuming
--------
A scenario is skipped when its folder holds a run.json whose config hash and input hashes
match the scenario's (re-running an interrupted or extended sweep solves only what is
missing); ``force=True`` solves every scenario again, once (scenario.json says which
sweep wrote a folder). A failed scenario (an unexpected
error, or a worker process that died) writes nothing and is tried again on the next run.
Run directories are written atomically, so a killed worker or a Ctrl-C never leaves a
half-written one, and a scenario retried after a lost worker is still written once.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import re
import shutil
import signal
import time
import traceback
import uuid
from collections.abc import Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import yaml
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from mergeopt._errors import InfeasibleError, InputError, MergeoptError, NoSolutionError
from mergeopt.config import Config, Sweep, config_hash, config_key_problem, load_config
from mergeopt.engine.processes import process_context, usable_cpus
from mergeopt.inputs.hashes import input_hashes
from mergeopt.inputs.practices import read_source
from mergeopt.outputs import (
    Writer,
    load_run,
    write_folder,
    write_record,
    write_run,
)
from mergeopt.runs import RunResult, solve_config

if TYPE_CHECKING:
    from multiprocessing.context import BaseContext
    from multiprocessing.queues import SimpleQueue

    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: Statuses of a finished scenario (one with a run directory); ``failed`` is not one.
FINISHED = ("optimal", "feasible", "infeasible", "no_solution")
SOLVED = ("optimal", "feasible")
_INTEGER = ("groups", "smallest_group", "largest_group", "practices_moved", "patients_moved")
_METRICS = ("groups", "mean_travel", "max_travel", "smallest_group", "largest_group")
#: comparison.csv columns after ``scenario`` and the varied values.
COLUMNS = (
    "status",
    "objective",
    "bound",
    "gap",
    *_METRICS,
    "practices_moved",
    "patients_moved",
    "travel_unit",
    "status_text",
    "solve_seconds",
    "total_seconds",
)
#: The file in each scenario's run directory naming the sweep and scenario that wrote it.
SCENARIO_FILE = "scenario.json"
#: Columns that depend on the machine and the load, not on the scenario.
TIMING_COLUMNS = ("solve_seconds", "total_seconds")
_RANGE = re.compile(r"^\s*(-?\d+)\s*\.\.\s*(-?\d+)\s*$")

Row = dict[str, Any]


@dataclass(frozen=True)
class Scenario:
    """One problem of a sweep: its folder name, varied values and validated config."""

    name: str
    values: dict[str, Any]
    config: Config


@dataclass(frozen=True)
class SweepResult:
    """A sweep folder: the comparison table and a way to open each scenario.

    ``comparison`` is comparison.csv as a DataFrame (one row per finished scenario);
    ``varied`` names its varied-value columns; ``reused`` the scenarios that
    :func:`run_sweep` found already finished and did not solve again.
    """

    folder: Path
    comparison: pd.DataFrame
    varied: tuple[str, ...]
    reused: tuple[str, ...] = ()
    title: str = ""

    @property
    def scenarios(self) -> list[str]:
        """Scenario names, in plan order."""
        return [str(name) for name in self.comparison["scenario"]]

    @property
    def folders(self) -> dict[str, Path]:
        """The run directory of every scenario that has one (all but failed ones)."""
        table = self.comparison
        finished = table[table["status"].isin(FINISHED)]
        return {str(name): self.folder / str(name) for name in finished["scenario"]}

    @property
    def failed(self) -> dict[str, str]:
        """Failed scenarios and their errors (they are tried again on the next run)."""
        table = self.comparison[self.comparison["status"] == "failed"]
        return dict(
            zip(table["scenario"].astype(str), table["status_text"].astype(str), strict=True)
        )

    def load(self, scenario: str) -> RunResult:
        """Open one scenario's run directory as a :class:`~mergeopt.runs.RunResult`.

        Raises
        ------
        InputError
            No such scenario, or it has no grouping (infeasible, no solution, failed).
        """
        rows = self.comparison[self.comparison["scenario"] == scenario]
        if rows.empty:
            known = ", ".join(self.scenarios[:8])
            raise InputError(f"{self.folder}: no scenario '{scenario}' (scenarios: {known})")
        row = rows.iloc[0]
        if row["status"] not in SOLVED:
            raise InputError(
                f"scenario '{scenario}' is {row['status']}: {row['status_text']}; "
                "it has no grouping to load"
            )
        return load_run(self.folder / scenario)

    def plot(self) -> tuple[Figure, list[Axes]]:
        """The comparison chart (as comparison.png), as a pyplot figure (a notebook shows it)."""
        import matplotlib.pyplot as plt

        return plot_comparison(self.comparison, self.varied, title=self.title, figure=plt.figure())


class SweepInterrupted(KeyboardInterrupt):
    """A sweep stopped by Ctrl-C; ``result`` holds the scenarios that finished.

    Finished scenarios keep their run directories and comparison.csv lists them;
    running the same sweep again solves only the rest.
    """

    def __init__(self, result: SweepResult) -> None:
        super().__init__(f"sweep interrupted: {len(result.comparison)} scenario(s) finished")
        self.result = result


# ---------------------------------------------------------------------------------------
# Planning: config + varied values -> scenarios


def plan_sweep(
    config: Config | Path | str,
    *,
    vary: Mapping[str, Sequence[Any]] | None = None,
    split_by: str | None = None,
) -> list[Scenario]:
    """The scenarios of a sweep, each with its config validated (nothing is solved).

    Several varied keys give every combination (the first key varies slowest); with
    ``split_by``, each value of that column of the practices table is a region of its
    own (``inputs.select``), outermost. Scenarios are named after their values (a key
    given a single value applies to all and is left out of the names).

    >>> [s.name for s in plan_sweep("configs/hull_pcn.yaml", vary={"groups.count": [7, 8]})]
    ['count=7', 'count=8']

    Raises
    ------
    InputError
        A key that is not in the config schema, a value it rejects, or a ``split_by``
        column that is missing or has empty cells (the message names which).
    """
    base = config if isinstance(config, Config) else load_config(config)
    values_of = {key: list(values) for key, values in (vary or {}).items()}
    _check_plan(base, values_of, split_by)
    regions: list[str | None] = list(_regions(base, split_by)) if split_by else [None]
    short = _short_names(list(values_of))
    # a key given one value is a setting of every scenario, not part of its name
    named = {key for key, values in values_of.items() if len(values) > 1}
    if not named and not split_by:
        named = set(values_of)
    if split_by:
        named.add(split_by)
    scenarios: list[Scenario] = []
    seen: set[str] = set()
    for region in regions:
        for combo in itertools.product(*values_of.values()):
            values: dict[str, Any] = {}
            overrides: dict[str, Any] = {"sweep": None}
            if region is not None and split_by is not None:
                values[split_by] = region
                overrides["inputs.select"] = {**base.inputs.select, split_by: [region]}
            values |= dict(zip(values_of, combo, strict=True))
            overrides |= dict(zip(values_of, combo, strict=True))
            if base.solver.threads is None and "solver.threads" not in values_of:
                overrides["solver.threads"] = 1
            parts = [f"{short.get(k, k)}={_slug(v)}" for k, v in values.items() if k in named]
            name = _unique("+".join(parts) or base.name, seen)
            try:
                scenario = Scenario(name, values, base.with_overrides(**overrides))
            except InputError as exc:
                raise InputError(f"{exc} (sweep scenario {name})") from None
            scenarios.append(scenario)
    return scenarios


def _check_plan(base: Config, vary: dict[str, list[Any]], split_by: str | None) -> None:
    if not vary and not split_by:
        raise InputError(
            f"{base.source}: nothing to sweep: give --groups, --vary or --split-by, "
            "or a sweep block (sweep: {vary: {groups.count: [6, 7, 8]}})"
        )
    for key, values in vary.items():
        problem = config_key_problem(key)
        if problem:
            raise InputError(f"{base.source}: config key '{key}' to vary: {problem}")
        if not values:
            raise InputError(f"{base.source}: config key '{key}' to vary has no values")
        if key in ("scenario", *COLUMNS):
            raise InputError(f"config key '{key}': vary the keys inside it, e.g. groups.count")
    if split_by is not None and ("inputs.select" in vary or split_by in ("scenario", *COLUMNS)):
        raise InputError(f"--split-by {split_by}: cannot be combined with varying inputs.select")


def _regions(config: Config, column: str) -> list[str]:
    """The values of a column of the practices table (within any existing selection)."""
    path = config.inputs.source
    raw = read_source(config)
    if column not in raw.columns:
        raise InputError(
            f"{path}: missing column '{column}' named by split_by "
            f"(columns are: {', '.join(map(str, raw.columns))})"
        )
    for name, values in config.inputs.select.items():
        if name in raw.columns:
            raw = raw[raw[name].astype("string").str.strip().isin(values).fillna(False)]
    text = raw[column].astype("string").str.strip()
    empty = [int(k) + 2 for k in range(len(text)) if pd.isna(text.iloc[k]) or not text.iloc[k]]
    if empty:
        shown = ", ".join(map(str, empty[:5])) + (
            f" (+{len(empty) - 5} more)" if len(empty) > 5 else ""
        )
        raise InputError(
            f"{path}: column '{column}' is empty in rows {shown}: every practice needs a "
            "value to split by"
        )
    return sorted(set(text.astype(str)))


def _short_names(keys: list[str]) -> dict[str, str]:
    """``groups.count`` -> ``count`` in scenario names, where the last part is unique."""
    last = [key.rsplit(".", 1)[-1] for key in keys]
    return {
        key: tail if last.count(tail) == 1 else key for key, tail in zip(keys, last, strict=True)
    }


def _slug(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.") or "value"


def _unique(name: str, seen: set[str]) -> str:
    candidate, k = name, 1
    while candidate in seen:
        k += 1
        candidate = f"{name}-{k}"
    seen.add(candidate)
    return candidate


def parse_groups(text: str) -> list[int]:
    """``--groups``: a range ``6..10`` (both ends included) or a list ``6,8,10``.

    >>> parse_groups("6..10")
    [6, 7, 8, 9, 10]
    >>> parse_groups("8,6")
    [8, 6]
    """
    values = _parse_values(text)
    if not values or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise InputError(f"--groups '{text}': give a range like 6..10 or a list like 6,8,10")
    return [int(v) for v in values]


def parse_vary(text: str) -> tuple[str, list[Any]]:
    """``--vary KEY=V1,V2,...``: a dotted config key and its values.

    Values are read as YAML (numbers, ``true``, ``null``, ``{min: 6, max: 9}``); a
    range ``A..B`` gives the whole numbers from A to B.

    >>> parse_vary("travel.max_minutes=15,20")
    ('travel.max_minutes', [15, 20])
    >>> parse_vary("groups.count={min: 6, max: 9},8")
    ('groups.count', [{'min': 6, 'max': 9}, 8])
    """
    key, sep, values = text.partition("=")
    key = key.strip()
    if not sep or not key or not values.strip():
        raise InputError(f"--vary '{text}': give KEY=V1,V2,... (e.g. travel.max_minutes=15,20,25)")
    problem = config_key_problem(key)
    if problem:
        raise InputError(f"--vary: config key '{key}': {problem}")
    return key, _parse_values(values, flag=f"--vary {key}")


def _parse_values(text: str, *, flag: str = "--groups") -> list[Any]:
    """A range ``A..B`` or a comma-separated list of YAML values."""
    matched = _RANGE.match(text)
    if matched:
        low, high = int(matched[1]), int(matched[2])
        if low > high:
            raise InputError(f"{flag} '{text}': the range runs from {low} down to {high}")
        return list(range(low, high + 1))
    try:
        values = yaml.safe_load(f"[{text}]")
    except yaml.YAMLError:
        raise InputError(f"{flag} '{text}': not a list of values (V1,V2,... or A..B)") from None
    return [_number(value) for value in values]


def _number(value: Any) -> Any:
    """YAML reads ``1e-6`` as text: take it as the number it looks like."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


# ---------------------------------------------------------------------------------------
# Running a sweep


def run_sweep(
    config: Config | Path | str,
    *,
    out: Path | str | None = None,
    vary: Mapping[str, Sequence[Any]] | None = None,
    split_by: str | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    force: bool = False,
    progress: bool = True,
) -> SweepResult:
    """Solve every scenario of a sweep and write the sweep folder.

    Parameters
    ----------
    config
        A config, or the path of a YAML config. Its ``sweep`` block, if any, gives the
        defaults of the options below; the options given here win, key by key for ``vary``.
    out
        The sweep folder (default ``runs/<config name>-sweep``).
    vary
        Dotted config keys and the values to try, e.g. ``{"groups.count": [6, 7, 8]}``.
    split_by
        A column of the practices table: one problem per value (e.g. ``icb_code``).
    scheduler
        The address of a Dask scheduler (``tcp://host:8786``); None: local processes.
    workers
        Local processes (default: one per CPU); ignored with a scheduler.
    force
        Solve every scenario again, even those already finished.
    progress
        Show a progress bar (a line per scenario when not on a terminal).

    Returns
    -------
    SweepResult
        The comparison table; ``reused`` names the scenarios not solved again.

    Raises
    ------
    InputError
        A varied key or value the config rejects, a missing ``split_by`` column, or an
        unreachable scheduler: before anything is solved.
    SweepInterrupted
        Ctrl-C: finished scenarios are kept and listed in comparison.csv.

    Examples
    --------
    >>> import tempfile
    >>> config = load_config("configs/hull_pcn.yaml").with_overrides(maps=False)
    >>> folder = Path(tempfile.mkdtemp()) / "sweep"
    >>> sweep = run_sweep(config, out=folder, vary={"groups.count": [8, 9]}, progress=False)
    >>> sweep.comparison[["scenario", "groups.count", "status", "groups"]].values.tolist()
    [['count=8', 8, 'optimal', 8], ['count=9', 9, 'infeasible', <NA>]]
    >>> sweep.load("count=8").metrics["groups"]
    8
    >>> load_sweep(folder).scenarios
    ['count=8', 'count=9']
    """
    base = config if isinstance(config, Config) else load_config(config)
    block = base.sweep or Sweep()
    scheduler = scheduler or block.scheduler
    scenarios = plan_sweep(
        base, vary={**block.vary, **(vary or {})}, split_by=split_by or block.split_by
    )
    folder = Path(out) if out is not None else Path("runs") / f"{base.name}-sweep"
    folder = folder.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    varied = tuple(scenarios[0].values)
    title = f"{base.name}: {len(scenarios)} scenarios"
    sweep_id = uuid.uuid4().hex
    rows: dict[str, Row] = {}
    hashes: dict[tuple[str, ...], dict[str, str]] = {}
    for scenario in [] if force else scenarios:
        record = _finished_record(folder / scenario.name, scenario.config, hashes)
        if record is not None:
            rows[scenario.name] = _row(record)
    tasks = [
        _task(scenario, folder, force=force, sweep_id=sweep_id)
        for scenario in scenarios
        if scenario.name not in rows
    ]
    tracker = _Tracker(len(scenarios), reused=len(rows), enabled=progress, title=base.name)
    try:
        with tracker:
            if tasks and scheduler:
                _run_dask(tasks, scheduler, tracker)
            elif tasks:
                _run_local(tasks, workers or block.workers or usable_cpus(), tracker)
    except KeyboardInterrupt:
        rows |= tracker.rows
        _remove_staging(folder, scenarios)
        for scenario in scenarios:  # finished, but stopped before it could say so
            done = _done_by(folder / scenario.name, scenario.config, sweep_id, force=force)
            if scenario.name not in rows and done is not None:
                rows[scenario.name] = _row(done)
        result = _write_comparison(folder, scenarios, rows, varied, title=title)
        raise SweepInterrupted(result) from None
    reused = tuple(name for name in rows if name not in tracker.rows)
    rows |= tracker.rows
    _remove_staging(folder, scenarios)  # of workers killed mid-write (their scenario re-ran)
    result = _write_comparison(folder, scenarios, rows, varied, title=title)
    return SweepResult(folder, result.comparison, varied, reused, title)


def load_sweep(folder: Path | str) -> SweepResult:
    """Open a sweep folder written by :func:`run_sweep` (or ``mergeopt sweep``).

    The varied-value columns are those between ``scenario`` and ``status``.
    """
    folder = Path(folder)
    path = folder / "comparison.csv"
    if not path.is_file():
        raise InputError(f"{folder}: not a sweep folder (no comparison.csv)")
    table = pd.read_csv(
        path, dtype={"scenario": str, "status_text": str}, float_precision="round_trip"
    )
    columns = list(table.columns)
    if "scenario" not in columns or "status" not in columns:
        raise InputError(f"{path}: not a comparison table (no scenario/status columns)")
    varied = tuple(columns[columns.index("scenario") + 1 : columns.index("status")])
    for column in _INTEGER:
        if column in table:
            table[column] = table[column].astype("Int64")
    table["status_text"] = table["status_text"].fillna("")
    return SweepResult(folder, table, varied, (), f"{folder.name}: {len(table)} scenarios")


def _task(scenario: Scenario, folder: Path, *, force: bool, sweep_id: str) -> dict[str, Any]:
    """What a worker needs to solve one scenario: plain data, picklable anywhere."""
    return {
        "scenario": scenario.name,
        "values": scenario.values,
        "config": scenario.config.model_dump(mode="json"),
        "source": scenario.config.source,
        "folder": str(folder / scenario.name),
        "force": force,
        "sweep": sweep_id,
    }


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# ---------------------------------------------------------------------------------------
# One scenario (runs in a worker process or on a Dask worker)


def solve_scenario(task: Mapping[str, Any]) -> Row:
    """Solve one scenario and write its run directory; return its comparison row.

    ``task`` is plain data (see ``_task``): the scenario's name, values and config (as
    JSON-ready data), its source file, the folder to write, ``force`` and the sweep's id.
    A scenario already finished with the same config and inputs is not solved again,
    unless ``force``; with ``force``, one finished by this very sweep is kept (a task run
    again after its worker was lost must not be solved twice). Any error is returned as
    a ``failed`` row, never raised: one scenario must not stop the others.
    """
    try:
        return _solve_and_write(task)
    except Exception as exc:
        return _failed(exc, located=True)


def _solve_and_write(task: Mapping[str, Any]) -> Row:
    started = time.perf_counter()
    folder = Path(task["folder"])
    config = Config.model_validate(task["config"])
    config._source = Path(task["source"]) if task.get("source") not in (None, "<config>") else None
    done = _done_by(folder, config, task["sweep"], force=task["force"])
    if done is not None:
        return _row(done)
    _fresh_solver_threads()
    stamp = {"sweep": task["sweep"], "scenario": task["scenario"], "values": task["values"]}
    try:
        result = solve_config(config)
    except (InfeasibleError, NoSolutionError) as exc:
        status = "infeasible" if isinstance(exc, InfeasibleError) else "no_solution"
        overrides = exc.overrides if isinstance(exc, InfeasibleError) else {}
        timings = {"total_seconds": round(time.perf_counter() - started, 4)}
        outcome = _outcome_record(config, status, str(exc), overrides, timings)

        def fill(staging: Path) -> None:
            write_record(staging, outcome)
            _write_stamp(stamp, None, staging)

        write_folder(folder, fill, force=True)
    else:
        extra: list[Writer] = [partial(_write_stamp, stamp)]
        write_run(result, folder, force=True, maps=config.maps, extra=extra)
    record = _read_record(folder)
    if record is None:  # pragma: no cover - just written
        raise RuntimeError(f"{folder}: run.json missing after writing")
    return _row(record)


def _fresh_solver_threads() -> None:
    """Let this scenario's solve size HiGHS's thread pool afresh.

    HiGHS keeps one thread pool per thread, sized by the first solve; a later solve in
    the same thread that asks for another size fails at once (status "Not Set"). A
    worker runs many scenarios, and the elastic re-solve that explains an infeasible one
    uses the default size, so the next scenario's ``threads: 1`` would fail without this.
    """
    try:
        import highspy
    except ImportError:  # pragma: no cover - a dependency
        return
    reset = getattr(highspy.Highs, "resetThreadScheduler", None) or getattr(
        highspy.Highs, "resetGlobalScheduler", None
    )
    if reset is not None:
        reset(True)


def _outcome_record(
    config: Config, status: str, text: str, overrides: dict[str, Any], timings: dict[str, float]
) -> dict[str, Any]:
    """run.json of a scenario with no grouping: the fields of a run's, and why."""
    return {
        "mergeopt_version": version("mergeopt"),
        "created": _now(),
        "config_file": config.source,
        "config_hash": config_hash(config),
        "config": config.model_dump(mode="json"),
        "inputs": input_hashes(config),
        "kind": "optimisation",
        "grouping": None,
        "status": status,
        "status_text": text,
        "overrides": overrides,
        "solver": None,
        "objective": None,
        "bound": None,
        "gap": None,
        "travel_unit": config.travel.unit,
        "metrics": {},
        "violations": [],
        "timings": timings,
    }


def _write_stamp(stamp: dict[str, Any], result: RunResult | None, staging: Path) -> None:
    """scenario.json: which sweep wrote this run directory, for which scenario and values."""
    text = json.dumps(stamp, indent=2, allow_nan=False, default=_plain)
    (staging / SCENARIO_FILE).write_text(text + "\n", encoding="utf-8")


def _plain(value: Any) -> Any:
    """numpy scalars (and anything else) as JSON."""
    return value.item() if hasattr(value, "item") else str(value)


def _read_record(folder: Path) -> dict[str, Any] | None:
    try:
        record = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def _finished_record(
    folder: Path, config: Config, hashes: dict[tuple[str, ...], dict[str, str]]
) -> dict[str, Any] | None:
    """The run.json of a folder finished with this very config and inputs, else None."""
    record = _read_record(folder)
    if record is None or record.get("status") not in FINISHED:
        return None
    if record.get("config_hash") != config_hash(config):
        return None
    paths = tuple(str(p) for p in (*config.inputs.files().values(), config.travel.matrix))
    if paths not in hashes:
        hashes[paths] = input_hashes(config)
    return record if record.get("inputs") == hashes[paths] else None


def _done_by(folder: Path, config: Config, sweep_id: str, *, force: bool) -> dict[str, Any] | None:
    """The run.json of a scenario that needs no solving: finished with this config and
    inputs (with ``force``: and by this very sweep), else None."""
    record = _finished_record(folder, config, {})
    if record is None or not force:
        return record
    try:
        stamp = json.loads((folder / SCENARIO_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(stamp, dict) and stamp.get("sweep") == sweep_id else None


def _row(record: Mapping[str, Any]) -> Row:
    """A comparison row from a run.json."""
    metrics = record.get("metrics") or {}
    timings = record.get("timings") or {}
    row: Row = {
        "status": record.get("status"),
        "objective": record.get("objective"),
        "bound": record.get("bound"),
        "gap": record.get("gap"),
    }
    row |= {name: metrics.get(name) for name in (*_METRICS, "practices_moved", "patients_moved")}
    row |= {
        "travel_unit": record.get("travel_unit"),
        "status_text": record.get("status_text") or "",
        "solve_seconds": timings.get("solve_seconds"),
        "total_seconds": timings.get("total_seconds"),
    }
    return row


def _failed(error: BaseException | None, *, located: bool = False) -> Row:
    """A failed row: the error's type and first line (and where, for a bug's exception)."""
    if error is None:  # pragma: no cover - callers pass the error
        error = RuntimeError("unknown error")
    lines = str(error).strip().splitlines()
    message = f"{type(error).__name__}: {lines[0] if lines else ''}"
    explained = isinstance(error, MergeoptError)  # its message says what to do
    frames = traceback.extract_tb(error.__traceback__) if located and not explained else []
    if frames:
        message += f" (at {Path(frames[-1].filename).name}:{frames[-1].lineno})"
    return {column: None for column in COLUMNS} | {"status": "failed", "status_text": message}


# ---------------------------------------------------------------------------------------
# Executors


def _run_local(tasks: list[dict[str, Any]], workers: int, tracker: _Tracker) -> None:
    """Solve tasks in local worker processes.

    If a worker process dies (a crash in native code, the out-of-memory killer), the pool
    breaks: the scenarios that had not started are run again, and those that were running
    are then re-run one at a time, so the one that kills its process is found and marked
    failed while the others finish.
    """
    context = process_context()
    waiting, suspects = list(tasks), list[dict[str, Any]]()
    idle_breaks = 0
    while waiting or suspects:
        alone = not waiting
        batch = [suspects.pop(0)] if alone else waiting
        waiting = [] if not alone else waiting
        width = 1 if alone else max(1, min(workers, len(batch)))
        broken = _run_pool(batch, width, context, tracker)
        if broken is None:
            continue
        running, not_started = broken
        if alone:
            tracker.finished(running[0]["scenario"] if running else batch[0]["scenario"], _died())
            continue
        idle_breaks = 0 if running else idle_breaks + 1
        if idle_breaks >= 2:  # processes die before running anything: give up on the rest
            for task in not_started + suspects:
                tracker.finished(
                    task["scenario"],
                    _died("the worker processes failed to start (their error is printed above)"),
                )
            return
        suspects += running
        waiting = not_started


def _died(text: str = "the worker process running it died") -> Row:
    return _failed(ChildProcessError(text))


def _run_pool(
    batch: list[dict[str, Any]], width: int, context: BaseContext, tracker: _Tracker
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]] | None:
    """Run a batch in one process pool; if the pool broke, the (running, not started)."""
    started_queue: SimpleQueue[str] = context.SimpleQueue()
    pool = ProcessPoolExecutor(
        max_workers=width, mp_context=context, initializer=_init_worker, initargs=(started_queue,)
    )
    futures: dict[Future[Row], dict[str, Any]] = {}
    started: set[str] = set()
    finished: set[str] = set()
    broken: list[dict[str, Any]] = []
    try:
        futures = {pool.submit(_local_task, task): task for task in batch}
        pending = set(futures)
        while pending:
            done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            while not started_queue.empty():
                started.add(started_queue.get())
            for future in done:
                task = futures[future]
                error = future.exception()
                if isinstance(error, BrokenProcessPool):
                    broken.append(task)
                    continue
                finished.add(task["scenario"])
                tracker.finished(task["scenario"], _failed(error) if error else future.result())
            tracker.running(len(started - finished))
    except BaseException:
        _stop(pool)
        raise
    pool.shutdown(wait=True)
    if not broken:
        return None
    while not started_queue.empty():
        started.add(started_queue.get())
    running = [task for task in broken if task["scenario"] in started]
    return running, [task for task in broken if task["scenario"] not in started]


_started_queue: SimpleQueue[str] | None = None


def _init_worker(started_queue: SimpleQueue[str]) -> None:
    """In each local worker: leave Ctrl-C to the sweep, and report scenarios started."""
    global _started_queue
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _started_queue = started_queue


def _local_task(task: dict[str, Any]) -> Row:
    if _started_queue is not None:
        _started_queue.put(task["scenario"])
    return solve_scenario(task)


def _stop(pool: ProcessPoolExecutor) -> None:
    """Stop a pool now: cancel what has not started and end the running workers."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for process in processes:
        process.terminate()
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.join(10)


def _remove_staging(folder: Path, scenarios: list[Scenario]) -> None:
    """Remove staging folders that workers stopped mid-write left behind."""
    for scenario in scenarios:
        for stale in folder.glob(f".{scenario.name}.partial-*"):
            shutil.rmtree(stale, ignore_errors=True)


def _run_dask(tasks: list[dict[str, Any]], scheduler: str, tracker: _Tracker) -> None:
    """Submit each scenario to a Dask cluster; a lost worker's task is run again there."""
    import distributed

    dask: Any = distributed  # untyped
    try:
        client = dask.Client(scheduler, set_as_default=False)  # distributed.comm.timeouts
    except (OSError, TimeoutError) as exc:
        raise InputError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
    with client:
        token = uuid.uuid4().hex[:8]
        futures = {
            client.submit(solve_scenario, task, key=f"mergeopt-{task['scenario']}-{token}"): task
            for task in tasks
        }
        slots = max(1, sum(client.nthreads().values()))
        outstanding = len(futures)
        tracker.running(min(slots, outstanding))
        try:
            for future in dask.as_completed(futures, loop=client.loop):
                task = futures[future]
                try:
                    row = future.result()
                except Exception as exc:  # KilledWorker, or an error outside the scenario
                    row = _failed(exc)
                outstanding -= 1
                tracker.finished(task["scenario"], row)
                tracker.running(min(slots, outstanding))
        except BaseException:
            client.cancel(list(futures))
            raise


# ---------------------------------------------------------------------------------------
# Progress


class _Tracker:
    """Rows as scenarios finish, shown as a progress bar (or a line each off a terminal)."""

    def __init__(self, total: int, *, reused: int, enabled: bool, title: str) -> None:
        self.rows: dict[str, Row] = {}
        self.total, self.reused, self.enabled = total, reused, enabled
        self.failed = 0
        self.console = Console(stderr=True)
        self.bar: Progress | None = None
        self.task_id: Any = None
        if enabled and self.console.is_terminal:
            self.bar = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("done, {task.fields[running]} running, {task.fields[failed]} failed"),
                TimeElapsedColumn(),
                TextColumn("elapsed,"),
                TimeRemainingColumn(),
                TextColumn("left"),
                console=self.console,
            )
            self.task_id = self.bar.add_task(
                title, total=total, completed=reused, running=0, failed=0
            )
        if enabled and reused:
            self.console.print(
                f"{reused} of {total} scenario(s) already finished with the same config and "
                "inputs: not solved again (--force to redo)",
                highlight=False,
            )

    def __enter__(self) -> _Tracker:
        if self.bar is not None:
            self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()

    def running(self, count: int) -> None:
        if self.bar is not None:
            self.bar.update(self.task_id, running=count)

    def finished(self, name: str, row: Row) -> None:
        self.rows[name] = row
        self.failed += row["status"] == "failed"
        if self.bar is not None:
            self.bar.update(self.task_id, advance=1, failed=self.failed)
        if self.enabled:
            count = self.reused + len(self.rows)
            line = f"[{count}/{self.total}] {name}: {_describe(row)}"
            style = "red" if row["status"] == "failed" else None
            self.console.print(line, highlight=False, style=style, soft_wrap=True)


def _describe(row: Mapping[str, Any]) -> str:
    """One line for a comparison row: figures if solved, else why not."""
    status = str(row["status"])
    if status in SOLVED:
        unit = row.get("travel_unit") or ""
        gap = "" if status == "optimal" else f" (gap {_number_or(row.get('gap'), '{:.2%}')})"
        return (
            f"{status}{gap}, {row['groups']} groups, objective {row['objective']:,.1f}, "
            f"mean travel {row['mean_travel']:.2f} {unit}, max {row['max_travel']:.2f}"
        )
    return f"{status}: {row.get('status_text') or ''}"


def _number_or(value: Any, pattern: str, missing: str = "unknown") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return missing
    return pattern.format(value)


# ---------------------------------------------------------------------------------------
# comparison.csv and comparison.png


def _write_comparison(
    folder: Path,
    scenarios: list[Scenario],
    rows: dict[str, Row],
    varied: tuple[str, ...],
    *,
    title: str,
) -> SweepResult:
    records = [
        {"scenario": s.name, **{k: _cell(s.values[k]) for k in varied}, **rows[s.name]}
        for s in scenarios
        if s.name in rows
    ]
    table = pd.DataFrame.from_records(records, columns=["scenario", *varied, *COLUMNS])
    for column in _INTEGER:
        table[column] = pd.array(table[column].tolist(), dtype="Int64")
    for column in ("objective", "bound", "gap", "mean_travel", "max_travel", *TIMING_COLUMNS):
        table[column] = pd.to_numeric(table[column], errors="coerce").astype(float)
    _replace_file(folder / "comparison.csv", lambda path: table.to_csv(path, index=False))
    figure, _ = plot_comparison(table, varied, title=title)
    _replace_file(folder / "comparison.png", lambda path: figure.savefig(path, dpi=120))
    return SweepResult(folder, table, varied, (), title)


def _cell(value: Any) -> Any:
    """A varied value as a table cell: scalars as they are, others as compact JSON."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return json.dumps(value, separators=(",", ":"))


def _replace_file(path: Path, write: Any) -> None:
    """Write a file under a temporary name beside it, then rename it into place."""
    temporary = path.with_name(f".{path.stem}.{os.getpid()}-{uuid.uuid4().hex[:8]}{path.suffix}")
    try:
        write(temporary)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


_PANELS = (
    ("objective", "objective"),
    ("mean_travel", "mean travel to hub ({unit}, patient-weighted)"),
    ("max_travel", "longest travel to hub ({unit})"),
    ("group_size", "smallest and largest group (patients)"),
    ("practices_moved", "practices that change group"),
    ("groups", "groups"),
)
_MARKS = {  # status -> (marker, colour, legend)
    "infeasible": ("x", "tab:red", "infeasible"),
    "no_solution": ("x", "tab:orange", "no grouping in time"),
    "failed": ("X", "black", "failed (error)"),
}


def plot_comparison(
    table: pd.DataFrame,
    varied: Sequence[str],
    *,
    title: str = "",
    figure: Figure | None = None,
) -> tuple[Figure, list[Axes]]:
    """The figures of a comparison table against the varied value, one panel each.

    One varied numeric key: a line chart with that key on the x-axis. Several keys, or
    text values (regions): one position per scenario. Solved scenarios are dots (hollow:
    feasible, not proven optimal); infeasible, timed-out and failed ones are crosses at
    the foot of each panel. Draws on ``figure`` (default: a new one, not registered with
    pyplot) and returns ``(figure, axes)``.
    """
    from matplotlib.figure import Figure

    spread = [k for k in varied if k in table and table[k].astype(str).nunique() > 1]
    x, labels, xlabel = _x_positions(table, spread or list(varied))
    size = (max(12.0, min(40.0, 0.84 * len(table))) if labels else 12.0, 7.5)
    if figure is None:
        figure = Figure(figsize=size, layout="constrained")
    else:
        figure.set_size_inches(*size)
        figure.set_layout_engine("constrained")
    axes = list(figure.subplots(2, 3).ravel())
    unit = _unit(table)
    for ax, (name, label) in zip(axes, _PANELS, strict=True):
        _draw_panel(ax, table, name, x, connect=not labels)
        ax.set_title(label.format(unit=unit), fontsize=10)
        ax.set_xlabel(xlabel, fontsize=9)
        ax.grid(alpha=0.3)
        if labels:
            ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=7)
        elif len(set(x)) <= 15:
            ax.set_xticks(sorted(set(x)))
        if name in ("groups", "practices_moved"):
            _integer_axis(ax)
        if table.empty:
            ax.text(0.5, 0.5, "no scenario finished", ha="center", transform=ax.transAxes)
    handles = _legend(table)
    if handles:
        figure.legend(handles=handles, loc="outside lower center", ncols=len(handles), fontsize=9)
    figure.suptitle(title or "sweep", fontsize=12)
    return figure, axes


def _draw_panel(
    ax: Axes, table: pd.DataFrame, name: str, x: list[float], *, connect: bool
) -> None:
    """One metric's dots (a line through them for a numeric x), crosses for the unsolved."""
    solved = table["status"].isin(SOLVED).to_numpy()
    proven = (table["status"] == "optimal").to_numpy()
    keep = sorted((k for k in range(len(table)) if solved[k]), key=lambda k: x[k])
    pairs = [("smallest_group", "tab:blue"), ("largest_group", "tab:purple")]
    for column, colour in pairs if name == "group_size" else [(name, "tab:blue")]:
        values = pd.to_numeric(table[column], errors="coerce").to_numpy(dtype=float)
        label = column.replace("_group", "") if name == "group_size" else None
        if connect and keep:
            ax.plot([x[k] for k in keep], values[keep], color=colour, lw=1.2)
        for n, k in enumerate(keep):
            face = colour if proven[k] else "white"
            ax.plot(x[k], values[k], "o", color=colour, mfc=face, label=label if n == 0 else None)
    if name == "group_size" and keep:
        ax.legend(fontsize=8, loc="best")
    transform = ax.get_xaxis_transform()  # x in data, y in axes fraction
    for status, (marker, colour, _) in _MARKS.items():
        where = [x[k] for k in range(len(table)) if table["status"].iloc[k] == status]
        if where:
            ax.plot(where, [0.04] * len(where), marker, color=colour, ms=8, transform=transform)


def _integer_axis(ax: Axes) -> None:
    from matplotlib.ticker import MaxNLocator

    low, high = ax.get_ylim()
    if high - low < 2:
        middle = round((low + high) / 2)
        ax.set_ylim(middle - 1.5, middle + 1.5)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))


def _legend(table: pd.DataFrame) -> list[Any]:
    from matplotlib.lines import Line2D

    present = set(table["status"])
    handles = []
    if "optimal" in present:
        handles.append(Line2D([], [], marker="o", ls="", color="tab:blue", label="optimal"))
    if "feasible" in present:
        label = "feasible, not proven optimal"
        handles.append(
            Line2D([], [], marker="o", ls="", color="tab:blue", mfc="white", label=label)
        )
    for status, (marker, colour, text) in _MARKS.items():
        if status in present:
            handles.append(Line2D([], [], marker=marker, ls="", color=colour, label=text))
    return handles


def _x_positions(table: pd.DataFrame, varied: list[str]) -> tuple[list[float], list[str], str]:
    """x of each row; tick labels when positions are categorical; the axis label."""
    if len(varied) == 1:
        values = table[varied[0]] if varied[0] in table else pd.Series(dtype=float)
        numeric = pd.to_numeric(values, errors="coerce")
        boolean = values.map(lambda v: isinstance(v, bool)).any()
        if len(values) and numeric.notna().all() and not boolean:
            return [float(v) for v in numeric], [], varied[0]
        return list(map(float, range(len(values)))), [str(v) for v in values], varied[0]
    return list(map(float, range(len(table)))), [str(s) for s in table["scenario"]], "scenario"


def _unit(table: pd.DataFrame) -> str:
    units = sorted({str(u) for u in table["travel_unit"].dropna()}) if len(table) else []
    return "/".join(units) or "minutes"
