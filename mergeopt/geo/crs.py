"""Coordinate systems: the one place where degrees and British National Grid meet.

Everything mergeopt measures is in British National Grid (:data:`BNG`, EPSG:27700,
metres); practice sites and postcodes may come in degrees (:data:`DEGREES`,
EPSG:4326, longitude and latitude).
"""

from __future__ import annotations

from functools import cache

import numpy as np
import numpy.typing as npt
from pyproj import Transformer

#: British National Grid: eastings and northings in metres.
BNG = "EPSG:27700"
#: Longitude and latitude in degrees (WGS 84, as GPS and postcode lookups give them).
DEGREES = "EPSG:4326"

FloatArray = npt.NDArray[np.float64]


def to_bng(longitude: npt.ArrayLike, latitude: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Easting and northing (metres) of points given in degrees.

    >>> east, north = to_bng([-0.3367], [53.7446])  # Hull
    >>> round(float(east[0]) / 1000), round(float(north[0]) / 1000)
    (510, 429)
    """
    easting, northing = _transformer(DEGREES, BNG).transform(longitude, latitude)
    return np.asarray(easting, dtype=np.float64), np.asarray(northing, dtype=np.float64)


def to_degrees(easting: npt.ArrayLike, northing: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Longitude and latitude (degrees) of points given in British National Grid metres."""
    longitude, latitude = _transformer(BNG, DEGREES).transform(easting, northing)
    return np.asarray(longitude, dtype=np.float64), np.asarray(latitude, dtype=np.float64)


@cache
def _transformer(source: str, target: str) -> Transformer:
    return Transformer.from_crs(source, target, always_xy=True)
