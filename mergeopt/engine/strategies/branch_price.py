r"""Branch-and-price over groups: a bound strong enough to prove.

The grouping MIP of :mod:`mergeopt.engine.formulation` is reformulated over
**columns**, each a hub and its members (:mod:`._master`): every practice in exactly
one chosen column, the number of columns within the group count. Columns are generated
by a knapsack per hub (:mod:`._knapsack`) at the master's duals.

How one node is solved (:func:`_node`):

1. **Column generation, stabilised** (Wentges smoothing): pricing at a point between
   the best duals so far (the stability centre) and the master's, falling back to the
   master's own duals when that finds nothing (a mis-price). Each pricing gives a
   **Lagrangian bound** :math:`L(u)` (family 1 relaxed, the hub choice within the group
   count), a proven bound for the node at every iteration, exact pricing or not: the
   node's bound never waits for convergence. The node ends when the bound meets the
   master's value (converged; with whole-number objectives, once both round up to the
   same whole number), when it reaches the cut-off of the best grouping (pruned), or at
   the deadline. The pool keeps its :data:`POOL_KEEP` cheapest columns once it passes
   :data:`POOL_MOST` (a pool of many thousand made every LP solve slower).
2. **Reduced-cost fixing** below the cut-off, at the best duals: hubs that no better
   grouping of the subtree opens are closed, hubs all of them open are forced, and arcs
   no better grouping uses are removed.
3. **Branching** that keeps the pricing a knapsack: on a hub opening (closed / forced
   open: its own practice joins no other hub) while a hub is fractional, then on a
   practice's hub (the item forced into the group / the arc removed). A node whose master
   is integral and proven (bound meets it) is a grouping; with a relaxed knapsack (units
   of *s* patients) an integral node that is not yet proven branches on one of its arcs.

Nodes are taken best bound first (deeper first on ties). Groupings come from the start
given (or the greedy of :mod:`.heuristics`), from integral nodes, from diving on the
master (:func:`_dive`, at the root and every :data:`DIVE_EVERY` nodes: the columns the LP
takes most of are fixed and columns generated again until the master is integral), and
from the restricted master solved as a MIP by HiGHS over the columns so far, now and then. The
bound reported is the least bound of the open nodes, never above the best grouping; with
whole-number objectives it is raised to the next whole number.

Applies where the MIP decomposes by hub: no maximum-travel term and no contiguity
(:func:`applies`). Must-link pairs join as one item, fixed assignments and forced hubs are
branching decisions at the root, cannot-link pairs are kept in the pricing
(:func:`._knapsack.hub_knapsack`).
"""

from __future__ import annotations

import heapq
import itertools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from mergeopt.engine.formulation import model_arrays
from mergeopt.engine.instance import (
    Instance,
    feasible,
    integral_objective,
    objective_value,
)
from mergeopt.engine.outcome import (
    PROVEN_GAP,
    Outcome,
    found,
    infeasible,
    no_grouping,
    round_bound,
)
from mergeopt.engine.solvers.highs import highs_from_arrays
from mergeopt.engine.strategies import _knapsack as kn
from mergeopt.engine.strategies import heuristics
from mergeopt.engine.strategies._master import Master

Vector = np.ndarray
#: Smoothing weight of the stability centre in Wentges' rule.
SMOOTHING = 0.5
#: Columns added per hub and pricing round (its best loads, distinct).
COLUMNS_PER_HUB = 2
#: Column-generation rounds per node before it branches anyway.
MAX_ROUNDS = 400
#: Relative distance between the master's value and the bound at which column generation
#: has converged (the LP solver's own tolerances are about this).
CONVERGED = 1e-7
#: Seconds between solves of the restricted master as a MIP, and the share of the time
#: left each may take.
MIP_EVERY, MIP_SHARE = 5.0, 0.2
#: Largest share of the time so far that primal heuristics may have taken.
HEURISTIC_SHARE = 0.15
#: Columns in the pool at which the worst are dropped, and how many are kept.
POOL_MOST, POOL_KEEP = 3000, 1500
#: Nodes between dives (:func:`_dive`) after the root's.
DIVE_EVERY = 20

OnIncumbent = Callable[[Vector, float], None]
OnBound = Callable[[float], None]


def applies(inst: Instance) -> bool:
    """No max-travel term, no contiguity, and knapsack tables that fit in memory."""
    if inst.weights[3] or inst.contiguous:
        return False
    ai, _ = inst.arcs()
    return len(ai) * kn.SCALED_WIDTH <= kn.MAX_TABLE


