"""Read car roads from an OpenStreetMap file or an OS Open Roads GeoPackage.

:func:`read_roads` picks the reader by the file's name: ``.gpkg`` is OS Open Roads
(read with pyogrio), anything else an OpenStreetMap file (``.osm.pbf``, ``.osm``, read
with pyosmium, the optional ``mergeopt[roads]`` extra) in one streaming pass. Both give a
:class:`~mergeopt.inputs.roads.network.RoadNetwork` in EPSG:27700.

Which OpenStreetMap ways are car roads
    ``highway`` is one of :data:`~mergeopt.inputs.roads.network.ROAD_CLASSES`; not
    ``area=yes``; and the most specific of ``motorcar``, ``motor_vehicle``, ``vehicle``,
    ``access`` that is tagged is not one of :data:`NO_CARS` (``private`` roads are left
    out: they are not open to a patient's car). ``oneway=yes|true|1`` is one way along the way,
    ``oneway=-1|reverse`` against it, ``oneway=reversible|alternating`` is left out, and
    motorways and roundabouts (``junction=roundabout|circular``) are one way unless
    tagged ``oneway=no``. ``maxspeed`` is read as km/h, ``mph`` values converted, and the
    UK national limits (``GB:nsl_single`` 60 mph, ``GB:nsl_dual`` and ``GB:motorway``
    70 mph) understood; anything else counts as untagged.

OS Open Roads
    Layer ``road_link``, joined at its ``start_node``/``end_node``; every link is two-way
    (the product has no one-way or speed-limit data). ``road_classification`` maps to a
    class: Motorway -> motorway, A Road -> trunk (where ``trunk_road`` is true) or
    primary, B Road -> secondary, Classified Unnumbered -> tertiary, Unclassified and
    Unknown -> unclassified, Not Classified -> residential; ``form_of_way`` Slip Road
    makes it the ``_link`` class. Guided busways are left out.
"""

from __future__ import annotations

import hashlib
import re
from array import array
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from mergeopt._errors import InputError
from mergeopt.geo.crs import to_bng
from mergeopt.inputs.roads.network import ROAD_CLASSES, RoadNetwork, build_network

__all__ = ["NO_CARS", "READER_VERSION", "attribution", "file_digest", "read_roads"]

#: Bumped when a reader would give a different graph from the same file (cache keys).
READER_VERSION = "1"

#: Access values that shut a road to a patient's car.
NO_CARS = frozenset(
    {"no", "private", "agricultural", "forestry", "emergency", "psv", "bus", "military"}
)

_CLASS_CODE = {name: code for code, name in enumerate(ROAD_CLASSES)}
_MPH = 1.609344
_NATIONAL_KMH = {"nsl_single": 60 * _MPH, "nsl_dual": 70 * _MPH, "motorway": 70 * _MPH}
_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(mph|km/h|kmh|kph)?\s*$")
_ONE_WAY = {"yes": 1, "true": 1, "1": 1, "-1": -1, "reverse": -1, "no": 2, "false": 2, "0": 2}
_ACCESS_KEYS = ("motorcar", "motor_vehicle", "vehicle", "access")


def read_roads(path: Path, *, digest: str | None = None) -> RoadNetwork:
    """The car roads of ``path`` as a routable network (largest strongly connected part).

    ``digest`` is the file's :func:`file_digest` when the caller has it already.

    Raises
    ------
    InputError
        The file is missing, cannot be read as its kind, has no car roads, or pyosmium
        is not installed for an OpenStreetMap file; one line naming the file.
    """
    if not path.is_file():
        raise InputError(f"{path}: road network file not found")
    version = f"{digest or file_digest(path)}-{READER_VERSION}"
    if path.suffix.lower() == ".gpkg":
        return _read_open_roads(path, version)
    return _read_osm(path, version)


def attribution(path: Path) -> str:
    """The credit a map made with the roads of ``path`` must carry, by the file's kind.

    >>> attribution(Path("rutland-latest.osm.pbf"))
    'Road network © OpenStreetMap contributors (ODbL)'
    """
    if path.suffix.lower() == ".gpkg":
        return "Road network: contains OS data © Crown copyright and database right"
    return "Road network © OpenStreetMap contributors (ODbL)"


