"""Reduced-cost fixing and branching at one node of the branch-and-price, both from the
Lagrangian bounds of the children a node might have."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mergeopt.engine.strategies.branch_price import knapsack as kn
from mergeopt.engine.strategies.branch_price import primal
from mergeopt.engine.strategies.branch_price.colgen import Generated
from mergeopt.engine.strategies.branch_price.search import Search, Vector


@dataclass
class Child:
    bound: float
    restriction: kn.Restriction
    centre: Vector | None


@dataclass(frozen=True)
class Looks:
    """Proven bounds of the children a node might have, at its best duals: each hub
    forced open or closed, each arc's item forced in."""

    if_open: Vector
    if_closed: Vector
    if_forced: Vector


def child_bounds(search: Search, r: kn.Restriction, p: kn.Priced) -> Looks:
    choice = kn.choose(p.value, r.hub_open, search.count)
    total_u = float(p.u.sum())
    forced = kn.arc_bounds(search.ks, r, p, choice)
    return Looks(total_u + choice.if_open, total_u + choice.if_closed, forced)


def fix(search: Search, r: kn.Restriction, looks: Looks) -> bool:
    """Reduced-cost fixing below the cut-off, into ``r``; whether anything changed."""
    cutoff = search.cutoff()
    if not math.isfinite(cutoff):
        return False
    ks = search.ks
    close = (looks.if_open >= cutoff) & ~r.hub_closed
    open_ = (looks.if_closed >= cutoff) & ~r.hub_open & ~close & ~r.hub_closed
    off = (looks.if_forced >= cutoff) & ~r.arc_off & ~r.arc_forced
    for h in np.flatnonzero(close).tolist():
        kn.close_hub(ks, r, h)
    for h in np.flatnonzero(open_).tolist():
        kn.open_hub(ks, r, h)
    r.arc_off |= off
    return bool(close.any() or open_.any() or off.any())


def uses_removed(search: Search, r: kn.Restriction, lam: Vector) -> bool:
    """Whether the LP's solution uses a column the node's decisions now forbid."""
    used = np.flatnonzero(lam > 1e-9)
    if len(used) == 0:
        return False
    hub = np.asarray(search.master.hub, dtype=np.int64)[used]
    arcs_off = np.asarray(search.master.incidence()[used] @ r.arc_off.astype(float)) > 0.5
    return bool(r.hub_closed[hub].any() or arcs_off.any())


def branch(
    search: Search, r: kn.Restriction, cg: Generated, looks: Looks
) -> list[Child] | float | None:
    """Children of a node after column generation (or None / its bound, see :func:`.tree._node`).

    Among the fractional hubs, the one whose worse child has the best Lagrangian bound
    (a strong-branching estimate at no cost); then among fractional arcs likewise.
    """
    ks, master = search.ks, search.master
    lam, art, bound, centre = cg.lam, cg.art, cg.bound, cg.centre
    used = np.flatnonzero(lam > 1e-9)
    hub = np.asarray(master.hub, dtype=np.int64)
    y = np.bincount(hub[used], weights=lam[used], minlength=ks.num_hubs)
    x = np.asarray(master.incidence()[used].T @ lam[used]) if len(used) else np.zeros(ks.num_arcs)
    frac_y = np.where(r.hub_open | r.hub_closed, 0.0, np.minimum(y, 1 - y))
    frac_x = np.where(r.arc_off | r.arc_forced, 0.0, np.minimum(x, 1 - x))
    integral = art < 1e-6 and frac_y.max(initial=0) < 1e-6 and frac_x.max(initial=0) < 1e-6
    if integral:
        search.offer(search.grouping(used))
        if cg.converged:
            return None
    primal.support_heuristic(search, y)
    if frac_y.max(initial=0) >= 1e-6:
        worse = np.minimum(looks.if_open, looks.if_closed)
        score = np.where(frac_y >= 1e-6, worse + 1e-9 * frac_y, -np.inf)
        h = int(np.argmax(score))
        closed, opened = r.copy(), r.copy()
        kn.close_hub(ks, closed, h)
        kn.open_hub(ks, opened, h)
        return [
            Child(max(bound, float(looks.if_closed[h])), closed, centre),
            Child(max(bound, float(looks.if_open[h])), opened, centre),
        ]
    if frac_x.max(initial=0) >= 1e-6:
        score = np.where(frac_x >= 1e-6, np.minimum(looks.if_forced, bound) + frac_x, -np.inf)
        return arc_children(ks, r, int(np.argmax(score)), bound, centre, looks)
    if art >= 1e-6 and cg.converged:
        return None  # only artificials cover some practice: no grouping at this node
    # integral, not proven (relaxed pricing): branch on an arc of its grouping
    free = np.flatnonzero((x > 0.5) & ~r.arc_forced)
    if len(free) == 0:
        return bound
    return arc_children(ks, r, int(free[0]), bound, centre, looks)


def arc_children(
    ks: kn.Knapsacks, r: kn.Restriction, arc: int, bound: float, centre: Vector, looks: Looks
) -> list[Child]:
    off, forced = r.copy(), r.copy()
    off.arc_off[arc] = True
    kn.force_arc(ks, forced, arc)
    return [
        Child(bound, off, centre),
        Child(max(bound, float(looks.if_forced[arc])), forced, centre),
    ]