def preferred(inst: Instance) -> bool:
    """Whether this strategy should lead on ``inst`` rather than HiGHS on the compact MIP.

    The rule: it :func:`applies` and its knapsacks are exact (whole list sizes, every
    hub's window under :data:`._knapsack.EXACT_WIDTH` patients, as OR-Library's
    capacitated instances), so its root bound is the Dantzig-Wolfe bound and branching
    keeps it exact. With relaxed knapsacks (networks of 30,000-50,000 patients) its root
    was measured below HiGHS's own bound at 60 s (ICB QT1: 6.15 against 6.27 million,
    ``benchmarks/BOUNDS.md``): there HiGHS leads and this strategy is only a helper.
    """
    if not applies(inst):
        return False
    usable = inst.hubs_usable()
    if not usable.any() or not np.all(inst.size == np.round(inst.size)):
        return False
    room = np.minimum(inst.max_size[usable], inst.size.sum()) - inst.size[usable]
    return float(room.max()) <= kn.EXACT_WIDTH - 1


@dataclass(order=True)
class _Node:
    bound: float
    order: tuple[int, int]  # (-depth, sequence): deeper first on ties
    restriction: kn.Restriction = field(compare=False)
    centre: Vector | None = field(compare=False, default=None)


@dataclass
class _Search:
    """The state of one search: knapsacks, master, best grouping, callbacks."""

    inst: Instance
    ks: kn.Knapsacks
    master: Master
    count: tuple[int, int]
    deadline: float
    integral: bool
    gap: float
    on_incumbent: OnIncumbent | None
    on_bound: OnBound | None
    best: Vector | None = None
    value: float = math.inf
    nodes: int = 0
    last_mip: float = 0.0
    last_dive: int = 0
    supports: set[bytes] = field(default_factory=set)
    began: float = field(default_factory=time.time)
    heuristic_seconds: float = 0.0

    def heuristic_turn(self) -> bool:
        """Whether a primal heuristic may run now: they take at most
        :data:`HEURISTIC_SHARE` of the time so far (the first always runs)."""
        spent = time.time() - self.began
        return self.heuristic_seconds <= HEURISTIC_SHARE * spent and self.left() > 0.2

    def left(self) -> float:
        return self.deadline - time.time()

    def dive_turn(self) -> bool:
        """Whether to dive from this node: at the root, then every :data:`DIVE_EVERY`
        nodes while primal heuristics have their share of the time."""
        due = self.nodes == 0 or self.nodes - self.last_dive >= DIVE_EVERY
        if due and self.heuristic_turn():
            self.last_dive = self.nodes
            return True
        return False

    def cutoff(self) -> float:
        """Nodes bounded at or above this hold no grouping better than the best."""
        if not math.isfinite(self.value):
            return math.inf
        if self.integral:
            return self.value - 1.0 + 1e-6
        return self.value - self.gap * max(1.0, abs(self.value))

    def offer(self, hub_of: Vector | None) -> bool:
        """Keep ``hub_of`` if it keeps every rule and beats the best; add its columns."""
        if hub_of is None or not feasible(self.inst, hub_of):
            return False
        value = objective_value(self.inst, hub_of)
        for j in np.unique(hub_of).tolist():
            h = int(self.ks.hub_of_practice[j])
            group = np.flatnonzero(hub_of == j)
            items = np.unique(self.ks.item_of[group])
            items = items[items != self.ks.hub_item[h]]
            self.master.add(h, items, None)
        if value < self.value - 1e-9 * max(1.0, abs(value)):
            self.best, self.value = hub_of.copy(), value
            if self.on_incumbent is not None:
                self.on_incumbent(hub_of.copy(), value)
            return True
        return False

    def grouping(self, columns: Vector) -> Vector:
        hub_of = np.full(self.inst.n, -1, dtype=np.int64)
        for c in columns.tolist():
            h = self.master.hub[c]
            practices = [self.ks.items[int(self.ks.hub_item[h])]]
            practices += [self.ks.items[k] for k in self.master.items[c].tolist()]
            hub_of[np.concatenate(practices)] = self.ks.hubs[h]
        return hub_of


