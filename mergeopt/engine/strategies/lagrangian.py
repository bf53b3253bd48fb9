r"""A Lagrangian lower bound for the grouping MIP, and what it fixes.

Relax family 1 (every practice in one group) of :mod:`mergeopt.engine.formulation` with
multipliers :math:`u_i`; what remains splits by hub. Hub *j* is worth

.. math::

    v_j = \gamma + c_{jj} - u_j + \min \{ \textstyle\sum_{i \in S} (c_{ij} - u_i) :
          S \text{ members of } j \text{ with } L - w_j \le \sum_{i \in S} w_i \le
          \min(U, C_j) - w_j \}

(a knapsack over *j*'s arcs), and :math:`L(u) = \sum_i u_i +` the cheapest choice of hubs
within the group count and forced hubs. Every :math:`L(u)` is a lower bound (rules
other than families 1-6 are dropped, which only lowers it); subgradient steps raise it.

**Knapsacks of large list sizes.** The knapsack is a table over whole list-size units.
Where list sizes are not whole numbers or the bounds are large (30,000-50,000 patients),
sizes are counted in units of *s* patients, and each practice may count as either
:math:`\lfloor w_i/s \rfloor` or :math:`\lceil w_i/s \rceil` units, the knapsack choosing;
the window becomes :math:`[\min(\lceil a \rceil, \lfloor b \rfloor), \lfloor b \rfloor]`
for the real window :math:`[a, b]` in units. Every real group still fits (the sum of
floors is at most :math:`\lfloor b \rfloor`, the sum of ceilings at least
:math:`\lceil a \rceil`, and switching one practice from floor to ceiling moves the sum
by at most one unit), so the bound stays valid, only a little weaker. Without a minimum
and with bounds that hold every patient (uncapacitated p-median) no table is needed: a
hub takes every member of negative reduced cost.

**Fixing.** For an upper bound *UB* (a grouping's value), a hub whose forced opening
lifts the bound to the cut-off (``UB``, or ``UB - 1`` with whole-number objectives) is
closed for every better grouping; a hub whose closing does is opened. An arc
:math:`(i, j)` is closed if forcing *i* into *j*'s group does: that group then costs at
least :math:`v_j` with *j*'s best load replaced by :math:`c_{ij} - u_i` plus the best
load of the window shifted by :math:`w_i` (a table over all members, so a relaxation).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from mergeopt.engine.instance import Instance, Vector, count_range, unbounded_loads

#: Widest knapsack table (list-size units + 1); larger bounds are counted in units of s.
MAX_WIDTH = 401
#: Largest table of backtracking choices (arcs x width) this module will hold.
MAX_TABLE = 40_000_000


@dataclass(frozen=True)
class Lagrangian:
    """A Lagrangian lower bound and what it settles for groupings better than ``upper``.

    ``closed``/``opened``: hubs no better grouping opens / every better grouping opens
    ((n,) bool). ``arc_closed``: arcs of :meth:`Instance.arcs` no better grouping uses
    ((a,) bool). ``multipliers``: the best *u* found. ``hub_sets``: the hubs the
    relaxation opened at its best iterations (positions, best last), for a primal
    heuristic to complete into groupings.
    """

    bound: float
    closed: Vector
    opened: Vector
    arc_closed: Vector
    multipliers: Vector
    hub_sets: tuple[Vector, ...] = ()


def lagrangian_applies(inst: Instance, *, scaled: bool = False) -> bool:
    """No max-travel term or contiguity, a usable hub, and a table that fits in memory.

    Without ``scaled``, only exact knapsacks qualify (whole list sizes, bounds below
    :data:`MAX_WIDTH`, or no table at all): on the English ICBs (bounds of 50,000
    patients) the scaled bound was measured far below the LP bound after the seconds
    it could be given, so the solver does not use it there.
    """
    usable = inst.hubs_usable()
    if not usable.any() or inst.weights[3] or inst.contiguous:
        return False
    if unbounded_loads(inst):
        return True
    ai, aj = inst.arcs()
    if len(ai) * MAX_WIDTH > MAX_TABLE:
        return False
    if scaled:
        return True
    room = np.minimum(inst.max_size[aj], inst.size.sum()) - inst.size[aj]
    return bool(np.all(inst.size == np.round(inst.size)) and room.max() <= MAX_WIDTH - 1)


@dataclass(frozen=True)
class Knapsacks:
    """The per-hub knapsacks, in units: arcs grouped by member, windows per hub."""

    hubs: Vector  # positions of the hubs with arcs
    col: Vector  # arc -> index into hubs
    ai: Vector
    coef: Vector
    member: Vector  # arc is not a self arc
    self_cost: Vector  # per hub
    low: Vector  # per arc: units if counted down
    high: Vector  # per arc: units if counted up
    room_low: Vector  # per hub: window in units
    room_high: Vector
    width: int
    free: bool
    by_item: list[Vector]  # member arcs of each practice
    by_hub: list[Vector]  # member arcs into each hub, in practice order


def knapsacks(inst: Instance) -> Knapsacks:
    ai, aj = inst.arcs()
    hubs = np.unique(aj)
    coef = inst.arc_objective(ai, aj)
    col = np.searchsorted(hubs, aj)
    self_arc = ai == aj
    self_cost = np.full(len(hubs), np.inf)
    self_cost[col[self_arc]] = coef[self_arc]
    member = ~self_arc
    by_item = [np.flatnonzero(member & (ai == i)) for i in range(inst.n)]
    order = np.flatnonzero(member)
    order = order[np.argsort(col[order], kind="stable")]
    by_hub = np.split(order, np.cumsum(np.bincount(col[order], minlength=len(hubs)))[:-1])
    total = float(inst.size.sum())
    cap = np.minimum(inst.max_size[hubs], total)
    free = unbounded_loads(inst)
    if free:
        zero = np.zeros(len(ai), dtype=np.int64)
        span = np.zeros(len(hubs), dtype=np.int64)
        return Knapsacks(
            hubs,
            col,
            ai,
            coef,
            member,
            self_cost,
            zero,
            zero,
            span,
            span,
            1,
            True,
            by_item,
            by_hub,
        )
    whole = bool(np.all(inst.size == np.round(inst.size)))
    largest = float((cap - inst.size[hubs]).max())
    scale = 1.0 if whole and largest <= MAX_WIDTH - 1 else max(largest, 1.0) / (MAX_WIDTH - 1)
    units = inst.size / scale
    low = np.floor(units[ai] + 1e-9).astype(np.int64)
    high = np.ceil(units[ai] - 1e-9).astype(np.int64)
    a = (inst.min_size - inst.size[hubs]) / scale
    b = (cap - inst.size[hubs]) / scale
    room_high = np.floor(b + 1e-9).astype(np.int64)
    room_low = np.maximum(np.minimum(np.ceil(a - 1e-9).astype(np.int64), room_high), 0)
    width = int(max(room_high.max(), 0)) + 1
    return Knapsacks(
        hubs,
        col,
        ai,
        coef,
        member,
        self_cost,
        low,
        high,
        room_low,
        room_high,
        width,
        False,
        by_item,
        by_hub,
    )


def lagrangian_bound(
    inst: Instance,
    upper: float,
    *,
    iterations: int = 300,
    integral: bool = False,
    deadline: float | None = None,
    start: Vector | None = None,
) -> Lagrangian:
    """Subgradient ascent on :math:`L(u)`, then the hubs and arcs it fixes below ``upper``.

    Stops after ``iterations``, when the bound reaches the cut-off, when steps vanish, or
    at ``deadline`` (``time.perf_counter()``). ``start``: multipliers to begin from
    (e.g. an earlier run's). ``upper`` may be ``inf`` (no grouping known): the steps
    then aim 10% above the bound so far, and nothing is fixed. Needs
    :func:`lagrangian_applies`.
    """
    ks = knapsacks(inst)
    cut = upper - 1 + 1e-6 if integral else upper * (1 - 1e-9)
    nearest = np.full(inst.n, np.inf)
    np.minimum.at(nearest, ks.ai, ks.coef)
    u = np.where(np.isfinite(nearest), nearest, 0.0) if start is None else start.copy()
    best, best_u, step, stale = -np.inf, u.copy(), 2.0 if start is None else 0.5, 0
    sets: dict[bytes, Vector] = {}
    for _ in range(iterations):
        value, hub_value, _, members = _value(inst, ks, u, backtrack=True)
        if not np.isfinite(value):  # the relaxation has no choice of hubs: no steps
            best, best_u = value, u.copy()
            break
        if value > best + 1e-9:
            best, best_u, stale = value, u.copy(), 0
            chosen = ks.hubs[chosen_hubs(inst, ks.hubs, hub_value)]
            sets.pop(chosen.tobytes(), None)
            sets[chosen.tobytes()] = chosen
        else:
            stale += 1
            if stale >= 15:
                step, stale = step / 2, 0
        if best >= cut or step < 1e-4:
            break
        if deadline is not None and time.perf_counter() >= deadline:
            break
        gradient = 1.0 - members
        norm = float((gradient**2).sum())
        if norm == 0:
            break
        target = upper if np.isfinite(upper) else best + 0.1 * abs(best) + 1.0
        u = u + step * (target - value) / norm * gradient
    value, hub_value, table, _ = _value(inst, ks, best_u, backtrack=False)
    closed, opened, arc_closed = _fix(inst, ks, best_u, hub_value, table, cut)
    hub_sets = tuple(list(sets.values())[-5:])
    return Lagrangian(float(value), closed, opened, arc_closed, best_u, hub_sets)


def _value(
    inst: Instance, ks: Knapsacks, u: Vector, *, backtrack: bool
) -> tuple[float, Vector, Vector, Vector]:
    """L(u), each hub's value v_j, the knapsack tables, and how often each practice is in."""
    reduced = ks.coef - u[ks.ai]
    hubs = ks.hubs
    if ks.free:
        gain = np.zeros(len(hubs))
        use = ks.member & (reduced < 0)
        np.add.at(gain, ks.col[use], reduced[use])
        hub_value = inst.weights[2] + ks.self_cost - u[hubs] + gain
        table = gain[:, None]
    else:
        table, taken = _tables(inst, ks, reduced, backtrack=backtrack)
        window = _window(ks)
        loads = np.where(window, table, np.inf)
        at = loads.argmin(axis=1)
        hub_value = inst.weights[2] + ks.self_cost - u[hubs] + loads[np.arange(len(hubs)), at]
    open_ = chosen_hubs(inst, hubs, hub_value)
    members = np.zeros(inst.n)
    if backtrack:
        members[hubs[open_]] += 1
        if ks.free:
            np.add.at(members, ks.ai[use & open_[ks.col]], 1)
        else:
            _backtrack(inst, ks, taken, open_, at, members)
    value = float(u.sum() + hub_value[open_].sum())
    return value, hub_value, table, members


def _window(ks: Knapsacks) -> Vector:
    weight = np.arange(ks.width)
    return (weight[None, :] >= ks.room_low[:, None]) & (weight[None, :] <= ks.room_high[:, None])


def _tables(
    inst: Instance, ks: Knapsacks, reduced: Vector, *, backtrack: bool
) -> tuple[Vector, Vector]:
    """Min reduced cost of a load of exactly w units, per hub; choices (0 none, 1 low,
    2 high units) per member arc and w for backtracking."""
    width = ks.width
    table = np.full((len(ks.hubs), width), np.inf)
    table[:, 0] = 0.0
    taken = np.zeros((len(ks.ai), width) if backtrack else (0, 0), dtype=np.int8)
    for i in range(inst.n):
        arcs = ks.by_item[i]
        if inst.min_size <= 0:  # without a minimum, a member that costs is never taken
            arcs = arcs[reduced[arcs] < 0]
        if len(arcs) == 0:
            continue
        rows = ks.col[arcs]
        units = (int(ks.low[arcs[0]]), int(ks.high[arcs[0]]))
        best, choice = knapsack_step(table[rows], units, reduced[arcs], width)
        table[rows] = best
        if backtrack:
            taken[arcs] = choice
    return table, taken


def _backtrack(
    inst: Instance, ks: Knapsacks, taken: Vector, open_: Vector, at: Vector, members: Vector
) -> None:
    """Count the members of each open hub's best load (items in reverse order)."""
    for k in np.flatnonzero(open_).tolist():
        w = int(at[k])
        for arc in ks.by_hub[k][::-1].tolist():
            if w <= 0:
                break
            kind = taken[arc, w]
            if kind:
                members[ks.ai[arc]] += 1
                w -= int(ks.low[arc] if kind == 1 else ks.high[arc])


def _fix(
    inst: Instance,
    ks: Knapsacks,
    u: Vector,
    hub_value: Vector,
    table: Vector,
    cut: float,
) -> tuple[Vector, Vector, Vector]:
    hubs = ks.hubs
    closed, opened = np.zeros(inst.n, dtype=bool), np.zeros(inst.n, dtype=bool)
    base = float(u.sum())
    forced = np.full(len(hubs), np.inf)  # L(u) with hub k forced open
    for h, j in enumerate(hubs.tolist()):
        forced[h] = base + choice_value(inst, hubs, hub_value, force_open=h)
        if forced[h] >= cut:
            closed[j] = True
        elif base + choice_value(inst, hubs, hub_value, force_closed=h) >= cut:
            opened[j] = True
    arc_closed = closed[hubs[ks.col]]
    ok = np.isfinite(forced) & np.isfinite(hub_value)
    arcs = np.flatnonzero(ks.member & ok[ks.col])
    k = ks.col[arcs]
    reduced = ks.coef[arcs] - u[ks.ai[arcs]]
    if ks.free:
        extra = np.maximum(reduced, 0.0)
    else:
        window = _window(ks)
        best = np.where(window, table, np.inf).min(axis=1)
        with_item = np.full(len(arcs), np.inf)
        for units in (ks.low[arcs], ks.high[arcs]):
            lo = np.maximum(ks.room_low[k] - units, 0)
            hi = ks.room_high[k] - units
            with_item = np.minimum(with_item, range_min(table, k, lo, hi))
        extra = reduced + with_item - best[k]
    arc_closed[arcs] |= forced[k] + extra >= cut
    return closed, opened, arc_closed


def knapsack_step(
    current: Vector, units: tuple[int, int], gain: Vector, width: int
) -> tuple[Vector, Vector]:
    """One practice added to knapsack tables ``current`` (one row per hub, ``width``
    list-size units): taken, it counts ``units[0]`` units or, if different, ``units[1]``
    (the floor and ceiling of a scaled size) at ``gain`` per row. Returns the better
    tables and, per entry, which choice made it (0 not taken, 1 the first, 2 the second).
    """
    best = current.copy()
    choice = np.zeros(current.shape, dtype=np.int8)
    low, high = units
    for kind, q in ((1, low), (2, high)):
        if (kind == 2 and q == low) or q >= width:
            continue
        # only loads of q units or more can take it: that part, in place
        shifted = current[:, : width - q] + gain[:, None]
        tail = best[:, q:]
        choice[:, q:][shifted < tail] = kind
        np.minimum(tail, shifted, out=tail)
    return best, choice


def range_min(table: Vector, row: Vector, lo: Vector, hi: Vector) -> Vector:
    """min(table[row, lo:hi + 1]) for each query; inf where the range is empty."""
    width = table.shape[1]
    levels = [table]
    span = 1
    while 2 * span <= width:
        prev = levels[-1]
        nxt = prev.copy()
        nxt[:, : width - span] = np.minimum(prev[:, : width - span], prev[:, span:])
        levels.append(nxt)
        span *= 2
    out = np.full(len(row), np.inf)
    ok = (hi >= lo) & (hi >= 0) & (lo < width)
    hi_c = np.minimum(hi, width - 1)
    length = hi_c - lo + 1
    ok &= length > 0
    level = np.zeros(len(row), dtype=np.int64)
    level[ok] = np.floor(np.log2(length[ok])).astype(np.int64)
    for lv in np.unique(level[ok]).tolist():
        q = ok & (level == lv)
        m = levels[lv]
        out[q] = np.minimum(m[row[q], lo[q]], m[row[q], hi_c[q] - (1 << lv) + 1])
    return out


def chosen_hubs(
    inst: Instance,
    hubs: Vector,
    hub_value: Vector,
    *,
    force_open: int | None = None,
    force_closed: int | None = None,
) -> Vector:
    """The cheapest set of hubs within the group count (forced hubs, one forced choice)."""
    value = np.where(np.isfinite(hub_value), hub_value, np.inf)
    must = inst.must_hub[hubs].copy()
    if force_open is not None:
        must[force_open] = True
    banned = ~np.isfinite(value)
    if force_closed is not None:
        banned[force_closed] = True
    chosen = must & ~banned
    if (must & banned).any():
        chosen[:] = False
        chosen[must] = True  # infeasible choice: caller sees an infinite value
        return np.asarray(chosen, dtype=bool)
    low, high = count_range(inst, len(hubs))
    free = np.flatnonzero(~chosen & ~banned)
    order = free[np.argsort(value[free], kind="stable")]
    room = max(high - int(chosen.sum()), 0)
    need = max(low - int(chosen.sum()), 0)
    take = order[:room]
    take = take[(np.arange(len(take)) < need) | (value[take] < 0)]
    chosen[take] = True
    return np.asarray(chosen, dtype=bool)


def choice_value(
    inst: Instance,
    hubs: Vector,
    hub_value: Vector,
    *,
    force_open: int | None = None,
    force_closed: int | None = None,
) -> float:
    """Sum of v_j over :func:`chosen_hubs`; inf if the count or forced hubs cannot be met."""
    chosen = chosen_hubs(inst, hubs, hub_value, force_open=force_open, force_closed=force_closed)
    count = int(chosen.sum())
    low, high = count_range(inst, len(hubs))
    if count < low or count > high or not np.isfinite(hub_value[chosen]).all():
        return float("inf")
    return float(hub_value[chosen].sum())
