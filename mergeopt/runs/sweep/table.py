"""comparison.csv: one row per scenario, built from each scenario's run.json.

Columns: ``scenario`` (the folder name), one column per varied key (and the ``split_by``
column), then :data:`COLUMNS`. Apart from the :data:`TIMING_COLUMNS` the file is the
same whichever executor ran the sweep.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from mergeopt._csv import restore
from mergeopt._errors import InputError, MergeoptError

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
#: Columns that depend on the machine and the load, not on the scenario.
TIMING_COLUMNS = ("solve_seconds", "total_seconds")

Row = dict[str, Any]


def row_of(record: Mapping[str, Any]) -> Row:
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


def failed_row(error: BaseException | None, *, located: bool = False) -> Row:
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


def died_row(text: str = "the worker process running it died") -> Row:
    return failed_row(ChildProcessError(text))


def comparison_table(
    scenarios: Sequence[tuple[str, Mapping[str, Any]]],
    rows: Mapping[str, Row],
    varied: tuple[str, ...],
) -> pd.DataFrame:
    """The comparison table: one row per (scenario name, varied values) that has a row,
    in the order given."""
    records = [
        {"scenario": name, **{k: _cell(values[k]) for k in varied}, **rows[name]}
        for name, values in scenarios
        if name in rows
    ]
    table = pd.DataFrame.from_records(records, columns=["scenario", *varied, *COLUMNS])
    for column in _INTEGER:
        table[column] = pd.array(table[column].tolist(), dtype="Int64")
    for column in ("objective", "bound", "gap", "mean_travel", "max_travel", *TIMING_COLUMNS):
        table[column] = pd.to_numeric(table[column], errors="coerce").astype(float)
    return table


def read_comparison(folder: Path) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """comparison.csv of a sweep folder, and its varied-value columns (those between
    ``scenario`` and ``status``)."""
    path = folder / "comparison.csv"
    if not path.is_file():
        raise InputError(f"{folder}: not a sweep folder (no comparison.csv)")
    table = restore(
        pd.read_csv(
            path, dtype={"scenario": str, "status_text": str}, float_precision="round_trip"
        )
    )
    columns = list(table.columns)
    if "scenario" not in columns or "status" not in columns:
        raise InputError(f"{path}: not a comparison table (no scenario/status columns)")
    varied = tuple(columns[columns.index("scenario") + 1 : columns.index("status")])
    for column in _INTEGER:
        if column in table:
            table[column] = table[column].astype("Int64")
    table["status_text"] = table["status_text"].fillna("")
    return table, varied


def _cell(value: Any) -> Any:
    """A varied value as a table cell: scalars as they are, others as compact JSON."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return json.dumps(value, separators=(",", ":"))
