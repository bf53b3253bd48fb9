"""The study area: the boundary a config names, or the practices' convex hull.

The study area is the boundary named in ``config.geography`` (features of a file whose
``boundary_field`` is one of ``boundary_values``, dissolved), or, with no boundary, the
convex hull of the practices buffered by 2 km. Everything is in British National Grid.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from mergeopt._errors import InputError
from mergeopt.config import Geography
from mergeopt.geo.crs import BNG

#: How far outside the study area (metres) a practice may sit before it is an error:
#: ONS boundaries are generalised, so a practice on the edge may fall just outside.
EDGE_TOLERANCE = 250.0


def study_area(
    geography: Geography, easting: np.ndarray, northing: np.ndarray
) -> tuple[BaseGeometry, str]:
    """The study area polygon and a description of where it came from; every practice
    must lie within it (within :data:`EDGE_TOLERANCE`)."""
    sites = shapely.points(easting, northing)
    if geography.boundary is None:
        hull = shapely.convex_hull(shapely.multipoints(sites)).buffer(2000)
        return hull, "convex hull of the practices + 2 km (no boundary configured)"
    area, label = boundary_area(geography)
    _check_cover(area, sites, geography.boundary.name)
    return area, label


def boundary_area(geography: Geography) -> tuple[BaseGeometry, str]:
    """The boundary a config names, dissolved, and a description of it (not checked
    against the practices: see :func:`study_area`)."""
    path = geography.boundary
    if path is None:
        raise ValueError("boundary_area needs geography.boundary")
    field_only = [geography.boundary_field] if geography.boundary_field else []
    shapes = read_shapes(path, "boundary", field_only)
    if geography.boundary_field is not None:
        field = geography.boundary_field
        if field not in shapes.columns:
            raise InputError(f"{path}: missing column '{field}' named by geography.boundary_field")
        wanted = set(geography.boundary_values)
        shapes = shapes[_as_text(shapes[field]).isin(wanted)] if wanted else shapes
        if shapes.empty:
            raise InputError(f"{path}: column '{field}' has none of {sorted(wanted)}")
    geometry = in_bng(shapes, path, "boundary")
    bad = geometry.isna() | geometry.is_empty
    if bad.all():
        raise InputError(f"{path}: the boundary has no geometry (empty features)")
    finite = geometry[~bad]
    finite = finite[np.isfinite(finite.bounds.to_numpy()).all(axis=1)]
    # repair each feature before the union: GEOS cannot union a self-crossing polygon
    parts = [part for shape in shapely.make_valid(finite.to_numpy()) for part in polygons(shape)]
    if len(finite) and not parts:
        raise InputError(f"{path}: the boundary has no polygons (only points or lines)")
    try:
        area = shapely.union_all(parts)
    except shapely.errors.GEOSException as exc:
        raise InputError(f"{path}: the boundary's polygons cannot be combined ({exc})") from None
    if area.is_empty or area.area <= 0:
        raise InputError(f"{path}: the boundary has no area in EPSG:27700 (is its CRS right?)")
    label = f"{path.name}" + (
        f" ({geography.boundary_field} in {', '.join(geography.boundary_values)})"
        if geography.boundary_values
        else ""
    )
    return area, label


def _as_text(values: pd.Series) -> pd.Series:
    """A property's values as text, a one-item list as its item.

    GDAL reads a GeoJSON property that is a list in any feature as a list in every
    feature (``"A"`` becomes ``["A"]``), which would otherwise match nothing.
    """

    def one(value: object) -> str:
        if isinstance(value, list | tuple | np.ndarray) and len(value) == 1:
            value = value[0]
        return str(value)

    return values.map(one)


def read_shapes(path: Path, what: str, columns: list[str]) -> gpd.GeoDataFrame:
    """A boundary file's features with only the named property columns (a junk property
    elsewhere in the file cannot stop it), or an InputError saying why it cannot be used."""
    try:
        shapes = gpd.read_file(path, columns=columns)
    except Exception as exc:  # the reader's own words are the useful part
        reason = next(iter(str(exc).splitlines()), "") or type(exc).__name__
        raise InputError(f"{path}: cannot read {what} ({reason})") from None
    if shapes.crs is None:
        raise InputError(f"{path}: the {what} file has no CRS; save it with one (e.g. EPSG:4326)")
    return shapes


def in_bng(shapes: gpd.GeoDataFrame, path: Path, what: str) -> gpd.GeoSeries:
    """The features' geometry in EPSG:27700; a CRS pyproj cannot transform is an error."""
    try:
        return shapes.to_crs(BNG).geometry
    except Exception as exc:
        reason = next(iter(str(exc).splitlines()), "") or type(exc).__name__
        raise InputError(
            f"{path}: the {what}'s CRS ({shapes.crs.name}) cannot be transformed to "
            f"EPSG:27700 ({reason})"
        ) from None


def polygons(geometry: BaseGeometry) -> list[BaseGeometry]:
    parts = shapely.get_parts(geometry)
    return [p for p in parts if p.geom_type in ("Polygon", "MultiPolygon")]


def _check_cover(area: BaseGeometry, sites: np.ndarray, name: str) -> None:
    distance = shapely.distance(area, sites)
    outside = np.flatnonzero(distance > EDGE_TOLERANCE)
    if len(outside):
        far = ", ".join(f"#{k + 1} ({distance[k] / 1000:.1f} km)" for k in outside[:5])
        raise InputError(
            f"{name}: the boundary does not cover {len(outside)} practice(s): {far} "
            "outside it; choose the area that holds the practices (geography.boundary_values)"
        )
