r"""Large regions: groupings from a model over candidate hubs, a bound from a relaxation of
the whole.

A region of thousands of practices allowed to join almost any hub has millions of arcs:
the MIP of :mod:`~mergeopt.engine.formulation` does not fit in memory (a 3,000-point
instance of 9 million arcs passed 12 GB). Two things are computed instead:

1. **A bound for the whole instance** (:func:`relaxed_bound`): the list-size bounds and
   every rule but the arcs, the forced hubs and the group count are dropped, which
   leaves a p-median; its Lagrangian bound (family 1 relaxed, subgradient steps) is
   computed on the dense arc costs, an (n, n) matrix at a time. The group count keeps
   the most groups the list sizes allow
   (:func:`~mergeopt.engine.instance.implied_count_max`: each group holds at least the
   minimum), without which a relaxation free to open every hub is worth next to
   nothing. Every grouping of the instance is a grouping of that relaxation at the same
   cost or more (a dropped maximum-travel term costs at least 0), so the bound is valid
   for the instance.
2. **Groupings from candidate hubs** (:func:`candidate_instance`): the instance with only
   the hubs the relaxation finds most attractive (lowest Lagrangian hub values), the
   forced hubs and the greedy's hubs, so that at most :data:`MAX_ARCS` arcs remain. Every
   grouping of it is a grouping of the instance; its own bound is *not* one for the
   instance (hubs were left out without proof) and is never reported.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np

from mergeopt.engine.instance import (
    Instance,
    Vector,
    arc_mask,
    count_range,
    implied_count_max,
)
from mergeopt.engine.strategies import heuristics

#: A region with more arcs than this is solved as this module says.
LARGE_ARCS = 2_000_000
#: Arcs of the model over candidate hubs, at most.
MAX_ARCS = 400_000


@dataclass(frozen=True)
class Relaxed:
    """A proven lower bound for the whole instance and each hub's Lagrangian value at the
    best multipliers (lower: more attractive)."""

    bound: float
    hub_value: Vector
    multipliers: Vector


def arc_count(inst: Instance) -> int:
    """How many arcs the instance has (without building their arrays)."""
    usable = inst.hubs_usable()
    off = inst.allowed[:, usable].sum() - inst.allowed[usable, usable].sum()
    return int(off + usable.sum())


def relaxed_bound(
    inst: Instance,
    *,
    deadline: float,
    upper: float = np.inf,
    iterations: int = 300,
    start: Vector | None = None,
) -> Relaxed:
    """Subgradient ascent on the p-median relaxation's Lagrangian bound, to ``deadline``
    (``time.perf_counter()``); ``upper`` (a grouping's value) aims the steps, ``start``
    (an earlier run's multipliers) is where they begin."""
    n = inst.n
    usable = inst.hubs_usable()
    coef = dense_costs(inst, usable)  # (n, n), inf without an arc
    own = np.where(usable, np.diag(coef), np.inf)
    np.fill_diagonal(coef, np.inf)  # a hub's own arc is paid as the hub's
    groups_w = float(inst.weights[2])
    low, high = count_range(inst, int(usable.sum()))
    high = min(high, implied_count_max(inst))  # without it, every hub opens for nothing
    finite = np.isfinite(coef)
    # start from each practice's nearest other hub (its own costs nothing to choose)
    nearest = coef.min(axis=1)
    coef[~finite] = 0.0  # masked by ``finite`` from here on
    u = np.where(np.isfinite(nearest), nearest, 0.0) if start is None else start.copy()
    best, best_values, best_u = -np.inf, np.full(n, np.inf), u.copy()
    step, stale = (2.0 if start is None else 1.0), 0
    target_of = upper if np.isfinite(upper) else None
    for _ in range(iterations):
        reduced = coef - u[:, None]
        reduced[~finite] = 0.0
        np.minimum(reduced, 0.0, out=reduced)
        gain = reduced.sum(axis=0)
        values = groups_w + own - u + gain
        chosen = _choose(values, inst.must_hub & usable, low, high)
        if chosen is None:  # no choice of hubs within the count: no bound from here
            break
        value = float(u.sum() + values[chosen].sum())
        if value > best + 1e-9:
            best, best_values, best_u, stale = value, values, u.copy(), 0
        else:
            stale += 1
            if stale >= 15:
                step, stale = step / 2, 0
        if step < 1e-4 or time.perf_counter() >= deadline:
            break
        members = (reduced[:, chosen] < 0).sum(axis=1).astype(float)
        members[chosen] += 1.0
        gradient = 1.0 - members
        norm = float((gradient**2).sum())
        if norm == 0:
            break
        target = target_of if target_of is not None else 1.5 * abs(best) + 1.0
        u = u + step * max(target - value, 1e-9 * max(1.0, abs(value))) / norm * gradient
    return Relaxed(float(best), best_values, best_u)


def dense_costs(inst: Instance, usable: Vector) -> Vector:
    """(n, n) objective coefficient of practice *i* joining hub *j*, inf without an arc
    (as :func:`~mergeopt.engine.instance.arc_costs`, without the arc arrays)."""
    travel_w, moved_w, _, _ = inst.weights
    per = inst.size if inst.travel_by_size else np.ones(inst.n)
    with np.errstate(invalid="ignore"):
        coef = travel_w * per[:, None] * inst.cost
    if moved_w:
        coef = coef + moved_w * inst.size[:, None] * inst.moved()
    coef[~arc_mask(inst.allowed, inst.cost, usable)] = np.inf
    return np.asarray(coef, dtype=float)


def _choose(values: Vector, must: Vector, low: int, high: int) -> Vector | None:
    """The cheapest hubs within the count: the forced ones, then the lowest values while
    negative or needed; None if the count cannot be met."""
    ok = np.isfinite(values)
    if (must & ~ok).any():
        return None
    chosen = np.flatnonzero(must)
    free = np.flatnonzero(ok & ~must)
    order = free[np.argsort(values[free], kind="stable")]
    room = high - len(chosen)
    need = max(low - len(chosen), 0)
    if room < 0 or need > len(order):
        return None
    take = order[:room]
    take = take[(np.arange(len(take)) < need) | (values[take] < 0)]
    return np.concatenate([chosen, take])


def relaxed_start(inst: Instance, relaxed: Relaxed, *, deadline: float) -> Vector | None:
    """A grouping from the relaxation: its most attractive hubs (as many as the greedy
    would open), each practice assigned by regret within the hubs' bounds, then local
    search; None if that finds none by ``deadline``."""
    usable = inst.hubs_usable()
    order = np.flatnonzero(usable & np.isfinite(relaxed.hub_value))
    order = order[np.argsort(relaxed.hub_value[order], kind="stable")]
    forced = np.flatnonzero(inst.must_hub & usable)
    count = heuristics.target_count(inst)
    extra = order[~np.isin(order, forced)][: max(count - len(forced), 0)]
    hubs = np.sort(np.concatenate([forced, extra]))
    return heuristics.assign_and_improve(inst, hubs, deadline=deadline)


def candidate_instance(inst: Instance, hub_value: Vector, keep: Vector | None) -> Instance:
    """The instance with only its most attractive hubs as candidates (the forced hubs and
    the hubs of the grouping ``keep`` always), within :data:`MAX_ARCS` arcs."""
    usable = inst.hubs_usable()
    per_hub = np.maximum(inst.allowed[:, usable].sum(axis=0), 1)
    budget = max(int(MAX_ARCS / float(np.mean(per_hub))), 1)
    always = inst.must_hub & usable
    if keep is not None:
        always[np.unique(keep)] = True
    ranked = np.flatnonzero(usable & ~always)
    ranked = ranked[np.argsort(hub_value[ranked], kind="stable")]
    hubs = always.copy()
    hubs[ranked[: max(budget - int(always.sum()), 0)]] = True
    return replace(inst, can_hub=inst.can_hub & hubs)
