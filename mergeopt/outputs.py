"""Writing a run directory: assignments.csv, groups.csv and run.json.

A run directory is written under a temporary name beside its destination and renamed
into place only when complete, so a crash or Ctrl-C leaves either the previous state or
the whole new run, never a half-written one. An existing run directory is replaced only
with ``force=True``.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mergeopt._errors import InputError
from mergeopt.config import Config, config_hash
from mergeopt.engine.outcome import Outcome
from mergeopt.geo.maps.files import write_maps
from mergeopt.geo.maps.layers import MapLayers
from mergeopt.inputs.hashes import input_hashes
from mergeopt.runs import RunResult, prepare_problem, result_for, result_layers

#: A writer of further files: given the result and the staging folder.
Writer = Callable[[RunResult, Path], None]


def run_record(result: RunResult) -> dict[str, Any]:
    """Everything run.json holds: config, inputs, solver, status, figures, timings."""
    report = result.report
    config = result.config
    return {
        "mergeopt_version": version("mergeopt"),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "config_file": config.source,
        "config_hash": config_hash(config),
        "config": config.model_dump(mode="json"),
        "inputs": result.inputs,
        "kind": "evaluation" if report is None else "optimisation",
        "grouping": result.grouping,
        "status": result.status,
        "status_text": result.status_text(),
        "solver": None
        if report is None
        else {
            "name": report.solver,
            "stopped_by": report.stopped_by,
            "time_limit": config.solver.time_limit,
            "gap_tolerance": config.solver.gap,
            "threads": config.solver.threads,
        },
        "objective": None if report is None else report.objective,
        "bound": None if report is None else report.bound,
        "gap": None if report is None else report.gap,
        "travel_unit": config.travel.unit,
        "metrics": result.metrics,
        "violations": result.violations,
        "timings": result.timings,
    }


def default_run_dir(result: RunResult) -> Path:
    """``runs/<config name>`` (or ``runs/<config name>-<grouping>`` for an evaluation)."""
    suffix = f"-{result.grouping}" if result.grouping else ""
    return Path("runs") / f"{result.config.name}{suffix}"


def write_run(
    result: RunResult,
    out: Path,
    *,
    force: bool = False,
    maps: bool = False,
    extra: Sequence[Writer] = (),
) -> Path:
    """Write a complete run directory at ``out``, atomically; return its path.

    With ``maps``, the maps too (groups.gpkg, map.png, map.html, map_compare.png), and
    groups.csv gains each group's catchment area and pieces. ``extra`` writers add files
    to the staging folder before the directory is renamed into place.
    """

    def fill(staging: Path) -> None:
        layers = result_layers(result) if maps else None
        result.assignments.to_csv(staging / "assignments.csv", index=False)
        _groups(result, layers).to_csv(staging / "groups.csv", index=False)
        if layers is not None:
            write_maps(layers, staging)
        for writer in extra:
            writer(result, staging)
        write_record(staging, run_record(result))

    return write_folder(Path(out), fill, force=force)


def redraw(result: RunResult, folder: Path) -> Path:
    """Write a result's maps into an existing run directory, each file replaced whole
    (groups.csv too, for its catchment areas)."""
    folder = Path(folder)
    staging = Path(tempfile.mkdtemp(prefix=".maps-", dir=folder))
    try:
        layers = result_layers(result)
        _groups(result, layers).to_csv(staging / "groups.csv", index=False)
        write_maps(layers, staging)
        for item in staging.iterdir():
            item.replace(folder / item.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


def _groups(result: RunResult, layers: MapLayers | None) -> pd.DataFrame:
    """The groups table, with each group's catchment area and pieces when maps are drawn."""
    table = result.groups
    if layers is None:
        return table
    geo = layers.groups[["area_km2", "pieces"]]
    table = table.merge(geo, left_on=table["group"].astype(str), right_index=True, how="left")
    return table.drop(columns="key_0", errors="ignore")


def write_folder(out: Path, fill: Callable[[Path], None], *, force: bool = False) -> Path:
    """Write a folder atomically: ``fill`` writes into a staging folder beside ``out``,
    which is then renamed into place (replacing ``out`` only with ``force``)."""
    check_writable(out, force=force)
    out.parent.mkdir(parents=True, exist_ok=True)
    _sweep_stale(out)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        staging.chmod(_FOLDER_MODE)  # mkdtemp makes it private (0700); a run is shared
        fill(staging)
        _replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out