def solve(
    inst: Instance,
    *,
    deadline: float,
    start: Vector | None = None,
    on_incumbent: OnIncumbent | None = None,
    on_bound: OnBound | None = None,
    gap: float = PROVEN_GAP,
) -> Outcome:
    """Branch-and-price on ``inst`` until proven or ``deadline`` (``time.time()`` seconds).

    Parameters
    ----------
    inst : the instance; needs :func:`applies`
    deadline : wall-clock time (as ``time.time()``) by which it returns
    start : a grouping to begin from (positions of hubs); the greedy's if None
    on_incumbent : called with each better grouping and its objective, as found
    on_bound : called with each better proven lower bound, as proven
    gap : relative gap at which a grouping counts as proven

    Returns
    -------
    Outcome
        The best grouping and the best proven bound (the least bound of the open nodes).
    """
    if not applies(inst):
        raise ValueError("branch-and-price needs no max-travel term and no contiguity")
    ks = kn.build(inst)
    count = _count_range(inst, ks)
    search = _Search(
        inst=inst,
        ks=ks,
        master=Master(ks, count, _big(inst, ks)),
        count=count,
        deadline=deadline,
        integral=integral_objective(inst),
        gap=gap,
        on_incumbent=on_incumbent,
        on_bound=on_bound,
    )
    search.offer(start)
    if search.best is None and search.left() > 0:
        search.offer(heuristics.construct(inst))
    root = _root_restriction(inst, ks)
    if root is None or count[0] > count[1] or ks.num_hubs == 0:
        return _outcome(search, math.inf, finished=True, note="a rule no grouping meets")
    return _tree(search, root)


def _count_range(inst: Instance, ks: kn.Knapsacks) -> tuple[int, int]:
    """Group-count bounds, with those every grouping meets where the instance has none."""
    total = float(inst.size.sum())
    low = inst.count_min if inst.count_min is not None else 0
    high = inst.count_max if inst.count_max is not None else ks.num_hubs
    if len(ks.cap):
        low = max(low, math.ceil(total / float(ks.cap.max()) - 1e-9))
    if inst.min_size > 0:  # practices that stand alone are groups below the minimum
        alone = inst.standing_alone()
        rest = total - float(inst.size[alone].sum())
        high = min(high, math.floor(rest / inst.min_size + 1e-9) + int(alone.sum()))
    return int(low), int(high)


def _big(inst: Instance, ks: kn.Knapsacks) -> float:
    """A price for an artificial column above what any grouping costs."""
    costs = np.concatenate([ks.arc_cost, ks.hub_cost])
    top = float(np.abs(costs[np.isfinite(costs)]).max(initial=1.0))
    return 10.0 * (inst.n * top + 1.0)


def _root_restriction(inst: Instance, ks: kn.Knapsacks) -> kn.Restriction | None:
    """Forced hubs and fixed assignments as decisions of the root; None if one cannot hold."""
    r = kn.Restriction.none(ks)
    for j in np.flatnonzero(inst.must_hub).tolist():
        h = int(ks.hub_of_practice[j])
        if h < 0:
            return None
        kn.open_hub(ks, r, h)
    for a, b in inst.fixed:
        h = int(ks.hub_of_practice[b])
        if h < 0:
            return None
        ka = int(ks.item_of[a])
        if ka == ks.hub_item[h]:
            kn.open_hub(ks, r, h)
            continue
        arcs = ks.by_item[ka][ks.arc_hub[ks.by_item[ka]] == h]
        if len(arcs) == 0:
            return None
        kn.force_arc(ks, r, int(arcs[0]))
    return r


# ---------------------------------------------------------------------------------------
# The tree


def _tree(search: _Search, root: kn.Restriction) -> Outcome:
    sequence = itertools.count()
    heap: list[_Node] = [_Node(-math.inf, (0, next(sequence)), root)]
    stuck: list[float] = []  # nodes that could not be settled (relaxed pricing): bounds
    best_bound = -math.inf
    note = "tree searched"
    while heap:
        bound_now = min([heap[0].bound, *stuck])
        shared = min(_rounded(search, bound_now), search.value)
        if shared > best_bound:  # each better bound once (rounded, as it is shared)
            best_bound = shared
            if search.on_bound is not None:
                search.on_bound(shared)
        if search.left() <= 0:
            return _outcome(search, bound_now, finished=False, note="time limit reached")
        node = heapq.heappop(heap)
        if node.bound >= search.cutoff():
            continue
        result = _node(search, node)
        search.nodes += 1
        _maybe_mip(search)
        if result is None:
            continue  # settled: pruned, infeasible or solved
        if isinstance(result, float):  # cut short by the deadline, or stuck
            if search.left() <= 0:
                heapq.heappush(heap, _Node(result, node.order, node.restriction))
                bound_now = min([heap[0].bound, *stuck])
                return _outcome(search, bound_now, finished=False, note="time limit reached")
            stuck.append(result)
            note = "tree searched; some nodes unsettled (relaxed knapsack)"
            continue
        depth = -node.order[0] + 1
        for child in result:
            heapq.heappush(
                heap, _Node(child.bound, (-depth, next(sequence)), child.restriction, child.centre)
            )
    if stuck:
        return _outcome(search, min(stuck), finished=False, note=note)
    return _outcome(search, math.inf, finished=True, note=note)


