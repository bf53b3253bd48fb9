"""The branch-and-price tree: where it applies, the search from the root, one node."""

from __future__ import annotations

import heapq
import itertools
import math
from dataclasses import dataclass, field, replace

import numpy as np

from mergeopt.engine.instance import Instance, integral_objective
from mergeopt.engine.outcome import (
    PROVEN_GAP,
    Outcome,
    found,
    infeasible,
    no_grouping,
    round_bound,
)
from mergeopt.engine.strategies import heuristics
from mergeopt.engine.strategies.branch_price import branching, colgen, primal
from mergeopt.engine.strategies.branch_price import knapsack as kn
from mergeopt.engine.strategies.branch_price.master import Master
from mergeopt.engine.strategies.branch_price.search import (
    OnBound,
    OnIncumbent,
    Search,
    Vector,
)

#: Columns in the pool at which the worst are dropped, and how many are kept.
POOL_MOST, POOL_KEEP = 3000, 1500


def applies(inst: Instance) -> bool:
    """No max-travel term, no contiguity, and knapsack tables that fit in memory."""
    if inst.weights[3] or inst.contiguous:
        return False
    ai, _ = inst.arcs()
    return len(ai) * kn.SCALED_WIDTH <= kn.MAX_TABLE


def preferred(inst: Instance) -> bool:
    """Whether this strategy should lead on ``inst`` rather than HiGHS on the compact MIP.

    The rule: it :func:`applies` and its knapsacks are exact (whole list sizes, every
    hub's window under :data:`.knapsack.EXACT_WIDTH` patients, as OR-Library's
    capacitated instances), so its root bound is the Dantzig-Wolfe bound and branching
    keeps it exact. With relaxed knapsacks (networks of 30,000-50,000 patients) its root
    was measured below HiGHS's own bound at 60 s (ICB QT1: 6.15 against 6.27 million,
    ``benchmarks/BOUNDS.md``): there HiGHS leads and this strategy is only a helper.

    The alternative, lifted knapsack-cover cuts on the capacity rows added to HiGHS's
    model (:mod:`mergeopt.engine.cuts`), was measured and is chosen nowhere: on pmedcap1
    #8, #12, #14 and #20 at 30 s (``benchmarks/BNP_CUTS.md``) HiGHS with the cuts proved
    only #12, as HiGHS alone did, its bounds no higher (783, 971, 971 against 795, 975,
    970), where this strategy proved #12 and #14 and reached 807 and 985 on #8 and #20
    (``benchmarks/BNP_PMEDCAP.md``); on networks (ICBs QT1, QOP) the LP relaxation breaks
    no cover, so there are no cuts to add.
    """
    if not applies(inst):
        return False
    usable = inst.hubs_usable()
    if not usable.any() or not np.all(inst.size == np.round(inst.size)):
        return False
    room = np.minimum(inst.max_size[usable], inst.size.sum()) - inst.size[usable]
    return float(room.max()) <= kn.EXACT_WIDTH - 1


@dataclass(order=True)
class Node:
    bound: float
    order: tuple[int, int]  # (-depth, sequence): deeper first on ties
    restriction: kn.Restriction = field(compare=False)
    centre: Vector | None = field(compare=False, default=None)


