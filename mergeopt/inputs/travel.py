"""Travel costs between practices: straight-line distance and the road model.

Every function here returns an ``n x n`` array in the order of the practices it was
given: row ``i`` is the origin (a member practice), column ``j`` the destination (a
candidate hub), so ``t[i, j]`` is the cost of the arc practice ``i`` -> hub ``j``. The
diagonal is 0 (a hub is its own group's site).

:func:`road_minutes` turns straight-line distance in British National Grid
(EPSG:27700) into minutes by a :class:`RoadModel`. :data:`ROAD_MODEL` was fitted to
real drive times by ``tools/fit_road_model.py``; its error and its limits are in
``docs/travel_model.md``. A matrix the user supplies is read by
:mod:`mergeopt.inputs.matrix`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.spatial.distance import cdist

__all__ = ["ROAD_MODEL", "RoadModel", "road_minutes", "straight_line_km"]

FloatArray = npt.NDArray[np.float64]


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


# Fitted by tools/fit_road_model.py (fit_road_model there) on the real drive times in
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
