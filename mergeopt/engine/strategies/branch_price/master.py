r"""The restricted master of the branch-and-price: a set-partitioning LP over columns.

.. math::

    \min \sum_c \kappa_c \lambda_c + M \sum_r a_r \quad \text{s.t.} \quad
    \sum_{c \ni i} \lambda_c + a_i = 1 \;\; (i \in I), \qquad
    K_{min} \le \sum_c \lambda_c + a^+ - a^- \le K_{max}, \qquad \lambda, a \ge 0

A column *c* is a hub and its members (items of :mod:`.knapsack`), of cost
:math:`\kappa_c` (the group weight plus its arcs' objective). The artificial columns
:math:`a` (cost *M*, more than any grouping costs) keep every restricted master
feasible. A node of the tree sets the upper bound of each column that breaks its
decisions to zero; the LP is solved by HiGHS (highspy), warm-started from the last basis,
columns added as pricing finds them. The restricted master is also solved as a MIP over
the columns so far (:meth:`Master.integer`), for groupings.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix

from mergeopt.engine.solvers.highs import quiet_highs
from mergeopt.engine.strategies.branch_price.knapsack import Knapsacks, Restriction

Vector = np.ndarray
_TOL = 1e-9
#: Most columns the restricted master's MIP takes (those of least reduced cost).
MIP_COLUMNS = 4000


class Master:
    """The master LP over a pool of columns, with the arcs each column uses."""

    def __init__(self, ks: Knapsacks, count: tuple[int, int], big: float) -> None:
        import highspy

        self.ks = ks
        self.count = count
        self.big = big
        self.inf = highspy.kHighsInf
        self.highs: Any = self._empty_lp()
        self.first = ks.n + 2  # columns before this are artificial
        self.arc_id = np.full((len(ks.items), ks.num_hubs), -1, dtype=np.int64)
        self.arc_id[ks.arc_item, ks.arc_hub] = np.arange(ks.num_arcs)
        self.hub: list[int] = []
        self.items: list[Vector] = []
        self.cost: list[float] = []
        self.arcs: list[Vector] = []
        self.keys: set[bytes] = set()
        self.upper = np.zeros(0)
        self._incidence: csr_matrix | None = None
        self._primal = False  # columns were added since the last solve (else bounds changed)
        self.last_dual = np.zeros(0)  # practice duals of the last solve

    def _empty_lp(self) -> Any:
        """A HiGHS LP with the rows and the artificial columns only."""
        highs = quiet_highs()
        highs.setOptionValue("presolve", "off")
        n = self.ks.n
        lower = np.concatenate([np.ones(n), [float(self.count[0])]])
        upper = np.concatenate([np.ones(n), [float(self.count[1])]])
        highs.addRows(
            n + 1, lower, upper, 0, np.zeros(1, np.int32), np.zeros(0, np.int32), np.zeros(0)
        )
        # artificials: one per practice row, and one each way on the count row
        rows = [*([r] for r in range(n)), [n], [n]]
        values = [*([1.0] for _ in range(n)), [1.0], [-1.0]]
        for r, v in zip(rows, values, strict=True):
            highs.addCol(self.big, 0.0, self.inf, 1, np.asarray(r, np.int32), np.asarray(v))
        return highs

    @property
    def size(self) -> int:
        return len(self.hub)

    def purge(self, keep: int) -> None:
        """Keep the ``keep`` columns of least reduced cost at the last duals, drop the
        others (a pool of many thousand columns made each LP solve several times slower);
        the LP is rebuilt, so column indices change and the next solve starts afresh."""
        if self.size <= keep or not len(self.last_dual):
            return
        every = np.arange(self.size)
        reduced = np.asarray(self.cost) - self._row_sums(every, self.last_dual)
        kept = np.sort(np.argsort(reduced, kind="stable")[:keep]).tolist()
        hub = [self.hub[c] for c in kept]
        items = [self.items[c] for c in kept]
        self.highs = self._empty_lp()
        self.hub, self.items, self.cost, self.arcs = [], [], [], []
        self.keys = set()
        self.upper = np.zeros(0)
        self._incidence = None
        for h, its in zip(hub, items, strict=True):
            self.add(h, its)

    # -- columns -----------------------------------------------------------------------

    def column_cost(self, h: int, items: Vector) -> float:
        arcs = self.arc_id[items, h]
        return float(self.ks.hub_cost[h] + self.ks.arc_cost[arcs].sum())

    def feasible(self, h: int, items: Vector) -> bool:
        """Whether hub ``h`` with member ``items`` is a real group (patients, arcs, links)."""
        ks = self.ks
        if (self.arc_id[items, h] < 0).any():
            return False
        load = float(ks.base[h] + ks.item_size[items].sum())
        tol = 1e-9 * max(1.0, load)
        if load < ks.min_size[h] - tol or load > ks.cap[h] + tol:
            return False
        if not ks.cannot:
            return True
        inside = {int(ks.hub_item[h]), *items.tolist()}
        return not any(a in inside and b in inside for a, b in ks.cannot)

    def holds(self, h: int, items: Vector) -> bool:
        """Whether hub ``h`` with the sorted, distinct member ``items`` is in the pool."""
        return _key(h, items) in self.keys

    def add(self, h: int, items: Vector, restriction: Restriction | None = None) -> int | None:
        """Add hub ``h`` with member ``items`` (a real group); its index, or None if it
        was already there. Its bound follows ``restriction`` (open if None)."""
        items = np.unique(np.asarray(items, dtype=np.int64))
        key = _key(h, items)
        if key in self.keys:
            return None
        self.keys.add(key)
        practices = np.concatenate(
            [self.ks.items[int(self.ks.hub_item[h])], *[self.ks.items[k] for k in items.tolist()]]
        )
        rows = np.sort(np.append(practices, self.ks.n)).astype(np.int32)
        cost = self.column_cost(h, items)
        ok = restriction is None or self._allowed(h, self.arc_id[items, h], restriction)
        self.highs.addCol(cost, 0.0, self.inf if ok else 0.0, len(rows), rows, np.ones(len(rows)))
        self.hub.append(h)
        self.items.append(items)
        self.cost.append(cost)
        self.arcs.append(self.arc_id[items, h])
        self.upper = np.append(self.upper, 1.0 if ok else 0.0)
        self._incidence = None
        self._primal = True
        return len(self.hub) - 1

    def _allowed(self, h: int, arcs: Vector, r: Restriction) -> bool:
        if r.hub_closed[h] or r.arc_off[arcs].any():
            return False
        forced = np.flatnonzero(r.arc_forced[self.ks.by_hub[h]])
        return len(forced) == int(r.arc_forced[arcs].sum())

    def incidence(self) -> csr_matrix:
        """(columns, arcs) 0/1: the member arcs of each column."""
        if self._incidence is None:
            lengths = [len(a) for a in self.arcs]
            indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
            indices = np.concatenate(self.arcs) if self.arcs else np.zeros(0, np.int64)
            self._incidence = csr_matrix(
                (np.ones(len(indices)), indices, indptr), shape=(self.size, self.ks.num_arcs)
            )
        return self._incidence

    def restrict(self, r: Restriction) -> None:
        """Close every column that breaks the node's decisions; open the others."""
        if not self.size:
            return
        m = self.incidence()
        hub = np.asarray(self.hub)
        bad = np.asarray(m @ r.arc_off.astype(float)) > 0.5
        forced_in = np.asarray(m @ r.arc_forced.astype(float))
        forced_of_hub = np.bincount(self.ks.arc_hub[r.arc_forced], minlength=self.ks.num_hubs)
        ok = ~bad & ~r.hub_closed[hub] & (np.abs(forced_in - forced_of_hub[hub]) < 0.5)
        want = ok.astype(float)
        change = np.flatnonzero(want != self.upper)
        if len(change):
            upper = np.where(want[change] > 0, self.inf, 0.0)
            self.highs.changeColsBounds(
                len(change), (change + self.first).astype(np.int32), np.zeros(len(change)), upper
            )
            self.upper[change] = want[change]

    # -- solving -----------------------------------------------------------------------

    def solve(self, time_limit: float) -> tuple[bool, float, Vector, float, Vector, float]:
        """Solve the LP: (solved, value, practice duals, count dual, column values,
        artificial total)."""
        import highspy

        # new columns keep the basis primal feasible, changed bounds keep it dual feasible:
        # primal simplex after pricing, dual after a node's bounds (2-3x faster each)
        self.highs.setOptionValue("simplex_strategy", 4 if self._primal else 1)
        self._primal = False
        # HiGHS's clock runs over every solve of one object: the limit is from now
        elapsed = float(self.highs.getRunTime())
        self.highs.setOptionValue("time_limit", elapsed + max(float(time_limit), 0.01))
        self.highs.run()
        if self.highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            self.highs.clearSolver()  # a simplex that lost its way: once more from scratch
            self.highs.run()
        if self.highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return False, math.nan, np.zeros(0), 0.0, np.zeros(0), 0.0
        solution = self.highs.getSolution()
        dual = np.asarray(solution.row_dual)
        values = np.asarray(solution.col_value)
        value = float(self.highs.getInfo().objective_function_value)
        n = self.ks.n
        self.last_dual = dual[:n]
        return (
            True,
            value,
            dual[:n],
            float(dual[n]),
            values[self.first :],
            float(values[: self.first].sum()),
        )

    def _row_sums(self, cols: Vector, dual: Vector) -> Vector:
        """Per column of ``cols``, the sum of ``dual`` over the practices it covers."""
        item_u = np.bincount(self.ks.item_of, weights=dual, minlength=len(self.ks.items))
        own = item_u[self.ks.hub_item[np.asarray(self.hub)[cols]]]
        members = np.asarray([item_u[self.items[c]].sum() for c in cols.tolist()])
        return np.asarray(own + members, dtype=float)

    def integer(self, time_limit: float, start: Vector | None, cutoff: float) -> Vector | None:
        """The best set of open columns that partitions the practices (a MIP over the pool,
        artificials left out), or None: indices of the columns chosen."""
        import highspy

        cols = np.flatnonzero(self.upper > 0)
        if len(cols) == 0 or time_limit <= 0.05:
            return None
        if len(cols) > MIP_COLUMNS and len(self.last_dual):
            # the columns of least reduced cost at the last duals, and the start's
            reduced = np.asarray(self.cost)[cols] - self._row_sums(cols, self.last_dual)
            keep = cols[np.argsort(reduced, kind="stable")[:MIP_COLUMNS]]
            cols = np.union1d(keep, start if start is not None else np.zeros(0, np.int64))
        m = self.size
        rows_of = [
            np.sort(
                np.append(
                    np.concatenate(
                        [
                            self.ks.items[int(self.ks.hub_item[self.hub[c]])],
                            *[self.ks.items[k] for k in self.items[c].tolist()],
                        ]
                    ),
                    self.ks.n,
                )
            )
            for c in cols.tolist()
        ]
        lengths = np.asarray([len(r) for r in rows_of])
        start_ = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
        index = np.concatenate(rows_of).astype(np.int32)
        mip: Any = quiet_highs()
        mip.setOptionValue("time_limit", float(time_limit))
        # HiGHS's MIP presolve does not look at the clock: on a pool of many thousand
        # columns it ran minutes past the limit
        mip.setOptionValue("presolve", "off")
        mip.setOptionValue("mip_rel_gap", 1e-6)
        if math.isfinite(cutoff):
            mip.setOptionValue("objective_bound", float(cutoff))
        n = self.ks.n
        lower = np.concatenate([np.ones(n), [float(self.count[0])]])
        upper = np.concatenate([np.ones(n), [float(self.count[1])]])
        mip.addRows(
            n + 1, lower, upper, 0, np.zeros(1, np.int32), np.zeros(0, np.int32), np.zeros(0)
        )
        costs = np.asarray(self.cost)[cols]
        mip.addCols(
            len(cols),
            costs,
            np.zeros(len(cols)),
            np.ones(len(cols)),
            len(index),
            start_,
            index,
            np.ones(len(index)),
        )
        mip.changeColsIntegrality(
            len(cols),
            np.arange(len(cols), dtype=np.int32),
            np.full(len(cols), highspy.HighsVarType.kInteger),
        )
        if start is not None:
            where = np.full(m, -1, dtype=np.int64)
            where[cols] = np.arange(len(cols))
            chosen = where[start]
            if (chosen >= 0).all():
                values = np.zeros(len(cols))
                values[chosen] = 1.0
                mip.setSolution(len(cols), np.arange(len(cols), dtype=np.int32), values)
        mip.run()
        info = mip.getInfo()
        if info.primal_solution_status != 2:
            return None
        values = np.asarray(mip.getSolution().col_value)
        return np.asarray(cols[values > 0.5], dtype=np.int64)


def _key(h: int, items: Vector) -> bytes:
    """The pool's key of hub ``h`` with sorted, distinct member ``items``."""
    return np.concatenate([[h], np.asarray(items, dtype=np.int64)]).tobytes()
