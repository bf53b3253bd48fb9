"""Benchmark instances as :class:`mergeopt.model.Instance` arrays.

Three families, each mapped onto mergeopt's model as ``benchmarks/data/README.md``
describes (copies of the files are read from ``MERGEOPT_BENCH``, default
``benchmarks/data``, shipped with the repository):

- OR-Library ``pmedcap1`` (Osman & Christofides): capacitated p-median, 20 instances.
  Objective weight 1 (``travel_by_size=False``), list size = demand, maximum = capacity,
  no minimum, exactly p groups, d(i, j) = floor(Euclidean distance).
- OR-Library ``pmed1``-``pmed40`` (Beasley): uncapacitated p-median on a graph, costs
  by all-pairs shortest paths, exactly p groups.
- Real English practices (``data/nhs/practices_england_oct2025_joined.csv``, list sizes of
  Jan 2021 for every practice): networks of 30,000-50,000 patients, a drive-time limit
  from :func:`mergeopt.travel.road_minutes`, practices above 50,000 form a network alone
  (``oversize: alone``), nested by ICB.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import shortest_path
from scipy.spatial import Voronoi

from mergeopt import heuristics
from mergeopt.config import Solver
from mergeopt.model import Instance
from mergeopt.solve import solve_instance
from mergeopt.travel import road_minutes

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(os.environ.get("MERGEOPT_BENCH", ROOT / "benchmarks" / "data"))
PRACTICES = ROOT / "data" / "nhs" / "practices_england_oct2025_joined.csv"
HULL = ROOT / "data" / "hull" / "practices.csv"

#: The national network rule: 30,000-50,000 patients per network.
NETWORK_MIN, NETWORK_MAX = 30_000.0, 50_000.0
#: Travel limits tried for an ICB, tightest first (see :func:`icb_limit`).
LIMITS = (20.0, 25.0, 30.0, 40.0, 60.0)


@dataclass(frozen=True)
class Case:
    """A named benchmark instance with its published optimum (None if unknown)."""

    name: str
    instance: Instance
    optimum: float | None = None
    note: str = ""


def _plain(
    codes: tuple[str, ...],
    size: np.ndarray,
    cost: np.ndarray,
    *,
    max_size: float,
    count: int | None,
) -> Instance:
    n = len(codes)
    return Instance(
        codes=codes,
        size=np.asarray(size, dtype=float),
        cost=np.asarray(cost, dtype=float),
        allowed=np.ones((n, n), dtype=bool),
        min_size=0.0,
        max_size=np.full(n, float(max_size)),
        can_hub=np.ones(n, dtype=bool),
        must_hub=np.zeros(n, dtype=bool),
        count_min=count,
        count_max=count,
        travel_by_size=False,
    )


def pmedcap(number: int) -> Case:
    """OR-Library pmedcap1 instance ``number`` (1-20) with its proven optimum."""
    path = BENCH / "orlib_pmedcap" / f"pmedcap1_{number:02d}.txt"
    rows = [line.split() for line in path.read_text().splitlines() if line.strip()]
    optimum = float(rows[0][1])
    n, p, capacity = (int(v) for v in rows[1])
    data = np.asarray(rows[2 : 2 + n], dtype=float)
    xy, demand = data[:, 1:3], data[:, 3]
    cost = np.floor(np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1)))
    codes = tuple(f"P{int(k)}" for k in data[:, 0])
    inst = _plain(codes, demand, cost, max_size=capacity, count=p)
    return Case(f"pmedcap1 #{number}", inst, optimum, f"n={n} p={p} Q={capacity}")


def pmed(number: int) -> Case:
    """OR-Library pmed instance ``number`` (1-40), uncapacitated, with its optimum."""
    folder = BENCH / "orlib_pmed"
    lines = (folder / f"pmed{number}.txt").read_text().split("\n")
    n, m, p = (int(v) for v in lines[0].split())
    edges = np.asarray([line.split() for line in lines[1 : 1 + m] if line.strip()], dtype=int)
    weight = np.full((n, n), np.inf)
    for a, b, c in edges:  # OR-Library's way: a repeated edge, the last line wins
        weight[a - 1, b - 1] = weight[b - 1, a - 1] = c
    np.fill_diagonal(weight, 0.0)
    graph = csr_matrix(np.where(np.isfinite(weight), weight, 0.0))
    cost = shortest_path(graph, method="D", directed=False)
    optima = {
        fields[0]: float(fields[1])
        for fields in (
            line.split() for line in (folder / "pmedopt.txt").read_text().splitlines()[1:]
        )
        if len(fields) == 2
    }
    codes = tuple(f"V{k + 1}" for k in range(n))
    inst = _plain(codes, np.ones(n), cost, max_size=np.inf, count=p)
    return Case(f"pmed{number}", inst, optima[f"pmed{number}"], f"n={n} p={p}")


def england_practices() -> tuple[pd.DataFrame, int]:
    """Practices with coordinates and a Jan 2021 list size; and how many were left out."""
    raw = pd.read_csv(PRACTICES, dtype={"practice_code": str, "icb_code": str})
    keep = raw[["list_size_2021_01", "easting_osgb", "northing_osgb"]].notna().all(axis=1)
    keep &= raw["list_size_2021_01"] > 0
    table = raw[keep].reset_index(drop=True)
    return table, int((~keep).sum())


def network_instance(
    table: pd.DataFrame, limit: float, *, region: np.ndarray | None = None
) -> Instance:
    """Networks of 30,000-50,000 patients within ``limit`` drive minutes of the hub.

    The arrays are what :func:`mergeopt.problem.build_problem` makes of the same rules
    (``oversize: alone``, ``travel.max_minutes``, ``rules.nest_by``).
    """
    size = table["list_size_2021_01"].to_numpy(dtype=float)
    cost = road_minutes(table["easting_osgb"].to_numpy(), table["northing_osgb"].to_numpy())
    n = len(size)
    allowed = cost <= limit + 1e-9
    if region is not None:
        allowed &= region[:, None] == region[None, :]
    np.fill_diagonal(allowed, True)
    oversize = size > NETWORK_MAX
    max_size = np.where(oversize, size, NETWORK_MAX)
    allowed[:, oversize] = False
    allowed[oversize, :] = False
    allowed[oversize, oversize] = True
    return Instance(
        codes=tuple(table["practice_code"].astype(str)),
        size=size,
        cost=cost,
        allowed=allowed,
        min_size=NETWORK_MIN,
        max_size=max_size,
        can_hub=np.ones(n, dtype=bool),
        must_hub=oversize.copy(),
    )


def reachable(inst: Instance) -> bool:
    """A necessary condition: every practice can reach a hub whose reach holds L patients."""
    return not unreachable(inst).any()


def unreachable(inst: Instance) -> np.ndarray:
    """(n,) bool: practices with no hub whose reach (within the limit) holds L patients."""
    usable = inst.hubs_usable()
    arcs = inst.allowed & usable[None, :]
    reach = (arcs * inst.size[:, None]).sum(axis=0)
    hub_ok = usable & (reach >= inst.min_size)
    out: np.ndarray = ~(arcs[:, hub_ok].any(axis=1) | inst.must_hub)
    return out


#: Time limit (s) of the short solve that shows an ICB feasible where the greedy fails.
QUICK_SOLVE = 5.0


def feasible_quickly(inst: Instance) -> bool:
    """Shown feasible: :func:`reachable`, and the greedy heuristic finds a grouping or a
    short solve (:data:`QUICK_SOLVE` seconds) finds one. False means "not shown"."""
    if not reachable(inst):
        return False
    if heuristics.construct(inst) is not None:
        return True
    report = solve_instance(inst, Solver(time_limit=QUICK_SOLVE))
    return report.status in ("optimal", "feasible")


def icb_limit(table: pd.DataFrame) -> float | None:
    """The tightest limit of :data:`LIMITS` at which the ICB is shown feasible.

    Shown feasible by :func:`feasible_quickly`: 20 minutes leaves rural practices with
    no hub whose 20-minute reach holds 30,000 patients, which no solver can fix, and a
    limit that passes that test may still leave no grouping. None if no limit of
    :data:`LIMITS` is shown feasible.
    """
    for limit in LIMITS:
        if feasible_quickly(network_instance(table, limit)):
            return limit
    return None


def icb(code: str, limit: float | None = None) -> Case:
    """One ICB's practices as networks of 30,000-50,000 (limit: see :func:`icb_limit`)."""
    table, _ = england_practices()
    part = table[table["icb_code"] == code].reset_index(drop=True)
    minutes = limit if limit is not None else icb_limit(part) or LIMITS[-1]
    inst = network_instance(part, minutes)
    return Case(f"ICB {code}", inst, None, f"{minutes:g} min")


