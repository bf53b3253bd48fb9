"""Tests for the road network model: readers, graph, snapping, routing, cache and the fit.

Most tests route on a tiny OpenStreetMap file written here, whose shortest times are
worked out by hand; the rest read the real Rutland extract where the project's shared
data lie (``../shared/data/roads``), skipped with the reason when that folder is absent.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mergeopt._errors import InputError, InputWarning
from mergeopt.inputs.roads.cache import CACHE_ENV, MinuteCache, cache_root, load_network
from mergeopt.inputs.roads.fit import SETTLEMENT_CLASSES, fit_trip_allowance
from mergeopt.inputs.roads.network import ROAD_CLASSES, RoadNetwork, build_network
from mergeopt.inputs.roads.readers import car_direction, parse_maxspeed, read_roads
from mergeopt.inputs.roads.routing import drive_minutes, route, search_limit
from mergeopt.inputs.roads.speeds import TRIP_MINUTES, SpeedProfile
from mergeopt.inputs.travel import ROAD_MODEL

osmium = pytest.importorskip("osmium", reason="the roads extra (pyosmium) is not installed")

ROOT = Path(__file__).resolve().parents[2]
RUTLAND_PBF = ROOT.parent / "shared" / "data" / "roads" / "rutland-latest.osm.pbf"
TRAVEL_DIR = ROOT / "data" / "travel"
TOOL = ROOT / "tools" / "fit_network_model.py"
DOC = ROOT / "docs" / "travel_model.md"
needs_rutland = pytest.mark.skipif(
    not RUTLAND_PBF.is_file(), reason=f"the Rutland extract is not at {RUTLAND_PBF}"
)

# The line model's documented mean absolute error on trips under 25 km (docs/travel_model.md).
LINE_MAE = 2.44

# --- a tiny network with hand-worked times --------------------------------------------
#
# Kilometres east and north of (480000, 300000) in EPSG:27700:
#
#        H(1,1) -- M(1.5,1) -- G(2,1)             north street, two-way
#          |          |          |
#   A(0,0)-B(1,0) --> W(1.5,0) --> C(2,0) - D(3,0) --> Z(4,0)
#   |                 U(1.5,0) (bridge node, above W: no junction)
#   V(0,-1) ------- S(1.5,-1)                     south road
#                          X(10,10) - Y(11,10)    a piece joined to nothing
#
# B -> W -> C is a one-way primary signed 30 mph; S - U - M is a bridge over it; D -> Z is a
# one-way spur with no way back (not strongly connected); a footway joins D to A directly.
# With every class at 60 km/h (1 km a minute) and the limit read at face value:
ORIGIN = (480_000.0, 300_000.0)
NODES = {
    1: (0, 0),  # A
    2: (1, 0),  # B
    3: (1.5, 0),  # W
    4: (2, 0),  # C
    5: (3, 0),  # D
    6: (1, 1),  # H
    7: (1.5, 1),  # M
    8: (2, 1),  # G
    9: (1.5, -1),  # S
    10: (1.5, 0),  # U, at the same point as W
    11: (0, -1),  # V
    12: (4, 0),  # Z
    13: (10, 10),  # X
    14: (11, 10),  # Y
}
WAYS = [
    ([1, 2], {"highway": "residential"}),
    ([2, 3, 4], {"highway": "primary", "oneway": "yes", "maxspeed": "30 mph"}),
    ([4, 5], {"highway": "residential"}),
    ([2, 6], {"highway": "residential"}),
    ([6, 7, 8], {"highway": "residential"}),
    ([8, 4], {"highway": "residential"}),
    ([9, 10, 7], {"highway": "residential", "bridge": "yes", "layer": "1"}),
    ([1, 11, 9], {"highway": "unclassified"}),
    ([5, 12], {"highway": "tertiary", "oneway": "yes"}),
    ([13, 14], {"highway": "residential"}),
    ([5, 1], {"highway": "footway"}),
]
MINUTES_30_MPH_KM = 60 / (30 * 1.609344)  # 1.2427 minutes a km
FLAT = SpeedProfile(
    speeds_kmh=dict.fromkeys(ROAD_CLASSES, 60.0),
    maxspeed_factor=1.0,
    offroad_kmh=5.0,
    trip_minutes=2.0,
    max_offroad_m=1000.0,
)
A_TO_D = 1 + MINUTES_30_MPH_KM + 1  # along the one-way street
D_TO_A = 1 + 1 + 0.5 + 0.5 + 1 + 1  # back round the north street
S_TO_D = 1 + 1 + 0.5 + 1 + 1  # over the bridge, never down onto the street below

# Practices: at A, at D, at S, 600 m north of D (off-road), and a second one at A.
CODES = ["PA", "PD", "PS", "PFAR", "PA2"]
PRACTICE_KM = np.array([(0, 0), (3, 0), (1.5, -1), (3, 0.6), (0, 0)], dtype=float)
WALK_600_M = 0.6 / 5.0 * 60.0  # 7.2 minutes


def bng(km: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Kilometre offsets -> EPSG:27700 metres."""
    return ORIGIN[0] + 1000 * km[:, 0], ORIGIN[1] + 1000 * km[:, 1]


