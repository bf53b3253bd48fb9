"""The car roads of one file as a directed graph.

A :class:`RoadNetwork` is the car-usable roads of one file (an OpenStreetMap extract or an
OS Open Roads GeoPackage, read by :mod:`mergeopt.inputs.roads.readers`) as a directed graph in
British National Grid (EPSG:27700): nodes with coordinates, and one edge per direction a
car may drive between two consecutive points of a road, with its length, road class and
tagged speed limit. Only the largest strongly connected part is kept, so every kept node
can reach every other (:func:`build_network`). How fast a car goes on it:
:mod:`mergeopt.inputs.roads.speeds`; routing on it: :mod:`mergeopt.inputs.roads.routing`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from mergeopt._errors import InputError

__all__ = ["ROAD_CLASSES", "RoadNetwork", "build_network"]

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
