r"""Lifted knapsack-cover cuts on the capacity rows, added to the model HiGHS solves.

Family 5 of :mod:`mergeopt.engine.formulation` bounds each hub's group: with the hub's
own practice always in (family 3), the other members of hub *j* fit in
:math:`b_j = \min(U, C_j) - w_j`. A **cover** is a set *C* of practices that may join *j*
whose sizes exceed :math:`b_j`; not all of them fit, so

.. math::

    \sum_{i \in C} x_{ij} + \sum_{i \notin C} \alpha_i x_{ij} \le (|C| - 1)\, y_j
    \qquad (13,\ ``c13_cover_<j>_<k>``)

holds for every grouping (if the hub is closed every :math:`x_{ij}` is 0 by family 2).
The :math:`\alpha_i \ge 0` are found by exact sequential up-lifting: in turn,
:math:`\alpha_i = |C| - 1 - f(b_j - w_i)`, where *f(c)* is the most the left-hand side
so far reaches within size *c* (a dynamic programme over sizes; with sizes beyond
:data:`WIDTH` units, in units of *s* patients, sizes rounded down and room rounded down
too, which can only lower an :math:`\alpha_i`: still valid, a little weaker).

Separation (:func:`cover_cuts`) at the LP relaxation: for each open hub, the cover of
least :math:`\sum_{i \in C} (1 - x_{ij}/y_j)` among the practices the LP puts in it
(exact, the same dynamic programme), made minimal, then lifted; a cut is added where the
LP breaks it. Rounds of LP and separation repeat while they raise the LP bound.

These are the knapsack polytope's cuts (a subset of the Fenchel cuts of Boccia et al.),
so with every one of them the LP bound is at most the Dantzig-Wolfe bound of
:mod:`mergeopt.engine.strategies.branch_price`; HiGHS separates lifted covers of its own
at the root, and these rows keep them in every node's LP. Measured against plain HiGHS
and the branch-and-price in ``benchmarks/BNP_PMEDCAP.md`` (``--engines cuts``).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace

import numpy as np

from mergeopt.engine.formulation import Arrays
from mergeopt.engine.instance import Instance, Vector

#: Widest size table (units) for separation and lifting; beyond it sizes are in units of
#: *s* patients.
WIDTH = 2000
#: Most rounds of LP and separation.
ROUNDS = 20
#: Least violation (in units of the hub's opening) for a cut to be added.
VIOLATION = 1e-3
#: A round that raises the LP bound by less than this (relative) is the last.
STALL = 1e-5


@dataclass(frozen=True)
class Cut:
    """One row of family 13: ``sum(coef * x) - rhs * y <= 0``."""

    hub: int  # practice position of the hub
    y_col: int
    cols: Vector  # x columns
    coef: Vector
    rhs: float


@dataclass(frozen=True)
class _Hub:
    """Hub *j*'s knapsack: its member arcs (not its own), their sizes and the room left."""

    j: int
    y_col: int
    x_cols: Vector
    size: Vector
    room: float


def _hubs(inst: Instance, arrays: Arrays) -> list[_Hub]:
    found = []
    for j in np.flatnonzero(arrays.y_col >= 0).tolist():
        arcs = np.flatnonzero((arrays.arc_j == j) & (arrays.arc_i != j))
        room = float(min(inst.max_size[j], inst.size.sum()) - inst.size[j])
        size = inst.size[arrays.arc_i[arcs]].astype(float)
        if len(arcs) and size.sum() > room + 1e-9:  # else nothing can overfill it
            found.append(_Hub(j, int(arrays.y_col[j]), arrays.x_col[arcs], size, room))
    return found


def _units(hub: _Hub) -> tuple[Vector, int]:
    """Sizes rounded down to units of s patients, and the room rounded down likewise."""
    scale = max(1.0, hub.room / WIDTH)
    return np.floor(hub.size / scale + 1e-9).astype(np.int64), math.floor(hub.room / scale)


def _knapsack(value: Vector, units: Vector, capacity: int) -> Vector:
    """Positions of the most valuable set within ``capacity`` units (0-1 knapsack, exact
    over the units given); ``value`` >= 0."""
    if capacity < 0:
        return np.zeros(0, dtype=np.int64)
    best = np.zeros(capacity + 1)
    took = np.zeros((len(value), capacity + 1), dtype=bool)
    for k in range(len(value)):
        u = int(units[k])
        if u > capacity:
            continue
        shifted = np.full(capacity + 1, -np.inf)
        shifted[u:] = best[: capacity + 1 - u] + value[k]
        took[k] = shifted > best
        best = np.maximum(best, shifted)
    chosen, level = [], capacity
    for k in range(len(value) - 1, -1, -1):
        if took[k, level]:
            chosen.append(k)
            level -= int(units[k])
    return np.asarray(sorted(chosen), dtype=np.int64)


def _cheapest_cover(cost: Vector, size: Vector, room: float) -> Vector | None:
    """Positions of the least-cost set whose sizes exceed ``room`` (``cost`` >= 0), or
    None if all of them together do not. Its complement is the most costly set of size
    at most ``total - room`` less a patient: a knapsack, in units of *s* patients rounded
    up (so the complement found is never larger than that, and the cover a true cover)."""
    total = float(size.sum())
    spare = total - room - (1.0 if np.all(size == np.round(size)) else 1e-6)
    if spare < -1e-9:
        return None
    scale = max(1.0, spare / WIDTH)
    units = np.ceil(size / scale - 1e-9).astype(np.int64)
    left_out = _knapsack(cost, units, math.floor(spare / scale + 1e-9))
    cover = np.setdiff1d(np.arange(len(size)), left_out)
    return cover if size[cover].sum() > room + 1e-9 else None