def write_osm(path: Path, nodes: dict[int, tuple[float, float]], ways) -> Path:
    """An OpenStreetMap file (.osm or .osm.pbf by name) of nodes at kilometre offsets."""
    from osmium.osm.mutable import Node, Way
    from pyproj import Transformer

    to_wgs84 = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
    writer = osmium.SimpleWriter(str(path), overwrite=True)
    try:
        for node_id, (x, y) in sorted(nodes.items()):
            lon, lat = to_wgs84.transform(ORIGIN[0] + 1000 * x, ORIGIN[1] + 1000 * y)
            writer.add_node(Node(id=node_id, location=(lon, lat), version=1))
        for way_id, (refs, tags) in enumerate(ways, start=100):
            writer.add_way(Way(id=way_id, nodes=refs, tags=tags, version=1))
    finally:
        writer.close()
    return path


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    """Every test keeps its cache under its own temporary folder, none is shared."""
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    from mergeopt.inputs.roads import cache as road_cache

    road_cache._load_network.cache_clear()


@pytest.fixture
def tiny(tmp_path) -> Path:
    return write_osm(tmp_path / "tiny.osm.pbf", NODES, WAYS)


@pytest.fixture
def tiny_network(tiny) -> RoadNetwork:
    return read_roads(tiny)


def node_at(network: RoadNetwork, x_km: float, y_km: float) -> int:
    gap, node = network.tree.query([ORIGIN[0] + 1000 * x_km, ORIGIN[1] + 1000 * y_km])
    assert gap < 0.05
    return int(node)


# --- the tiny network ------------------------------------------------------------------


def test_keeps_the_largest_strongly_connected_car_roads(tiny_network):
    # 12 car-road nodes have a location and a car way; the island (X, Y) and the dead-end
    # one-way spur's end (Z) are not both ways connected to the rest; the footway is no car road.
    assert tiny_network.roads_read == 14
    assert tiny_network.nodes == 11
    kept = {
        (round(x - ORIGIN[0]), round(y - ORIGIN[1]))
        for x, y in zip(tiny_network.x, tiny_network.y, strict=True)
    }
    assert (4000, 0) not in kept and (10_000, 10_000) not in kept
    assert tiny_network.extent == pytest.approx(
        (ORIGIN[0], ORIGIN[1] - 1000, ORIGIN[0] + 11_000, ORIGIN[1] + 10_000), abs=0.05
    )


def test_one_way_street_is_driven_one_way(tiny_network):
    a, d = node_at(tiny_network, 0, 0), node_at(tiny_network, 3, 0)
    minutes = route(tiny_network, [a, d], [d, a], profile=FLAT)
    assert minutes[0, 0] == pytest.approx(A_TO_D, abs=1e-3)
    assert minutes[1, 1] == pytest.approx(D_TO_A, abs=1e-3)


def test_bridge_crosses_the_street_without_a_junction(tiny_network):
    s, d = node_at(tiny_network, 1.5, -1), node_at(tiny_network, 3, 0)
    assert route(tiny_network, [s], [d], profile=FLAT)[0, 0] == pytest.approx(S_TO_D, abs=1e-3)
    # Two nodes stand at (1.5, 0): the street's W and the bridge's U.
    at_crossing = np.hypot(tiny_network.x - ORIGIN[0] - 1500, tiny_network.y - ORIGIN[1]) < 0.05
    assert at_crossing.sum() == 2


def test_tagged_limit_times_factor_else_class_speed(tiny_network):
    profile = SpeedProfile(
        speeds_kmh=dict.fromkeys(ROAD_CLASSES, 30.0), maxspeed_factor=0.5, trip_minutes=0
    )
    speeds = profile.edge_kmh(tiny_network)
    primary = tiny_network.road_class == ROAD_CLASSES.index("primary")
    assert speeds[primary] == pytest.approx(30 * 1.609344 * 0.5)
    assert speeds[~primary] == pytest.approx(30.0)
    assert profile.top_kmh(tiny_network) == pytest.approx(30.0)


def test_door_to_door_minutes_known(tiny_network):
    east, north = bng(PRACTICE_KM)
    t = drive_minutes(tiny_network, CODES, east, north, profile=FLAT)
    trip = FLAT.trip_minutes
    assert t[0, 1] == pytest.approx(trip + A_TO_D, abs=1e-3)
    assert t[1, 0] == pytest.approx(trip + D_TO_A, abs=1e-3)
    assert t[2, 1] == pytest.approx(trip + S_TO_D, abs=1e-3)
    # The practice 600 m from the nearest road walks that gap at 5 km/h, each way.
    assert t[3, 0] == pytest.approx(trip + WALK_600_M + D_TO_A, abs=1e-3)
    assert t[0, 3] == pytest.approx(trip + A_TO_D + WALK_600_M, abs=1e-3)
    assert t[1, 3] == pytest.approx(trip + WALK_600_M, abs=1e-3)
    # Two practices on one site are 0 minutes apart, like a practice and itself.
    assert t[0, 4] == t[4, 0] == 0.0
    assert np.all(np.diag(t) == 0.0)


def test_limit_leaves_farther_pairs_out(tiny_network):
    east, north = bng(PRACTICE_KM)
    t = drive_minutes(tiny_network, CODES, east, north, profile=FLAT, limit=6.0)
    assert t[0, 1] == pytest.approx(FLAT.trip_minutes + A_TO_D, abs=1e-3)  # 5.24 <= 6
    assert np.isinf(t[1, 0])  # 7 > 6: not reachable
    assert np.all(np.isinf(t) | (t <= 6.0))
    full = drive_minutes(tiny_network, CODES, east, north, profile=FLAT)
    assert np.array_equal(np.where(full <= 6.0, full, np.inf), t)