def largest_icb() -> str:
    table, _ = england_practices()
    return str(table["icb_code"].value_counts().idxmax())


def england() -> tuple[Case, dict[str, float]]:
    """All of England in one instance nested by ICB, each ICB at its own limit.

    Each ICB gets the tightest limit of :data:`LIMITS` at which it is shown feasible
    (:func:`icb_limit`). Where none is, the practices that cannot reach a network even
    at the largest limit (an island practice: the Isles of Scilly) are left out and the
    ICB is tried again; they are named in the case's note. Arcs cross no ICB boundary
    (``rules.nest_by: icb_code``); the arrays hold each ICB's travel limit in
    ``allowed``. Returns the case and the limit used for each ICB.
    """
    table, left_out = england_practices()
    limits: dict[str, float] = {}
    dropped: list[str] = []
    for code, part in table.groupby("icb_code"):
        part = part.reset_index(drop=True)
        limit = icb_limit(part)
        if limit is None:
            far = unreachable(network_instance(part, LIMITS[-1]))
            dropped += part["practice_code"][far].astype(str).tolist()
            limit = icb_limit(part[~far].reset_index(drop=True)) or LIMITS[-1]
        limits[str(code)] = limit
    table = table[~table["practice_code"].isin(dropped)].reset_index(drop=True)
    region = table["icb_code"].to_numpy()
    n = len(table)
    inst = network_instance(table, max(limits.values()), region=region)
    within = np.asarray([limits[str(c)] for c in region])
    allowed = inst.allowed & (inst.cost <= within[:, None] + 1e-9)
    oversize = inst.must_hub
    allowed[oversize, :] = False
    allowed[:, oversize] = False
    np.fill_diagonal(allowed, True)
    inst = replace(inst, allowed=allowed, region=tuple(str(c) for c in region))
    note = f"n={n}, {len(limits)} ICBs, {left_out} practices without list size or site"
    if dropped:
        note += f", {len(dropped)} that reach no network in {LIMITS[-1]:g} min"
        note += f" ({', '.join(dropped)})"
    note += " left out"
    return Case("England, nested by ICB", inst, None, note), limits


