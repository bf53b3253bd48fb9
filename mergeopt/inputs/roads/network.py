"""Drive minutes on a real road network, routed offline.

A :class:`RoadNetwork` is the car-usable roads of one file (an OpenStreetMap extract or an
OS Open Roads GeoPackage, read by :mod:`mergeopt.inputs.roads.readers`) as a directed graph in
British National Grid (EPSG:27700): nodes with coordinates, and one edge per direction a
car may drive between two consecutive points of a road, with its length, road class and
tagged speed limit. Only the largest strongly connected part is kept, so every kept node
can reach every other.

A :class:`SpeedProfile` turns edges into minutes: the tagged limit times a factor where
there is one, else a speed per road class. :func:`drive_minutes` snaps each practice to
its nearest node (the gap crossed at a walking/parking speed), routes many-to-many with
Dijkstra (``scipy.sparse.csgraph``) up to a search limit, and adds a fixed start/finish
allowance per trip. Pairs beyond the limit are ``inf`` (not reachable), as in a
user-supplied matrix. Method, defaults and how they compare with the straight-line model:
``docs/travel_model.md``.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from mergeopt._errors import InputError

__all__ = [
    "DEFAULT_SPEEDS_KMH",
    "ROAD_CLASSES",
    "SEARCH_MARGIN",
    "TRIP_MINUTES",
    "MinuteStore",
    "RoadNetwork",
    "SpeedProfile",
    "block_key",
    "build_network",
    "drive_minutes",
    "route",
    "search_limit",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Road classes a car may use, in OpenStreetMap's ``highway=*`` names; an edge's class is
#: its position here. OS Open Roads classes are mapped onto these (see road_readers).
ROAD_CLASSES: tuple[str, ...] = (
    "motorway",
    "motorway_link",
    "trunk",
    "trunk_link",
    "primary",
    "primary_link",
    "secondary",
    "secondary_link",
    "tertiary",
    "tertiary_link",
    "unclassified",
    "residential",
    "living_street",
    "service",
    "road",
)

#: km/h on a road with no speed-limit tag, by class: the averages of OSRM's car profile
#: (which routes openstreetmap.org), ``road`` (a road of unknown kind) as a minor road.
DEFAULT_SPEEDS_KMH: Mapping[str, float] = {
    "motorway": 90.0,
    "motorway_link": 45.0,
    "trunk": 85.0,
    "trunk_link": 40.0,
    "primary": 65.0,
    "primary_link": 30.0,
    "secondary": 55.0,
    "secondary_link": 25.0,
    "tertiary": 40.0,
    "tertiary_link": 20.0,
    "unclassified": 25.0,
    "residential": 25.0,
    "living_street": 10.0,
    "service": 15.0,
    "road": 20.0,
}

#: Minutes every trip between two different sites costs on top of the drive: leaving
#: one place and parking at the other. Fitted as ``docs/travel_model.md`` explains.
TRIP_MINUTES = 3.7

#: Routes are searched up to this many times the travel limit: pairs a little beyond the
#: limit keep their time (so an explanation can say how far a limit must rise), pairs
#: beyond that are left out (not reachable).
SEARCH_MARGIN = 1.25

#: Memory for one batch of Dijkstra searches (a row of 8-byte minutes per node per origin).
_BATCH_BYTES = 256 * 2**20

#: Shortest time on any edge, so that two nodes at one point are still joined (a sparse
#: graph's zero would be read as "no edge" once the matrix is compressed).
_MIN_EDGE_MINUTES = 1e-6


@dataclass(frozen=True, eq=False)
class RoadNetwork:
    """The car roads of one file as a directed graph in EPSG:27700 metres.

    Node ``k`` is at ``(x[k], y[k])``; edge ``e`` runs from node ``tail[e]`` to
    ``head[e]`` (a two-way road has one edge each way), is ``length_m[e]`` metres long,
    of class ``ROAD_CLASSES[road_class[e]]``, with a tagged limit of ``maxspeed_kmh[e]``
    (NaN where untagged). Only the largest strongly connected part of the roads read is
    kept.

    Attributes
    ----------
    source : str
        The file the roads came from, for messages.
    digest : str
        The file's content hash and the reader's version: the same digest, the same graph.
    extent : tuple of float
        ``(xmin, ymin, xmax, ymax)`` of every car road read (before keeping the largest
        part): practices outside it are outside the network.
    roads_read : int
        Nodes of every car road read; ``roads_read - len(x)`` were left out as not
        connected both ways to the largest part.
    """

    source: str
    digest: str
    x: FloatArray
    y: FloatArray
    tail: IntArray
    head: IntArray
    length_m: FloatArray
    road_class: npt.NDArray[np.uint8]
    maxspeed_kmh: FloatArray
    extent: tuple[float, float, float, float]
    roads_read: int

    @property
    def nodes(self) -> int:
        """Number of nodes kept."""
        return len(self.x)

    @property
    def edges(self) -> int:
        """Number of directed edges kept."""
        return len(self.tail)

    @cached_property
    def tree(self) -> cKDTree:
        """A k-d tree of the nodes, built on first use (for snapping)."""
        return cKDTree(np.column_stack([self.x, self.y]))

    def arrays(self) -> dict[str, Any]:
        """Every field as an array or a number, for saving (see :meth:`from_arrays`)."""
        return {
            "source": np.array(self.source),
            "digest": np.array(self.digest),
            "x": self.x,
            "y": self.y,
            "tail": self.tail,
            "head": self.head,
            "length_m": self.length_m,
            "road_class": self.road_class,
            "maxspeed_kmh": self.maxspeed_kmh,
            "extent": np.asarray(self.extent, dtype=np.float64),
            "roads_read": np.array(self.roads_read),
        }

    @classmethod
    def from_arrays(cls, data: Mapping[str, Any]) -> RoadNetwork:
        """The network :meth:`arrays` saved."""
        xmin, ymin, xmax, ymax = (float(v) for v in data["extent"])
        return cls(
            source=str(data["source"]),
            digest=str(data["digest"]),
            x=np.asarray(data["x"], dtype=np.float64),
            y=np.asarray(data["y"], dtype=np.float64),
            tail=np.asarray(data["tail"], dtype=np.int64),
            head=np.asarray(data["head"], dtype=np.int64),
            length_m=np.asarray(data["length_m"], dtype=np.float64),
            road_class=np.asarray(data["road_class"], dtype=np.uint8),
            maxspeed_kmh=np.asarray(data["maxspeed_kmh"], dtype=np.float64),
            extent=(xmin, ymin, xmax, ymax),
            roads_read=int(data["roads_read"]),
        )


@dataclass(frozen=True)
class SpeedProfile:
    """How fast a car goes on each edge, and what a trip costs beyond the drive.

    Parameters
    ----------
    speeds_kmh : mapping of str to float, optional
        km/h by road class (:data:`ROAD_CLASSES`) where no limit is tagged; the given
        classes replace those of :data:`DEFAULT_SPEEDS_KMH`.
    maxspeed_factor : float, optional
        A tagged limit times this is the speed (traffic, bends and junctions keep the
        average below the limit).
    offroad_kmh : float, optional
        Speed across the gap between a practice and its nearest road node (walking,
        parking).
    trip_minutes : float, optional
        The fixed start/finish allowance added to every trip between two sites.
    max_offroad_m : float, optional
        A practice farther than this from every road is outside the network (an error).

    Examples
    --------
    >>> SpeedProfile(speeds_kmh={"residential": 20}).speeds_kmh["residential"]
    20.0
    """

    speeds_kmh: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_SPEEDS_KMH))
    maxspeed_factor: float = 0.8
    offroad_kmh: float = 5.0
    trip_minutes: float = TRIP_MINUTES
    max_offroad_m: float = 500.0

    def __post_init__(self) -> None:
        unknown = sorted(set(self.speeds_kmh) - set(ROAD_CLASSES))
        if unknown:
            raise ValueError(
                f"unknown road class(es) {', '.join(unknown)}; known: {', '.join(ROAD_CLASSES)}"
            )
        speeds = {**DEFAULT_SPEEDS_KMH, **{k: float(v) for k, v in self.speeds_kmh.items()}}
        positive = {
            "maxspeed_factor": self.maxspeed_factor,
            "offroad_kmh": self.offroad_kmh,
            "max_offroad_m": self.max_offroad_m,
        } | {f"speeds_kmh.{name}": speed for name, speed in speeds.items()}
        for name, value in positive.items():
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a finite number > 0, not {value}")
        if not (math.isfinite(self.trip_minutes) and self.trip_minutes >= 0):
            raise ValueError(f"trip_minutes must be a finite number >= 0, not {self.trip_minutes}")
        object.__setattr__(self, "speeds_kmh", speeds)

    def edge_kmh(self, network: RoadNetwork) -> FloatArray:
        """Speed on each edge of ``network``: tagged limit x factor, else the class speed."""
        by_class = np.array([self.speeds_kmh[name] for name in ROAD_CLASSES], dtype=np.float64)
        tagged = network.maxspeed_kmh * self.maxspeed_factor
        return np.where(np.isnan(tagged), by_class[network.road_class], tagged)

    def edge_minutes(self, network: RoadNetwork) -> FloatArray:
        """Minutes to drive each edge of ``network``."""
        minutes = network.length_m / 1000.0 / self.edge_kmh(network) * 60.0
        return np.maximum(minutes, _MIN_EDGE_MINUTES)

    def top_kmh(self, network: RoadNetwork) -> float:
        """The fastest speed anywhere on ``network`` or across a gap to it."""
        fastest = float(self.edge_kmh(network).max()) if network.edges else 0.0
        return max(fastest, self.offroad_kmh)

    def key(self) -> str:
        """A canonical text of every value, for cache keys."""
        values = {
            "speeds_kmh": dict(sorted(self.speeds_kmh.items())),
            "maxspeed_factor": self.maxspeed_factor,
            "offroad_kmh": self.offroad_kmh,
            "trip_minutes": self.trip_minutes,
            "max_offroad_m": self.max_offroad_m,
        }
        return json.dumps(values, sort_keys=True)


def search_limit(max_minutes: float | None) -> float | None:
    """Minutes up to which routes are searched for a travel limit (None: no limit).

    >>> search_limit(20)
    25.0
    """
    return None if max_minutes is None else SEARCH_MARGIN * float(max_minutes)


def build_network(
    *,
    source: str,
    digest: str,
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    tail: npt.ArrayLike,
    head: npt.ArrayLike,
    road_class: npt.ArrayLike,
    maxspeed_kmh: npt.ArrayLike,
) -> RoadNetwork:
    """Assemble a :class:`RoadNetwork` from a reader's nodes and directed edges.

    Edges from a node to itself are dropped, of several edges between the same two nodes
    the shortest is kept, edge lengths are the straight line between their nodes, and only
    the largest strongly connected part is kept.

    Raises
    ------
    InputError
        There is no edge: no car road in the file (the message names it).
    """
    xs = np.asarray(x, dtype=np.float64)
    ys = np.asarray(y, dtype=np.float64)
    tails = np.asarray(tail, dtype=np.int64)
    heads = np.asarray(head, dtype=np.int64)
    classes = np.asarray(road_class, dtype=np.uint8)
    limits = np.asarray(maxspeed_kmh, dtype=np.float64)
    used = np.unique(np.concatenate([tails, heads]))
    if len(used) == 0 or not (tails != heads).any():
        raise InputError(f"{source}: no car roads in the file (nothing to route on)")
    extent = (
        float(xs[used].min()),
        float(ys[used].min()),
        float(xs[used].max()),
        float(ys[used].max()),
    )
    length = np.hypot(xs[heads] - xs[tails], ys[heads] - ys[tails])
    keep = _shortest_of_parallel(tails, heads, length)
    tails, heads, length = tails[keep], heads[keep], length[keep]
    classes, limits = classes[keep], limits[keep]
    kept_nodes = _largest_strong_part(tails, heads, len(xs))
    relabel = np.full(len(xs), -1, dtype=np.int64)
    relabel[kept_nodes] = np.arange(len(kept_nodes))
    inside = (relabel[tails] >= 0) & (relabel[heads] >= 0)
    return RoadNetwork(
        source=source,
        digest=digest,
        x=xs[kept_nodes],
        y=ys[kept_nodes],
        tail=relabel[tails[inside]],
        head=relabel[heads[inside]],
        length_m=length[inside],
        road_class=classes[inside],
        maxspeed_kmh=limits[inside],
        extent=extent,
        roads_read=len(used),
    )


def _shortest_of_parallel(tails: IntArray, heads: IntArray, length: FloatArray) -> IntArray:
    """Positions of the edges to keep: no self-loops, the shortest of parallel edges.

    (A sparse matrix built from repeated entries would add them up.)
    """
    candidates = np.flatnonzero(tails != heads)
    order = candidates[np.lexsort((length[candidates], heads[candidates], tails[candidates]))]
    pairs = np.column_stack([tails[order], heads[order]])
    first = np.ones(len(order), dtype=bool)
    first[1:] = (pairs[1:] != pairs[:-1]).any(axis=1)
    return np.sort(order[first])


def _largest_strong_part(tails: IntArray, heads: IntArray, n: int) -> IntArray:
    """Nodes of the largest strongly connected component (nodes on no edge never count)."""
    graph = csr_matrix((np.ones(len(tails)), (tails, heads)), shape=(n, n))
    _, label = connected_components(graph, directed=True, connection="strong")
    on_edge = np.zeros(n, dtype=bool)
    on_edge[tails] = True
    on_edge[heads] = True
    sizes = np.bincount(label[on_edge], minlength=int(label.max()) + 1)
    return np.flatnonzero(label == int(np.argmax(sizes)))


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