def test_regions_are_routed_apart(tiny_network):
    east, north = bng(PRACTICE_KM)
    regions = ["north", "north", "south", "south", "north"]
    t = drive_minutes(tiny_network, CODES, east, north, profile=FLAT, regions=regions)
    full = drive_minutes(tiny_network, CODES, east, north, profile=FLAT)
    same = np.array(regions)[:, None] == np.array(regions)[None, :]
    assert np.array_equal(t[same], full[same])
    assert np.all(np.isinf(t[~same]))


def test_search_limit_is_a_little_above_the_travel_limit():
    assert search_limit(None) is None
    assert search_limit(20) == 25.0


# --- bad input ---------------------------------------------------------------------------


def test_practices_off_the_network_are_all_named(tiny_network):
    points = np.array([(0, 0), (10.5, 10.0), (50, 50), (60, 60)], dtype=float)
    east, north = bng(points)
    codes = ["OK1", "NEARISLAND", "FAR1", "FAR2"]
    with pytest.raises(InputError) as caught:
        drive_minutes(tiny_network, codes, east, north, profile=FLAT)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{tiny_network.source}: practices not on this road network")
    assert "outside the area its roads cover: FAR1, FAR2" in message
    # Next to the piece joined to nothing: its nearest routable node is G, 12.4 km away.
    assert "more than 1000 m from any road it can route on: NEARISLAND (12.4 km)" in message
    assert "OK1" not in message


def test_not_an_osm_file(tmp_path):
    bad = tmp_path / "roads.osm.pbf"
    bad.write_text("origin,destination,minutes\n", encoding="utf-8")
    with pytest.raises(
        InputError, match=r"roads\.osm\.pbf: cannot be read as an OpenStreetMap file"
    ):
        read_roads(bad)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match=r"nowhere\.osm\.pbf: road network file not found"):
        load_network(tmp_path / "nowhere.osm.pbf")


def test_no_car_roads(tmp_path):
    paths = write_osm(
        tmp_path / "paths.osm",
        {1: (0, 0), 2: (1, 0), 3: (2, 0)},
        [([1, 2], {"highway": "footway"}), ([2, 3], {"highway": "track"})],
    )
    with pytest.raises(InputError, match=r"paths\.osm: no car roads in the file"):
        read_roads(paths)


def test_missing_reader_says_which_extra(tiny, monkeypatch):
    monkeypatch.setitem(sys.modules, "osmium", None)
    with pytest.raises(
        InputError, match=r"tiny\.osm\.pbf: .*needs pyosmium: pip install 'mergeopt\[roads\]'"
    ):
        read_roads(tiny)


@pytest.mark.parametrize(
    ("text", "kmh"),
    [
        ("30 mph", 48.28032),
        ("30mph", 48.28032),
        ("50", 50.0),
        ("50 km/h", 50.0),
        ("GB:nsl_single", 96.56064),
        ("UK:nsl_dual", 112.65408),
        ("GB:motorway", 112.65408),
        ("40 mph;30 mph", 64.37376),
        (None, None),
        ("", None),
        ("signals", None),
        ("none", None),
        ("0", None),
        ("-20", None),
    ],
)
def test_parse_maxspeed(text, kmh):
    if kmh is None:
        assert np.isnan(parse_maxspeed(text))
    else:
        assert parse_maxspeed(text) == pytest.approx(kmh)


@pytest.mark.parametrize(
    ("tags", "direction"),
    [
        ({"highway": "residential"}, 2),
        ({"highway": "primary", "oneway": "yes"}, 1),
        ({"highway": "primary", "oneway": "-1"}, -1),
        ({"highway": "primary", "oneway": "reversible"}, 0),
        ({"highway": "motorway"}, 1),
        ({"highway": "motorway", "oneway": "no"}, 2),
        ({"highway": "tertiary", "junction": "roundabout"}, 1),
        ({"highway": "footway"}, 0),
        ({"highway": "track"}, 0),
        ({"highway": "service", "access": "private"}, 0),
        ({"highway": "service", "access": "no", "motor_vehicle": "yes"}, 2),
        ({"highway": "residential", "motorcar": "no"}, 0),
        ({"highway": "service", "access": "destination"}, 2),
        ({"highway": "pedestrian"}, 0),
        ({"highway": "service", "area": "yes"}, 0),
    ],
)
def test_car_direction(tags, direction):
    assert car_direction(tags) == direction


def test_speed_profile_rejects_bad_values():
    with pytest.raises(ValueError, match="unknown road class"):
        SpeedProfile(speeds_kmh={"motorway": 90, "cycleway": 15})
    with pytest.raises(ValueError, match=r"speeds_kmh\.residential must be a finite number > 0"):
        SpeedProfile(speeds_kmh={"residential": 0})
    with pytest.raises(ValueError, match="trip_minutes must be"):
        SpeedProfile(trip_minutes=-1)
    assert SpeedProfile(speeds_kmh={"residential": 20}).speeds_kmh["motorway"] == 90.0


def test_parallel_edges_keep_the_shortest_and_self_loops_go():
    network = build_network(
        source="test",
        digest="x",
        x=[0.0, 1000.0, 1000.0],
        y=[0.0, 0.0, 0.0],
        tail=[0, 0, 1, 1],
        head=[1, 1, 0, 1],
        road_class=[ROAD_CLASSES.index("primary"), ROAD_CLASSES.index("residential"), 4, 4],
        maxspeed_kmh=[np.nan, 120.0, np.nan, np.nan],
    )
    assert network.edges == 2  # one each way; the loop on node 1 is gone
    minutes = route(network, [0], [1], profile=FLAT)[0, 0]
    assert minutes == pytest.approx(1.0)  # not the two 0->1 edges added up


# --- OS Open Roads ---------------------------------------------------------------------


