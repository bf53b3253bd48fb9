"""Groupings for the branch-and-price: diving on the master, the restricted master as a
MIP, and the compact MIP over the hubs a node's LP opens."""

from __future__ import annotations

import math
import time
from dataclasses import replace

import numpy as np

from mergeopt.engine.formulation import model_arrays
from mergeopt.engine.solvers.highs import highs_from_arrays
from mergeopt.engine.strategies.branch_price import colgen
from mergeopt.engine.strategies.branch_price import knapsack as kn
from mergeopt.engine.strategies.branch_price.master import Master
from mergeopt.engine.strategies.branch_price.search import Search, Vector

#: Seconds between solves of the restricted master as a MIP, and the share of the time
#: left each may take.
MIP_EVERY, MIP_SHARE = 5.0, 0.2
#: Seconds one restricted MIP over a node's hubs may take (see :func:`support_heuristic`).
SUPPORT_SECONDS = 1.0


def dive(search: Search, r: kn.Restriction, cg: colgen.Generated) -> None:
    """Diving on the master for a grouping: fix every column the LP takes whole and the
    one it takes most of the rest (its hub opened, its members forced in), generate
    columns again, and go on until the master is integral (a grouping, offered), no
    grouping better than the best is left below, or the deadline."""
    ks, master = search.ks, search.master
    began = time.time()
    r = r.copy()
    lam, art = cg.lam, cg.art
    for _ in range(ks.num_hubs):
        used = np.flatnonzero(lam > 1e-9)
        if art < 1e-6 and np.all(lam[used] > 1 - 1e-6):
            search.offer(search.grouping(used))
            break
        new = [c for c in used.tolist() if not fixed_column(ks, r, master, c)]
        if not new:
            break  # artificials only beside fixed columns: nothing to fix
        whole = [c for c in new if lam[c] > 1 - 1e-6]
        for c in whole or [max(new, key=lambda c: float(lam[c]))]:
            kn.open_hub(ks, r, master.hub[c])
            for arc in master.arcs[c].tolist():
                kn.force_arc(ks, r, int(arc))
        master.restrict(r)
        cg_next = colgen.generate(search, r, cg.bound, cg.centre)
        if not isinstance(cg_next, colgen.Generated):
            break  # infeasible, or nothing better than the best below, or the deadline
        lam, art = cg_next.lam, cg_next.art
    search.heuristic_seconds += time.time() - began


def fixed_column(ks: kn.Knapsacks, r: kn.Restriction, master: Master, c: int) -> bool:
    """Whether column ``c``'s hub is forced open with every member forced in."""
    return bool(r.hub_open[master.hub[c]] and r.arc_forced[master.arcs[c]].all())


def maybe_mip(search: Search) -> None:
    """Now and then, the restricted master as a MIP over its columns, for a grouping."""
    now = time.time()
    if now - search.last_mip < MIP_EVERY or not search.heuristic_turn():
        return
    search.last_mip = now
    master = search.master
    saved = master.upper.copy()
    master.upper[:] = 1.0  # every column of the pool, whatever the node
    limit = min(MIP_SHARE * search.left(), 2.0 + 0.02 * master.size**0.5)
    start = None
    if search.best is not None:
        start = columns_of(search, search.best)
    chosen = master.integer(limit, start, search.value)
    master.upper[:] = saved
    if chosen is not None:
        search.offer(search.grouping(chosen))
    search.last_mip = time.time()
    search.heuristic_seconds += search.last_mip - now


def columns_of(search: Search, hub_of: Vector) -> Vector | None:
    found = []
    keys = {
        np.concatenate([[h], items]).tobytes(): c
        for c, (h, items) in enumerate(zip(search.master.hub, search.master.items, strict=True))
    }
    for j in np.unique(hub_of).tolist():
        h = int(search.ks.hub_of_practice[j])
        items = np.unique(search.ks.item_of[np.flatnonzero(hub_of == j)])
        items = items[items != search.ks.hub_item[h]]
        c = keys.get(np.concatenate([[h], items]).astype(np.int64).tobytes())
        if c is None:
            return None
        found.append(c)
    return np.asarray(found, dtype=np.int64)


def support_heuristic(search: Search, y: Vector) -> None:
    """A grouping over the hubs a node's LP opens at all: the MIP of
    :mod:`mergeopt.engine.formulation` with only those hubs (and the best grouping's) as
    candidates, solved by HiGHS for a moment; each set of hubs is tried once."""
    ks, inst = search.ks, search.inst
    hubs = np.zeros(inst.n, dtype=bool)
    hubs[ks.hubs[y > 1e-6]] = True
    key = np.flatnonzero(hubs).tobytes()
    if key in search.supports or not search.heuristic_turn():
        return
    search.supports.add(key)
    began = time.time()
    start = search.best
    if start is not None:
        hubs[np.unique(start)] = True
    sub = replace(inst, can_hub=inst.can_hub & (hubs | inst.must_hub))
    arrays = model_arrays(sub)
    highs = highs_from_arrays(arrays)
    highs.setOptionValue("time_limit", min(SUPPORT_SECONDS, 0.5 * search.left()))
    highs.setOptionValue("mip_rel_gap", search.gap)
    if math.isfinite(search.value):
        highs.setOptionValue("objective_bound", search.value)
    if start is not None:
        values = arrays.columns(sub, start)
        highs.setSolution(arrays.num_col, np.arange(arrays.num_col, dtype=np.int32), values)
    highs.run()
    if highs.getInfo().primal_solution_status == 2:
        search.offer(arrays.hub_of(np.asarray(highs.getSolution().col_value)))
    search.heuristic_seconds += time.time() - began
