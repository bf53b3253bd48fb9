"""Door-to-door drive minutes between practices on a road network, routed offline.

:func:`drive_minutes` snaps each practice to its nearest node (:func:`snap`; the gap
crossed at a walking/parking speed), routes many-to-many with Dijkstra
(``scipy.sparse.csgraph``, :func:`route`) up to a search limit (:func:`search_limit`), and
adds a fixed start/finish allowance per trip. Pairs beyond the limit are ``inf`` (not
reachable), as in a user-supplied matrix. Routed blocks may be kept between runs in a
:class:`MinuteStore` (:mod:`mergeopt.inputs.roads.cache`). Method, defaults and how they
compare with the straight-line model: ``docs/travel_model.md``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from mergeopt._errors import InputError
from mergeopt.inputs.roads.network import FloatArray, IntArray, RoadNetwork
from mergeopt.inputs.roads.speeds import SpeedProfile

__all__ = [
    "SEARCH_MARGIN",
    "MinuteStore",
    "Snapped",
    "block_key",
    "drive_minutes",
    "route",
    "search_limit",
    "snap",
]

#: Routes are searched up to this many times the travel limit: pairs a little beyond the
#: limit keep their time (so an explanation can say how far a limit must rise), pairs
#: beyond that are left out (not reachable).
SEARCH_MARGIN = 1.25

#: Memory for one batch of Dijkstra searches (a row of 8-byte minutes per node per origin).
_BATCH_BYTES = 256 * 2**20


def search_limit(max_minutes: float | None) -> float | None:
    """Minutes up to which routes are searched for a travel limit (None: no limit).

    >>> search_limit(20)
    25.0
    """
    return None if max_minutes is None else SEARCH_MARGIN * float(max_minutes)


@dataclass(frozen=True)
class Snapped:
    """Where practices join the network: ``node[i]`` is practice i's nearest node,
    ``gap_m[i]`` the straight-line metres to it."""

    node: IntArray
    gap_m: FloatArray


def snap(
    network: RoadNetwork,
    codes: Sequence[str],
    easting: npt.ArrayLike,
    northing: npt.ArrayLike,
    *,
    profile: SpeedProfile,
) -> Snapped:
    """Each practice's nearest node of the network.

    Raises
    ------
    InputError
        Practices lie outside the network's extent or farther than
        ``profile.max_offroad_m`` from every road; the message names them and the file.
    """
    east = np.asarray(easting, dtype=np.float64)
    north = np.asarray(northing, dtype=np.float64)
    gap, node = network.tree.query(np.column_stack([east, north]))
    xmin, ymin, xmax, ymax = network.extent
    outside = (east < xmin) | (east > xmax) | (north < ymin) | (north > ymax)
    far = ~outside & (gap > profile.max_offroad_m)
    problems = []
    if outside.any():
        problems.append(f"outside the area its roads cover: {_names(codes, outside)}")
    if far.any():
        problems.append(
            f"more than {profile.max_offroad_m:g} m from any road it can route on: "
            f"{_names(codes, far, gap)}"
        )
    if problems:
        raise InputError(
            f"{network.source}: practices not on this road network, "
            + "; ".join(problems)
            + " (use a file that covers every practice of the run)"
        )
    return Snapped(node=np.asarray(node, dtype=np.int64), gap_m=np.asarray(gap, dtype=float))


def _names(
    codes: Sequence[str], mask: npt.NDArray[np.bool_], gap: FloatArray | None = None
) -> str:
    """``A1, B2 (+3 more)``, with the distance to the nearest road where given."""
    where = np.flatnonzero(mask)
    shown = [
        f"{codes[i]}" + (f" ({gap[i] / 1000:.1f} km)" if gap is not None else "")
        for i in where[:5]
    ]
    more = f" (+{len(where) - 5} more)" if len(where) > 5 else ""
    return ", ".join(shown) + more


def route(
    network: RoadNetwork,
    origins: npt.ArrayLike,
    destinations: npt.ArrayLike,
    *,
    profile: SpeedProfile,
    limit: float | None = None,
) -> FloatArray:
    """Driving minutes between nodes: ``[a, b]`` from ``origins[a]`` to ``destinations[b]``.

    Only the drive: no gap, no allowance. Searches stop at ``limit`` minutes (pairs
    beyond it are ``inf``); without a limit every pair is found. When a limit is given the
    search runs on the part of the network the fastest car could reach in that time,
    which gives the same minutes for every pair within the limit.

    Parameters
    ----------
    network : RoadNetwork
    origins, destinations : array_like of int
        Node positions.
    profile : SpeedProfile
    limit : float, optional
        Minutes beyond which a pair is left out.

    Returns
    -------
    numpy.ndarray
        ``len(origins) x len(destinations)`` minutes; ``inf`` for pairs beyond ``limit``.
    """
    sources = np.asarray(origins, dtype=np.int64)
    targets = np.asarray(destinations, dtype=np.int64)
    graph, nodes = _graph_around(network, np.concatenate([sources, targets]), profile, limit)
    local = np.full(network.nodes, -1, dtype=np.int64)
    local[nodes] = np.arange(len(nodes))
    unique, back = np.unique(local[sources], return_inverse=True)
    columns = local[targets]
    found = np.empty((len(unique), len(targets)), dtype=np.float64)
    batch = max(1, _BATCH_BYTES // (8 * max(1, len(nodes))))
    for start in range(0, len(unique), batch):
        chunk = unique[start : start + batch]
        reach = dijkstra(
            graph,
            directed=True,
            indices=chunk,
            limit=np.inf if limit is None else float(limit),
        )
        found[start : start + len(chunk)] = np.asarray(reach)[:, columns]
    return found[back.reshape(-1)]


def _graph_around(
    network: RoadNetwork,
    ends: IntArray,
    profile: SpeedProfile,
    limit: float | None,
) -> tuple[csr_matrix, IntArray]:
    """The graph of the nodes a search up to ``limit`` can reach from ``ends``, and their
    positions in ``network``: every node, without a limit.

    A route of at most ``limit`` minutes never leaves the box around its two ends
    widened by the distance the fastest car covers in that time, so cutting the network
    to that box changes no time within the limit.
    """
    minutes = profile.edge_minutes(network)
    if limit is None or len(ends) == 0:
        nodes = np.arange(network.nodes)
        shape = (network.nodes, network.nodes)
        return csr_matrix((minutes, (network.tail, network.head)), shape=shape), nodes
    reach_m = profile.top_kmh(network) * 1000.0 * float(limit) / 60.0
    x, y = network.x, network.y
    inside = (
        (x >= x[ends].min() - reach_m)
        & (x <= x[ends].max() + reach_m)
        & (y >= y[ends].min() - reach_m)
        & (y <= y[ends].max() + reach_m)
    )
    nodes = np.flatnonzero(inside)
    local = np.full(network.nodes, -1, dtype=np.int64)
    local[nodes] = np.arange(len(nodes))
    kept = inside[network.tail] & inside[network.head]
    shape = (len(nodes), len(nodes))
    edges = (local[network.tail[kept]], local[network.head[kept]])
    return csr_matrix((minutes[kept], edges), shape=shape), nodes


class MinuteStore(Protocol):
    """Where :func:`drive_minutes` keeps routed blocks between runs (see road_cache)."""

    def get(self, key: str, limit: float | None) -> FloatArray | None:
        """The block saved under ``key`` if it was routed at least as far as ``limit``."""

    def put(self, key: str, limit: float | None, minutes: FloatArray) -> None:
        """Save a block routed up to ``limit``."""


def drive_minutes(
    network: RoadNetwork,
    codes: Sequence[str],
    easting: npt.ArrayLike,
    northing: npt.ArrayLike,
    *,
    profile: SpeedProfile,
    limit: float | None = None,
    regions: Sequence[object] | None = None,
    store: MinuteStore | None = None,
) -> FloatArray:
    """n x n door-to-door drive minutes between practices on ``network``.

    ``t[i, j]`` = the allowance (``profile.trip_minutes``) + the gap from practice ``i``
    to its nearest node at ``profile.offroad_kmh`` + the drive to ``j``'s nearest node +
    ``j``'s gap. Two practices at the same point are 0 minutes apart (one site), as is
    the diagonal.

    Parameters
    ----------
    network : RoadNetwork
    codes : sequence of str
        Practice codes, for messages.
    easting, northing : array_like
        EPSG:27700 metres, one per practice.
    profile : SpeedProfile
    limit : float, optional
        Pairs more than this many minutes apart are ``inf`` (not reachable); routes are
        searched no further.
    regions : sequence, optional
        One label per practice: only pairs within a region are routed (region by region);
        pairs across regions are ``inf``.
    store : MinuteStore, optional
        Blocks already routed (for the same network, profile and coordinates, at least
        as far) are taken from it; blocks routed now are put in it.

    Returns
    -------
    numpy.ndarray
        ``n x n`` minutes, origin by row.

    Raises
    ------
    InputError
        Practices lie off the network (see :func:`snap`); every one is named.
    """
    east = np.asarray(easting, dtype=np.float64)
    north = np.asarray(northing, dtype=np.float64)
    snapped = snap(network, codes, east, north, profile=profile)
    labels = pd.factorize(pd.Series(list(regions) if regions is not None else [0] * len(east)))[0]
    minutes = np.full((len(east), len(east)), np.inf)
    for region in np.unique(labels):
        members = np.flatnonzero(labels == region)
        key = block_key(network, profile, east[members], north[members])
        block = store.get(key, limit) if store is not None else None
        if block is None:
            block = _door_to_door(network, snapped, members, profile=profile, limit=limit)
            if store is not None:
                store.put(key, limit, block)
        elif limit is not None:
            block = np.where(block > limit, np.inf, block)
        minutes[np.ix_(members, members)] = block
    same_site = (east[:, None] == east[None, :]) & (north[:, None] == north[None, :])
    minutes[same_site] = 0.0
    return minutes


def block_key(
    network: RoadNetwork, profile: SpeedProfile, easting: FloatArray, northing: FloatArray
) -> str:
    """What a block of minutes depends on: the network, the profile and the coordinates."""
    digest = hashlib.sha256()
    digest.update(network.digest.encode())
    digest.update(profile.key().encode())
    digest.update(np.ascontiguousarray(easting, dtype="<f8").tobytes())
    digest.update(np.ascontiguousarray(northing, dtype="<f8").tobytes())
    return digest.hexdigest()[:32]


def _door_to_door(
    network: RoadNetwork,
    snapped: Snapped,
    members: IntArray,
    *,
    profile: SpeedProfile,
    limit: float | None,
) -> FloatArray:
    """Minutes among ``members``: allowance + gaps + drive; ``inf`` beyond ``limit``."""
    nodes = snapped.node[members]
    walk = snapped.gap_m[members] / 1000.0 / profile.offroad_kmh * 60.0
    drive_limit = None if limit is None else max(0.0, limit - profile.trip_minutes - walk.min())
    drive = route(network, nodes, nodes, profile=profile, limit=drive_limit)
    total = profile.trip_minutes + walk[:, None] + drive + walk[None, :]
    if limit is not None:
        total[total > limit] = np.inf
    np.fill_diagonal(total, 0.0)
    return total
