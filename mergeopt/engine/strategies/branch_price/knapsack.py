r"""Pricing for the branch-and-price: one knapsack per hub, solved for all hubs at once.

A column of the master is a hub *j* and a set *S* of members. Practices joined by
must-link rules form one **item** (a practice alone is an item of its own): an item joins
a hub whole or not at all, its size and cost the sum of its practices'. At practice duals
:math:`u` an item *k* joining hub *j* has reduced cost :math:`r_{kj} = \sum_{i \in k}
(c_{ij} - u_i)`, and the best column of hub *j* is worth

.. math::

    v_j = \gamma + \sum_{i \in k(j)} (c_{ij} - u_i) + \min \{ \textstyle\sum_{k \in S}
          r_{kj} : L - w_{k(j)} \le \sum_{k \in S} w_k \le \min(U, C_j) - w_{k(j)} \}

where :math:`k(j)` is the hub's own item. The minimum is a dynamic programme over loads
in **units**. With whole list sizes and a narrow window the unit is one patient and the
knapsack is exact. Otherwise sizes are counted in units of *s* patients and each item
may count :math:`\lfloor w_k/s \rfloor` or :math:`\lceil w_k/s \rceil` units, the
programme choosing, within :math:`[\min(\lceil a \rceil, \lfloor b \rfloor), \lfloor b
\rfloor]` for the real window :math:`[a, b]` in units: every real group still fits, so
:math:`v_j` is a lower bound on the best real column (a relaxation), never above it.

The Lagrangian value (family 1 of :mod:`mergeopt.engine.formulation` relaxed with multipliers *u*)
is :math:`L(u) = \sum_i u_i +` the cheapest choice of hubs within the group count,
hubs forced open included: a proven lower bound for any *u*, exact knapsack or not.

Branching keeps each subproblem a knapsack: a node closes hubs, forces hubs open,
removes arcs and forces items into a hub's group (their size shifts the window, their
cost is added to :math:`v_j`). Cannot-link pairs are not in the programme: a best load
that holds both of a pair is re-solved with one or the other left out (exact for the
few pairs a real config names).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from mergeopt.engine.instance import Instance
from mergeopt.engine.strategies.lagrangian import knapsack_step, range_min

Vector = np.ndarray

#: Widest exact table (whole list sizes, one patient a unit) before units of s patients.
EXACT_WIDTH = 2001
#: Width of the table when sizes are counted in units of s patients.
SCALED_WIDTH = 1001
#: Largest backtracking table (arcs x width, one byte each) held for one pricing.
MAX_TABLE = 80_000_000
_TOL = 1e-9


@dataclass(frozen=True)
class Knapsacks:
    """The per-hub knapsacks of an instance over items, in units of ``unit`` patients.

    Hubs are indexed 0..h-1 (``hubs`` gives each one's practice position); arcs
    0..a-1 are (item, hub) pairs an item may join, sorted by item. ``exact`` says the
    table counts whole patients (one unit each) so a knapsack's value is the real one.
    """

    n: int
    item_of: Vector  # (n,) practice -> item
    items: list[Vector]  # practices of each item
    item_size: Vector  # (m,) patients
    low: Vector  # (m,) units counted down
    high: Vector  # (m,) units counted up
    hubs: Vector  # (h,) practice positions
    hub_item: Vector  # (h,) the hub's own item
    hub_cost: Vector  # (h,) group weight plus the hub item's arc costs
    base: Vector  # (h,) patients of the hub's own item
    cap: Vector  # (h,) min(U, C_j), at most every patient
    arc_item: Vector  # (a,)
    arc_hub: Vector  # (a,) index into hubs
    arc_cost: Vector  # (a,) objective of the item joining the hub
    min_size: Vector  # (h,) L, or 0 for a practice that stands alone
    unit: float
    exact: bool
    width: int
    cannot: tuple[tuple[int, int], ...]  # item pairs never in one group
    by_item: list[Vector] = field(repr=False)  # arcs of each item
    by_hub: list[Vector] = field(repr=False)  # arcs into each hub, by item order
    hub_of_practice: Vector = field(repr=False)  # (n,) hub index of practice j, or -1

    @property
    def num_hubs(self) -> int:
        return len(self.hubs)

    @property
    def num_arcs(self) -> int:
        return len(self.arc_item)


def _items(inst: Instance) -> tuple[Vector, list[Vector]]:
    """Must-link components: (practice -> item, practices of each item)."""
    parent = np.arange(inst.n)

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = int(parent[a])
        return a

    for a, b in inst.must_link:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    roots = np.asarray([find(i) for i in range(inst.n)], dtype=np.int64)
    _, item_of = np.unique(roots, return_inverse=True)
    item_of = np.asarray(item_of, dtype=np.int64)
    items = [np.flatnonzero(item_of == k) for k in range(int(item_of.max(initial=-1)) + 1)]
    return item_of, items


def build(inst: Instance) -> Knapsacks:
    """The knapsacks of ``inst`` (arcs from :meth:`Instance.arcs`, items from must-links)."""
    ai, aj = inst.arcs()
    coef = inst.arc_objective(ai, aj)
    cost = np.full((inst.n, inst.n), np.inf)
    cost[ai, aj] = coef
    item_of, items = _items(inst)
    m = len(items)
    item_size = np.bincount(item_of, weights=inst.size, minlength=m).astype(float)
    usable = inst.hubs_usable()
    # an item joins hub j when every practice of it has an arc to j: its cost is the sum
    item_cost = np.zeros((m, inst.n))
    np.add.at(item_cost, item_of, cost)
    total = float(inst.size.sum())
    hubs_list, hub_cost_list = [], []
    for j in np.flatnonzero(usable).tolist():
        own = item_cost[item_of[j], j]
        if np.isfinite(own):
            hubs_list.append(j)
            hub_cost_list.append(inst.weights[2] + own)
    hubs = np.asarray(hubs_list, dtype=np.int64)
    hub_item = item_of[hubs]
    base = item_size[hub_item]
    cap = np.minimum(inst.max_size[hubs], total)
    joinable = np.isfinite(item_cost[:, hubs])
    joinable[hub_item, np.arange(len(hubs))] = False
    arc_item, arc_hub = np.nonzero(joinable)  # row-major: sorted by item
    arc_cost = item_cost[:, hubs][arc_item, arc_hub]
    room = cap - base
    whole = bool(np.all(inst.size == np.round(inst.size)))
    widest = float(max(room.max(initial=0.0), 0.0))
    exact = whole and widest <= EXACT_WIDTH - 1
    unit = 1.0 if exact else max(widest, 1.0) / (SCALED_WIDTH - 1)
    units = item_size / unit
    low = np.floor(units + _TOL).astype(np.int64)
    high = np.ceil(units - _TOL).astype(np.int64)
    width = math.floor(widest / unit + _TOL) + 1
    by_item = np.split(
        np.arange(len(arc_item)), np.cumsum(np.bincount(arc_item, minlength=m))[:-1]
    )
    order = np.argsort(arc_hub, kind="stable")
    by_hub = np.split(order, np.cumsum(np.bincount(arc_hub, minlength=len(hubs)))[:-1])
    hub_of_practice = np.full(inst.n, -1, dtype=np.int64)
    hub_of_practice[hubs] = np.arange(len(hubs))
    cannot = tuple(
        sorted(
            {
                (int(min(item_of[a], item_of[b])), int(max(item_of[a], item_of[b])))
                for a, b in inst.cannot_link
            }
        )
    )
    return Knapsacks(
        n=inst.n,
        item_of=item_of,
        items=items,
        item_size=item_size,
        low=low,
        high=high,
        hubs=hubs,
        hub_item=hub_item,
        hub_cost=np.asarray(hub_cost_list, dtype=float),
        base=base,
        cap=cap,
        arc_item=np.asarray(arc_item, dtype=np.int64),
        arc_hub=np.asarray(arc_hub, dtype=np.int64),
        arc_cost=np.asarray(arc_cost, dtype=float),
        min_size=np.where(inst.standing_alone()[hubs], 0.0, float(inst.min_size)),
        unit=unit,
        exact=exact,
        width=width,
        cannot=cannot,
        by_item=by_item,
        by_hub=by_hub,
        hub_of_practice=hub_of_practice,
    )


@dataclass
class Restriction:
    """What a node of the tree has decided: hubs closed or forced open, arcs removed,
    items forced into a hub's group (arcs). Children copy their parent's."""

    hub_closed: Vector
    hub_open: Vector
    arc_off: Vector
    arc_forced: Vector

    @classmethod
    def none(cls, ks: Knapsacks) -> Restriction:
        h, a = ks.num_hubs, ks.num_arcs
        return cls(
            np.zeros(h, dtype=bool),
            np.zeros(h, dtype=bool),
            np.zeros(a, dtype=bool),
            np.zeros(a, dtype=bool),
        )

    def copy(self) -> Restriction:
        return Restriction(
            self.hub_closed.copy(),
            self.hub_open.copy(),
            self.arc_off.copy(),
            self.arc_forced.copy(),
        )


def open_hub(ks: Knapsacks, r: Restriction, h: int) -> None:
    """Force hub ``h`` open: its own item joins no other hub, and no other practice of
    that item (must-linked to the hub) hosts a group."""
    r.hub_open[h] = True
    r.arc_off[ks.by_item[int(ks.hub_item[h])]] = True
    twins = ks.hub_item == ks.hub_item[h]
    twins[h] = False
    r.hub_closed |= twins


def close_hub(ks: Knapsacks, r: Restriction, h: int) -> None:
    r.hub_closed[h] = True


def force_arc(ks: Knapsacks, r: Restriction, arc: int) -> None:
    """Force arc ``arc``'s item into its hub's group: the hub opens, the item joins no other
    hub and hosts no group of its own."""
    k, h = int(ks.arc_item[arc]), int(ks.arc_hub[arc])
    others = ks.by_item[k]
    r.arc_off[others[others != arc]] = True
    r.arc_forced[arc] = True
    open_hub(ks, r, h)
    r.hub_closed[ks.hub_item == k] = True


def windows(ks: Knapsacks, r: Restriction) -> tuple[Vector, Vector, Vector, Vector]:
    """Per hub: the members' window in units (low, high), the forced members' load in
    patients, and whether the hub can host a group at all at this node."""
    forced = np.bincount(
        ks.arc_hub[r.arc_forced],
        weights=ks.item_size[ks.arc_item[r.arc_forced]],
        minlength=ks.num_hubs,
    )
    lo = (ks.min_size - ks.base - forced) / ks.unit
    hi = (ks.cap - ks.base - forced) / ks.unit
    high = np.floor(hi + _TOL).astype(np.int64)
    need = np.ceil(lo - _TOL).astype(np.int64)
    # no whole number of units within a real window [lo, hi]: a real load may still be
    # there (between units), counted as floor(hi) by the knapsack; with exact units not
    low = np.maximum(np.minimum(need, high), 0)
    ok = (high >= 0) & (lo <= hi + _TOL) & ~r.hub_closed
    if ks.exact:
        ok &= need <= high
    # two forced items of a cannot-link pair in one hub
    for a, b in ks.cannot:
        both = r.arc_forced & np.isin(ks.arc_item, (a, b))
        counts = np.bincount(ks.arc_hub[both], minlength=ks.num_hubs)
        ok &= counts < 2
    return low, np.minimum(high, ks.width - 1), forced, ok


@dataclass(frozen=True)
class Priced:
    """One pricing pass at practice duals ``u`` under a node's restriction.

    ``value[h]`` is hub h's best column's value :math:`v_j` (inf where it cannot host);
    ``table`` the least reduced cost of free members per exact load (h, width); ``best``
    the load (units) of the best one; ``taken`` the backtracking choices per arc, which
    are all 0 outside ``priced`` (the arcs the tables took in).
    """

    u: Vector
    reduced: Vector  # (a,) per arc
    value: Vector  # (h,)
    table: Vector  # (h, width)
    best: Vector  # (h,)
    taken: Vector  # (a, width) int8: 0 out, 1 low units, 2 high units
    low: Vector
    high: Vector
    ok: Vector
    priced: Vector  # (a,) bool


def price(ks: Knapsacks, r: Restriction, u: Vector) -> Priced:
    """Every hub's knapsack at duals ``u`` (per practice), all hubs at once by item."""
    item_u = np.bincount(ks.item_of, weights=u, minlength=len(ks.items))
    reduced = ks.arc_cost - item_u[ks.arc_item]
    low, high, _, ok = windows(ks, r)
    width = ks.width
    table = np.full((ks.num_hubs, width), np.inf)
    table[:, 0] = 0.0
    taken = np.zeros((ks.num_arcs, width), dtype=np.int8)
    free = ~(r.arc_off | r.arc_forced) & ok[ks.arc_hub]
    # without a minimum to reach, an item of non-negative reduced cost never helps
    useful = free & ((reduced < 0) | (low[ks.arc_hub] > 0))
    for k in np.unique(ks.arc_item[useful]).tolist():
        arcs = ks.by_item[k]
        arcs = arcs[useful[arcs]]
        rows = ks.arc_hub[arcs]
        units = (int(ks.low[k]), int(ks.high[k]))
        best, choice = knapsack_step(table[rows], units, reduced[arcs], width)
        table[rows] = best
        taken[arcs] = choice
    item_u_hub = item_u[ks.hub_item]
    forced_cost = np.bincount(
        ks.arc_hub[r.arc_forced], weights=reduced[r.arc_forced], minlength=ks.num_hubs
    )
    loads = np.where(in_window(low, high, width), table, np.inf)
    at = loads.argmin(axis=1)
    knap = loads[np.arange(ks.num_hubs), at]
    value = np.where(ok, ks.hub_cost - item_u_hub + forced_cost + knap, np.inf)
    return Priced(u, reduced, value, table, at, taken, low, high, ok, useful)


def in_window(low: Vector, high: Vector, width: int) -> Vector:
    w = np.arange(width)
    return (w[None, :] >= low[:, None]) & (w[None, :] <= high[:, None])


def members(ks: Knapsacks, r: Restriction, p: Priced, h: int, load: int | None = None) -> Vector:
    """Items of hub ``h``'s best load (or of the best load of exactly ``load`` units),
    forced items included; sorted item indices."""
    w = int(p.best[h] if load is None else load)
    chosen: list[int] = []
    arcs = ks.by_hub[h]
    for arc in arcs[p.priced[arcs]][::-1].tolist():  # the others took nothing
        if w <= 0:
            break
        kind = p.taken[arc, w]
        if kind:
            k = int(ks.arc_item[arc])
            chosen.append(k)
            w -= int(ks.low[k] if kind == 1 else ks.high[k])
    forced = ks.arc_item[arcs[r.arc_forced[arcs]]]
    return np.unique(np.asarray([*chosen, *forced.tolist()], dtype=np.int64))


def hub_knapsack(
    ks: Knapsacks, r: Restriction, reduced: Vector, h: int, banned: frozenset[int] = frozenset()
) -> tuple[float, Vector]:
    """Hub ``h``'s knapsack alone, without the items ``banned``, cannot-link pairs kept
    by leaving out one or the other of a pair the best load holds (recursively).

    Returns the least reduced cost of the free members (inf if none fits) and the items.
    """
    low, high, _, ok = windows(ks, r)
    if not ok[h]:
        return math.inf, np.zeros(0, dtype=np.int64)
    arcs = ks.by_hub[h]
    keep = ~(r.arc_off[arcs] | r.arc_forced[arcs])
    keep &= ~np.isin(ks.arc_item[arcs], list(banned))
    keep &= (reduced[arcs] < 0) | (low[h] > 0)
    arcs = arcs[keep]
    found = _one_table(ks, reduced, arcs, int(low[h]), int(high[h]))
    if found is None:
        return math.inf, np.zeros(0, dtype=np.int64)
    value, chosen = found
    forced = ks.arc_item[ks.by_hub[h][r.arc_forced[ks.by_hub[h]]]]
    items = np.unique(np.asarray([*chosen, *forced.tolist()], dtype=np.int64))
    pair = clash(ks, items, int(ks.hub_item[h]))
    if pair is None:
        return value, items
    best_value, best_items = math.inf, np.zeros(0, dtype=np.int64)
    for left_out in pair:
        if r.arc_forced[ks.by_hub[h]][ks.arc_item[ks.by_hub[h]] == left_out].any():
            continue  # a forced item stays
        if left_out == ks.hub_item[h]:
            continue  # the hub's own item stays
        other, other_items = hub_knapsack(ks, r, reduced, h, banned | {left_out})
        if other < best_value:
            best_value, best_items = other, other_items
    return best_value, best_items


def _one_table(
    ks: Knapsacks, reduced: Vector, arcs: Vector, low: int, high: int
) -> tuple[float, list[int]] | None:
    """One hub's table over ``arcs``: the least reduced cost of a load within
    [low, high] units and its items, or None if no load fits."""
    width = high + 1
    table = np.full(width, np.inf)
    table[0] = 0.0
    taken = np.zeros((len(arcs), width), dtype=np.int8)
    for t, arc in enumerate(arcs.tolist()):
        k = int(ks.arc_item[arc])
        best = table
        for kind, q in ((1, int(ks.low[k])), (2, int(ks.high[k]))):
            if (kind == 2 and q == ks.low[k]) or q >= width:
                continue
            shifted = np.full(width, np.inf)
            shifted[q:] = table[: width - q] + reduced[arc]
            better = shifted < best
            best = np.where(better, shifted, best)
            taken[t, better] = kind
        table = best
    window = table[low:]
    if len(window) == 0 or not np.isfinite(window).any():
        return None
    w = low + int(window.argmin())
    value = float(table[w])
    chosen: list[int] = []
    for t in range(len(arcs) - 1, -1, -1):
        kind = taken[t, w]
        if kind:
            k = int(ks.arc_item[arcs[t]])
            chosen.append(k)
            w -= int(ks.low[k] if kind == 1 else ks.high[k])
    return value, chosen


def clash(ks: Knapsacks, items: Vector, own: int) -> tuple[int, int] | None:
    """A cannot-link pair both in a group of ``items`` and the hub's item ``own``."""
    if not ks.cannot:
        return None
    inside = {own, *items.tolist()}
    for a, b in ks.cannot:
        if a in inside and b in inside:
            return a, b
    return None


def with_cannot_links(ks: Knapsacks, r: Restriction, p: Priced) -> Priced:
    """``p`` with each hub whose best load breaks a cannot-link pair re-solved exactly
    (:func:`hub_knapsack`): its value rises to the best load that keeps the pairs."""
    if not ks.cannot:
        return p
    value = p.value.copy()
    item_u = np.bincount(ks.item_of, weights=p.u, minlength=len(ks.items))
    forced_cost = np.bincount(
        ks.arc_hub[r.arc_forced], weights=p.reduced[r.arc_forced], minlength=ks.num_hubs
    )
    for h in np.flatnonzero(np.isfinite(value)).tolist():
        items = members(ks, r, p, h)
        if clash(ks, items, int(ks.hub_item[h])) is None:
            continue
        knap, _ = hub_knapsack(ks, r, p.reduced, h)
        value[h] = ks.hub_cost[h] - item_u[ks.hub_item[h]] + forced_cost[h] + knap
    return replace(p, value=value)


# ---------------------------------------------------------------------------------------
# The choice of hubs within the group count, and what it proves


@dataclass(frozen=True)
class Choice:
    """The cheapest choice of hubs for hub values ``value`` within the count: which hubs
    it opens, its value, and its value with each hub forced open or closed."""

    chosen: Vector
    value: float
    if_open: Vector
    if_closed: Vector


def choose(value: Vector, forced: Vector, count: tuple[int, int]) -> Choice:
    """Forced hubs, then the cheapest others: at least enough to reach the minimum count,
    more while they are negative, at most the maximum count. Infinite if impossible."""
    h = len(value)
    inf = math.inf
    finite = np.isfinite(value)
    if (forced & ~finite).any():
        return Choice(forced.copy(), inf, np.full(h, inf), np.full(h, inf))
    k_min, k_max = count
    base = float(value[forced].sum())
    n_forced = int(forced.sum())
    need, room = max(k_min - n_forced, 0), k_max - n_forced
    free = np.flatnonzero(finite & ~forced)
    order = free[np.argsort(value[free], kind="stable")]
    s = value[order]
    prefix = np.concatenate([[0.0], np.cumsum(s)])
    negatives = int((s < 0).sum())

    def best(need: int, room: int, count_free: int, neg: int) -> tuple[bool, int]:
        if room < 0 or count_free < need or room < need:
            return False, 0
        return True, min(max(neg, need), room, count_free)

    feasible, take = best(need, room, len(s), negatives)
    chosen = forced.copy()
    chosen[order[:take]] = True
    total = base + float(prefix[take]) if feasible else inf
    if_open = np.full(h, inf)
    if_closed = np.full(h, inf)
    if_open[forced] = total
    if_closed[~finite & ~forced] = total  # a hub that cannot open: closing it changes nothing
    position = np.empty(len(order), dtype=np.int64)
    position[:] = np.arange(len(order))
    for p_, hub in enumerate(order.tolist()):
        neg = negatives - int(s[p_] < 0)
        # forced open: the others choose with one place less
        ok, t = best(max(need - 1, 0), room - 1, len(s) - 1, neg)
        if ok:
            rest = prefix[t] if t <= p_ else prefix[t + 1] - s[p_]
            if_open[hub] = base + float(s[p_]) + float(rest)
        ok, t = best(need, room, len(s) - 1, neg)
        if ok:
            rest = prefix[t] if t <= p_ else prefix[t + 1] - s[p_]
            if_closed[hub] = base + float(rest)
    return Choice(chosen, total, if_open, if_closed)


def arc_bounds(ks: Knapsacks, r: Restriction, p: Priced, choice: Choice) -> Vector:
    """Per arc, :math:`L(u)` with its item forced into its hub's group (inf where the arc
    is off or forced already): the hub forced open, its value taken as the item's reduced
    cost plus the best load of the window shifted by the item's units (over a table that
    may hold the item itself: a relaxation, so a proven bound for that child)."""
    out = np.full(ks.num_arcs, np.inf)
    arcs = np.flatnonzero(~r.arc_off & ~r.arc_forced & np.isfinite(p.value[ks.arc_hub]))
    h = ks.arc_hub[arcs]
    k = ks.arc_item[arcs]
    loads = np.where(in_window(p.low, p.high, ks.width), p.table, np.inf)
    current = loads.min(axis=1)
    with_item = np.full(len(arcs), np.inf)
    for units in (ks.low[k], ks.high[k]):
        lo = np.maximum(p.low[h] - units, 0)
        hi = p.high[h] - units
        with_item = np.minimum(with_item, range_min(p.table, h, lo, hi))
    extra = p.reduced[arcs] + with_item - current[h]
    out[arcs] = float(p.u.sum()) + choice.if_open[h] + extra
    return out


def fixing(
    ks: Knapsacks, r: Restriction, p: Priced, choice: Choice, cutoff: float
) -> tuple[Vector, Vector, Vector]:
    """Hubs to close, hubs to open and arcs to remove below ``cutoff`` at these duals.

    A hub whose forced opening lifts :math:`L(u)` to the cut-off is used by no better
    grouping; one whose closing does is opened by all. An arc: the hub forced open and
    the item forced in, the hub's value taken as the item's reduced cost plus the best
    load of the window shifted by the item's units (over a table that may hold the item
    itself: a relaxation).
    """
    total_u = float(p.u.sum())
    close = (total_u + choice.if_open >= cutoff) & ~r.hub_closed
    open_ = (total_u + choice.if_closed >= cutoff) & ~r.hub_open & ~close
    off = (arc_bounds(ks, r, p, choice) >= cutoff) & ~r.arc_off & ~r.arc_forced
    return close, open_, off