def _rounded(search: _Search, bound: float) -> float:
    return round_bound(bound, search.integral)


def _outcome(search: _Search, bound: float, *, finished: bool, note: str) -> Outcome:
    """The engine's outcome: the best grouping under the least bound of the open nodes
    (its value when the tree is searched through); the node count in its words."""
    label = f"branch-and-price, {search.nodes} node{'s' if search.nodes != 1 else ''}: {note}"
    if search.best is None:
        if finished:
            return infeasible(label)
        return no_grouping(_rounded(search, bound) if math.isfinite(bound) else None, label)
    value = search.value
    proven = value if finished else min(_rounded(search, bound), value)
    return replace(found(search.best.copy(), value, proven, label), solver="branch-and-price")


def _maybe_mip(search: _Search) -> None:
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
        start = _columns_of(search, search.best)
    chosen = master.integer(limit, start, search.value)
    master.upper[:] = saved
    if chosen is not None:
        search.offer(search.grouping(chosen))
    search.last_mip = time.time()
    search.heuristic_seconds += search.last_mip - now


def _columns_of(search: _Search, hub_of: Vector) -> Vector | None:
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


# ---------------------------------------------------------------------------------------
# One node


@dataclass
class _Child:
    bound: float
    restriction: kn.Restriction
    centre: Vector | None


def _node(search: _Search, node: _Node) -> list[_Child] | float | None:
    """Column generation at one node, then fixing and branching.

    Returns None if the node is settled (pruned, infeasible, or its grouping found), its
    bound if it was cut short by the deadline or cannot be settled, else its children.
    """
    r = node.restriction
    if search.master.size > POOL_MOST:
        search.master.purge(POOL_KEEP)
        if search.best is not None:
            search.offer(search.best)  # the best grouping's columns, for the MIP's start
    search.master.restrict(r)
    cg = _generate(search, r, node.bound, node.centre)
    if cg is None or isinstance(cg, float):
        return cg
    if search.left() <= 0:
        return cg.bound
    if search.dive_turn():
        _dive(search, r, cg)
        search.master.restrict(r)
    looks = _looks(search, r, cg.priced)
    if _fix(search, r, looks) and _uses_removed(search, r, cg.lam):
        return [_Child(cg.bound, r, cg.centre)]  # fixing took part of the LP's solution
    return _branch(search, r, cg, looks)


@dataclass(frozen=True)
class _Generated:
    """A node's column generation: its bound, the duals that gave it (the centre) and
    their pricing, the master's last solution and artificial total, and whether the
    bound met the master's value."""

    bound: float
    centre: Vector
    priced: kn.Priced
    lam: Vector
    art: float
    converged: bool


def _generate(
    search: _Search, r: kn.Restriction, bound: float, centre: Vector | None
) -> _Generated | float | None:
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
        if _met(search, bound, z):
            return _Generated(bound, best.u, best, lam, art, True)
        if _add_columns(search, r, priced, u_m, sigma):
            alpha = SMOOTHING
        elif alpha > 0:
            alpha = 0.0  # a mis-price: the master's own duals next
        else:
            break  # nothing prices out at the master's duals: a relaxed knapsack's limit
    if best is None:
        return bound
    return _Generated(bound, best.u, best, lam, art, False)


def _dive(search: _Search, r: kn.Restriction, cg: _Generated) -> None:
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
        new = [c for c in used.tolist() if not _fixed_column(ks, r, master, c)]
        if not new:
            break  # artificials only beside fixed columns: nothing to fix
        whole = [c for c in new if lam[c] > 1 - 1e-6]
        for c in whole or [max(new, key=lambda c: float(lam[c]))]:
            kn.open_hub(ks, r, master.hub[c])
            for arc in master.arcs[c].tolist():
                kn.force_arc(ks, r, int(arc))
        master.restrict(r)
        cg_next = _generate(search, r, cg.bound, cg.centre)
        if not isinstance(cg_next, _Generated):
            break  # infeasible, or nothing better than the best below, or the deadline
        lam, art = cg_next.lam, cg_next.art
    search.heuristic_seconds += time.time() - began


def _fixed_column(ks: kn.Knapsacks, r: kn.Restriction, master: Master, c: int) -> bool:
    """Whether column ``c``'s hub is forced open with every member forced in."""
    return bool(r.hub_open[master.hub[c]] and r.arc_forced[master.arcs[c]].all())


