"""Travel-cost matrices: drive minutes between practices.

Every function here returns an ``n x n`` array of minutes in the order of the practices
it was given: row ``i`` is the origin (a member practice), column ``j`` the destination
(a candidate hub), so ``t[i, j]`` is the cost of the arc practice ``i`` -> hub ``j``. The
diagonal is 0 (a hub is its own group's site) and ``np.inf`` marks a pair that cannot be
travelled, which the model never turns into an arc.

Two sources:

- :func:`road_minutes`: straight-line distance in British National Grid (EPSG:27700)
  turned into minutes by a :class:`RoadModel`. :data:`ROAD_MODEL` was fitted to real
  drive times by ``tools/fit_road_model.py`` (:func:`fit_road_model`); its error and its
  limits are in ``docs/travel_model.md``.
- :func:`read_travel_matrix`: a matrix the user supplies (from OSRM, r5py, ORS or a
  commercial service) as a long CSV with columns ``origin``, ``destination``, ``minutes``.
"""

from __future__ import annotations

import codecs
import io
import itertools
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.spatial.distance import cdist

from mergeopt._errors import InputError, describe_rows

__all__ = [
    "CALIBRATION_AREAS",
    "MAX_MINUTES",
    "ROAD_MODEL",
    "TRAVEL_MATRIX_COLUMNS",
    "FitReport",
    "RoadModel",
    "calibration_trips",
    "fit_road_model",
    "read_travel_matrix",
    "road_minutes",
    "straight_line_km",
]

FloatArray = npt.NDArray[np.float64]

#: Columns of a user-supplied travel matrix, one row per origin-destination pair.
TRAVEL_MATRIX_COLUMNS = ("origin", "destination", "minutes")

#: The longest travel time a matrix may give, in minutes (a day): more is a matrix in
#: seconds by mistake, or a corrupted value. The road model gives at most ~18 hours
#: across England.
MAX_MINUTES = 1440.0


@dataclass(frozen=True)
class RoadModel:
    """Straight-line km in EPSG:27700 -> drive minutes. Zero distance -> 0 minutes (same site).

    ``minutes = intercept_minutes + minutes_per_km * km`` for ``km > 0``. The intercept is
    the time any trip costs however short (getting out of and into town, parking, and in
    the calibration data a fixed offset); the slope is the time per straight-line km,
    road detours included. Two practices at the same point (often two practices in one
    health centre) are 0 minutes apart.

    Parameters
    ----------
    intercept_minutes : float
        Minutes a trip of any positive length costs, >= 0.
    minutes_per_km : float
        Minutes per straight-line km, > 0.

    Examples
    --------
    >>> RoadModel(intercept_minutes=8.0, minutes_per_km=1.2).minutes([0.0, 5.0]).tolist()
    [0.0, 14.0]
    """

    intercept_minutes: float
    minutes_per_km: float

    def __post_init__(self) -> None:
        if not (np.isfinite(self.intercept_minutes) and self.intercept_minutes >= 0):
            raise ValueError(
                f"intercept_minutes must be a finite number >= 0, not {self.intercept_minutes}"
            )
        if not (np.isfinite(self.minutes_per_km) and self.minutes_per_km > 0):
            raise ValueError(
                f"minutes_per_km must be a finite number > 0, not {self.minutes_per_km}"
            )

    def minutes(self, km: npt.ArrayLike) -> FloatArray:
        """Drive minutes for straight-line distances.

        Parameters
        ----------
        km : array_like
            Straight-line distances in km, >= 0, of any shape.

        Returns
        -------
        numpy.ndarray
            Minutes, same shape as ``km``: 0 where ``km`` is 0, ``inf`` where it is ``inf``.
        """
        distance = np.asarray(km, dtype=np.float64)
        if np.any(distance < 0):
            raise ValueError("distances must be >= 0 km")
        drive = self.intercept_minutes + self.minutes_per_km * distance
        return np.where(distance == 0, 0.0, drive).astype(np.float64)


# Fitted by tools/fit_road_model.py (fit_road_model below) on the real drive times in
# data/travel: 776 LSOA-centroid -> hospital trips under 25 km straight line, Hull + East
# Riding and Somerset. Least squares, minutes = 8.333 + 1.1644 km: R² 0.873,
# MAE 2.44 min, RMSE 3.52 min. Method, errors by distance and area, and limits:
# docs/travel_model.md.
ROAD_MODEL = RoadModel(intercept_minutes=8.33, minutes_per_km=1.164)