def hull(limit: float = 20.0) -> tuple[Instance, tuple[tuple[int, int], ...]]:
    """Hull's 25 practices (Feb 2026 list sizes), 30,000-50,000, and their adjacency.

    Adjacency: practices whose Voronoi cells share an edge (catchments that touch), made
    here from the practice sites until a catchments module provides it.
    """
    raw = pd.read_csv(HULL, dtype={"practice_code": str})
    table = pd.DataFrame(
        {
            "practice_code": raw["practice_code"],
            "list_size_2021_01": raw["list_size"],
            "easting_osgb": raw["easting"],
            "northing_osgb": raw["northing"],
        }
    )
    inst = network_instance(table, limit)
    return inst, voronoi_adjacency(raw["easting"].to_numpy(), raw["northing"].to_numpy())


def voronoi_adjacency(easting: np.ndarray, northing: np.ndarray) -> tuple[tuple[int, int], ...]:
    """Pairs of sites whose Voronoi cells share an edge; sites at one point are adjacent."""
    points = np.column_stack([easting, northing]).astype(float)
    unique, first = np.unique(points, axis=0, return_inverse=True)
    pairs: set[tuple[int, int]] = set()
    if len(unique) >= 3:
        ridges = Voronoi(unique).ridge_points
        members = [np.flatnonzero(first == k) for k in range(len(unique))]
        for a, b in ridges:
            pairs.update(
                (min(i, k), max(i, k)) for i in members[a].tolist() for k in members[b].tolist()
            )
    for k in range(len(unique)):  # practices sharing a site (one health centre)
        same = np.flatnonzero(first == k).tolist()
        pairs.update((i, k2) for i in same for k2 in same if i < k2)
    return tuple(sorted(pairs))
