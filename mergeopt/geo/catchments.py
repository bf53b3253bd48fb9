"""Practice and group catchments (geopandas/shapely).

Everything is in British National Grid (EPSG:27700, metres).

- The **study area** is the boundary a config names, or the practices' convex hull
  (:mod:`mergeopt.geo.boundaries`).
- **Voronoi catchments** (the default): each practice's cell of the Voronoi diagram of
  practice sites, clipped to the study area. Practices sharing a site (the same
  postcode, e.g. HU1 3SA in Hull) are spread evenly on a circle of
  :data:`SHARED_SITE_RADIUS` metres around it first, so each gets a cell of its own that
  contains its spread point; the cells still tile the area with no gaps or overlaps.
  Where clipping to a ragged boundary cuts a piece off a cell, the piece joins the
  neighbouring cell it shares most border with, so each catchment is one piece.
- **LSOA catchments**: each LSOA goes to its nearest practice (straight-line distance to
  its centroid, which the road model turns into the same ranking), and a practice's
  catchment is the union of its LSOAs; a practice nearest to no LSOA has an empty one.
- **Group catchments** are the dissolved union of their members' catchments, with area
  and the number of separate pieces.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from mergeopt._errors import InputError
from mergeopt.config import Geography
from mergeopt.geo.boundaries import in_bng, polygons, read_shapes, study_area
from mergeopt.geo.crs import BNG

#: Practices at one site are spread on a circle of this radius (metres) before the
#: Voronoi diagram is drawn.
SHARED_SITE_RADIUS = 25.0


@dataclass(frozen=True)
class Catchments:
    """Practice catchments in practice order, their display points and the study area.

    ``frame`` has index ``code`` and columns ``geometry`` (catchment) and ``point`` (the
    practice's point as drawn: its site, spread if the site is shared).
    """

    frame: gpd.GeoDataFrame
    area: BaseGeometry
    area_source: str


def spread_sites(easting: np.ndarray, northing: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Points to draw, with practices at one site spread on a small circle around it."""
    x, y = np.asarray(easting, dtype=float).copy(), np.asarray(northing, dtype=float).copy()
    keys = pd.Series(list(zip(np.round(x, 1), np.round(y, 1), strict=True)))
    for _, positions in keys.groupby(keys).groups.items():
        members = np.asarray(positions)
        if len(members) > 1:
            angles = 2 * np.pi * np.arange(len(members)) / len(members)
            x[members] += SHARED_SITE_RADIUS * np.cos(angles)
            y[members] += SHARED_SITE_RADIUS * np.sin(angles)
    return x, y


def practice_catchments(
    geography: Geography, codes: list[str], easting: np.ndarray, northing: np.ndarray
) -> Catchments:
    """Catchments of each practice, by the method the config names."""
    area, source = study_area(geography, easting, northing)
    x, y = spread_sites(easting, northing)
    points = shapely.points(x, y)
    if geography.catchments == "lsoa":
        assert geography.lsoa is not None  # the schema guarantees it
        cells = _lsoa_cells(geography, points, area)
    else:
        cells = _voronoi_cells(points, area)
    index = pd.Index(codes, name="code")
    frame = gpd.GeoDataFrame(
        {"point": gpd.GeoSeries(points, crs=BNG, index=index)},
        geometry=gpd.GeoSeries(cells, crs=BNG, index=index),
        crs=BNG,
    )
    return Catchments(frame, area, source)


def _voronoi_cells(points: np.ndarray, area: BaseGeometry) -> list[BaseGeometry]:
    if len(points) == 1:
        return [area]
    diagram = shapely.voronoi_polygons(shapely.multipoints(points), extend_to=area)
    cells = list(shapely.get_parts(diagram))
    # voronoi_polygons does not keep input order: match each cell to its point
    tree = shapely.STRtree(cells)
    owner = tree.query(points, predicate="within")
    cell_of = np.empty(len(points), dtype=np.int64)
    cell_of[owner[0]] = owner[1]
    clipped = [shapely.make_valid(shapely.intersection(cells[c], area)) for c in cell_of]
    return _join_fragments(clipped, points)


def _join_fragments(cells: list[BaseGeometry], points: np.ndarray) -> list[BaseGeometry]:
    """Give each stray piece of a clipped cell to the neighbour it shares most border with.

    Clipping a Voronoi cell to a ragged boundary (an estuary, a coastline) can leave a
    piece of it cut off from the practice, beside another practice's cell. Such a piece
    joins that neighbour, so every catchment is one piece around its practice and a
    group's catchment is in pieces only if its practices' areas do not touch. A piece
    touching no other cell (an island of the study area) stays with its own practice.
    The cells still tile the area: pieces only move from one cell to another.
    """
    main: list[BaseGeometry] = []
    strays: list[tuple[int, BaseGeometry]] = []
    for k, cell in enumerate(cells):
        parts = polygons(cell)
        if len(parts) <= 1:
            main.append(cell)
            continue
        home = int(np.argmin(shapely.distance(np.asarray(parts, dtype=object), points[k])))
        main.append(parts[home])
        strays += [(k, part) for m, part in enumerate(parts) if m != home]
    if not strays:
        return cells
    tree = shapely.STRtree(main)
    extra: dict[int, list[BaseGeometry]] = {}
    for owner, piece in strays:
        touching = [int(c) for c in tree.query(piece, predicate="intersects") if c != owner]
        shared = [shapely.length(shapely.intersection(piece, main[c].boundary)) for c in touching]
        best = touching[int(np.argmax(shared))] if touching and max(shared) > 1 else owner
        extra.setdefault(best, []).append(piece)
    return [
        shapely.make_valid(shapely.union_all([cell, *extra[k]])) if k in extra else cell
        for k, cell in enumerate(main)
    ]


def _lsoa_cells(
    geography: Geography, points: np.ndarray, area: BaseGeometry
) -> list[BaseGeometry]:
    path = geography.lsoa
    assert path is not None
    lsoa = read_shapes(path, "LSOA", [])
    shapes = in_bng(lsoa, path, "LSOA").make_valid()
    shapes = shapes[~(shapes.isna() | shapes.is_empty)]
    shapes = shapes[np.isfinite(shapes.bounds.to_numpy()).all(axis=1)]
    if shapes.empty:
        raise InputError(f"{path}: no LSOA geometry")
    centroids = shapes.representative_point().to_numpy()
    nearest = shapely.STRtree(points).nearest(centroids)
    return [
        shapely.intersection(shapely.union_all(shapes.to_numpy()[nearest == k]), area)
        if (nearest == k).any()
        else shapely.Polygon()
        for k in range(len(points))
    ]


def group_catchments(catchments: Catchments, groups: pd.Series) -> gpd.GeoDataFrame:
    """Dissolve practice catchments by group label (one per practice, in practice order).

    Returns index ``group`` with ``geometry``, ``area_km2`` and ``pieces`` (separate parts).
    """
    frame = catchments.frame[["geometry"]].assign(group=np.asarray(groups, dtype=object))
    dissolved = frame.dissolve(by="group")
    dissolved["geometry"] = dissolved.geometry.make_valid()
    dissolved["area_km2"] = (dissolved.geometry.area / 1e6).round(3)
    dissolved["pieces"] = [len(polygons(g)) if not g.is_empty else 0 for g in dissolved.geometry]
    return dissolved
