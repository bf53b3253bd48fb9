"""Benchmark instances as :class:`mergeopt.engine.instance.Instance` arrays.

Three families, each mapped onto mergeopt's model as ``benchmarks/data/README.md``
describes (copies of the files are read from ``MERGEOPT_BENCH``, default
``benchmarks/data``, shipped with the repository):

- OR-Library ``pmedcap1`` (Osman & Christofides): capacitated p-median, 20 instances.
  Objective weight 1 (``travel_by_size=False``), list size = demand, maximum = capacity,
  no minimum, exactly p groups, d(i, j) = floor(Euclidean distance).
- OR-Library ``pmed1``-``pmed40`` (Beasley): uncapacitated p-median on a graph, costs
  by all-pairs shortest paths, exactly p groups.
- Real English practices (``data/england/practices.csv``, the table
  ``configs/england_pcn.yaml`` reads): networks of 30,000-50,000 patients, a drive-time
  limit, practices above 50,000 form a network alone (``oversize: alone``), nested by
  ICB. Built by mergeopt's own problem builder from a config, so an ICB's arrays are
  the ones ``mergeopt run`` solves for it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import shortest_path
from scipy.spatial.distance import cdist

from mergeopt.config import Config
from mergeopt.engine.instance import Instance
from mergeopt.engine.options import SolveOptions
from mergeopt.engine.portfolio import solve_instance
from mergeopt.engine.strategies import heuristics
from mergeopt.inputs.practices import read_practices
from mergeopt.runs.problem import build_problem

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(os.environ.get("MERGEOPT_BENCH", ROOT / "benchmarks" / "data"))
ENGLAND = ROOT / "data" / "england" / "practices.csv"

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


#: The TA set (Lorena & Senne): n points in each file ``TA<n>.dat``.
TA = (25, 50, 60, 70, 80, 90, 100)
#: The doni set: ``doni1.dat`` .. ``doni7.dat`` (1,000 to 13,221 points).
DONI = (1, 2, 3, 4, 5, 6, 7)

#: Published optimum or best-known value of a TA or doni instance, with its source.
#: Empty: no value could be read and checked from a source available here
#: (``benchmarks/data/README.md`` says what was searched); never fill it from memory.
PUBLISHED: dict[str, tuple[float, str]] = {}


def lorena_senne(path: Path, name: str) -> Case:
    """A capacitated p-median file of the TA / doni layout, Euclidean distances.

    Layout: ``n p`` on the first line, then one line per point ``x y Q q`` (coordinates,
    the capacity of a median there, the point's demand). Objective weight 1 per point
    (not weighted by demand), list size = demand, maximum = capacity, exactly p groups,
    d(i, j) = Euclidean distance (not rounded). ``FileNotFoundError`` names the file and
    where to get it if it is not in the benchmark folder.
    """
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: benchmark file not found (benchmarks/data/README.md says where "
            "each published instance comes from)"
        )
    rows = [line.split() for line in path.read_text().splitlines() if line.strip()]
    n, p = int(rows[0][0]), int(rows[0][1])
    data = np.asarray(rows[1 : 1 + n], dtype=float)
    if data.shape != (n, 4):
        raise ValueError(f"{path}: expected {n} lines of 'x y capacity demand'")
    capacity = np.unique(data[:, 2])
    if len(capacity) != 1:
        raise ValueError(f"{path}: capacities differ ({capacity.tolist()})")
    cost = cdist(data[:, :2], data[:, :2])
    codes = tuple(f"P{k + 1}" for k in range(n))
    inst = _plain(codes, data[:, 3], cost, max_size=float(capacity[0]), count=p)
    optimum, source = PUBLISHED.get(name, (None, ""))
    note = f"n={n} p={p} Q={capacity[0]:g}" + (f"; {source}" if source else "")
    return Case(name, inst, optimum, note)


def ta(points: int) -> Case:
    """TA instance with ``points`` points (25, 50, 60, 70, 80, 90 or 100)."""
    return lorena_senne(BENCH / "ta" / f"TA{points}.dat", f"TA{points}")


def doni(number: int) -> Case:
    """doni instance ``number`` (1-7); doni1 and doni3-doni5 are shipped, the others not."""
    return lorena_senne(doni_path(number), f"doni{number}")


def doni_path(number: int) -> Path:
    """Where the doni instance of that number is read from."""
    return BENCH / "doni" / f"doni{number}.dat"


def literature_model(inst: Instance) -> Instance:
    """The same capacitated p-median without the hub-in-own-group rule.

    mergeopt puts a hub in its own group (right for practices); the capacitated
    p-median of the literature lets a median send its own demand to another median
    when that frees capacity, so its optimum can be lower. This builds that model
    without changing the engine, by a copy of each point: points ``0..n-1`` are the
    clients (their demand, no hub), points ``n..2n-1`` the candidate medians (no
    demand, the capacity). A client joins a median's copy at the distance between the
    two points, an unused median's copy joins any open one at no cost, and exactly p
    copies are hubs, so a client may be served by any open median, its own included.
    Objectives are comparable with the published ones. Twice the points, four times
    the arcs: meant for the smaller sets.
    """
    if inst.fixed or inst.must_link or inst.cannot_link or inst.contiguous or inst.region:
        raise ValueError("literature_model covers the plain capacitated p-median only")
    if any(inst.weights[1:]) or inst.min_size > 0 or len(inst.group_id):
        raise ValueError("literature_model covers the plain capacitated p-median only")
    n = inst.n
    clients, sites = slice(0, n), slice(n, 2 * n)
    cost = np.zeros((2 * n, 2 * n))
    cost[clients, :] = np.tile(inst.cost, (1, 2))
    cost[sites, clients] = inst.cost
    allowed = np.zeros((2 * n, 2 * n), dtype=bool)
    allowed[clients, sites] = inst.allowed
    allowed[sites, sites] = True
    none = np.zeros(n, dtype=bool)
    return replace(
        inst,
        codes=inst.codes + tuple(f"{code}*" for code in inst.codes),
        size=np.concatenate([inst.size, np.zeros(n)]),
        cost=cost,
        allowed=allowed,
        max_size=np.concatenate([inst.max_size, inst.max_size]),
        can_hub=np.concatenate([none, inst.can_hub]),
        must_hub=np.concatenate([none, inst.must_hub]),
    )


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


@cache
def england_practices() -> pd.DataFrame:
    """England's practices as ``mergeopt run`` reads them (``data/england/practices.csv``
    through :func:`mergeopt.inputs.read_practices`); ``region`` is the ICB code."""
    return read_practices(network_config(LIMITS[-1]))


def network_config(minutes: float) -> Config:
    """The national network rule as a config: 30,000-50,000 patients, practices above
    50,000 alone, within ``minutes`` drive minutes of the hub, nested by ICB.

    It is ``configs/england_pcn.yaml`` at another travel limit: what a commissioner
    writes for an ICB (``inputs.select: {icb_code: [...]}``) and ``mergeopt run`` solves.
    """
    return Config.model_validate(
        {
            "name": "benchmark_networks",
            "inputs": {"practices": ENGLAND},
            "groups": {
                "min_list_size": int(NETWORK_MIN),
                "max_list_size": int(NETWORK_MAX),
                "oversize": "alone",
            },
            "travel": {"model": "road", "max_minutes": minutes},
            "rules": {"nest_by": "icb_code"},
            "maps": False,
        }
    )


def network_instance(practices: pd.DataFrame, limit: float) -> Instance:
    """Networks of 30,000-50,000 patients within ``limit`` drive minutes of the hub.

    Built by mergeopt's own problem builder (:func:`mergeopt.runs.problem.build_problem`)
    from :func:`network_config`, so the arrays are the ones ``mergeopt run`` solves for
    the same practices (``tests/test_benchmark_instances.py`` checks it).
    """
    return build_problem(network_config(limit), practices).instance


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
    report = solve_instance(inst, SolveOptions(time_limit=QUICK_SOLVE))
    return report.status in ("optimal", "feasible")


def icb_limit(practices: pd.DataFrame) -> float | None:
    """The tightest limit of :data:`LIMITS` at which the ICB is shown feasible.

    Shown feasible by :func:`feasible_quickly`: 20 minutes leaves rural practices with
    no hub whose 20-minute reach holds 30,000 patients, which no solver can fix, and a
    limit that passes that test may still leave no grouping. None if no limit of
    :data:`LIMITS` is shown feasible.
    """
    for limit in LIMITS:
        if feasible_quickly(network_instance(practices, limit)):
            return limit
    return None


def icb(code: str, limit: float | None = None) -> Case:
    """One ICB's practices as networks of 30,000-50,000 (limit: see :func:`icb_limit`)."""
    table = england_practices()
    part = table[table["region"] == code]
    minutes = limit if limit is not None else icb_limit(part) or LIMITS[-1]
    inst = network_instance(part, minutes)
    return Case(f"ICB {code}", inst, None, f"{minutes:g} min")


