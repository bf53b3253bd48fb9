"""Instances the engine's tests share: hand-made ones, brute force, hypothesis strategies."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import strategies as st

from mergeopt.engine.instance import Instance, objective_value
from mergeopt.engine.options import SolveOptions

FAST = SolveOptions(time_limit=30)


def line_instance(positions: list[float], sizes: list[float], **changes: object) -> Instance:
    """Practices on a line; travel cost is the distance between them."""
    pos = np.asarray(positions, dtype=float)
    cost = changes.pop("cost", np.abs(pos[:, None] - pos[None, :]))
    return cost_instance(cost, sizes, **changes)  # type: ignore[arg-type]


def cost_instance(cost: np.ndarray, sizes: list[float], **changes: object) -> Instance:
    """Practices with these travel costs (n x n) and list sizes; every practice may join
    every hub and host a group, no list-size bound, unless ``changes`` say otherwise."""
    n = len(sizes)
    fields: dict[str, object] = {
        "codes": tuple(f"P{k}" for k in range(n)),
        "size": np.asarray(sizes, dtype=float),
        "cost": cost,
        "allowed": np.ones((n, n), dtype=bool),
        "min_size": 0.0,
        "max_size": np.full(n, np.inf),
        "can_hub": np.ones(n, dtype=bool),
        "must_hub": np.zeros(n, dtype=bool),
    }
    fields.update(changes)
    return Instance(**fields)  # type: ignore[arg-type]


def brute_force(inst: Instance) -> float:
    """The optimum by trying every assignment of practices to hubs (tiny n only)."""
    best = np.inf
    for hub_of in itertools.product(range(inst.n), repeat=inst.n):
        h = np.asarray(hub_of)
        if feasible_by_hand(inst, h):
            best = min(best, objective_value(inst, h))
    return float(best)


def feasible_by_hand(inst: Instance, hub_of: np.ndarray) -> bool:
    """Every rule of the formulation, checked one by one (no contiguity)."""
    hubs = set(hub_of.tolist())
    if any(hub_of[j] != j for j in hubs):
        return False
    i = np.arange(inst.n)
    usable = inst.hubs_usable()
    if not (inst.allowed[i, hub_of] | (i == hub_of)).all() or not usable[list(hubs)].all():
        return False
    load = np.bincount(hub_of, weights=inst.size, minlength=inst.n)
    alone = inst.standing_alone()
    for j in hubs:
        if load[j] < inst.min_size - 1e-9 and not alone[j]:
            return False
        if load[j] > inst.max_size[j] + 1e-9:
            return False
    count = len(hubs)
    if inst.count_min is not None and count < inst.count_min:
        return False
    if inst.count_max is not None and count > inst.count_max:
        return False
    if any(hub_of[j] != j for j in np.flatnonzero(inst.must_hub)):
        return False
    if any(hub_of[a] != b for a, b in inst.fixed):
        return False
    if any(hub_of[a] != hub_of[b] for a, b in inst.must_link):
        return False
    return not any(hub_of[a] == hub_of[b] for a, b in inst.cannot_link)


@st.composite
def tiny_instances(draw: st.DrawFn) -> Instance:
    n = draw(st.integers(2, 5))
    xy = np.array(
        draw(st.lists(st.tuples(st.integers(0, 20), st.integers(0, 20)), min_size=n, max_size=n))
    )
    size = np.array(draw(st.lists(st.integers(1, 9), min_size=n, max_size=n)), dtype=float)
    cost = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    limit = draw(st.sampled_from([np.inf, 10.0, 20.0]))
    lower = float(draw(st.integers(0, 10)))
    upper = float(draw(st.integers(9, 30)))
    low_count = draw(st.one_of(st.none(), st.integers(1, n)))
    pairs = st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda p: p[0] != p[1])
    return Instance(
        codes=tuple(f"P{k}" for k in range(n)),
        size=size,
        cost=cost,
        allowed=cost <= limit,
        min_size=lower,
        max_size=np.full(n, upper),
        can_hub=np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
        | (np.arange(n) == 0),
        must_hub=np.zeros(n, dtype=bool),
        count_min=low_count,
        count_max=draw(st.one_of(st.none(), st.integers(low_count or 1, n))),
        must_link=tuple(draw(st.lists(pairs, max_size=1))),
        cannot_link=tuple(draw(st.lists(pairs, max_size=1))),
        weights=(1.0, 0.0, draw(st.sampled_from([0.0, 5.0])), draw(st.sampled_from([0.0, 3.0]))),
    )


@st.composite
def random_instances(draw: st.DrawFn) -> Instance:
    """Small capacitated instances: sizes, bounds, travel limit, group count, weights."""
    n = draw(st.integers(3, 9))
    coords = st.tuples(st.integers(0, 30), st.integers(0, 30))
    xy = np.array(draw(st.lists(coords, min_size=n, max_size=n)), dtype=float)
    size = np.array(draw(st.lists(st.integers(1, 12), min_size=n, max_size=n)), dtype=float)
    cost = np.floor(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)))
    limit = draw(st.sampled_from([np.inf, 12.0, 25.0]))
    upper = float(draw(st.integers(12, 40)))
    count = draw(st.one_of(st.none(), st.integers(1, max(1, n // 2))))
    return Instance(
        codes=tuple(f"P{k}" for k in range(n)),
        size=size,
        cost=cost,
        allowed=cost <= limit,
        min_size=float(draw(st.sampled_from([0, 0, 8, 15]))),
        max_size=np.full(n, upper),
        can_hub=np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
        | (np.arange(n) == 0),
        must_hub=np.zeros(n, dtype=bool),
        count_min=count,
        count_max=count,
        weights=(1.0, 0.0, float(draw(st.sampled_from([0, 0, 7]))), 0.0),
        travel_by_size=draw(st.booleans()),
    )


@st.composite
def uncapacitated_instances(draw: st.DrawFn) -> Instance:
    """Small p-medians: no list-size bounds; a travel limit, a group count or a cost per
    group, candidate and forced hubs."""
    n = draw(st.integers(2, 12))
    coords = st.tuples(st.integers(0, 30), st.integers(0, 30))
    xy = np.array(draw(st.lists(coords, min_size=n, max_size=n)), dtype=float)
    size = np.array(draw(st.lists(st.integers(1, 12), min_size=n, max_size=n)), dtype=float)
    cost = np.floor(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)))
    limit = draw(st.sampled_from([np.inf, 12.0, 25.0]))
    count = draw(st.one_of(st.none(), st.integers(1, n)))
    can_hub = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    must_hub = np.zeros(n, dtype=bool)
    if draw(st.booleans()):
        must_hub[draw(st.integers(0, n - 1))] = True
    return Instance(
        codes=tuple(f"P{k}" for k in range(n)),
        size=size,
        cost=cost,
        allowed=cost <= limit,
        min_size=0.0,
        max_size=np.full(n, np.inf),
        can_hub=can_hub | must_hub | (np.arange(n) == 0),
        must_hub=must_hub,
        count_min=count,
        count_max=count,
        weights=(1.0, 0.0, float(draw(st.sampled_from([0, 5, 40]))), 0.0),
        travel_by_size=draw(st.booleans()),
    )


def two_regions(seed: int, *, reach: float = 10.0) -> Instance:
    """Two ICBs of 50 practices each, 1,000 apart: capacitated networks in each."""
    rng = np.random.default_rng(seed)
    xy = rng.integers(0, 30, size=(100, 2)).astype(float)
    xy[50:, 0] += 1000.0
    cost = np.floor(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)))
    return Instance(
        codes=tuple(f"P{k}" for k in range(100)),
        size=rng.integers(1, 12, size=100).astype(float),
        cost=cost,
        allowed=cost <= reach,
        min_size=0.0,
        max_size=np.full(100, 40.0),
        can_hub=np.ones(100, dtype=bool),
        must_hub=np.zeros(100, dtype=bool),
        region=("ICB_A",) * 50 + ("ICB_B",) * 50,
    )
