"""A travel matrix the user supplies: drive minutes from a real router.

From OSRM, r5py, openrouteservice or a commercial service, as a long CSV with columns
``origin``, ``destination``, ``minutes`` (:func:`read_travel_matrix`). A pair that is not
in the file cannot be travelled: ``np.inf``, which the model never turns into an arc.
:func:`travel_matrix_table` lays a matrix out in that same form (``mergeopt travel``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from mergeopt._csv import restore
from mergeopt._errors import InputError, describe_rows, printable
from mergeopt.inputs.tables import read_csv

__all__ = ["MAX_MINUTES", "TRAVEL_MATRIX_COLUMNS", "read_travel_matrix", "travel_matrix_table"]

FloatArray = npt.NDArray[np.float64]

#: Columns of a user-supplied travel matrix, one row per origin-destination pair.
TRAVEL_MATRIX_COLUMNS = ("origin", "destination", "minutes")

#: The longest travel time a matrix may give, in minutes (a day): more is a matrix in
#: seconds by mistake, or a corrupted value. The road model gives at most ~18 hours
#: across England.
MAX_MINUTES = 1440.0


def read_travel_matrix(path: Path, codes: Sequence[str], *, part: bool = False) -> FloatArray:
    """Read a user-supplied travel matrix: CSV with columns origin, destination, minutes.

    Long format, one row per pair: ``origin`` and ``destination`` are practice codes,
    ``minutes`` the travel time from origin to destination. Other columns are ignored.
    Times are taken as given, so an asymmetric matrix stays asymmetric: list both
    directions of a pair, since a pair that is not in the file is unreachable. A row whose
    origin equals its destination is allowed and ignored (the diagonal is always 0).
    Codes are compared as strings with surrounding spaces removed; blank lines are skipped.

    Parameters
    ----------
    path : pathlib.Path
        The CSV file as Excel or a script writes it (read by
        :func:`~mergeopt.inputs.tables.read_csv`): UTF-8 (a byte-order mark is fine),
        UTF-16 with a byte-order mark, or Latin-1; comma-separated, or semicolon- or
        tab-separated when the header has no comma; CRLF line endings and quoted cells.
    codes : sequence of str
        The practice codes of the run, in the order the matrix should follow.
    part : bool
        ``codes`` are part of a run's practices (one region searched alone): rows naming
        a practice outside them are left out rather than refused.

    Returns
    -------
    numpy.ndarray
        ``n x n`` minutes in the order of ``codes``: diagonal 0, ``np.inf`` for pairs not
        in the file (not reachable, so never an allowed practice -> hub arc).

    Raises
    ------
    InputError
        One line naming the file, the column and the rows (numbered as a spreadsheet shows
        them: the header is row 1) for each problem found: missing or repeated columns;
        empty codes; minutes that are not numbers, negative, NaN, infinite or more than
        :data:`MAX_MINUTES`; origin-destination pairs listed more than once; codes that are
        not in ``codes``.
    """
    index = _code_index(codes)
    table = _read_matrix_csv(path)
    if part:
        keep = table["origin"].str.strip().isin(index) & table["destination"].str.strip().isin(
            index
        )
        table = table[keep]
    origin = table["origin"].str.strip()
    destination = table["destination"].str.strip()
    minutes = pd.to_numeric(table["minutes"].str.strip(), errors="coerce")
    problems = [
        *_code_problems(origin, "origin", index),
        *_code_problems(destination, "destination", index),
        *_minutes_problems(table["minutes"], minutes),
        *_duplicate_problems(origin, destination),
    ]
    if problems:
        raise InputError(f"{path}: " + "; ".join(problems))
    return _assemble(origin.map(index), destination.map(index), minutes, len(index))


def travel_matrix_table(
    codes: Sequence[str], minutes: npt.ArrayLike, *, decimals: int = 3
) -> pd.DataFrame:
    """A matrix as the long table :func:`read_travel_matrix` reads.

    One row per pair of different practices that can be travelled (finite minutes), in
    the order of ``codes``, origin first; the diagonal and unreachable pairs are left out,
    so reading the table back gives the same matrix (to ``decimals``).

    >>> travel_matrix_table(["A", "B"], [[0.0, 12.34567], [np.inf, 0.0]])
      origin destination  minutes
    0      A           B   12.346
    """
    matrix = np.asarray(minutes, dtype=np.float64)
    if matrix.shape != (len(codes), len(codes)):
        raise ValueError(f"minutes must be {len(codes)} x {len(codes)}, not {matrix.shape}")
    origin, destination = np.nonzero(np.isfinite(matrix) & ~np.eye(len(codes), dtype=bool))
    labels = np.asarray([str(code) for code in codes], dtype=object)
    return pd.DataFrame(
        {
            "origin": labels[origin],
            "destination": labels[destination],
            "minutes": np.round(matrix[origin, destination], decimals),
        }
    )


def _code_index(codes: Sequence[str]) -> dict[str, int]:
    """Map each stripped practice code to its position; duplicates are a caller's bug."""
    index = {str(code).strip(): position for position, code in enumerate(codes)}
    if len(index) != len(codes):
        raise ValueError("codes must be unique after stripping spaces")
    return index