def file_digest(path: Path) -> str:
    """The SHA-256 of a file's content, hex."""
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def parse_maxspeed(text: str | None) -> float:
    """A ``maxspeed`` tag in km/h, or NaN when it gives no usable number.

    >>> parse_maxspeed("30 mph"), parse_maxspeed("50"), parse_maxspeed("GB:nsl_single")
    (48.28032, 50.0, 96.56064)
    >>> parse_maxspeed("signals")
    nan
    """
    if not text:
        return float("nan")
    value = text.split(";")[0].strip().lower()
    national = value.split(":")[-1]
    if national in _NATIONAL_KMH:
        return _NATIONAL_KMH[national]
    match = _NUMBER.match(value)
    if match is None:
        return float("nan")
    speed = float(match.group(1)) * (_MPH if match.group(2) == "mph" else 1.0)
    return speed if 0 < speed <= 200 else float("nan")


def car_direction(tags: Any) -> int:
    """How a car may use a way with these tags: 1 along it, -1 against it, 2 both, 0 not.

    >>> car_direction({"highway": "residential"}), car_direction({"highway": "footway"})
    (2, 0)
    >>> car_direction({"highway": "primary", "oneway": "-1"})
    -1
    """
    highway = tags.get("highway")
    if highway not in _CLASS_CODE or tags.get("area") == "yes":
        return 0
    access = next((tags.get(key) for key in _ACCESS_KEYS if tags.get(key)), None)
    if access in NO_CARS:
        return 0
    oneway = tags.get("oneway")
    if oneway in _ONE_WAY:
        return _ONE_WAY[oneway]
    if oneway in ("reversible", "alternating"):
        return 0
    implied = highway == "motorway" or tags.get("junction") in ("roundabout", "circular")
    return 1 if implied else 2


def _read_osm(path: Path, digest: str) -> RoadNetwork:
    """One streaming pass over an OpenStreetMap file: car ways with node locations."""
    try:
        import osmium
    except ImportError:
        raise InputError(
            f"{path}: reading an OpenStreetMap file needs pyosmium: pip install 'mergeopt[roads]'"
        ) from None
    ways = _OsmWays()
    try:
        processor = (
            osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
            .with_locations()
            .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
            .with_filter(osmium.filter.KeyFilter("highway"))
        )
        for way in processor:
            ways.add(way)
    except RuntimeError as error:
        reason = " ".join(str(error).split())
        raise InputError(
            f"{path}: cannot be read as an OpenStreetMap file (.osm.pbf or .osm): {reason}"
        ) from None
    return ways.network(str(path), digest)


class _OsmWays:
    """Car ways as they stream past, flattened into typed arrays (one entry per way node:
    8 bytes a number, not a Python object, so a county or England fits in memory)."""

    def __init__(self) -> None:
        self.refs = array("q")
        self.lon = array("d")
        self.lat = array("d")
        self.counts = array("q")
        self.road_class = array("B")
        self.maxspeed = array("d")
        self.direction = array("b")

    def add(self, way: Any) -> None:
        tags = way.tags
        direction = car_direction(tags)
        if direction == 0:
            return
        nan = float("nan")
        for node in way.nodes:
            location = node.location
            valid = location.valid()
            self.refs.append(node.ref)
            self.lon.append(location.lon if valid else nan)
            self.lat.append(location.lat if valid else nan)
        self.counts.append(len(way.nodes))
        self.road_class.append(_CLASS_CODE[tags.get("highway")])
        self.maxspeed.append(parse_maxspeed(tags.get("maxspeed")))
        self.direction.append(direction)

    def network(self, source: str, digest: str) -> RoadNetwork:
        """Nodes projected to EPSG:27700 and one edge per consecutive pair and direction.

        A node the file has no location for (cut off at the extract's edge) breaks its way.
        """
        refs = np.frombuffer(self.refs, dtype=np.int64)
        lon = np.frombuffer(self.lon, dtype=np.float64)
        lat = np.frombuffer(self.lat, dtype=np.float64)
        way = np.repeat(np.arange(len(self.counts)), np.frombuffer(self.counts, dtype=np.int64))
        valid = ~np.isnan(lon)
        _, first, node = np.unique(refs, return_index=True, return_inverse=True)
        node = node.reshape(-1)
        x, y = to_bng(lon[first], lat[first])  # NaN stays NaN
        pair = np.flatnonzero((way[1:] == way[:-1]) & valid[1:] & valid[:-1])
        a, b, of = node[pair], node[pair + 1], way[pair]
        direction = np.frombuffer(self.direction, dtype=np.int8)[of]
        forward = direction != -1
        backward = direction != 1
        tail = np.concatenate([a[forward], b[backward]])
        head = np.concatenate([b[forward], a[backward]])
        edge_way = np.concatenate([of[forward], of[backward]])
        classes = np.frombuffer(self.road_class, dtype=np.uint8)
        limits = np.frombuffer(self.maxspeed, dtype=np.float64)
        return build_network(
            source=source,
            digest=digest,
            x=x,
            y=y,
            tail=tail,
            head=head,
            road_class=classes[edge_way],
            maxspeed_kmh=limits[edge_way],
        )


