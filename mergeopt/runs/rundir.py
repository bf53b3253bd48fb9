"""A run directory: writing it (assignments.csv, groups.csv, run.json, the maps) and
opening it again.

Every run directory is written whole or not at all (:mod:`mergeopt.runs.folders`), and an
existing one is replaced only with ``force=True`` and only if it is a run directory
mergeopt wrote: its run.json names mergeopt as its writer (``written_by``) and lists every
file of the directory (``files``), and the directory holds nothing else
(:func:`run_dir_problem`). A run with no grouping (a sweep's infeasible scenario) gets
only its ``run.json``, with the same fields and the reason.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import warnings
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from mergeopt._csv import restore, write_csv
from mergeopt._errors import InputError
from mergeopt.config import Config, config_hash
from mergeopt.engine.outcome import Outcome
from mergeopt.geo.maps.files import write_maps
from mergeopt.geo.maps.layers import MapLayers
from mergeopt.geo.maps.web import PLOTLY_JS
from mergeopt.inputs.hashes import input_hashes
from mergeopt.runs.federations import plan_of
from mergeopt.runs.folders import (
    RUNS_FOLDER,
    check_writable,
    read_json,
    replace_file,
    write_folder,
    write_json,
    writing,
)
from mergeopt.runs.maps import group_areas, result_layers
from mergeopt.runs.problem import prepare_problem
from mergeopt.runs.results import RunResult, result_for

#: The record of a run, in every run directory.
RECORD = "run.json"
#: run.json's ``written_by``: how mergeopt knows a run directory is its own.
WRITER = "mergeopt"
#: What a file manager leaves in a folder it shows: neither mergeopt's nor the user's work.
_SYSTEM_FILES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})
#: Temporary names mergeopt writes inside a run directory (a killed ``mergeopt map``).
_TEMPORARY = re.compile(r"^\.(maps-.+|.+\.\d+-[0-9a-f]{8}(\.\w+)?)$")

#: A writer of further files into the staging folder of a run directory.
Writer = Callable[[Path], None]


def default_run_dir(name: str, grouping: str | None = None) -> Path:
    """``runs/<config name>`` (or ``runs/<config name>-<grouping>`` for an evaluation)."""
    suffix = f"-{grouping}" if grouping else ""
    return RUNS_FOLDER / f"{name}{suffix}"


def default_sweep_dir(name: str) -> Path:
    """``runs/<config name>-sweep``."""
    return RUNS_FOLDER / f"{name}-sweep"


def run_dir_problem(folder: Path) -> str | None:
    """Why a folder is not a run directory mergeopt wrote, or None if it is one holding
    nothing mergeopt did not write (so ``--force`` may replace it).

    >>> run_dir_problem(Path("configs"))
    'no run.json'
    """
    folder = Path(folder)
    if not (folder / RECORD).is_file():
        return f"no {RECORD}"
    record = read_record(folder)
    if record is None:
        return f"its {RECORD} cannot be read"
    legacy = "mergeopt_version" in record and "config_hash" in record  # before written_by
    if record.get("written_by") != WRITER and not legacy:
        return f"its {RECORD} was not written by mergeopt"
    listed = record.get("files")
    if not isinstance(listed, list):
        return None  # written before run.json listed its files
    known = {str(name) for name in listed} | {RECORD} | _SYSTEM_FILES
    foreign = sorted(
        entry.name
        for entry in folder.iterdir()
        if entry.name not in known and not _TEMPORARY.match(entry.name)
    )
    if foreign:
        more = f" (+{len(foreign) - 3} more)" if len(foreign) > 3 else ""
        return f"it holds files mergeopt did not write: {', '.join(foreign[:3])}{more}"
    return None


def check_run_dir(out: Path, *, force: bool) -> None:
    """Before any solving: ``out`` may be written as a run directory (new, or with
    ``force`` a run directory mergeopt wrote), its path fits, its disk takes it.

    Raises
    ------
    OutputError
        One line saying why not; nothing is touched.
    """
    check_writable(Path(out), force=force, owned=run_dir_problem, kind="run directory")


def write_run(
    result: RunResult,
    out: Path,
    *,
    force: bool = False,
    maps: bool | None = None,
    extra: Sequence[Writer] = (),
    shared_plotly: bool = False,
) -> Path:
    """Write a complete run directory at ``out``, atomically; return its path: what
    ``mergeopt run`` writes.

    groups.csv has each group's catchment area and pieces, maps or not. With ``maps`` (by
    default, the config's ``maps``), the maps too (groups.gpkg, map.png, map.html,
    map_compare.png). ``extra`` writers add files to the staging folder before the
    directory is renamed into place.
    With ``shared_plotly`` (a sweep's scenarios) map.html loads the plotly.js of the
    folder above instead of its own copy.
    """
    draw = result.config.maps if maps is None else maps

    def fill(staging: Path) -> None:
        layers = result_layers(result) if draw else None
        write_csv(result.assignments, staging / "assignments.csv")
        write_csv(_groups(result, layers), staging / "groups.csv")
        if result.federations is not None:
            write_csv(result.federations.table, staging / "federations.csv")
        if layers is not None:
            write_maps(layers, staging, shared_plotly=shared_plotly)
        for writer in extra:
            writer(staging)
        write_json(staging / RECORD, run_record(result) | {"files": _listing(staging)})

    return write_folder(Path(out), fill, force=force, owned=run_dir_problem)


def write_outcome(
    config: Config,
    out: Path,
    *,
    status: str,
    text: str,
    overrides: dict[str, Any],
    timings: dict[str, float],
    force: bool = False,
    extra: Sequence[Writer] = (),
) -> Path:
    """Write the run directory of a run with no grouping: its run.json, saying why."""
    record = outcome_record(config, status=status, text=text, overrides=overrides)
    record["timings"] = timings

    def fill(staging: Path) -> None:
        for writer in extra:
            writer(staging)
        write_json(staging / RECORD, record | {"files": _listing(staging)})

    return write_folder(Path(out), fill, force=force, owned=run_dir_problem)


def _listing(folder: Path) -> list[str]:
    """Every file of a run directory, run.json included (written last)."""
    return sorted({entry.name for entry in folder.iterdir()} | {RECORD})


def redraw(result: RunResult, folder: Path) -> Path:
    """Write a result's maps into an existing run directory, each file replaced whole
    (groups.csv too, for its catchment areas)."""
    folder = Path(folder)
    with writing(folder, kind="run directory"):
        staging = Path(tempfile.mkdtemp(prefix=".maps-", dir=folder))
        try:
            layers = result_layers(result)
            write_csv(_groups(result, layers), staging / "groups.csv")
            shared = (folder / "scenario.json").exists() and (folder.parent / PLOTLY_JS).exists()
            write_maps(layers, staging, shared_plotly=shared)
            drawn = sorted(item.name for item in staging.iterdir())
            _list_files(folder, drawn)
            for name in drawn:
                (staging / name).replace(folder / name)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return folder


def _list_files(folder: Path, names: list[str]) -> None:
    """Add files about to be written into a run directory to its run.json's list."""
    record = read_record(folder)
    if record is None or not isinstance(record.get("files"), list):
        return
    listed = sorted({str(name) for name in record["files"]} | set(names))
    if listed != record["files"]:
        replace_file(folder / RECORD, lambda path: write_json(path, record | {"files": listed}))


def _groups(result: RunResult, layers: MapLayers | None) -> pd.DataFrame:
    """groups.csv: the groups table with each group's catchment area and pieces (from the
    maps' layers when maps are drawn; the same figures without them)."""
    table = result.groups
    geo = group_areas(result) if layers is None else layers.groups[["area_km2", "pieces"]]
    table = table.merge(geo, left_on=table["group"].astype(str), right_index=True, how="left")
    return table.drop(columns="key_0", errors="ignore")


def run_record(result: RunResult) -> dict[str, Any]:
    """Everything run.json holds: config, inputs, solver, status, figures, timings."""
    report = result.report
    config = result.config
    record = _record(
        config,
        inputs=result.inputs,
        kind="evaluation" if report is None else "optimisation",
        grouping=result.grouping,
        status=result.status,
        text=result.status_text(),
    )
    if report is not None:
        record |= {
            "solver": {
                "name": report.solver,
                "stopped_by": report.stopped_by,
                "time_limit": config.solver.time_limit,
                "gap_tolerance": config.solver.gap,
                "threads": config.solver.threads,
            },
            "objective": report.objective,
            "bound": report.bound,
            "gap": report.gap,
        }
    dates = result.assignments["list_size_date"].dropna().astype(str)
    record |= {
        "list_size_dates": sorted(set(dates)),
        "metrics": result.metrics,
        "violations": result.violations,
        "timings": result.timings,
    }
    if result.federations is not None:
        record["federations"] = result.federations.record()
    return record


def outcome_record(
    config: Config, *, status: str, text: str, overrides: dict[str, Any]
) -> dict[str, Any]:
    """run.json of a run with no grouping (infeasible, or none found in time): the fields
    of any run's, the reason as its status text, and the config changes that would help."""
    return _record(
        config,
        inputs=input_hashes(config),
        kind="optimisation",
        grouping=None,
        status=status,
        text=text,
        overrides=overrides,
    )


def _record(
    config: Config,
    *,
    inputs: dict[str, str],
    kind: str,
    grouping: str | None,
    status: str,
    text: str,
    overrides: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The fields every run.json has, in their order; no solver, answer or figures yet."""
    record: dict[str, Any] = {
        "written_by": WRITER,
        "mergeopt_version": version("mergeopt"),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "config_file": config.source,
        "config_hash": config_hash(config),
        "config": config.model_dump(mode="json"),
        "inputs": inputs,
        "kind": kind,
        "grouping": grouping,
        "status": status,
        "status_text": text,
    }
    if overrides is not None:
        record["overrides"] = overrides
    return record | {
        "solver": None,
        "objective": None,
        "bound": None,
        "gap": None,
        "travel_unit": config.travel.unit,
        "metrics": {},
        "violations": [],
        "timings": {},
    }


def read_record(folder: Path) -> dict[str, Any] | None:
    """The run.json of a run directory, or None if it has none that can be read."""
    return read_json(Path(folder) / RECORD)


def load_run(path: Path | str) -> RunResult:
    """Open a saved run directory as a :class:`RunResult`, without solving again.

    The config is taken from run.json and its inputs are read again (for maps and
    metrics); if an input file has changed since the run, a warning says so and the
    saved assignment is still used.

    >>> import tempfile, mergeopt
    >>> result = mergeopt.solve("configs/hull_pcn.yaml")
    >>> folder = write_run(result, Path(tempfile.mkdtemp()) / "run")
    >>> load_run(folder).metrics == result.metrics
    True
    """
    folder = Path(path)
    if not (folder / RECORD).is_file():
        raise InputError(f"{folder}: not a run directory (no run.json)")
    record = read_record(folder)
    if record is None:
        raise InputError(f"{folder / RECORD}: cannot be read as a run record (JSON)")
    if not (folder / "assignments.csv").is_file():
        raise InputError(
            f"{folder}: this run has no grouping ({record.get('status', 'unknown status')}: "
            f"{record.get('status_text', 'no assignments.csv')})"
        )
    config = _recorded_config(folder, record)
    changed = [p for p, h in input_hashes(config).items() if record["inputs"].get(p) != h]
    if changed:
        warnings.warn(
            f"{folder}: inputs changed since this run: {', '.join(changed)}", stacklevel=2
        )
    problem, timings = prepare_problem(config)
    assignments = restore(
        pd.read_csv(
            folder / "assignments.csv",
            dtype={"practice_code": str, "hub": str, "federation": str, "federation_hub": str},
        )
    )
    position = {code: k for k, code in enumerate(problem.codes)}
    missing = sorted(set(assignments["practice_code"]) - set(position))
    if missing or len(assignments) != len(position):
        raise InputError(f"{folder}: assignments.csv does not match the inputs ({missing[:5]})")
    ordered = assignments.set_index("practice_code").loc[problem.codes]
    hub_of = np.array([position[hub] for hub in ordered["hub"]], dtype=np.int64)
    saved = record.get("federations")
    today = saved is not None and saved.get("mode") == "today"
    named = record["kind"] == "evaluation" or today
    labels = [str(g) for g in ordered["group"]] if named else None
    federations = None
    if saved is not None and "federation_hub" in ordered:
        federation_of = np.array([position[str(h)] for h in ordered["federation_hub"]])
        federations = plan_of(
            problem,
            hub_of,
            federation_of,
            labels=[str(f) for f in ordered["federation"]],
            column=saved.get("column"),
            saved=saved,
        )
    return result_for(
        config,
        problem,
        hub_of,
        _report(record),
        {**record["timings"], **timings},
        grouping=record.get("grouping"),
        labels=labels,
        federations=federations,
    )


#: The fields of run.json that opening a run needs.
_NEEDED = ("kind", "status", "config", "inputs", "timings")


def _recorded_config(folder: Path, record: dict[str, Any]) -> Config:
    """The config a run.json holds, its input files still where they were.

    Raises
    ------
    InputError
        run.json lacks a field or holds a config that cannot be read (a file cut short or
        edited), or an input file the run read is gone.
    """
    path = folder / RECORD
    missing = [key for key in _NEEDED if key not in record]
    if missing:
        raise InputError(
            f"{path}: not a whole run record (no {', '.join(missing)}); write the run again"
        )
    try:
        config = Config.from_data(record["config"], source=record.get("config_file"))
    except (ValidationError, TypeError, ValueError) as error:
        reason = str(error).splitlines()[0]
        raise InputError(
            f"{path}: its config cannot be read ({reason}); write the run again"
        ) from None
    for key, file in config.files().items():
        if not file.is_file():
            raise InputError(
                f"{path}: the run read {file} (key '{key}'), which is no longer there; "
                "put it back or write the run again"
            )
    return config


def _report(record: dict[str, Any]) -> Outcome | None:
    solver = record.get("solver")
    if record["kind"] != "optimisation" or solver is None:
        return None
    timings = record["timings"]
    return Outcome(
        status=record["status"],
        hub_of=None,
        objective=record.get("objective"),
        bound=record.get("bound"),
        gap=record.get("gap"),
        solver=solver.get("name", "unknown"),
        stopped_by=solver.get("stopped_by", "unknown"),
        build_seconds=timings.get("build_seconds", 0.0),
        solve_seconds=timings.get("solve_seconds", 0.0),
    )