def write_open_roads(path: Path, links) -> Path:
    import geopandas as gpd
    import shapely

    frame = gpd.GeoDataFrame(
        {
            "road_classification": [link[0] for link in links],
            "form_of_way": [link[1] for link in links],
            "trunk_road": [link[2] for link in links],
            "start_node": [link[3] for link in links],
            "end_node": [link[4] for link in links],
        },
        geometry=[
            shapely.LineString([(ORIGIN[0] + 1000 * x, ORIGIN[1] + 1000 * y) for x, y in link[5]])
            for link in links
        ],
        crs="EPSG:27700",
    )
    frame.to_file(path, layer="road_link", driver="GPKG")
    return path


def test_open_roads_links_join_at_their_end_nodes(tmp_path):
    links = [
        ("A Road", "Single Carriageway", True, "n1", "n2", [(0, 0), (1, 0), (2, 0)]),
        ("B Road", "Single Carriageway", False, "n2", "n3", [(2, 0), (2, 1)]),
        ("Motorway", "Slip Road", False, "n3", "n4", [(2, 1), (3, 1)]),
        (
            "Not Classified",
            "Single Carriageway",
            False,
            "n4",
            "n1",
            [(3, 1), (3, 3), (0, 3), (0, 0)],
        ),
        ("Unclassified", "Guided Busway", False, "n1", "n3", [(0, 0), (2, 1)]),
    ]
    network = read_roads(write_open_roads(tmp_path / "oproad.gpkg", links))
    assert network.nodes == 7  # 4 end nodes, 3 inner vertices; the busway is left out
    assert network.edges == 2 * 7  # 7 segments, each both ways
    names = {ROAD_CLASSES[c] for c in network.road_class}
    assert names == {"trunk", "secondary", "motorway_link", "residential"}
    profile = SpeedProfile(
        speeds_kmh={"trunk": 60, "secondary": 30, "motorway_link": 60, "residential": 60},
        trip_minutes=0,
    )
    n1, n3 = node_at(network, 0, 0), node_at(network, 2, 1)
    # n1 -> n3: 2 km of trunk at 60 then 1 km of B road at 30, both ways (no one-way data).
    assert route(network, [n1, n3], [n3, n1], profile=profile) == pytest.approx(
        np.array([[4.0, 0.0], [0.0, 4.0]]), abs=1e-6
    )


def test_not_open_roads(tmp_path):
    import geopandas as gpd
    import shapely

    other = tmp_path / "other.gpkg"
    gpd.GeoDataFrame({"name": ["x"]}, geometry=[shapely.Point(0, 0)], crs="EPSG:27700").to_file(
        other, layer="places"
    )
    with pytest.raises(InputError, match=r"other\.gpkg: cannot be read as OS Open Roads"):
        read_roads(other)


# --- the cache -------------------------------------------------------------------------


def test_cache_root_order(tmp_path, monkeypatch):
    monkeypatch.delenv(CACHE_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_root() == tmp_path / "xdg" / "mergeopt"
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "env"))
    assert cache_root() == tmp_path / "env"
    assert cache_root(tmp_path / "configured") == tmp_path / "configured"


def test_parsed_network_is_read_once(tiny, tmp_path, monkeypatch):
    from mergeopt.inputs.roads import cache as road_cache

    first = load_network(tiny)
    saved = list((tmp_path / "cache" / "roads").glob("network-*.npz"))
    assert len(saved) == 1
    road_cache._load_network.cache_clear()
    monkeypatch.setattr(road_cache, "read_roads", lambda *a, **k: pytest.fail("read again"))
    again = load_network(tiny)
    assert again.digest == first.digest
    assert np.array_equal(again.x, first.x) and np.array_equal(again.tail, first.tail)
    assert again.source == str(tiny.resolve())


def test_unreadable_cache_file_is_read_again(tiny, tmp_path):
    from mergeopt.inputs.roads import cache as road_cache

    load_network(tiny)
    (saved,) = (tmp_path / "cache" / "roads").glob("network-*.npz")
    saved.write_bytes(b"not a zip")
    road_cache._load_network.cache_clear()
    assert load_network(tiny).nodes == 11
    assert np.load(saved)["x"].shape == (11,)


def test_changed_file_is_read_again(tiny, tmp_path):
    first = load_network(tiny)
    write_osm(tiny, NODES, WAYS[:-2])  # the island and the footway gone: same roads kept
    again = load_network(tiny)
    assert again.digest != first.digest
    assert again.roads_read == 12


def test_routed_minutes_are_reused_for_smaller_limits(tiny_network, tmp_path, monkeypatch):
    from mergeopt.inputs.roads import routing as roads

    east, north = bng(PRACTICE_KM)
    store = MinuteCache()
    wide = drive_minutes(tiny_network, CODES, east, north, profile=FLAT, limit=20.0, store=store)
    monkeypatch.setattr(roads, "route", lambda *a, **k: pytest.fail("routed again"))
    narrow = drive_minutes(tiny_network, CODES, east, north, profile=FLAT, limit=6.0, store=store)
    assert np.array_equal(narrow, np.where(wide <= 6.0, wide, np.inf))
    monkeypatch.undo()
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    fresh = drive_minutes(tiny_network, CODES, east, north, profile=FLAT, limit=6.0)
    assert np.array_equal(narrow, fresh)


