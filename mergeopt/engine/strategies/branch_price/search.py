"""The state of one branch-and-price search: knapsacks, master, best grouping, callbacks."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from mergeopt.engine.instance import Instance, feasible, objective_value
from mergeopt.engine.strategies import heuristics
from mergeopt.engine.strategies.branch_price import knapsack as kn
from mergeopt.engine.strategies.branch_price.master import Master

Vector = np.ndarray
#: Largest share of the time so far that primal heuristics may have taken.
HEURISTIC_SHARE = 0.15
#: Most seconds the local search may polish one better grouping (:meth:`Search.offer`).
POLISH_SECONDS = 1.0
#: Nodes between dives (:func:`.primal.dive`) after the root's.
DIVE_EVERY = 20

OnIncumbent = Callable[[Vector, float], None]
OnBound = Callable[[float], None]


@dataclass
class Search:
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
    on_root: OnBound | None = None
    best: Vector | None = None
    value: float = math.inf
    nodes: int = 0
    last_mip: float = 0.0
    last_dive: int = 0
    supports: set[bytes] = field(default_factory=set)
    began: float = field(default_factory=time.time)
    heuristic_seconds: float = 0.0
    floor: float = -math.inf  # the trivial bound: 0 where no cost is negative

    def __post_init__(self) -> None:
        if self.ks is not None and self.floor == -math.inf:
            costs = np.concatenate([self.ks.arc_cost, self.ks.hub_cost])
            if len(costs) and bool((costs >= 0).all()):
                self.floor = 0.0

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
        """Keep ``hub_of`` if it keeps every rule and beats the best, polished first by
        :func:`~mergeopt.engine.strategies.heuristics.local_search` while the primal
        heuristics have their share of the time (at most :data:`POLISH_SECONDS`); add
        its columns (and the polished grouping's)."""
        if hub_of is None or not feasible(self.inst, hub_of):
            return False
        value = objective_value(self.inst, hub_of)
        self._add_groups(hub_of)
        if value >= self.value - 1e-9 * max(1.0, abs(value)):
            return False
        if self.heuristic_turn():
            began = time.time()
            limit = min(POLISH_SECONDS, 0.5 * self.left())
            polished = heuristics.local_search(
                self.inst, hub_of, deadline=time.perf_counter() + limit
            )
            self.heuristic_seconds += time.time() - began
            better = objective_value(self.inst, polished)
            if better < value and feasible(self.inst, polished):
                self._add_groups(polished)
                hub_of, value = polished, better
        self.best, self.value = hub_of.copy(), value
        if self.on_incumbent is not None:
            self.on_incumbent(hub_of.copy(), value)
        return True

    def _add_groups(self, hub_of: Vector) -> None:
        """The groups of ``hub_of`` as columns of the master."""
        for j in np.unique(hub_of).tolist():
            h = int(self.ks.hub_of_practice[j])
            group = np.flatnonzero(hub_of == j)
            items = np.unique(self.ks.item_of[group])
            items = items[items != self.ks.hub_item[h]]
            self.master.add(h, items, None)

    def grouping(self, columns: Vector) -> Vector:
        hub_of = np.full(self.inst.n, -1, dtype=np.int64)
        for c in columns.tolist():
            h = self.master.hub[c]
            practices = [self.ks.items[int(self.ks.hub_item[h])]]
            practices += [self.ks.items[k] for k in self.master.items[c].tolist()]
            hub_of[np.concatenate(practices)] = self.ks.hubs[h]
        return hub_of
