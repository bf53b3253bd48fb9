"""Which practices' catchments touch: the pairs a contiguous group may join across."""

from __future__ import annotations

import shapely

from mergeopt.geo.catchments import Catchments


def adjacency(catchments: Catchments) -> tuple[tuple[int, int], ...]:
    """Position pairs (i, k), i < k, whose catchments share a boundary (not a corner)."""
    geoms = catchments.frame.geometry.to_numpy()
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    pairs = []
    for i, k in zip(left.tolist(), right.tolist(), strict=True):
        if (
            i < k
            and shapely.length(shapely.intersection(geoms[i].boundary, geoms[k].boundary)) > 1
        ):
            pairs.append((i, k))
    return tuple(pairs)