def solve(
    inst: Instance,
    *,
    deadline: float,
    start: Vector | None = None,
    on_incumbent: OnIncumbent | None = None,
    on_bound: OnBound | None = None,
    on_root: OnBound | None = None,
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
    on_root : called once with the root's bound (rounded as it is shared) when the root's
        column generation and its dive have ended with the root still open (not if the
        root settles the search or the deadline cuts it short): with the best grouping
        the search then holds, how far the search has to go
    gap : relative gap at which a grouping counts as proven

    Returns
    -------
    Outcome
        The best grouping and the best proven bound (the least bound of the open nodes).
    """
    search = _search(
        inst, deadline, gap=gap, on_incumbent=on_incumbent, on_bound=on_bound, on_root=on_root
    )
    ks, count = search.ks, search.count
    search.offer(start)
    if search.best is None and search.left() > 0:
        search.offer(heuristics.construct(inst))
    root = root_restriction(inst, ks)
    if root is None or count[0] > count[1] or ks.num_hubs == 0:
        return _outcome(search, math.inf, finished=True, note="a rule no grouping meets")
    return _tree(search, root)


def root_bound(inst: Instance, *, deadline: float) -> float:
    """The root's bound: column generation with no branching, no fixing and no grouping
    to cut it off. Where it converges (exact knapsacks, in time) that is the
    Dantzig-Wolfe bound, the LP value of the master over every column (with whole-number
    objectives, once rounded up to the next whole number); ``inf`` if no grouping keeps the
    root's rules, the bound so far if ``deadline`` cut it short."""
    search = _search(inst, deadline, gap=PROVEN_GAP, on_incumbent=None, on_bound=None)
    root = root_restriction(inst, search.ks)
    if root is None or search.count[0] > search.count[1] or search.ks.num_hubs == 0:
        return math.inf
    search.master.restrict(root)
    cg = colgen.generate(search, root, -math.inf, None)
    if cg is None:
        return math.inf
    if isinstance(cg, float):
        return cg
    if cg.converged and cg.art >= 1e-6:
        return math.inf  # only artificials cover some practice: the LP has no solution
    return cg.bound


def _search(
    inst: Instance,
    deadline: float,
    *,
    gap: float,
    on_incumbent: OnIncumbent | None,
    on_bound: OnBound | None,
    on_root: OnBound | None = None,
) -> Search:
    """A search on ``inst``: its knapsacks, an empty master, its group-count range."""
    if not applies(inst):
        raise ValueError("branch-and-price needs no max-travel term and no contiguity")
    ks = kn.build(inst)
    count = count_range(inst, ks)
    return Search(
        inst=inst,
        ks=ks,
        master=Master(ks, count, big_price(inst, ks)),
        count=count,
        deadline=deadline,
        integral=integral_objective(inst),
        gap=gap,
        on_incumbent=on_incumbent,
        on_bound=on_bound,
        on_root=on_root,
    )


def count_range(inst: Instance, ks: kn.Knapsacks) -> tuple[int, int]:
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


def big_price(inst: Instance, ks: kn.Knapsacks) -> float:
    """A price for an artificial column above what any grouping costs."""
    costs = np.concatenate([ks.arc_cost, ks.hub_cost])
    top = float(np.abs(costs[np.isfinite(costs)]).max(initial=1.0))
    return 10.0 * (inst.n * top + 1.0)


def root_restriction(inst: Instance, ks: kn.Knapsacks) -> kn.Restriction | None:
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


def _tree(search: Search, root: kn.Restriction) -> Outcome:
    sequence = itertools.count()
    heap: list[Node] = [Node(-math.inf, (0, next(sequence)), root)]
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
        primal.maybe_mip(search)
        if result is None:
            continue  # settled: pruned, infeasible or solved
        if isinstance(result, float):  # cut short by the deadline, or stuck
            if search.left() <= 0:
                heapq.heappush(heap, Node(result, node.order, node.restriction))
                bound_now = min([heap[0].bound, *stuck])
                return _outcome(search, bound_now, finished=False, note="time limit reached")
            stuck.append(result)
            note = "tree searched; some nodes unsettled (relaxed knapsack)"
            continue
        depth = -node.order[0] + 1
        for child in result:
            heapq.heappush(
                heap, Node(child.bound, (-depth, next(sequence)), child.restriction, child.centre)
            )
    if stuck:
        return _outcome(search, min(stuck), finished=False, note=note)
    return _outcome(search, math.inf, finished=True, note=note)


def _rounded(search: Search, bound: float) -> float:
    """``bound`` as reported: rounded up with whole-number objectives, and never below the
    trivial bound (0 where no cost is negative: an early Lagrangian bound, priced against
    the artificial columns, may lie far below it)."""
    return max(round_bound(bound, search.integral), search.floor)


def _outcome(search: Search, bound: float, *, finished: bool, note: str) -> Outcome:
    """The engine's outcome: the best grouping under the least bound of the open nodes
    (its value when the tree is searched through); the node count in its words."""
    label = f"branch-and-price, {search.nodes} node{'s' if search.nodes != 1 else ''}: {note}"
    if search.best is None:
        if finished:
            return infeasible(label)
        reported = _rounded(search, bound)
        return no_grouping(reported if math.isfinite(reported) else None, label)
    value = search.value
    proven = value if finished else min(_rounded(search, bound), value)
    return replace(found(search.best.copy(), value, proven, label), solver="branch-and-price")


def _node(search: Search, node: Node) -> list[branching.Child] | float | None:
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
    cg = colgen.generate(search, r, node.bound, node.centre)
    if cg is None or isinstance(cg, float):
        return cg
    if search.left() <= 0:
        return cg.bound
    if search.dive_turn():
        primal.dive(search, r, cg)
        search.master.restrict(r)
    if search.nodes == 0 and search.on_root is not None:
        search.on_root(_rounded(search, cg.bound))
    looks = branching.child_bounds(search, r, cg.priced)
    if branching.fix(search, r, looks) and branching.uses_removed(search, r, cg.lam):
        return [branching.Child(cg.bound, r, cg.centre)]  # fixing took part of the LP's solution
    return branching.branch(search, r, cg, looks)
