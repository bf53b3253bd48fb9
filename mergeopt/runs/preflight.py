"""Checks before solving: do the inputs a config names fit together?

A boundary or LSOA file of another area, or a premises table of other practices, is read
without complaint and only shows after the solve (a blank map, ``area_km2`` 0, a
catchment error naming practices by number). :func:`preflight` finds these first, all at
once, so ``validate`` and ``run`` report them in one message before any solve
(:func:`read_checked`):

- practices outside the study area (``geography.boundary``), by code, with the distance;
- an LSOA file (``geography.lsoa``) that does not reach the practices: practices farther
  than the tolerance from every LSOA, by code, with the distance;
- rows of the premises table (``inputs.premises``) that match no practice (as the
  premises reader finds them).

Distances allow :data:`~mergeopt.geo.boundaries.EDGE_TOLERANCE` for generalised boundaries.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from mergeopt._errors import InputError
from mergeopt.config import Config
from mergeopt.geo.boundaries import EDGE_TOLERANCE, boundary_area, in_bng, read_shapes
from mergeopt.inputs.practices import read_practices

#: At most this many practices are named in one finding.
SHOWN = 6


def read_checked(config: Config) -> pd.DataFrame:
    """The config's practices table (:func:`~mergeopt.inputs.practices.read_practices`), after
    checking that every file the config names fits it.

    Raises
    ------
    InputError
        One message holding every finding: a premises table that does not match (as the
        premises reader words it), practices outside the boundary, an LSOA file away from
        the practices. A fault of the practices table itself is raised as it is.
    """
    findings: list[str] = []
    try:
        practices = read_practices(config)
    except InputError as exc:
        if config.inputs.premises is None:
            raise
        # read without the premises: if that works, the fault was the premises table's
        bare = config.with_overrides(**{"inputs.premises": None, "premises.rule": "none"})
        practices = read_practices(bare)
        findings.append(str(exc))
    findings += geography_findings(config, practices)
    if findings:
        raise InputError("; ".join(findings))
    return practices


def geography_findings(config: Config, practices: pd.DataFrame) -> list[str]:
    """Practices outside the boundary, and away from every LSOA, one finding per file.

    ``practices`` is the canonical practices table (codes as index, ``easting`` and
    ``northing`` in EPSG:27700). Empty when everything fits.
    """
    codes = np.asarray(practices.index, dtype=str)
    x = practices["easting"].to_numpy(dtype=float)
    y = practices["northing"].to_numpy(dtype=float)
    findings = []
    geography = config.geography
    if geography.boundary is not None:
        area, label = boundary_area(geography)
        distance = shapely.distance(area, shapely.points(x, y))
        findings += _outside(f"{label}: the boundary", "outside it", codes, distance)
    if geography.lsoa is not None:
        distance = _lsoa_distance(geography.lsoa, x, y)
        findings += _outside(
            f"{geography.lsoa}: the LSOA file", "away from every LSOA", codes, distance
        )
    return findings


def _outside(what: str, where: str, codes: np.ndarray, distance: np.ndarray) -> list[str]:
    far = np.flatnonzero(distance > EDGE_TOLERANCE)
    if not len(far):
        return []
    order = far[np.argsort(-distance[far], kind="stable")]
    shown = ", ".join(f"{codes[k]} ({distance[k] / 1000:.1f} km)" for k in order[:SHOWN])
    more = f" and {len(far) - SHOWN} more" if len(far) > SHOWN else ""
    if len(far) == len(codes):
        return [f"{what} does not reach any of the {len(codes)} practices: {shown}{more} {where}"]
    return [f"{what} leaves {len(far)} of {len(codes)} practices {where}: {shown}{more}"]


def _lsoa_distance(path: Path, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    shapes = in_bng(read_shapes(path, "LSOA", []), path, "LSOA")
    shapes = shapes[~(shapes.isna() | shapes.is_empty)]
    if shapes.empty:
        raise InputError(f"{path}: no LSOA geometry")
    tree = shapely.STRtree(shapes.to_numpy())
    sites = shapely.points(x, y)
    _, distance = tree.query_nearest(sites, return_distance=True, all_matches=False)
    return np.asarray(distance, dtype=float)