def _minimal(cover: Vector, cost: Vector, size: Vector, room: float) -> Vector:
    """``cover`` with members dropped, dearest first, while the rest still overfill."""
    kept = list(cover.tolist())
    for k in sorted(kept, key=lambda k: (-cost[k], size[k])):
        if float(size[[m for m in kept if m != k]].sum()) > room + 1e-9:
            kept.remove(k)
    return np.asarray(sorted(kept), dtype=np.int64)


def _lift(hub: _Hub, cover: Vector, order: Vector) -> Vector:
    """Coefficients of every member arc: 1 on the cover, exact sequential up-lifting of
    the others in ``order`` (over sizes rounded down, room rounded down: valid)."""
    units, room = _units(hub)
    coef = np.zeros(len(hub.size))
    coef[cover] = 1.0
    rhs = len(cover) - 1
    reach = np.zeros(room + 1)  # most of the left-hand side within each room
    for k in cover.tolist():
        u = int(units[k])
        if u <= room:
            reach[u:] = np.maximum(reach[u:], reach[: room + 1 - u] + 1.0)
    for k in order.tolist():
        u = int(units[k])
        alpha = float(rhs) if u > room else rhs - float(reach[room - u])
        if alpha <= 1e-9:
            continue
        coef[k] = alpha
        if u <= room:
            reach[u:] = np.maximum(reach[u:], reach[: room + 1 - u] + alpha)
    return coef


def _separate(hub: _Hub, x: Vector, y: float) -> Cut | None:
    """The lifted cover of ``hub`` the LP point breaks most, found as the module says."""
    if y < 1e-6:
        return None
    share = np.clip(x[hub.x_cols] / y, 0.0, 1.0)
    support = np.flatnonzero(share > 1e-6)
    cost = 1.0 - share[support]
    cover = _cheapest_cover(cost, hub.size[support], hub.room)
    if cover is None or cost[cover].sum() >= 1.0 - VIOLATION:
        return None
    cover = support[_minimal(cover, 1.0 - share[support], hub.size[support], hub.room)]
    if (1.0 - share[cover]).sum() >= 1.0 - VIOLATION:
        return None
    rest = np.setdiff1d(np.arange(len(hub.size)), cover)
    order = rest[np.argsort(-share[rest], kind="stable")]
    coef = _lift(hub, cover, order)
    rhs = float(len(cover) - 1)
    if float(coef @ share) - rhs <= VIOLATION:
        return None
    used = np.flatnonzero(coef > 0)
    return Cut(hub.j, hub.y_col, hub.x_cols[used], coef[used], rhs)


def cover_cuts(inst: Instance, arrays: Arrays, *, deadline: float) -> list[Cut]:
    """Lifted cover cuts of the capacity rows the LP relaxation of ``arrays`` breaks, in
    rounds of LP and separation (each round's cuts added to the LP) while they raise its
    bound, up to :data:`ROUNDS` rounds or ``deadline`` (``time.time()`` seconds)."""
    import highspy

    from mergeopt.engine.solvers.highs import highs_from_arrays

    hubs = _hubs(inst, arrays)
    if not hubs:
        return []
    lp = highs_from_arrays(replace(arrays, integer=np.zeros(arrays.num_col, dtype=bool)))
    lp.setOptionValue("presolve", "off")
    cuts: list[Cut] = []
    last = -math.inf
    for _ in range(ROUNDS):
        left = deadline - time.time()
        if left <= 0:
            break
        lp.setOptionValue("time_limit", float(lp.getRunTime()) + left)
        lp.run()
        if lp.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            break
        value = float(lp.getInfo().objective_function_value)
        if value < last + STALL * max(1.0, abs(last)):
            break
        last = value
        x = np.asarray(lp.getSolution().col_value)
        found = [c for h in hubs if (c := _separate(h, x, float(x[h.y_col]))) is not None]
        if not found:
            break
        for cut in found:
            cols = np.append(cut.cols, cut.y_col).astype(np.int32)
            values = np.append(cut.coef, -cut.rhs)
            lp.addRow(-highspy.kHighsInf, 0.0, len(cols), cols, values)
        cuts += found
    return cuts


def with_cuts(arrays: Arrays, cuts: list[Cut]) -> Arrays:
    """``arrays`` with one row of family 13 per cut appended (``c13_cover_<j>_<k>``)."""
    if not cuts:
        return arrays
    names = [f"c13_cover_{c.hub}_{k}" for k, c in enumerate(cuts)]
    index = [np.append(c.cols, c.y_col) for c in cuts]
    value = [np.append(c.coef, -c.rhs) for c in cuts]
    order = [np.argsort(i, kind="stable") for i in index]
    lengths = np.asarray([len(i) for i in index])
    start = arrays.row_start[-1] + np.cumsum(lengths)
    return replace(
        arrays,
        row_names=[*arrays.row_names, *names],
        row_lower=np.concatenate([arrays.row_lower, np.full(len(cuts), -np.inf)]),
        row_upper=np.concatenate([arrays.row_upper, np.zeros(len(cuts))]),
        row_start=np.concatenate([arrays.row_start, start]).astype(arrays.row_start.dtype),
        row_index=np.concatenate(
            [arrays.row_index, *[i[o] for i, o in zip(index, order, strict=True)]]
        ),
        row_value=np.concatenate(
            [arrays.row_value, *[v[o] for v, o in zip(value, order, strict=True)]]
        ),
    )