def straight_line_km(easting: npt.ArrayLike, northing: npt.ArrayLike) -> FloatArray:
    """n x n matrix of straight-line km between points given in EPSG:27700 metres.

    Parameters
    ----------
    easting, northing : array_like
        British National Grid coordinates in metres, one value per point (not lon/lat).

    Returns
    -------
    numpy.ndarray
        ``n x n`` km, symmetric, with a zero diagonal.

    Examples
    --------
    >>> straight_line_km([0.0, 3000.0], [0.0, 4000.0]).tolist()
    [[0.0, 5.0], [5.0, 0.0]]
    """
    points = _points(easting, northing)
    metres = np.asarray(cdist(points, points), dtype=np.float64)
    return metres / 1000.0


def road_minutes(
    easting: npt.ArrayLike,
    northing: npt.ArrayLike,
    *,
    model: RoadModel = ROAD_MODEL,
) -> FloatArray:
    """n x n drive-minute matrix from the road model; diagonal 0.

    Parameters
    ----------
    easting, northing : array_like
        British National Grid coordinates in metres, one value per practice.
    model : RoadModel, optional
        The distance -> minutes model; :data:`ROAD_MODEL` unless given.

    Returns
    -------
    numpy.ndarray
        ``n x n`` minutes, symmetric, with a zero diagonal.
    """
    return model.minutes(straight_line_km(easting, northing))


def read_travel_matrix(path: Path, codes: Sequence[str]) -> FloatArray:
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
        The CSV file as Excel or a script writes it: UTF-8 (a byte-order mark is fine),
        UTF-16 with a byte-order mark, or Latin-1; comma-separated, or semicolon- or
        tab-separated when the header has no comma; CRLF line endings and quoted cells.
    codes : sequence of str
        The practice codes of the run, in the order the matrix should follow.

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


def _points(easting: npt.ArrayLike, northing: npt.ArrayLike) -> FloatArray:
    """Stack coordinates into an ``n x 2`` array, checking shape and finiteness."""
    east = np.asarray(easting, dtype=np.float64)
    north = np.asarray(northing, dtype=np.float64)
    if east.ndim != 1 or east.shape != north.shape:
        raise ValueError(
            "easting and northing must be 1-D and of equal length, "
            f"not of shapes {east.shape} and {north.shape}"
        )
    if not (np.isfinite(east).all() and np.isfinite(north).all()):
        raise ValueError("easting and northing must be finite EPSG:27700 metres")
    return np.column_stack([east, north])


def _code_index(codes: Sequence[str]) -> dict[str, int]:
    """Map each stripped practice code to its position; duplicates are a caller's bug."""
    index = {str(code).strip(): position for position, code in enumerate(codes)}
    if len(index) != len(codes):
        raise ValueError("codes must be unique after stripping spaces")
    return index


def _read_matrix_csv(path: Path) -> pd.DataFrame:
    """Read the CSV as text, check its columns, index rows by spreadsheet row number."""
    table = _read_csv_text(path)
    expected = ", ".join(TRAVEL_MATRIX_COLUMNS)
    missing = [column for column in TRAVEL_MATRIX_COLUMNS if column not in table.columns]
    if missing:
        found = _describe_values(list(table.columns), quote=False, limit=8)
        raise InputError(
            f"{path}: missing column(s) {', '.join(missing)}; "
            f"a travel matrix needs columns {expected} (found: {found})"
        )
    repeated = [c for c in TRAVEL_MATRIX_COLUMNS if list(table.columns).count(c) > 1]
    if repeated:
        counts = ", ".join(f"'{c}' appears {list(table.columns).count(c)} times" for c in repeated)
        raise InputError(f"{path}: column {counts} in the header (row 1); keep one of each")
    table.index = table.index + 2  # row numbers as a spreadsheet shows them: header is row 1
    blank = (table.map(str.strip) == "").all(axis=1)
    if blank.all():
        raise InputError(f"{path}: no rows; expected one row per origin-destination pair")
    return table[~blank]