def test_routed_minutes_depend_on_profile_coordinates_and_limit(tiny_network, monkeypatch):
    from mergeopt.inputs.roads import routing as roads

    east, north = bng(PRACTICE_KM)
    store = MinuteCache()
    drive_minutes(tiny_network, CODES, east, north, profile=FLAT, limit=6.0, store=store)
    calls = []
    real_route = roads.route
    monkeypatch.setattr(roads, "route", lambda *a, **k: calls.append(1) or real_route(*a, **k))
    slower = SpeedProfile(
        speeds_kmh=dict.fromkeys(ROAD_CLASSES, 30.0),
        maxspeed_factor=1.0,
        trip_minutes=2.0,
        max_offroad_m=1000.0,
    )
    drive_minutes(tiny_network, CODES, east, north, profile=slower, limit=6.0, store=store)
    drive_minutes(tiny_network, CODES, east + 1.0, north, profile=FLAT, limit=6.0, store=store)
    drive_minutes(tiny_network, CODES, east, north, profile=FLAT, limit=9.0, store=store)
    assert len(calls) == 3


def test_cache_folder_that_cannot_be_written_warns(tiny, tmp_path, monkeypatch):
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the folder should be", encoding="utf-8")
    monkeypatch.setenv(CACHE_ENV, str(blocked))
    with pytest.warns(InputWarning, match="cannot write the road cache"):
        network = load_network(tiny)
    assert network.nodes == 11


# --- the Rutland extract ------------------------------------------------------------------

RUTLAND_CODES = ["C82010", "C82044", "C82077", "C82649"]
RUTLAND_EAST = np.array([485466.0, 495193.0, 486560.0, 488895.0])
RUTLAND_NORTH = np.array([308871.0, 308707.0, 300451.0, 316559.0])


@pytest.fixture(scope="module")
def rutland() -> RoadNetwork:
    if not RUTLAND_PBF.is_file():
        pytest.skip(f"the Rutland extract is not at {RUTLAND_PBF}")
    return read_roads(RUTLAND_PBF)


@needs_rutland
def test_rutland_reads_and_routes_its_practices(rutland):
    assert 18_000 < rutland.nodes < 19_000
    assert rutland.roads_read - rutland.nodes < 0.1 * rutland.roads_read
    t = drive_minutes(rutland, RUTLAND_CODES, RUTLAND_EAST, RUTLAND_NORTH, profile=SpeedProfile())
    off = ~np.eye(4, dtype=bool)
    assert np.all(np.isfinite(t)) and np.all(t[off] > TRIP_MINUTES)
    # Every practice sits within 30 m of a road of the extract, and the four are 13 to 26
    # minutes apart by road (8 to 16 km in a straight line).
    assert np.all(rutland.tree.query(np.column_stack([RUTLAND_EAST, RUTLAND_NORTH]))[0] < 30)
    assert t[off].min() > 12 and t[off].max() < 27


@needs_rutland
def test_rutland_practice_outside_the_extract_is_named(rutland):
    # Lakeside Healthcare Stamford (C83007), just over the county line: the extract's
    # roads stop 890 m short of it, beyond the 500 m a practice may be from a road.
    with pytest.raises(
        InputError,
        match=r"rutland-latest\.osm\.pbf: practices not on this road network, more than 500 m from any road it can route on: C83007 \(0\.9 km\)",
    ):
        drive_minutes(
            rutland,
            [*RUTLAND_CODES, "C83007"],
            [*RUTLAND_EAST, 503740.0],
            [*RUTLAND_NORTH, 307596.0],
            profile=SpeedProfile(),
        )


def _top_speed_minutes(network: RoadNetwork, profile: SpeedProfile, a: int, b: int) -> float:
    km = np.hypot(network.x[a] - network.x[b], network.y[a] - network.y[b]) / 1000
    return km / profile.top_kmh(network) * 60


@needs_rutland
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_no_time_below_distance_at_top_speed(rutland, data):
    nodes = st.integers(0, rutland.nodes - 1)
    a, b = data.draw(nodes), data.draw(nodes)
    profile = SpeedProfile(maxspeed_factor=data.draw(st.floats(0.5, 1.2)))
    minutes = route(rutland, [a], [b], profile=profile)[0, 0]
    assert minutes >= _top_speed_minutes(rutland, profile, a, b) - 1e-9


@needs_rutland
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_triangle_inequality_on_the_network(rutland, data):
    nodes = st.integers(0, rutland.nodes - 1)
    a, b, c = data.draw(nodes), data.draw(nodes), data.draw(nodes)
    t = route(rutland, [a, b, a], [b, c, c], profile=SpeedProfile())
    assert t[2, 2] <= t[0, 0] + t[1, 1] + 1e-9


@needs_rutland
@settings(max_examples=40, deadline=None)
@given(
    points=st.lists(
        st.tuples(st.floats(480_000, 505_000), st.floats(295_000, 318_000)), min_size=2, max_size=6
    )
)
def test_practice_times_respect_top_speed_and_the_limit(rutland, points):
    east, north = np.array(points).T
    tree_gap = rutland.tree.query(np.column_stack([east, north]))[0]
    profile = SpeedProfile(max_offroad_m=5000)
    if (tree_gap > 5000).any():
        return
    codes = [f"P{k}" for k in range(len(points))]
    t = drive_minutes(rutland, codes, east, north, profile=profile, limit=30.0)
    km = np.hypot(east[:, None] - east[None, :], north[:, None] - north[None, :]) / 1000
    assert np.all(t >= km / profile.top_kmh(rutland) * 60 - 1e-9)
    assert np.all(np.isinf(t) | (t <= 30.0))