def write_record(folder: Path, record: dict[str, Any]) -> None:
    """Write ``run.json`` (JSON-safe: NaN and inf as null, numpy scalars as numbers)."""
    text = json.dumps(_clean(record), indent=2, allow_nan=False)
    (folder / "run.json").write_text(text + "\n", encoding="utf-8")


def _folder_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o777 & ~mask


#: Permissions of a run directory: what ``mkdir`` would give under this process's umask.
_FOLDER_MODE = _folder_mode()


def check_writable(out: Path, *, force: bool) -> None:
    """Refuse to replace an existing run directory unless forced (before any solving)."""
    if out.exists() and not force:
        raise InputError(f"{out}: run directory exists; use --force to replace it")


def _sweep_stale(out: Path) -> None:
    """Remove staging folders that a killed earlier run of this directory left behind."""
    for pattern in (f".{out.name}.partial-*", f".{out.name}.old-*"):
        for stale in out.parent.glob(pattern):
            pid = stale.name.rsplit("-", 1)[-1]
            if stale.name.startswith(f".{out.name}.old-") and _alive(pid):
                continue
            shutil.rmtree(stale, ignore_errors=True)


def _alive(pid: str) -> bool:
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError, PermissionError):
        return False
    return int(pid) != os.getpid()


def _replace(staging: Path, out: Path) -> None:
    """Swap a finished directory into place; the old one is removed only after."""
    if not out.exists():
        os.replace(staging, out)
        return
    retired = out.with_name(f".{out.name}.old-{os.getpid()}")
    os.replace(out, retired)
    os.replace(staging, out)
    shutil.rmtree(retired, ignore_errors=True)


def _clean(value: Any) -> Any:
    """JSON-safe values: no NaN/inf (written as null), numpy scalars as Python."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and callable(value.item):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


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
    record_path = folder / "run.json"
    if not record_path.is_file():
        raise InputError(f"{folder}: not a run directory (no run.json)")
    record = json.loads(record_path.read_text(encoding="utf-8"))
    if not (folder / "assignments.csv").is_file():
        raise InputError(
            f"{folder}: this run has no grouping ({record.get('status', 'unknown status')}: "
            f"{record.get('status_text', 'no assignments.csv')})"
        )
    config = Config.model_validate(record["config"])
    config._source = Path(record["config_file"]) if record.get("config_file") else None
    changed = [p for p, h in input_hashes(config).items() if record["inputs"].get(p) != h]
    if changed:
        import warnings

        warnings.warn(
            f"{folder}: inputs changed since this run: {', '.join(changed)}", stacklevel=2
        )
    problem, timings = prepare_problem(config)
    assignments = pd.read_csv(folder / "assignments.csv", dtype={"practice_code": str, "hub": str})
    position = {code: k for k, code in enumerate(problem.codes)}
    missing = sorted(set(assignments["practice_code"]) - set(position))
    if missing or len(assignments) != len(position):
        raise InputError(f"{folder}: assignments.csv does not match the inputs ({missing[:5]})")
    ordered = assignments.set_index("practice_code").loc[problem.codes]
    hub_of = np.array([position[hub] for hub in ordered["hub"]], dtype=np.int64)
    labels = [str(g) for g in ordered["group"]] if record["kind"] == "evaluation" else None
    return result_for(
        config,
        problem,
        hub_of,
        _report(record),
        {**record["timings"], **timings},
        grouping=record.get("grouping"),
        labels=labels,
    )


def _report(record: dict[str, Any]) -> Outcome | None:
    solver = record.get("solver")
    if record["kind"] != "optimisation" or solver is None:
        return None
    timings = record["timings"]
    return Outcome(
        status=record["status"],
        hub_of=None,
        objective=record["objective"],
        bound=record["bound"],
        gap=record["gap"],
        solver=solver["name"],
        stopped_by=solver["stopped_by"],
        build_seconds=timings.get("build_seconds", 0.0),
        solve_seconds=timings.get("solve_seconds", 0.0),
    )