def _met(search: _Search, bound: float, z: float) -> bool:
    """Whether the node's bound has met the restricted master's value ``z``: within the
    LP's tolerance, or, with whole-number objectives, rounded up to the same whole number
    (the node's LP value lies between them, so more columns cannot raise its bound)."""
    if bound >= z - CONVERGED * max(1.0, abs(z)):
        return True
    return search.integral and math.ceil(bound - 1e-6) >= math.ceil(z - 1e-6)


@dataclass(frozen=True)
class _Looks:
    """Proven bounds of the children a node might have, at its best duals: each hub
    forced open or closed, each arc's item forced in."""

    if_open: Vector
    if_closed: Vector
    if_forced: Vector


def _looks(search: _Search, r: kn.Restriction, p: kn.Priced) -> _Looks:
    choice = kn.choose(p.value, r.hub_open, search.count)
    total_u = float(p.u.sum())
    forced = kn.arc_bounds(search.ks, r, p, choice)
    return _Looks(total_u + choice.if_open, total_u + choice.if_closed, forced)


def _fix(search: _Search, r: kn.Restriction, looks: _Looks) -> bool:
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


def _uses_removed(search: _Search, r: kn.Restriction, lam: Vector) -> bool:
    """Whether the LP's solution uses a column the node's decisions now forbid."""
    used = np.flatnonzero(lam > 1e-9)
    if len(used) == 0:
        return False
    hub = np.asarray(search.master.hub, dtype=np.int64)[used]
    arcs_off = np.asarray(search.master.incidence()[used] @ r.arc_off.astype(float)) > 0.5
    return bool(r.hub_closed[hub].any() or arcs_off.any())


def _branch(
    search: _Search, r: kn.Restriction, cg: _Generated, looks: _Looks
) -> list[_Child] | float | None:
    """Children of a node after column generation (or None / its bound, see :func:`_node`).

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
    _support_heuristic(search, y)
    if frac_y.max(initial=0) >= 1e-6:
        worse = np.minimum(looks.if_open, looks.if_closed)
        score = np.where(frac_y >= 1e-6, worse + 1e-9 * frac_y, -np.inf)
        h = int(np.argmax(score))
        closed, opened = r.copy(), r.copy()
        kn.close_hub(ks, closed, h)
        kn.open_hub(ks, opened, h)
        return [
            _Child(max(bound, float(looks.if_closed[h])), closed, centre),
            _Child(max(bound, float(looks.if_open[h])), opened, centre),
        ]
    if frac_x.max(initial=0) >= 1e-6:
        score = np.where(frac_x >= 1e-6, np.minimum(looks.if_forced, bound) + frac_x, -np.inf)
        return _arc_children(ks, r, int(np.argmax(score)), bound, centre, looks)
    if art >= 1e-6 and cg.converged:
        return None  # only artificials cover some practice: no grouping at this node
    # integral, not proven (relaxed pricing): branch on an arc of its grouping
    free = np.flatnonzero((x > 0.5) & ~r.arc_forced)
    if len(free) == 0:
        return bound
    return _arc_children(ks, r, int(free[0]), bound, centre, looks)


def _arc_children(
    ks: kn.Knapsacks, r: kn.Restriction, arc: int, bound: float, centre: Vector, looks: _Looks
) -> list[_Child]:
    off, forced = r.copy(), r.copy()
    off.arc_off[arc] = True
    kn.force_arc(ks, forced, arc)
    return [
        _Child(bound, off, centre),
        _Child(max(bound, float(looks.if_forced[arc])), forced, centre),
    ]


def _add_columns(
    search: _Search, r: kn.Restriction, p: kn.Priced, u_m: Vector, sigma: float
) -> int:
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
            if not master.feasible(h, items):
                repaired = _repair(search, r, h, items, item_u)
                if repaired is None:
                    continue
                items = repaired
            cost = master.column_cost(h, items)
            rc = cost - item_u[ks.hub_item[h]] - item_u[items].sum() - sigma
            if rc < -CONVERGED * max(1.0, abs(cost)) and master.add(h, items, r) is not None:
                added += 1
    return added


def _repair(
    search: _Search, r: kn.Restriction, h: int, items: Vector, item_u: Vector
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


#: Seconds one restricted MIP over a node's hubs may take (see :func:`_support_heuristic`).
SUPPORT_SECONDS = 1.0


def _support_heuristic(search: _Search, y: Vector) -> None:
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