@pytest.fixture(scope="module")
def short_pairs(rutland) -> tuple[np.ndarray, np.ndarray]:
    """Network and line minutes for all ordered pairs under 10 km among 300 settlement nodes."""
    settlement = np.isin(rutland.road_class, [ROAD_CLASSES.index(c) for c in SETTLEMENT_CLASSES])
    points = np.random.default_rng(7).choice(
        np.unique(rutland.tail[settlement]), 300, replace=False
    )
    network = route(rutland, points, points, profile=SpeedProfile()) + TRIP_MINUTES
    km = (
        np.hypot(
            rutland.x[points][:, None] - rutland.x[points][None, :],
            rutland.y[points][:, None] - rutland.y[points][None, :],
        )
        / 1000
    )
    short = (km > 0) & (km < 10)
    return network[short], ROAD_MODEL.minutes(km[short])


@needs_rutland
@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_agrees_with_the_fitted_line_on_short_trips(short_pairs, seed):
    # Any 50 short trips: on average the network model is within the line's documented
    # mean absolute error of the line (a pair alone can differ more: docs/travel_model.md).
    network, line = short_pairs
    chosen = np.random.default_rng(seed).choice(len(network), 50, replace=False)
    assert abs(np.mean(network[chosen] - line[chosen])) <= LINE_MAE


# --- the fit ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def grid_over_hull() -> RoadNetwork:
    """A synthetic 500 m grid of two-way residential roads over Hull + East Riding."""
    xs = np.arange(470_000.0, 540_001.0, 500.0)
    ys = np.arange(405_000.0, 470_001.0, 500.0)
    gx, gy = np.meshgrid(xs, ys)
    index = np.arange(gx.size).reshape(gx.shape)
    right = (index[:, :-1].ravel(), index[:, 1:].ravel())
    up = (index[:-1, :].ravel(), index[1:, :].ravel())
    tail = np.concatenate([right[0], right[1], up[0], up[1]])
    head = np.concatenate([right[1], right[0], up[1], up[0]])
    return build_network(
        source="grid",
        digest="grid",
        x=gx.ravel(),
        y=gy.ravel(),
        tail=tail,
        head=head,
        road_class=np.full(len(tail), ROAD_CLASSES.index("residential")),
        maxspeed_kmh=np.full(len(tail), np.nan),
    )


def test_fit_is_direct_where_the_network_covers_a_calibration_area(grid_over_hull):
    profile = SpeedProfile(speeds_kmh={"residential": 50})
    fit = fit_trip_allowance(grid_over_hull, TRAVEL_DIR, profile=profile)
    assert fit.method == "direct"
    assert fit.covered["Somerset"] == 0 and fit.covered["Hull + East Riding"] > 300
    assert fit.trips["observed"].notna().all()
    # Least squares for a constant: the fitted allowance has the smallest squared error.
    error = lambda a: np.sum((fit.trips["routed"] + a - fit.trips["observed"]) ** 2)  # noqa: E731
    assert error(fit.trip_minutes) < min(
        error(fit.trip_minutes - 0.1), error(fit.trip_minutes + 0.1)
    )
    bands = fit.by_band()
    assert {"network_mae", "line_mae"} <= set(bands.columns)
    assert bands["trips"].sum() == len(fit.trips)


@needs_rutland
def test_fit_goes_through_the_line_where_no_calibration_area_is_covered(rutland):
    fit = fit_trip_allowance(rutland, TRAVEL_DIR, profile=SpeedProfile(), sample=200)
    assert fit.method == "via the fitted line"
    assert fit.covered == {"Hull + East Riding": 0, "Somerset": 0}
    weights = fit.trips["weight"].to_numpy()
    centred = np.average(fit.network_minutes - fit.trips["line"], weights=weights)
    assert centred == pytest.approx(0.0, abs=1e-9)
    assert 2.0 < fit.trip_minutes < 6.0


@needs_rutland
def test_docs_hold_the_current_fit_output(capsys):
    tool = runpy.run_path(str(TOOL), run_name="fit_network_model")
    assert tool["main"](["--network", str(RUTLAND_PBF)]) == 0
    printed = capsys.readouterr().out
    assert "matches `mergeopt.inputs.roads.speeds.TRIP_MINUTES`: yes" in printed
    doc = DOC.read_text(encoding="utf-8")
    marker = "<!-- fit_network_model output: start -->\n"
    start = doc.index(marker) + len(marker)
    end = doc.index("<!-- fit_network_model output: end -->")
    assert doc[start:end].strip() == printed.strip(), (
        "re-run tools/fit_network_model.py into the doc"
    )


# --- from a config -----------------------------------------------------------------------

RUTLAND_CONFIG = ROOT / "configs" / "rutland_pcn_roads.yaml"


