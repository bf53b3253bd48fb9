r"""Branch-and-bound over hubs for uncapacitated groupings (the p-median), on Lagrangian
bounds.

Without list-size bounds each practice simply joins its cheapest open hub, so a grouping
is its set of hubs. The Lagrangian relaxation of
:mod:`mergeopt.engine.strategies.lagrangian` (family 1 relaxed) is then cheap: hub *j*
is worth :math:`v_j(u) = \gamma + c_{jj} - u_j + \sum_{i \ne j} \min(0, c_{ij} - u_i)`,
with no knapsack, and :math:`L(u) = \sum_i u_i +`
the cheapest hubs within the group count. On OR-Library's pmed instances its best value
is the LP bound, a fraction of a per cent below the optimum (pmed6: 7,783 against 7,824),
and HiGHS spends its time in cut rounds on that last fraction (29 s on pmed6 after every
reduction). Branching on hubs closes it in a few nodes:

- a node opens some hubs and closes others; its bound is :math:`\max_u L(u)` under those
  choices, by subgradient steps that start from the parent's multipliers;
- in each node, a hub whose opening (closing) lifts the bound to the cut-off is closed
  (opened) for the node's whole subtree;
- the hubs of the node's best relaxation, each practice at its cheapest, are a grouping:
  it improves the incumbent when cheaper;
- a node is pruned once its bound reaches the cut-off (the incumbent, less one for a
  whole-number objective); nodes are taken best bound first, and the node whose hubs
  are all decided is solved outright;
- the branching hub is the undecided one the relaxation opened most often over the
  node's steps (on pmed6 and pmed16 this took 263 and 353 nodes; the one opened closest
  to half the time, 239 and 513; the one opened least often, 397 and more than 325).

The smallest bound of the nodes still open is a proven lower bound at any moment, so a
search stopped by its deadline still reports a true gap.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from mergeopt.engine.instance import (
    Instance,
    Vector,
    arc_costs,
    count_range,
    feasible,
    integral_objective,
    objective_value,
    uncapacitated,
)
from mergeopt.engine.options import Progress
from mergeopt.engine.outcome import Outcome, found, gap, infeasible, no_grouping, round_bound
from mergeopt.engine.strategies.lagrangian import Knapsacks, choice_value, chosen_hubs, knapsacks

#: Subgradient steps at the root and at every other node.
ROOT_STEPS, NODE_STEPS = 400, 150
#: Seconds between two reports of where the search stands (to a progress hook).
REPORT_SECONDS = 0.2


@dataclass(frozen=True)
class HubSearch:
    """The outcome: the best grouping found (positions; None if none), the proven lower
    bound, whether the search finished (then ``bound`` equals the grouping's value up to
    the cut-off), how many nodes it took and the seconds spent building its arrays (the
    model: arcs, costs and the hub lists)."""

    hub_of: Vector | None
    bound: float
    finished: bool
    nodes: int
    build_seconds: float = 0.0


@dataclass(frozen=True)
class _Node:
    must: Vector  # (hubs,) bool: opened in this subtree
    banned: Vector  # (hubs,) bool: closed in this subtree
    u: Vector
    step: float
    share: Vector | None = None  # (hubs,) how often each hub was in the relaxation's set


def hub_search_applies(inst: Instance) -> bool:
    """Uncapacitated (no knapsack tables), no max-travel term and no rule beyond forced hubs
    and the group count."""
    return uncapacitated(inst) and bool(inst.hubs_usable().any())


def hub_search(
    inst: Instance,
    start: Vector | None,
    *,
    deadline: float,
    integral: bool = False,
    progress: Callable[[Progress], None] | None = None,
) -> HubSearch:
    """Best-first branch-and-bound over hubs from the grouping ``start`` (or None).

    Stops when no node is left (then the best grouping is optimal) or at ``deadline``
    (``time.perf_counter()``), returning the best grouping and the smallest bound of
    the nodes left. Needs :func:`hub_search_applies`. ``progress`` hears the best
    grouping's value and the smallest bound of the nodes left as the search goes (at
    most every :data:`REPORT_SECONDS`).
    """
    began = time.perf_counter()
    search = _Search(inst, start, integral)
    build = time.perf_counter() - began
    hubs = len(search.ks.hubs)
    nearest = np.full(inst.n, np.inf)
    np.minimum.at(nearest, search.ks.ai, search.ks.coef)
    u = np.where(np.isfinite(nearest), nearest, 0.0)
    root = _Node(inst.must_hub[search.ks.hubs].copy(), np.zeros(hubs, dtype=bool), u, 2.0)
    queue: list[tuple[float, int, _Node]] = [(-np.inf, 0, root)]
    count, nodes = 0, 0
    reported = -np.inf
    while queue and (nodes == 0 or time.perf_counter() < deadline):
        parent_bound, _, child = heapq.heappop(queue)
        if parent_bound >= search.cut:
            continue
        bound, node = search.process(child, ROOT_STEPS if nodes == 0 else NODE_STEPS)
        nodes += 1
        if node is not None:
            for grandchild in search.branch(node):
                count += 1
                heapq.heappush(queue, (bound, count, grandchild))
        if progress is not None and time.perf_counter() - reported >= REPORT_SECONDS:
            reported = time.perf_counter()
            progress(_where(search, queue, reported - began))
    if progress is not None:
        progress(_where(search, queue, time.perf_counter() - began))
    live = [b for b, _, _ in queue if b < search.cut]
    value = search.value
    if not live:
        lower = value if np.isfinite(value) else np.inf
        return HubSearch(search.best, float(lower), True, nodes, build)
    return HubSearch(search.best, float(min(live)), False, nodes, build)


def _where(search: _Search, queue: list[tuple[float, int, _Node]], elapsed: float) -> Progress:
    """Where the search stands: the best grouping's value and the smallest bound of the
    nodes left (nodes cut off are bounded by the best value, so it bounds them too)."""
    value = float(search.value) if np.isfinite(search.value) else None
    low = queue[0][0] if queue else np.inf
    if value is not None:
        low = min(low, value)
    bound = float(round_bound(low, search.integral)) if np.isfinite(low) else None
    if bound is not None and value is not None:
        bound = min(bound, value)
    relative = gap(value, bound) if value is not None and bound is not None else None
    return Progress(elapsed, value, bound, relative)


def run_hub_search(
    inst: Instance,
    start: np.ndarray | None,
    deadline: float,
    *,
    progress: Callable[[Progress], None] | None = None,
) -> Outcome:
    """The branch-and-bound over hubs as a strategy: its grouping, its bound (rounded up
    with a whole-number objective), the status they prove, and the seconds spent
    building its arrays. ``progress`` hears where the search stands as it goes."""
    integral = integral_objective(inst)
    search = hub_search(inst, start, deadline=deadline, integral=integral, progress=progress)
    build = search.build_seconds
    note = f"hub search, {search.nodes} node{'s' if search.nodes != 1 else ''}"
    bound = round_bound(search.bound, integral) if np.isfinite(search.bound) else None
    if search.hub_of is None:
        if search.finished:
            return infeasible(f"{note}: no set of hubs meets every rule", build_seconds=build)
        return no_grouping(bound, f"{note}: time limit reached", build_seconds=build)
    value = objective_value(inst, search.hub_of)
    if search.finished:
        return found(search.hub_of, value, value, f"{note}: optimal", build_seconds=build)
    bound = value if bound is None else min(bound, value)
    return found(search.hub_of, value, bound, f"{note}: time limit reached", build_seconds=build)


@dataclass(frozen=True)
class _Arcs:
    """A node's member arcs: practice, hub (index into ks.hubs) and objective."""

    ai: Vector
    col: Vector
    coef: Vector