def _read_csv_text(path: Path) -> pd.DataFrame:
    """Every cell as text ('' when empty), or an InputError saying why the file can't be read.

    Column names are stripped of spaces and kept as written (a repeated name stays
    repeated, for the caller to refuse). The encoding and separator are those Excel
    writes: UTF-8 (with or without a byte-order mark), UTF-16 with a byte-order mark
    ("Unicode text"), else Latin-1; commas, or semicolons or tabs where the header has
    no comma.
    """
    text = _decode(path)
    first_line = text.split("\n", 1)[0]
    separator = next((s for s in (",", ";", "\t") if s in first_line), ",")
    try:
        with warnings.catch_warnings():
            # A first row longer than the header would otherwise be cut short with a warning.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            options: dict[str, Any] = {
                "sep": separator,
                "dtype": str,
                "index_col": False,
                "keep_default_na": False,
                "skip_blank_lines": False,
            }
            table: pd.DataFrame = pd.read_csv(io.StringIO(text), **options)
            names: pd.DataFrame = pd.read_csv(io.StringIO(text), header=None, nrows=1, **options)
    except pd.errors.EmptyDataError:
        expected = ", ".join(TRAVEL_MATRIX_COLUMNS)
        raise InputError(f"{path}: file is empty; expected columns {expected}") from None
    except pd.errors.ParserWarning:
        raise InputError(
            f"{path}: cannot be read as CSV: the first row has more fields than the header"
        ) from None
    except pd.errors.ParserError as error:
        reason = " ".join(str(error).split())
        raise InputError(f"{path}: cannot be read as CSV ({reason})") from None
    table.columns = pd.Index([str(name).strip() for name in names.iloc[0]])
    return table


def _decode(path: Path) -> str:
    """The file's text: UTF-16 if it starts with that byte-order mark, else UTF-8, else Latin-1."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: travel matrix file not found") from None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise InputError(
                f"{path}: cannot be read as CSV: it starts as UTF-16 but is not valid "
                "UTF-16 text (wrong encoding); save it as CSV UTF-8"
            ) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")  # older Excel "CSV (Comma delimited)"


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
    shown = ", ".join(repr(str(item)) if quote else _printable(item) for item in items[:limit])
    more = f" (+{len(items) - limit} more)" if len(items) > limit else ""
    return shown + more


def _printable(item: object) -> str:
    """The text of a value with control characters escaped, so a message stays one line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(item))


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


# --- Calibration ---------------------------------------------------------------------

#: Calibration areas in data/travel: file prefix -> name in reports.
CALIBRATION_AREAS = {"hull_eastriding": "Hull + East Riding", "somerset": "Somerset"}


@dataclass(frozen=True, eq=False)
class FitReport:
    """A :class:`RoadModel` fitted to real drive times, with its error.

    Errors are model minus observed minutes: a positive bias means the model
    overestimates.

    Attributes
    ----------
    model : RoadModel
        The least-squares fit, unrounded (:data:`ROAD_MODEL` holds it rounded).
    max_km : float
        Only trips shorter than this (straight line) were fitted.
    n : int
        Trips fitted.
    r_squared, mae, rmse : float
        Fit statistics on the fitted trips (minutes for MAE and RMSE).
    by_band : pandas.DataFrame
        Error by straight-line distance band over all trips, beyond ``max_km`` too
        (there the model extrapolates). Index: band label, e.g. ``"0-5"``; columns
        ``fitted`` (bool), ``trips``, ``mean_minutes`` (observed), ``bias``, ``mae``,
        ``rmse``.
    by_area : pandas.DataFrame
        The same columns less ``fitted``, by area, fitted trips only. Index: area name.
    trips : pandas.DataFrame
        Every calibration trip, as :func:`calibration_trips` gives them.
    """

    model: RoadModel
    max_km: float
    n: int
    r_squared: float
    mae: float
    rmse: float
    by_band: pd.DataFrame
    by_area: pd.DataFrame
    trips: pd.DataFrame


def fit_road_model(travel_dir: Path, *, max_km: float = 25.0) -> FitReport:
    """Fit ``minutes = a + b km`` by least squares to the real drive times in ``travel_dir``.

    The data are LSOA-centroid -> hospital drive times (``data/travel``, see its README):
    the LSOA lon/lat are projected to EPSG:27700 with pyproj, the straight-line km to each
    hospital's published BNG coordinates computed, and the trips shorter than ``max_km``
    fitted. Used by ``tools/fit_road_model.py``, which prints the report for the docs.

    Parameters
    ----------
    travel_dir : pathlib.Path
        Folder with ``<area>_lsoa_to_stroke_units_drive_minutes.csv`` and
        ``<area>_stroke_unit_coords.csv`` for each area in :data:`CALIBRATION_AREAS`.
    max_km : float, optional
        Fit only trips shorter than this, straight line.

    Returns
    -------
    FitReport
    """
    trips = calibration_trips(travel_dir)
    fitted = trips.loc[trips["km"] < max_km]
    km = fitted["km"].to_numpy(dtype=np.float64)
    observed = fitted["minutes"].to_numpy(dtype=np.float64)
    design = np.column_stack([np.ones_like(km), km])
    (intercept, slope), *_ = np.linalg.lstsq(design, observed, rcond=None)
    model = RoadModel(intercept_minutes=float(intercept), minutes_per_km=float(slope))
    error = model.minutes(km) - observed
    total = float(np.sum((observed - observed.mean()) ** 2))
    return FitReport(
        model=model,
        max_km=max_km,
        n=len(fitted),
        r_squared=1.0 - float(np.sum(error**2)) / total,
        mae=float(np.mean(np.abs(error))),
        rmse=float(np.sqrt(np.mean(error**2))),
        by_band=_errors_by_band(trips, model, max_km),
        by_area=_errors_by(fitted, model, fitted["area"]),
        trips=trips,
    )