def write_config(folder: Path, travel: str, *, extra: str = "") -> Path:
    """A config over the four Rutland practices with the given travel block (YAML)."""
    practices = ROOT / "data" / "england" / "practices.csv"
    path = folder / "config.yaml"
    path.write_text(
        f"""name: roads_test
inputs:
  practices: {practices}
  select:
    practice_code: [C82010, C82044, C82077, C82649]
groups:
  min_list_size: 30000
  max_list_size: 50000
travel:
{travel}
{extra}""",
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize(
    ("travel", "message"),
    [
        ("  model: network", r"key 'travel': model 'network' needs a 'network' file"),
        (
            f"  model: road\n  network: {RUTLAND_PBF}",
            r"key 'travel': a 'network' file is only read with model: network",
        ),
        (
            "  model: road\n  profile: {maxspeed_factor: 0.9}",
            r"key 'travel': a speed 'profile' only applies with model: network",
        ),
        (
            "  model: network\n  network: nowhere.osm.pbf",
            r"key 'travel.network': no such file .*nowhere\.osm\.pbf",
        ),
        (
            f"  model: network\n  network: {RUTLAND_PBF}\n  profile: {{offroad_kmh: 0}}",
            r"key 'travel.profile.offroad_kmh': Input should be greater than 0",
        ),
        (
            f"  model: network\n  network: {RUTLAND_PBF}\n  profile: {{speed: 3}}",
            r"key 'travel.profile.speed': unknown key",
        ),
    ],
)
def test_config_travel_block_errors_name_the_key(tmp_path, travel, message):
    from mergeopt.config import load_config

    with pytest.raises(InputError, match=message):
        load_config(write_config(tmp_path, travel))


@needs_rutland
def test_unknown_road_class_names_the_config_key(tmp_path):
    from mergeopt import solve

    travel = f"  model: network\n  network: {RUTLAND_PBF}\n  profile:\n    speeds_kmh: {{motorway: 100, busway: 30}}"
    with pytest.raises(
        InputError, match=r"config\.yaml: key 'travel.profile': unknown road class\(es\) busway"
    ):
        solve(write_config(tmp_path, travel))


@needs_rutland
def test_rutland_config_solves_on_the_road_network(monkeypatch):
    from mergeopt import solve
    from mergeopt.inputs.roads import routing as roads

    result = solve(RUTLAND_CONFIG)
    assert result.status == "optimal"
    assert result.groups["hub"].tolist() == ["C82010"]  # Oakham: within 20 minutes of all
    routed = drive_minutes(
        read_roads(RUTLAND_PBF),
        RUTLAND_CODES,
        RUTLAND_EAST,
        RUTLAND_NORTH,
        profile=SpeedProfile(),
        limit=25.0,
    )
    by_code = result.assignments.set_index("practice_code")["travel"]
    for k, code in enumerate(RUTLAND_CODES):
        assert by_code[code] == pytest.approx(routed[k, 0], abs=1e-3)
    # A sweep over the travel limit, or a re-run, routes nothing again.
    monkeypatch.setattr(roads, "route", lambda *a, **k: pytest.fail("routed again"))
    assert solve(RUTLAND_CONFIG, overrides={"travel.max_minutes": 18}).status == "optimal"


@needs_rutland
def test_nested_runs_route_region_by_region(tmp_path, monkeypatch):
    import pandas as pd

    from mergeopt.config import load_config
    from mergeopt.inputs.roads import cache as road_cache
    from mergeopt.inputs.roads import readers as road_readers
    from mergeopt.inputs.roads import routing as roads
    from mergeopt.runs.problem import prepare_problem

    table = pd.read_csv(ROOT / "data" / "england" / "practices.csv", dtype=str)
    table = table[table["practice_code"].isin(RUTLAND_CODES)].assign(
        area=["west", "east", "west", "east"]
    )
    table.to_csv(tmp_path / "practices.csv", index=False)
    config = tmp_path / "nested.yaml"
    config.write_text(
        f"name: nested\ninputs:\n  practices: practices.csv\ntravel:\n  model: network\n  network: {RUTLAND_PBF}\n  max_minutes: 30\nrules:\n  nest_by: area\n",
        encoding="utf-8",
    )
    reads, routed = [], []
    real_read, real_route = road_readers.read_roads, roads.route
    monkeypatch.setattr(
        road_readers, "read_roads", lambda *a, **k: reads.append(1) or real_read(*a, **k)
    )
    monkeypatch.setattr(
        roads, "route", lambda net, o, d, **k: routed.append(len(o)) or real_route(net, o, d, **k)
    )
    monkeypatch.setattr(road_cache, "read_roads", road_readers.read_roads)
    problem, _ = prepare_problem(load_config(config))
    codes = problem.codes
    west = np.array([table.set_index("practice_code").loc[c, "area"] == "west" for c in codes])
    assert reads == [1] and sorted(routed) == [2, 2]  # one read, two regions of two
    assert np.all(np.isinf(problem.travel[np.ix_(west, ~west)]))
    assert np.all(np.isfinite(problem.travel[np.ix_(west, west)]))


@needs_rutland
def test_run_records_the_road_network_hash(tmp_path):
    from mergeopt import solve
    from mergeopt.inputs.hashes import input_hashes
    from mergeopt.inputs.roads.readers import file_digest

    result = solve(RUTLAND_CONFIG, overrides={"maps": False})
    network = str(RUTLAND_PBF.resolve())
    assert result.inputs[network] == file_digest(RUTLAND_PBF)
    assert input_hashes(result.config)[network] == file_digest(RUTLAND_PBF)


def test_run_with_a_file_that_is_not_a_road_network_writes_nothing(tmp_path):
    from typer.testing import CliRunner

    from mergeopt.cli import app

    bad = tmp_path / "roads.osm.pbf"
    bad.write_bytes(b"PK\x03\x04 a zip, not OpenStreetMap")
    config = write_config(tmp_path, f"  model: network\n  network: {bad}\n  max_minutes: 20")
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["run", str(config), "--out", str(out)])
    assert result.exit_code == 2
    assert f"error: {bad}: cannot be read as an OpenStreetMap file" in " ".join(
        result.stderr.split()
    )
    assert result.stderr.strip().count("\n") == 0  # one line
    assert not out.exists()