def largest_icb() -> str:
    return str(england_practices()["region"].value_counts().idxmax())


def england() -> tuple[Case, dict[str, float]]:
    """All of England in one instance nested by ICB, each ICB at its own limit.

    Each ICB gets the tightest limit of :data:`LIMITS` at which it is shown feasible
    (:func:`icb_limit`). Where none is, the practices that cannot reach a network even
    at the largest limit (an island practice: the Isles of Scilly) are left out and the
    ICB is tried again; they are named in the case's note. Arcs cross no ICB boundary
    (``rules.nest_by: icb_code``); the arrays hold each ICB's travel limit in
    ``allowed``. Returns the case and the limit used for each ICB.
    """
    table = england_practices()
    limits: dict[str, float] = {}
    dropped: list[str] = []
    for code, part in table.groupby("region", sort=True):
        limit = icb_limit(part)
        if limit is None:
            far = unreachable(network_instance(part, LIMITS[-1]))
            dropped += part.index[far].astype(str).tolist()
            limit = icb_limit(part[~far]) or LIMITS[-1]
        limits[str(code)] = limit
    table = table[~table.index.isin(dropped)]
    region = table["region"].to_numpy()
    inst = network_instance(table, max(limits.values()))
    within = np.asarray([limits[str(c)] for c in region])
    allowed = inst.allowed & (inst.cost <= within[:, None] + 1e-9)
    np.fill_diagonal(allowed, True)
    inst = replace(inst, allowed=allowed, region=tuple(str(c) for c in region))
    note = f"n={inst.n}, {len(limits)} ICBs"
    if dropped:
        note += f", {len(dropped)} that reach no network in {LIMITS[-1]:g} min left out"
        note += f" ({', '.join(dropped)})"
    return Case("England, nested by ICB", inst, None, note), limits
