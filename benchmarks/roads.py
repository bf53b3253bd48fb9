"""Road network benchmark: read and routing time and memory, Rutland and a 2-million-node tiling.

Usage (from the repository root)::

    python -m benchmarks.roads                # writes benchmarks/ROADS.md and roads.json
    python -m benchmarks.roads --render       # redraw ROADS.md from roads.json

Cases, each in a fresh Python process so that its peak memory (``ru_maxrss``: the
interpreter, the libraries and the case) is its own:

- ``rutland``: the real Rutland extract (``../shared/data/roads``): read it, route its four
  practices, and route 400 x 400 random settlement-road nodes with and without a limit.
- ``tiled``: a synthetic network of about two million road nodes: the whole Rutland file
  (every node and way, buildings too, so reading costs what a real file of that size
  costs) copied onto a grid of tiles, each shifted by the extract's width or height, with
  a few roads joining neighbouring tiles. Written once to a temporary folder (never into
  the repository), then read, routed 400 x 400 with a 25-minute limit (a 20-minute
  travel limit's search), and loaded again from the cache. Its coordinates are shifted
  in longitude and latitude, so its distances are not England's: it measures cost, never
  accuracy.

Timings are wall-clock seconds of the measured call alone (``time.perf_counter``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.machine import describe

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RUTLAND = ROOT.parent / "shared" / "data" / "roads" / "rutland-latest.osm.pbf"
RESULTS = HERE / "roads.json"
REPORT = HERE / "ROADS.md"
#: Tiles across and down: 11 x 10 copies of Rutland's ~19,700 car-road nodes = ~2.2 million.
TILES = (11, 10)
SAMPLE = 400
#: An ICB-sized region of the tiling: the nodes within this distance of its middle.
REGION_RADIUS_M = 35_000.0
COMMAND = "python -m benchmarks.roads"
CASES = ("rutland", "tiled")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--render", action="store_true", help="redraw ROADS.md from roads.json")
    parser.add_argument("--child", choices=CASES, help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(_run_case(args.child, args.work)))
        return 0
    if not args.render:
        RESULTS.write_text(json.dumps(_measure_all(), indent=2) + "\n", encoding="utf-8")
    REPORT.write_text(render(json.loads(RESULTS.read_text(encoding="utf-8"))), encoding="utf-8")
    print(f"written {REPORT.relative_to(ROOT)}")
    return 0


def _measure_all() -> dict[str, Any]:
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    load = os.getloadavg()
    cases = {}
    with tempfile.TemporaryDirectory(prefix="mergeopt-roads-bench-") as work:
        for case in CASES:
            print(f"{case} ...", file=sys.stderr, flush=True)
            done = subprocess.run(
                [sys.executable, "-m", "benchmarks.roads", "--child", case, "--work", work],
                capture_output=True,
                text=True,
                check=True,
                cwd=ROOT,
                env={**os.environ, "MERGEOPT_CACHE_DIR": str(Path(work) / "cache")},
            )
            cases[case] = json.loads(done.stdout.strip().splitlines()[-1])
    return {
        "command": COMMAND,
        "date": started,
        "machine": describe(),
        "load_average_at_start": [round(x, 2) for x in load],
        "cpus": os.cpu_count(),
        "cases": cases,
    }


def _timed(action: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    value = action()
    return value, time.perf_counter() - start


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _run_case(case: str, work: Path) -> dict[str, Any]:
    from mergeopt.inputs.roads.cache import load_network
    from mergeopt.inputs.roads.readers import read_roads
    from mergeopt.inputs.roads.routing import drive_minutes, route
    from mergeopt.inputs.roads.speeds import SpeedProfile

    profile = SpeedProfile()
    if case == "rutland":
        network, read_s = _timed(lambda: read_roads(RUTLAND))
        after_read = _peak_mb()
        east = np.array([485466.0, 495193.0, 486560.0, 488895.0])
        north = np.array([308871.0, 308707.0, 300451.0, 316559.0])
        codes = ["C82010", "C82044", "C82077", "C82649"]
        _, practices_s = _timed(
            lambda: drive_minutes(network, codes, east, north, profile=profile, limit=25.0)
        )
        points = _settlement_points(network, SAMPLE)
        limited, limited_s = _timed(
            lambda: route(network, points, points, profile=profile, limit=30.0)
        )
        _, full_s = _timed(lambda: route(network, points, points, profile=profile))
        return {
            "file_mb": RUTLAND.stat().st_size / 2**20,
            "nodes": network.nodes,
            "edges": network.edges,
            "roads_read": network.roads_read,
            "read_s": read_s,
            "peak_mb_after_read": after_read,
            "practices_4x4_s": practices_s,
            "route_400_limit30_s": limited_s,
            "route_400_limit30_pairs_found": int(np.isfinite(limited).sum()),
            "route_400_nolimit_s": full_s,
            "peak_mb": _peak_mb(),
        }
    tiled = work / "tiled.osm.pbf"
    _, write_s = _timed(lambda: write_tiled(RUTLAND, tiled, TILES))
    network, read_s = _timed(lambda: load_network(tiled))
    after_read = _peak_mb()
    points = _settlement_points(network, SAMPLE)
    limited, limited_s = _timed(
        lambda: route(network, points, points, profile=profile, limit=25.0)
    )
    centre = (float(np.median(network.x)), float(np.median(network.y)))
    region = _settlement_points(network, SAMPLE, around=centre, radius_m=REGION_RADIUS_M)
    in_region, region_s = _timed(
        lambda: route(network, region, region, profile=profile, limit=25.0)
    )
    from mergeopt.inputs.roads import cache as road_cache

    road_cache._load_network.cache_clear()
    _, cached_s = _timed(lambda: load_network(tiled))
    return {
        "tiles": list(TILES),
        "file_mb": tiled.stat().st_size / 2**20,
        "write_s": write_s,
        "nodes": network.nodes,
        "edges": network.edges,
        "roads_read": network.roads_read,
        "read_s": read_s,
        "peak_mb_after_read": after_read,
        "route_400_limit25_s": limited_s,
        "route_400_limit25_pairs_found": int(np.isfinite(limited).sum()),
        "route_400_region_limit25_s": region_s,
        "route_400_region_limit25_pairs_found": int(np.isfinite(in_region).sum()),
        "reload_from_cache_s": cached_s,
        "peak_mb": _peak_mb(),
    }


def _settlement_points(
    network: Any,
    count: int,
    *,
    around: tuple[float, float] | None = None,
    radius_m: float = np.inf,
) -> Any:
    """``count`` random nodes of settlement roads, within ``radius_m`` of ``around``."""
    from mergeopt.inputs.roads.fit import SETTLEMENT_CLASSES
    from mergeopt.inputs.roads.network import ROAD_CLASSES

    wanted = [ROAD_CLASSES.index(name) for name in SETTLEMENT_CLASSES]
    candidates = np.unique(network.tail[np.isin(network.road_class, wanted)])
    if around is not None:
        gap = np.hypot(network.x[candidates] - around[0], network.y[candidates] - around[1])
        candidates = candidates[gap <= radius_m]
    return np.random.default_rng(0).choice(candidates, size=count, replace=False)


def write_tiled(source: Path, target: Path, tiles: tuple[int, int]) -> None:
    """Copy every node and way of ``source`` onto ``tiles`` (across, down) shifted copies,
    joined by a few two-way roads between the car-road nodes nearest each tile's edges."""
    import osmium
    from osmium.osm.mutable import Node, Way

    nodes: list[tuple[int, float, float]] = []
    ways: list[tuple[int, list[int], dict[str, str]]] = []
    road_nodes: set[int] = set()
    for entity in osmium.FileProcessor(str(source), osmium.osm.NODE | osmium.osm.WAY):
        if isinstance(entity, osmium.osm.Node) and entity.location.valid():
            nodes.append((entity.id, entity.location.lon, entity.location.lat))
        elif isinstance(entity, osmium.osm.Way):
            refs = [node.ref for node in entity.nodes]
            tags = dict(entity.tags)
            ways.append((entity.id, refs, tags))
            if tags.get("highway") in ("primary", "secondary", "tertiary", "unclassified"):
                road_nodes.update(refs)
    ids = np.array([n[0] for n in nodes], dtype=np.int64)
    lon = np.array([n[1] for n in nodes])
    lat = np.array([n[2] for n in nodes])
    on_road = np.isin(ids, list(road_nodes))
    width, height = (
        lon[on_road].max() - lon[on_road].min(),
        lat[on_road].max() - lat[on_road].min(),
    )
    edges = {
        "east": _edge_nodes(ids, lon, on_road, largest=True),
        "west": _edge_nodes(ids, lon, on_road, largest=False),
        "north": _edge_nodes(ids, lat, on_road, largest=True),
        "south": _edge_nodes(ids, lat, on_road, largest=False),
    }
    span = int(ids.max()) + 1
    way_span = max(w[0] for w in ways) + 1
    writer = osmium.SimpleWriter(str(target), overwrite=True)
    try:
        order = np.argsort(ids)
        for tile in range(tiles[0] * tiles[1]):
            across, down = tile % tiles[0], tile // tiles[0]
            for k in order:
                location = (lon[k] + across * width, lat[k] + down * height)
                writer.add_node(Node(id=int(ids[k]) + tile * span, location=location, version=1))
        for tile in range(tiles[0] * tiles[1]):
            for way_id, refs, tags in ways:
                shifted = [ref + tile * span for ref in refs]
                writer.add_way(
                    Way(id=way_id + tile * way_span, nodes=shifted, tags=tags, version=1)
                )
        joins = _joins(tiles, edges, span)
        first = tiles[0] * tiles[1] * way_span
        for number, (a, b) in enumerate(joins):
            tags = {"highway": "primary"}
            writer.add_way(Way(id=first + number, nodes=[a, b], tags=tags, version=1))
    finally:
        writer.close()