def calibration_trips(travel_dir: Path) -> pd.DataFrame:
    """Every LSOA -> hospital trip of the calibration areas, with straight-line km.

    Parameters
    ----------
    travel_dir : pathlib.Path
        Folder with the files :func:`fit_road_model` names.

    Returns
    -------
    pandas.DataFrame
        Default RangeIndex; columns ``area``, ``lsoa``, ``hospital``, ``km`` (straight
        line), ``minutes`` (observed drive time), and the two ends in EPSG:27700 metres:
        ``lsoa_easting``, ``lsoa_northing`` (the LSOA lon/lat projected with pyproj),
        ``hospital_easting``, ``hospital_northing`` (the published grid reference).
    """
    from pyproj import Transformer  # only the calibration needs pyproj

    to_bng = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    frames = []
    for prefix, area in CALIBRATION_AREAS.items():
        lsoas = pd.read_csv(travel_dir / f"{prefix}_lsoa_to_stroke_units_drive_minutes.csv")
        hospitals = pd.read_csv(travel_dir / f"{prefix}_stroke_unit_coords.csv")
        east, north = to_bng.transform(lsoas["lon"].to_numpy(), lsoas["lat"].to_numpy())
        ends = hospitals[["BNG_E", "BNG_N"]].to_numpy(dtype=float)
        metres = cdist(np.column_stack([east, north]), ends)
        for column, code in enumerate(hospitals["postcode"]):
            frames.append(
                pd.DataFrame(
                    {
                        "area": area,
                        "lsoa": lsoas["LSOA11CD"],
                        "hospital": code,
                        "km": metres[:, column] / 1000.0,
                        "minutes": lsoas[code].astype(float),
                        "lsoa_easting": east,
                        "lsoa_northing": north,
                        "hospital_easting": ends[column, 0],
                        "hospital_northing": ends[column, 1],
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


def _errors_by_band(trips: pd.DataFrame, model: RoadModel, max_km: float) -> pd.DataFrame:
    """Error table by distance band: 5 km bands up to ``max_km``, wider ones beyond."""
    inside = [*np.arange(0.0, max_km, 5.0).tolist(), max_km]
    edges = [*inside, *(edge for edge in (40.0, 60.0) if edge > max_km), np.inf]
    labels = [
        f"{lo:g}-{hi:g}" if np.isfinite(hi) else f"{lo:g}+" for lo, hi in itertools.pairwise(edges)
    ]
    fitted = {label: hi <= max_km for label, hi in zip(labels, edges[1:], strict=True)}
    band = pd.cut(trips["km"], bins=edges, labels=labels, right=False)
    table = _errors_by(trips, model, band)
    table.insert(0, "fitted", [fitted[label] for label in table.index])
    return table


def _errors_by(trips: pd.DataFrame, model: RoadModel, key: pd.Series[str]) -> pd.DataFrame:
    """Trips, mean observed minutes, bias, MAE and RMSE of ``model`` per value of ``key``."""
    error = model.minutes(trips["km"].to_numpy(dtype=np.float64)) - trips["minutes"]
    frame = pd.DataFrame({"key": key, "minutes": trips["minutes"], "error": error})
    grouped = frame.groupby("key", observed=True)
    table = pd.DataFrame(
        {
            "trips": grouped.size(),
            "mean_minutes": grouped["minutes"].mean(),
            "bias": grouped["error"].mean(),
            "mae": grouped["error"].apply(lambda e: float(np.mean(np.abs(e)))),
            "rmse": grouped["error"].apply(lambda e: float(np.sqrt(np.mean(e**2)))),
        }
    )
    table.index.name = None
    return table
