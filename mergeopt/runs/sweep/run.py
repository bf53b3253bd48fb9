"""A sweep, end to end: the scenarios of a config solved and compared in one folder.

A sweep is a list of scenarios, each the config with some dotted keys changed
(``groups.count: 8``) and/or the practices of one region selected (``inputs.select:
{icb_code: [QOQ]}``, one scenario per value of a ``split_by`` column). Each scenario is
solved by the engine of ``mergeopt run`` (:func:`mergeopt.runs.run.solve_config`) and written
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
distributed cluster (:mod:`mergeopt.runs.sweep.executors`).

Resuming
--------
The folder is new, empty (staging folders of a killed sweep aside) or one mergeopt wrote:
it holds ``sweep.json`` (written first, naming mergeopt as its writer), or comparison.csv
or a scenario's run directory from an earlier version. A sweep never writes into any
other folder, nor into the working directory, the home directory, the runs folder or a
parent of one (checked, with the file system's path limits, before anything is solved).

A scenario is skipped when its folder holds a run.json whose config hash and input hashes
match the scenario's (re-running an interrupted or extended sweep solves only what is
missing); ``force=True`` solves every scenario again, once (scenario.json says which
sweep wrote a folder). A failed scenario (an unexpected
error, or a worker process that died) writes nothing and is tried again on the next run.
Run directories are written atomically, so a killed worker or a Ctrl-C never leaves a
half-written one, and a scenario retried after a lost worker is still written once.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from mergeopt._csv import write_csv
from mergeopt._errors import InputError, OutputError
from mergeopt.config import Config, Sweep, load_config
from mergeopt.engine.processes import usable_cpus
from mergeopt.geo.maps.web import write_plotly_js
from mergeopt.runs.folders import (
    check_destination,
    is_staging,
    read_json,
    remove_stale,
    replace_file,
    room_for,
    write_json,
    writing,
)
from mergeopt.runs.results import RunResult
from mergeopt.runs.rundir import WRITER, default_sweep_dir, load_run
from mergeopt.runs.sweep.chart import plot_comparison
from mergeopt.runs.sweep.executors import executor_for
from mergeopt.runs.sweep.plan import Scenario, plan_sweep
from mergeopt.runs.sweep.progress import Tracker
from mergeopt.runs.sweep.scenario import SCENARIO_FILE, done_by, finished_record, task_for
from mergeopt.runs.sweep.table import (
    FINISHED,
    SOLVED,
    Row,
    comparison_table,
    read_comparison,
    row_of,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: The file that marks a sweep folder as mergeopt's, written before anything else.
MARKER = "sweep.json"


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
        """Open one scenario's run directory as a :class:`~mergeopt.runs.results.RunResult`.

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
    folder = Path(out) if out is not None else default_sweep_dir(base.name)
    _open_folder(folder, scenarios, base)
    folder = folder.resolve()
    if any(scenario.config.maps for scenario in scenarios):
        with writing(folder, kind="sweep folder"):
            write_plotly_js(folder)  # once, for every scenario's map.html
    varied = tuple(scenarios[0].values)
    title = f"{base.name}: {len(scenarios)} scenarios"
    sweep_id = uuid.uuid4().hex
    rows: dict[str, Row] = {}
    hashes: dict[tuple[str, ...], dict[str, str]] = {}
    for scenario in [] if force else scenarios:
        record = finished_record(folder / scenario.name, scenario.config, hashes)
        if record is not None:
            rows[scenario.name] = row_of(record)
    tasks = [
        task_for(scenario, folder, force=force, sweep_id=sweep_id)
        for scenario in scenarios
        if scenario.name not in rows
    ]
    executor = executor_for(scheduler=scheduler, workers=workers or block.workers or usable_cpus())
    tracker = Tracker(len(scenarios), reused=len(rows), enabled=progress, title=base.name)
    try:
        with tracker:
            if tasks:
                executor.run(tasks, tracker)
    except KeyboardInterrupt:
        rows |= tracker.rows
        _remove_staging(folder, scenarios)
        for scenario in scenarios:  # finished, but stopped before it could say so
            done = done_by(folder / scenario.name, scenario.config, sweep_id, force=force)
            if scenario.name not in rows and done is not None:
                rows[scenario.name] = row_of(done)
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
    table, varied = read_comparison(folder)
    return SweepResult(folder, table, varied, (), f"{folder.name}: {len(table)} scenarios")


def _write_comparison(
    folder: Path,
    scenarios: list[Scenario],
    rows: dict[str, Row],
    varied: tuple[str, ...],
    *,
    title: str,
) -> SweepResult:
    """comparison.csv and comparison.png of the scenarios that have a row, in plan order."""
    table = comparison_table([(s.name, s.values) for s in scenarios], rows, varied)
    replace_file(folder / "comparison.csv", lambda path: write_csv(table, path))
    figure, _ = plot_comparison(table, varied, title=title)
    replace_file(folder / "comparison.png", lambda path: figure.savefig(path, dpi=120))
    return SweepResult(folder, table, varied, (), title)


def _remove_staging(folder: Path, scenarios: list[Scenario]) -> None:
    """Remove staging folders that workers stopped mid-write left behind (their owner
    gone: a worker still writing keeps its own)."""
    for scenario in scenarios:
        remove_stale(folder / scenario.name)


def sweep_folder_problem(folder: Path) -> str | None:
    """Why a folder is not a sweep folder mergeopt wrote, or None if it is one."""
    marker = read_json(folder / MARKER)
    if marker is not None and marker.get("written_by") == WRITER:
        return None
    try:
        with (folder / "comparison.csv").open(encoding="utf-8") as file:
            if file.readline().startswith("scenario,"):
                return None  # a sweep of a version before sweep.json
    except (OSError, UnicodeDecodeError):
        pass
    if any((entry / SCENARIO_FILE).is_file() for entry in folder.iterdir() if entry.is_dir()):
        return None  # an earlier version's sweep stopped before its comparison.csv
    return f"no {MARKER}"


def _open_folder(folder: Path, scenarios: list[Scenario], base: Config) -> None:
    """Check, then create, the sweep folder, marked as mergeopt's: before any solving.

    Raises
    ------
    OutputError
        The folder is protected, too long a path, not writable or full, or it exists
        and is not a sweep folder mergeopt wrote.
    """
    inner = max(room_for(scenario.name) for scenario in scenarios)
    check_destination(folder, kind="sweep folder", inner=inner)
    if folder.is_dir() and any(not is_staging(entry.name) for entry in folder.iterdir()):
        why = sweep_folder_problem(folder)
        if why is not None:
            raise OutputError(
                f"{folder}: not a sweep folder mergeopt wrote ({why}); a sweep writes only "
                "into a new folder or one of its own: give --out a new folder"
            )
    with writing(folder, kind="sweep folder"):
        folder.mkdir(parents=True, exist_ok=True)
        if not (folder / MARKER).is_file():
            stamp = {
                "written_by": WRITER,
                "kind": "sweep",
                "config_file": base.source,
                "created": datetime.now(UTC).isoformat(timespec="seconds"),
            }
            replace_file(folder / MARKER, lambda path: write_json(path, stamp))