@needs_rutland
def test_run_with_practices_off_the_network_names_them_and_writes_nothing(tmp_path):
    from typer.testing import CliRunner

    from mergeopt.cli import app

    config = write_config(
        tmp_path, f"  model: network\n  network: {RUTLAND_PBF}\n  max_minutes: 20"
    )
    text = config.read_text(encoding="utf-8").replace("C82649]", "C82649, C83007, C82009]")
    config.write_text(text, encoding="utf-8")
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["run", str(config), "--out", str(out)])
    assert result.exit_code == 2
    message = " ".join(result.stderr.split())
    assert "practices not on this road network" in message
    assert "outside the area its roads cover: C82009" in message  # Market Harborough
    assert "C83007 (0.9 km)" in message  # Stamford
    assert result.stderr.strip().count("\n") == 0
    assert not out.exists()


# --- mergeopt travel, and the maps' credit line -------------------------------------------


def invoke(*args: object):
    from typer.testing import CliRunner

    from mergeopt.cli import app

    result = CliRunner().invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, " ".join(result.stderr.split())


@needs_rutland
def test_travel_command_writes_the_matrix_a_run_uses(tmp_path):
    from mergeopt.config import load_config
    from mergeopt.inputs.matrix import read_travel_matrix
    from mergeopt.runs.problem import prepare_problem

    out = tmp_path / "minutes.csv"
    code, stdout, stderr = invoke("travel", RUTLAND_CONFIG, "--out", out)
    assert code == 0, stderr
    assert f"10 pairs among 4 practices (network travel) written to {out}" in " ".join(
        stdout.split()
    )
    assert out.read_text(encoding="utf-8").splitlines()[0] == "origin,destination,minutes"
    problem, _ = prepare_problem(load_config(RUTLAND_CONFIG))
    again = read_travel_matrix(out, problem.codes)
    # Uppingham <-> Market Overton (25.3 minutes) is beyond the 25-minute search: left out.
    assert np.array_equal(np.isinf(again), np.isinf(problem.travel))
    assert np.allclose(again[np.isfinite(again)], problem.travel[np.isfinite(again)], atol=5e-4)


@needs_rutland
def test_travel_command_never_replaces_a_file_unless_forced(tmp_path):
    out = tmp_path / "minutes.csv"
    out.write_text("mine\n", encoding="utf-8")
    code, _, stderr = invoke("travel", RUTLAND_CONFIG, "--out", out)
    assert code == 2
    assert stderr == f"error: {out}: file exists; use --force to replace it"
    assert out.read_text(encoding="utf-8") == "mine\n"
    code, _, _ = invoke("travel", RUTLAND_CONFIG, "--out", out, "--force")
    assert code == 0
    assert out.read_text(encoding="utf-8").startswith("origin,destination,minutes\n")


def test_travel_command_bad_input_writes_nothing(tmp_path):
    bad = tmp_path / "roads.osm.pbf"
    bad.write_text("not roads", encoding="utf-8")
    out = tmp_path / "minutes.csv"
    network = write_config(tmp_path, f"  model: network\n  network: {bad}\n  max_minutes: 20")
    code, _, stderr = invoke("travel", network, "--out", out)
    assert code == 2 and stderr.startswith(
        f"error: {bad}: cannot be read as an OpenStreetMap file"
    )
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".minutes")]
    straight = write_config(tmp_path, "  model: straight_line")
    code, _, stderr = invoke("travel", straight, "--out", out)
    assert (
        code == 2 and "straight_line travel is in km, and a travel matrix holds minutes" in stderr
    )
    code, _, stderr = invoke("travel", straight, "--out", tmp_path / "no" / "such" / "m.csv")
    assert code == 2
    assert not out.exists()


def test_travel_command_writes_the_road_model_too(tmp_path):
    out = tmp_path / "minutes.csv"
    code, _, stderr = invoke("travel", write_config(tmp_path, "  model: road"), "--out", out)
    assert code == 0, stderr
    table = np.loadtxt(out, delimiter=",", skiprows=1, usecols=2)
    assert len(table) == 12 and np.all(table > ROAD_MODEL.intercept_minutes)


@needs_rutland
def test_maps_carry_the_road_network_credit(tmp_path):
    out = tmp_path / "run"
    code, _, stderr = invoke("run", RUTLAND_CONFIG, "--out", out)
    assert code == 0, stderr
    page = (out / "map.html").read_text(encoding="utf-8")
    assert "Road network \\u00a9 OpenStreetMap contributors (ODbL)" in page  # JSON-escaped
    assert (out / "map.png").stat().st_size > 0


def test_static_map_credit_only_where_given():
    import geopandas as gpd
    import pandas as pd

    from mergeopt.config import Geography
    from mergeopt.geo.maps.layers import map_layers
    from mergeopt.geo.maps.static import close, static_map

    assignments = pd.DataFrame(
        {
            "practice_code": ["A", "B"],
            "practice_name": ["a", "b"],
            "list_size": [1000, 2000],
            "group": ["A", "A"],
            "hub": ["A", "A"],
            "travel": [0.0, 5.0],
            "current_group": [None, None],
            "easting": [480_000.0, 482_000.0],
            "northing": [300_000.0, 301_000.0],
        }
    )
    texts = []
    for credit in (None, "Road network © OpenStreetMap contributors (ODbL)"):
        layers = map_layers(assignments, Geography(), name="t", unit="minutes", attribution=credit)
        fig, ax = static_map(layers)
        shown = [*ax.texts, *(a for a in fig.artists if hasattr(a, "get_text"))]
        texts.append([t.get_text() for t in shown])
        close(fig)
    assert not any("OpenStreetMap" in t for t in texts[0])
    assert any("Road network © OpenStreetMap contributors (ODbL)" in t for t in texts[1])
    assert isinstance(layers.practices, gpd.GeoDataFrame)