class _Search:
    """The instance's arcs as one vector, the incumbent and the cut-off."""

    def __init__(self, inst: Instance, start: Vector | None, integral: bool) -> None:
        self.inst = inst
        self.ks: Knapsacks = knapsacks(inst)
        self.integral = integral
        self.best: Vector | None = None
        self.value = np.inf
        self.cut = np.inf
        self.offered: set[bytes] = set()
        self.low, self.high = count_range(inst, len(self.ks.hubs))
        self.coef = arc_costs(inst)
        if start is not None:
            self.offer(start)

    def offer(self, hub_of: Vector) -> None:
        value = objective_value(self.inst, hub_of)
        if value < self.value and feasible(self.inst, hub_of):
            self.best, self.value = hub_of.copy(), value
            scale = max(1.0, abs(value))
            self.cut = value - 1 + 1e-6 if self.integral else value - 1e-9 * scale

    def offer_hubs(self, chosen: Vector) -> None:
        """The grouping of hubs ``chosen`` (positions into ks.hubs), if every practice
        reaches one of them."""
        hubs = self.ks.hubs[chosen]
        key = hubs.tobytes()
        if len(hubs) == 0 or key in self.offered:
            return
        self.offered.add(key)
        costs = self.coef[:, hubs]
        hub_of = hubs[np.argmin(costs, axis=1)]
        hub_of[hubs] = hubs
        if np.isfinite(self.coef[np.arange(self.inst.n), hub_of]).all():
            self.offer(np.asarray(hub_of, dtype=np.int64))

    def evaluate(
        self, node_inst: Instance, u: Vector, banned: Vector, arcs: _Arcs
    ) -> tuple[float, Vector, Vector, Vector]:
        """L(u) in the node, the hub values v_j(u) (inf where closed), the hubs chosen and
        which of ``arcs`` have a negative reduced cost."""
        ks = self.ks
        reduced = arcs.coef - u[arcs.ai]
        use = reduced < 0
        gain = np.bincount(arcs.col[use], weights=reduced[use], minlength=len(ks.hubs))
        hub_value = self.inst.weights[2] + ks.self_cost - u[ks.hubs] + gain
        hub_value[banned] = np.inf
        chosen = chosen_hubs(node_inst, ks.hubs, hub_value)
        picked = hub_value[chosen]
        if not self.low <= len(picked) <= self.high or not np.isfinite(picked).all():
            return np.inf, hub_value, chosen, use  # the node's decisions admit no hub set
        return float(u.sum() + picked.sum()), hub_value, chosen, use

    def gradient(self, chosen: Vector, use: Vector, arcs: _Arcs) -> Vector:
        """1 - (groups each practice joins) in the relaxation's solution."""
        members = np.bincount(arcs.ai[use & chosen[arcs.col]], minlength=self.inst.n)
        members = members.astype(float)
        members[self.ks.hubs[chosen]] += 1
        return 1.0 - members

    def process(self, node: _Node, steps: int) -> tuple[float, _Node | None]:
        """The node's bound after subgradient steps and fixing; None if it is pruned."""
        ks = self.ks
        must_all = np.zeros(self.inst.n, dtype=bool)
        must_all[ks.hubs[node.must]] = True
        node_inst = replace(self.inst, must_hub=must_all)
        u, step, stale = node.u.copy(), node.step, 0
        best, best_u, best_value = -np.inf, u, np.zeros(len(ks.hubs))
        presence = np.zeros(len(ks.hubs))
        live = np.flatnonzero(ks.member & ~node.banned[ks.col])  # arcs that can count
        arcs = _Arcs(ks.ai[live], ks.col[live], ks.coef[live])
        for _ in range(steps):
            value, hub_value, chosen, use = self.evaluate(node_inst, u, node.banned, arcs)
            if not np.isfinite(value):
                return value, None  # no choice of hubs meets the node's decisions
            gradient = self.gradient(chosen, use, arcs)
            presence += chosen
            if value > best + 1e-9:
                best, best_u, best_value, stale = value, u.copy(), hub_value, 0
                self.offer_hubs(chosen)
            else:
                stale += 1
                if stale >= 8:
                    step, stale = step / 2, 0
            norm = float((gradient**2).sum())
            if norm == 0:  # every practice in one group: the relaxation's hubs are optimal here
                self.offer_hubs(chosen)
            if best >= self.cut or step < 1e-5 or norm == 0:
                break
            target = self.value if np.isfinite(self.value) else best + 0.1 * abs(best) + 1
            u = u + step * (target - value) / norm * gradient
        if best >= self.cut:
            return best, None
        fixed = self._fix(node_inst, node, best_u, best_value)
        if fixed is None:
            return np.inf, None
        must, banned = fixed
        share = presence / max(float(presence.max()), 1.0)
        return best, _Node(must, banned, best_u, max(step, 0.05), share)

    def branch(self, node: _Node) -> list[_Node]:
        """Two children on one undecided hub (opened, closed); none if all are decided."""
        free = np.flatnonzero(~node.must & ~node.banned)
        if len(free) == 0 or int(node.must.sum()) >= self.high:
            self.offer_hubs(node.must)  # the node's only hub set
            return []
        share = node.share if node.share is not None else np.zeros(len(self.ks.hubs))
        h = int(free[np.argmax(share[free])])
        opened, closed = node.must.copy(), node.banned.copy()
        opened[h], closed[h] = True, True
        return [
            _Node(opened, node.banned, node.u, node.step),
            _Node(node.must, closed, node.u, node.step),
        ]

    def _fix(
        self, node_inst: Instance, node: _Node, u: Vector, hub_value: Vector
    ) -> tuple[Vector, Vector] | None:
        """Hubs the node's bound opens and closes below the cut-off; None if some hub must
        be both (no better grouping in the node)."""
        must, banned = node.must.copy(), node.banned.copy()
        base = float(u.sum())
        for h in np.flatnonzero(~must & ~banned).tolist():
            if base + choice_value(node_inst, self.ks.hubs, hub_value, force_open=h) >= self.cut:
                banned[h] = True
            elif (
                base + choice_value(node_inst, self.ks.hubs, hub_value, force_closed=h) >= self.cut
            ):
                must[h] = True
        if (must & banned).any():
            return None
        return must, banned