# --- OS Open Roads ---------------------------------------------------------------------

_OPEN_ROADS_CLASS = {
    "Motorway": "motorway",
    "A Road": "primary",
    "B Road": "secondary",
    "Classified Unnumbered": "tertiary",
    "Unclassified": "unclassified",
    "Unknown": "unclassified",
    "Not Classified": "residential",
}
_OPEN_ROADS_COLUMNS = [
    "road_classification",
    "form_of_way",
    "trunk_road",
    "start_node",
    "end_node",
]


def _read_open_roads(path: Path, digest: str) -> RoadNetwork:
    """OS Open Roads ``road_link``: every vertex a node, links joined at their end nodes."""
    import pyogrio
    import shapely

    try:
        links = pyogrio.read_dataframe(path, layer="road_link", columns=_OPEN_ROADS_COLUMNS)
    except Exception as error:  # pyogrio raises its own errors and ValueError
        reason = " ".join(str(error).split())
        raise InputError(
            f"{path}: cannot be read as OS Open Roads (a GeoPackage with layer road_link "
            f"and columns {', '.join(_OPEN_ROADS_COLUMNS)}): {reason}"
        ) from None
    if links.crs is not None and links.crs.to_epsg() != 27700:
        links = links.to_crs(27700)
    links = links.loc[
        (links["form_of_way"] != "Guided Busway")
        & links["road_classification"].isin(list(_OPEN_ROADS_CLASS))
        & links.geometry.notna()
    ]
    classes = links["road_classification"].map(_OPEN_ROADS_CLASS)
    trunk = links["trunk_road"].astype(str).str.lower().isin(["true", "1"])
    classes = classes.where(~((classes == "primary") & trunk), "trunk")
    slip = links["form_of_way"] == "Slip Road"
    classes = classes.where(~slip | (classes == "residential"), classes + "_link")
    classes = classes.where(classes.isin(list(_CLASS_CODE)), classes.str.removesuffix("_link"))
    coords, link = shapely.get_coordinates(links.geometry.to_numpy(), return_index=True)
    return _open_roads_network(
        str(path),
        digest,
        coords,
        link,
        ends=(
            links["start_node"].astype(str).to_numpy(),
            links["end_node"].astype(str).to_numpy(),
        ),
        road_class=classes.map(_CLASS_CODE).to_numpy(dtype=np.uint8),
    )


def _open_roads_network(
    source: str,
    digest: str,
    coords: npt.NDArray[np.float64],
    link: npt.NDArray[np.int64],
    *,
    ends: tuple[npt.NDArray[Any], npt.NDArray[Any]],
    road_class: npt.NDArray[np.uint8],
) -> RoadNetwork:
    """Node numbers: shared end nodes first (by their ids), then each inner vertex."""
    import pandas as pd

    count = np.bincount(link, minlength=len(road_class))
    first = np.concatenate([[0], np.cumsum(count)[:-1]])
    last = first + count - 1
    end_ids, end_node = np.unique(np.concatenate(ends), return_inverse=True)
    start_of, end_of = np.split(end_node.reshape(-1), 2)
    node = np.arange(len(coords)) + len(end_ids)
    node[first] = start_of
    node[last] = end_of
    frame = pd.DataFrame({"node": node, "x": coords[:, 0], "y": coords[:, 1]})
    placed = frame.drop_duplicates("node").set_index("node").sort_index()
    x = np.full(len(end_ids) + len(coords), np.nan)
    y = np.full(len(end_ids) + len(coords), np.nan)
    x[placed.index.to_numpy()] = placed["x"].to_numpy()
    y[placed.index.to_numpy()] = placed["y"].to_numpy()
    pair = np.flatnonzero(link[1:] == link[:-1])
    a, b, of = node[pair], node[pair + 1], link[pair]
    return build_network(
        source=source,
        digest=digest,
        x=x,
        y=y,
        tail=np.concatenate([a, b]),
        head=np.concatenate([b, a]),
        road_class=np.concatenate([road_class[of], road_class[of]]),
        maxspeed_kmh=np.full(2 * len(pair), np.nan),
    )
