"""Column generation at one node of the branch-and-price: stabilised pricing, the
Lagrangian bound at every round, and the columns that price out."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mergeopt.engine.strategies.branch_price import knapsack as kn
from mergeopt.engine.strategies.branch_price.search import Search, Vector

#: Smoothing weight of the stability centre in Wentges' rule.
SMOOTHING = 0.5
#: Columns added per hub and pricing round (its best loads, distinct).
COLUMNS_PER_HUB = 2
#: Column-generation rounds per node before it branches anyway.
MAX_ROUNDS = 400
#: Relative distance between the master's value and the bound at which column generation
#: has converged (the LP solver's own tolerances are about this).
CONVERGED = 1e-7


@dataclass(frozen=True)
class Generated:
    """A node's column generation: its bound, the duals that gave it (the centre) and
    their pricing, the master's last solution and artificial total, and whether the
    bound met the master's value."""

    bound: float
    centre: Vector
    priced: kn.Priced
    lam: Vector
    art: float
    converged: bool


def generate(
    search: Search, r: kn.Restriction, bound: float, centre: Vector | None
) -> Generated | float | None:
    """Stabilised column generation (Wentges): price between the centre and the master's
    duals; after a mis-price (nothing found there) at the master's duals. None if the
    node is pruned or infeasible; its bound if the deadline cut it short."""
    ks, master = search.ks, search.master
    best: kn.Priced | None = None
    alpha = SMOOTHING if centre is not None else 0.0
    for _ in range(MAX_ROUNDS):
        if search.left() <= 0:
            return bound
        solved, z, u_m, sigma, lam, art = master.solve(search.left())
        if not solved:
            return bound
        u = u_m if centre is None or alpha == 0 else alpha * centre + (1 - alpha) * u_m
        priced = kn.with_cannot_links(ks, r, kn.price(ks, r, u))
        value = float(u.sum()) + kn.choose(priced.value, r.hub_open, search.count).value
        if value > bound or best is None:
            best = priced
            if value > bound:
                bound, centre = value, u
        if bound >= search.cutoff() or not math.isfinite(bound):
            return None
        if met(search, bound, z):
            return Generated(bound, best.u, best, lam, art, True)
        if add_columns(search, r, priced, u_m, sigma):
            alpha = SMOOTHING
        elif alpha > 0:
            alpha = 0.0  # a mis-price: the master's own duals next
        else:
            break  # nothing prices out at the master's duals: a relaxed knapsack's limit
    if best is None:
        return bound
    return Generated(bound, best.u, best, lam, art, False)


def met(search: Search, bound: float, z: float) -> bool:
    """Whether the node's bound has met the restricted master's value ``z``: within the
    LP's tolerance, or, with whole-number objectives, rounded up to the same whole number
    (the node's LP value lies between them, so more columns cannot raise its bound)."""
    if bound >= z - CONVERGED * max(1.0, abs(z)):
        return True
    return search.integral and math.ceil(bound - 1e-6) >= math.ceil(z - 1e-6)


def add_columns(search: Search, r: kn.Restriction, p: kn.Priced, u_m: Vector, sigma: float) -> int:
    """Columns from each hub's best loads at the priced duals that price out at the
    master's duals; real groups only (a relaxed knapsack's load is repaired)."""
    ks, master = search.ks, search.master
    added = 0
    item_u = np.bincount(ks.item_of, weights=u_m, minlength=len(ks.items))
    candidates = np.flatnonzero(np.isfinite(p.value) & (p.value - sigma < 0))
    loads = np.where(kn.in_window(p.low, p.high, ks.width), p.table, np.inf)
    for h in candidates.tolist():
        order = np.argsort(loads[h], kind="stable")[:COLUMNS_PER_HUB]
        for w in order.tolist():
            if not np.isfinite(loads[h, w]):
                break
            items = kn.members(ks, r, p, h, w)
            if ks.cannot and kn.clash(ks, items, int(ks.hub_item[h])) is not None:
                _, items = kn.hub_knapsack(ks, r, p.reduced, h)
            if master.holds(h, items):
                continue  # a column of the pool (a real group): nothing new
            if not master.feasible(h, items):
                repaired = repair(search, r, h, items, item_u)
                if repaired is None:
                    continue
                items = repaired
            cost = master.column_cost(h, items)
            rc = cost - item_u[ks.hub_item[h]] - item_u[items].sum() - sigma
            if rc < -CONVERGED * max(1.0, abs(cost)) and master.add(h, items, r) is not None:
                added += 1
    return added


def repair(
    search: Search, r: kn.Restriction, h: int, items: Vector, item_u: Vector
) -> Vector | None:
    """A real group near ``items`` (a relaxed knapsack may overfill or underfill by a few
    units): drop the dearest members while over the bound, add the cheapest while under
    the minimum; None if that fails."""
    ks, master = search.ks, search.master
    arcs = ks.by_hub[h]
    allowed = arcs[~r.arc_off[arcs]]
    rc = {
        int(ks.arc_item[a]): float(ks.arc_cost[a] - item_u[ks.arc_item[a]])
        for a in allowed.tolist()
    }
    chosen = [k for k in items.tolist() if k in rc]
    forced = set(ks.arc_item[arcs[r.arc_forced[arcs]]].tolist())

    def load() -> float:
        return float(ks.base[h] + ks.item_size[chosen].sum())

    while load() > ks.cap[h] + 1e-9:
        drop = [k for k in chosen if k not in forced]
        if not drop:
            return None
        chosen.remove(max(drop, key=lambda k: rc[k] / max(float(ks.item_size[k]), 1e-9)))
    while load() < ks.min_size[h] - 1e-9:
        room = ks.cap[h] - load()
        extra = [k for k in rc if k not in chosen and ks.item_size[k] <= room + 1e-9]
        if not extra:
            return None
        chosen.append(min(extra, key=lambda k: rc[k]))
    found = np.asarray(sorted(chosen), dtype=np.int64)
    return found if master.feasible(h, found) else None
