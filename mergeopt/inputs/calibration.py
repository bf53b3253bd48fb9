"""The real drive times shipped in ``data/travel``, read for fitting travel models.

LSOA-centroid -> hospital drive minutes in Hull + East Riding and Somerset (see
``data/travel/README.md``). The fits themselves are tools: ``tools/fit_road_model.py``
(the straight-line road model) and ``tools/fit_network_model.py`` (the network's
allowance).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy.spatial.distance import cdist

from mergeopt.geo.crs import to_bng

#: Calibration areas in data/travel: file prefix -> name in reports.
CALIBRATION_AREAS = {"hull_eastriding": "Hull + East Riding", "somerset": "Somerset"}


def calibration_trips(travel_dir: Path) -> pd.DataFrame:
    """Every LSOA -> hospital trip of the calibration areas, with straight-line km.

    Parameters
    ----------
    travel_dir : pathlib.Path
        Folder with ``<area>_lsoa_to_stroke_units_drive_minutes.csv`` and
        ``<area>_stroke_unit_coords.csv`` for each area in :data:`CALIBRATION_AREAS`.

    Returns
    -------
    pandas.DataFrame
        Default RangeIndex; columns ``area``, ``lsoa``, ``hospital``, ``km`` (straight
        line), ``minutes`` (observed drive time), and the two ends in EPSG:27700 metres:
        ``lsoa_easting``, ``lsoa_northing`` (the LSOA lon/lat projected with pyproj),
        ``hospital_easting``, ``hospital_northing`` (the published grid reference).
    """
    frames = []
    for prefix, area in CALIBRATION_AREAS.items():
        lsoas = pd.read_csv(travel_dir / f"{prefix}_lsoa_to_stroke_units_drive_minutes.csv")
        hospitals = pd.read_csv(travel_dir / f"{prefix}_stroke_unit_coords.csv")
        east, north = to_bng(lsoas["lon"].to_numpy(), lsoas["lat"].to_numpy())
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