def _edge_nodes(ids: Any, values: Any, on_road: Any, *, largest: bool, count: int = 5) -> Any:
    """The ``count`` road nodes farthest in one direction."""
    road = np.flatnonzero(on_road)
    order = road[np.argsort(values[road])]
    return ids[order[-count:] if largest else order[:count]]


def _joins(tiles: tuple[int, int], edges: dict[str, Any], span: int) -> list[tuple[int, int]]:
    """Node pairs joining each tile to its east and north neighbours."""
    joins = []
    for tile in range(tiles[0] * tiles[1]):
        across, down = tile % tiles[0], tile // tiles[0]
        if across + 1 < tiles[0]:
            east = tile + 1
            joins += [
                (int(a) + tile * span, int(b) + east * span)
                for a, b in zip(edges["east"], edges["west"], strict=True)
            ]
        if down + 1 < tiles[1]:
            north = tile + tiles[0]
            joins += [
                (int(a) + tile * span, int(b) + north * span)
                for a, b in zip(edges["north"], edges["south"], strict=True)
            ]
    return joins


def render(results: dict[str, Any]) -> str:
    """ROADS.md from the measured figures."""
    r, t = results["cases"]["rutland"], results["cases"]["tiled"]
    load = ", ".join(f"{x:g}" for x in results["load_average_at_start"])
    copies = t["tiles"][0] * t["tiles"][1]
    rutland = [
        ("file", f"{r['file_mb']:.1f} MB"),
        (
            "car-road nodes read / kept (largest strongly connected part)",
            f"{r['roads_read']:,} / {r['nodes']:,}",
        ),
        ("directed edges kept", f"{r['edges']:,}"),
        ("read (parse, project, build graph)", f"{r['read_s']:.2f} s"),
        ("peak memory after reading", f"{r['peak_mb_after_read']:.0f} MB"),
        (
            "route the 4 practices (snap, 25-minute search, door to door)",
            f"{r['practices_4x4_s']:.3f} s",
        ),
        (
            "route 400 x 400, 30-minute limit",
            f"{r['route_400_limit30_s']:.2f} s "
            f"({r['route_400_limit30_pairs_found']:,} pairs within it)",
        ),
        ("route 400 x 400, no limit", f"{r['route_400_nolimit_s']:.2f} s"),
        ("peak memory, whole case", f"{r['peak_mb']:.0f} MB"),
    ]
    tiled = [
        (
            f"file (every node and way of Rutland, {copies} copies)",
            f"{t['file_mb']:.0f} MB, written in {t['write_s']:.0f} s (not part of any run)",
        ),
        ("car-road nodes read / kept", f"{t['roads_read']:,} / {t['nodes']:,}"),
        ("directed edges kept", f"{t['edges']:,}"),
        (
            "read (first run: hash, parse, build graph, write the cache)",
            f"{t['read_s']:.1f} s",
        ),
        ("peak memory after reading", f"{t['peak_mb_after_read']:.0f} MB"),
        (
            "route 400 x 400 spread over the whole tiling, 25-minute limit",
            f"{t['route_400_limit25_s']:.1f} s "
            f"({t['route_400_limit25_pairs_found']:,} pairs within it)",
        ),
        (
            "route 400 x 400 within 35 km of the middle (an ICB-sized region), 25-minute limit",
            f"{t['route_400_region_limit25_s']:.1f} s "
            f"({t['route_400_region_limit25_pairs_found']:,} pairs within it)",
        ),
        (
            "load the parsed network again from the cache (a re-run)",
            f"{t['reload_from_cache_s']:.2f} s",
        ),
        ("peak memory, whole case", f"{t['peak_mb']:.0f} MB"),
    ]
    return f"""# Road network benchmark

Written by `benchmarks/roads.py` from one run; do not edit by hand.

- command: `{results["command"]}`
- date: {results["date"]}
- machine: {results["machine"]}
- load average at the start (1, 5, 15 min): {load} on {results["cpus"]} CPUs. The machine
  is shared with other work and was loaded: wall times are longer, and vary more, than
  on an idle machine of the same kind.

Each case ran in a fresh Python process; `peak MB` is that process's maximum resident
memory (`ru_maxrss`: interpreter, numpy, scipy, pyosmium and the case). Times are the
measured call alone. Routing uses the default speed profile; "400 x 400" routes from
and to the same 400 random nodes of settlement roads (tertiary, unclassified,
residential, living_street).

## Rutland (the real extract)

{_table(rutland)}
## Synthetic: the Rutland file tiled {t["tiles"][0]} x {t["tiles"][1]}

{_table(tiled)}
The tiling is a cost measurement only: its copies are shifted in longitude and latitude,
so its distances are not real ones.
"""


def _table(rows: list[tuple[str, str]]) -> str:
    lines = ["| figure | value |", "|---|---:|"]
    lines += [f"| {name} | {value} |" for name, value in rows]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