def _read_matrix_csv(path: Path) -> pd.DataFrame:
    """Read the CSV as text (the one tolerant reader: rows numbered as a spreadsheet shows
    them, blank rows left out) and check its columns."""
    table = read_csv(path, what="travel matrix file")
    expected = ", ".join(TRAVEL_MATRIX_COLUMNS)
    missing = [column for column in TRAVEL_MATRIX_COLUMNS if column not in table.columns]
    if missing:
        found = _describe_values(list(table.columns), quote=False, limit=8)
        raise InputError(
            f"{path}: missing column(s) {', '.join(missing)}; "
            f"a travel matrix needs columns {expected} (found: {found})"
        )
    if table.empty:
        raise InputError(f"{path}: no rows; expected one row per origin-destination pair")
    codes = ["origin", "destination"]  # as mergeopt travel wrote them: see mergeopt._csv
    table[codes] = restore(table[codes])
    return table


def _code_problems(column: pd.Series[str], name: str, index: dict[str, int]) -> list[str]:
    """Empty codes and codes that are not practices of this run, in one column."""
    problems = []
    empty = column == ""
    if empty.any():
        problems.append(f"column '{name}' is empty in {describe_rows(column.index[empty])}")
    unknown = ~empty & ~column.isin(index.keys())
    if unknown.any():
        names = _describe_values(column[unknown].drop_duplicates().tolist(), quote=False)
        problems.append(
            f"column '{name}' has codes that are not practices of this run ({names}) "
            f"in {describe_rows(column.index[unknown])}"
        )
    return problems


def _minutes_problems(text: pd.Series[str], minutes: pd.Series[float]) -> list[str]:
    """Minutes that are not a number from 0 to a day (empty, text, NaN, inf, negative, huge)."""
    bad = ~(np.isfinite(minutes) & (minutes >= 0) & (minutes <= MAX_MINUTES))
    if not bad.any():
        return []
    values = _describe_values(text[bad].drop_duplicates().tolist(), quote=True)
    return [
        f"column 'minutes' must be a number >= 0 and <= {MAX_MINUTES:g} (minutes, not "
        f"seconds; leave unreachable pairs out), not {values} in {describe_rows(text.index[bad])}"
    ]


def _duplicate_problems(origin: pd.Series[str], destination: pd.Series[str]) -> list[str]:
    """Origin-destination pairs listed in more than one row."""
    repeated = pd.DataFrame({"o": origin, "d": destination}).duplicated(keep=False)
    if not repeated.any():
        return []
    pairs = _describe_values(
        (origin[repeated] + " -> " + destination[repeated]).drop_duplicates().tolist(),
        quote=False,
    )
    return [
        f"columns 'origin', 'destination' list the same pair more than once ({pairs}) "
        f"in {describe_rows(origin.index[repeated])}"
    ]


def _describe_values(items: Sequence[object], *, quote: bool, limit: int = 5) -> str:
    """A few values for a message, e.g. ``'abc', '-2' (+1 more)``; line breaks shown as ``\\n``."""
    shown = ", ".join(repr(str(item)) if quote else printable(item) for item in items[:limit])
    more = f" (+{len(items) - limit} more)" if len(items) > limit else ""
    return shown + more


def _assemble(
    rows: pd.Series[int], columns: pd.Series[int], minutes: pd.Series[float], n: int
) -> FloatArray:
    """Scatter the long table into an ``n x n`` matrix: inf where absent, 0 on the diagonal."""
    matrix = np.full((n, n), np.inf, dtype=np.float64)
    matrix[rows.to_numpy(dtype=np.intp), columns.to_numpy(dtype=np.intp)] = minutes.to_numpy(
        dtype=np.float64
    )
    np.fill_diagonal(matrix, 0.0)
    return matrix
