"""Fast feasible groupings: a warm start for the solver and the answer when it cannot close.

Two steps, each keeping every rule of the instance (the third, re-optimising
neighbourhoods of groups with the MIP, is :mod:`mergeopt.engine.strategies.matheuristic`):

1. :func:`construct`: a greedy grouping. With a minimum list size, groups are grown
   around hubs from the hardest-to-place practice outwards; otherwise hubs are chosen
   as for a p-median (greedy adding) and practices assigned by regret within the
   hubs' bounds.
2. :func:`local_search`: move one practice to another group, swap two practices,
   move a group's hub to the member that serves it best, while the objective falls.

Every step looks at its ``deadline`` (``time.perf_counter()``; None for none): a
construction past it gives up (None), an improvement returns the best so far. On a
3,000-point instance the greedy ran 138-155 s of a 180 s limit before it did.

None of this proves anything: a grouping from here is "feasible" with the bound a
solver or a bound procedure proved. :func:`~mergeopt.engine.instance.broken_rules` checks
a grouping against every rule of an :class:`~mergeopt.engine.instance.Instance`.
"""

from __future__ import annotations

import time

import numpy as np

from mergeopt.engine.instance import (
    Instance,
    Vector,
    arc_costs,
    broken_rules,
    feasible,
    objective_value,
    uncapacitated,
)

_TOL = 1e-9


# ---------------------------------------------------------------------------------------
# 1. Construction


class Expired(Exception):
    """The deadline passed before a construction was finished."""


def past(deadline: float | None) -> bool:
    """Whether ``deadline`` (``time.perf_counter()``, or None for none) has passed."""
    return deadline is not None and time.perf_counter() >= deadline


def construct(inst: Instance, *, deadline: float | None = None) -> Vector | None:
    """A greedy grouping that keeps every rule, or None if the greedy finds none by
    ``deadline`` (``time.perf_counter()``; None: no deadline)."""
    coef = arc_costs(inst)
    found: list[Vector] = []
    for build in (_grow_groups, _hubs_then_assign):
        if past(deadline):
            break
        try:
            hub_of = build(inst, coef, deadline)
        except Expired:
            break
        if hub_of is not None:
            if uncapacitated(inst):
                hub_of = interchange(inst, hub_of, coef, deadline=deadline)
            hub_of = local_search(inst, hub_of, coef, deadline=deadline)
            if feasible(inst, hub_of):
                found.append(hub_of)
    if not found:
        return None
    return min(found, key=lambda h: objective_value(inst, h))


def _grow_groups(inst: Instance, coef: Vector, deadline: float | None) -> Vector | None:
    """Groups grown to the minimum list size around hubs, hardest practice first."""
    n = inst.n
    hub_of = np.full(n, -1, dtype=np.int64)
    usable = inst.hubs_usable()
    for j in np.flatnonzero(inst.must_hub):  # forced hubs and takeovers first
        if not usable[j]:
            return None
        hub_of[j] = j
    for a, b in inst.fixed:
        if hub_of[b] != b or not np.isfinite(coef[a, b]):
            return None
        hub_of[a] = b
    load = np.bincount(hub_of[hub_of >= 0], weights=inst.size[hub_of >= 0], minlength=n)
    reach = np.isfinite(coef)
    while True:
        free = hub_of == -1
        if not free.any():
            break
        if past(deadline):
            raise Expired
        # the hardest practice: the fewest free patients around its best free hub
        hub_reach = (reach[free] * inst.size[free][:, None]).sum(axis=0)
        hub_reach[~(free & usable)] = 0.0
        hardest = np.where(reach[free], hub_reach[None, :], 0.0).max(axis=1)
        seed = int(np.flatnonzero(free)[np.argmin(hardest)])
        if not _grow_one(inst, coef, hub_of, load, seed):
            hub_of[seed] = -2  # placed later into an existing group
    return _place_leftovers(inst, coef, hub_of, load, deadline)


def _grow_one(inst: Instance, coef: Vector, hub_of: Vector, load: Vector, seed: int) -> bool:
    free = hub_of == -1
    options = np.flatnonzero(np.isfinite(coef[seed]) & free & inst.hubs_usable())
    for h in options[np.argsort(coef[seed, options], kind="stable")].tolist():
        pool = np.flatnonzero(free & np.isfinite(coef[:, h]))
        pool = pool[(pool != h) & (pool != seed)]
        pool = pool[np.argsort(coef[pool, h], kind="stable")]
        members = [h] if h == seed else [h, seed]
        total = float(inst.size[members].sum())
        if total > inst.max_size[h] + _TOL:
            continue
        for i in pool.tolist():
            if total >= inst.min_size - _TOL:
                break
            if total + inst.size[i] <= inst.max_size[h] + _TOL:
                members.append(i)
                total += float(inst.size[i])
        if total >= inst.min_size - _TOL:
            hub_of[members] = h
            load[h] = total
            return True
    return False


def _place_leftovers(
    inst: Instance, coef: Vector, hub_of: Vector, load: Vector, deadline: float | None
) -> Vector | None:
    """Each practice no group was grown for joins the cheapest open group with room."""
    left = np.flatnonzero(hub_of < 0)
    hubs = np.flatnonzero(hub_of == np.arange(inst.n))
    for i in left[np.argsort(-inst.size[left], kind="stable")].tolist():
        if hub_of[i] >= 0:  # taken into a group gathered for an earlier practice
            continue
        if past(deadline):
            raise Expired
        room = load[hubs] + inst.size[i] <= inst.max_size[hubs] + _TOL
        options = hubs[room & np.isfinite(coef[i, hubs])]
        if len(options) == 0:
            if not _gather_group(inst, coef, hub_of, load, i):
                return None
            hubs = np.flatnonzero(hub_of == np.arange(inst.n))
            continue
        h = int(options[np.argmin(coef[i, options])])
        hub_of[i] = h
        load[h] += inst.size[i]
    return hub_of


def _gather_group(inst: Instance, coef: Vector, hub_of: Vector, load: Vector, seed: int) -> bool:
    """A new group around ``seed`` (no group has room for it), made of members other
    groups can spare: each donor group keeps the minimum list size and its hub.

    On ICB QOP at 20 minutes the greedy left one practice of 20,084 patients whose 26
    reachable networks all held over 30,000; without this the greedy found no grouping
    and HiGHS started from nothing.
    """
    free = hub_of < 0
    hubs = np.flatnonzero(inst.hubs_usable() & np.isfinite(coef[seed]) & (free | (hub_of == -2)))
    for h in hubs[np.argsort(coef[seed, hubs], kind="stable")].tolist():
        members = [h] if h == seed else [h, seed]
        total = float(inst.size[members].sum())
        if total > inst.max_size[h] + _TOL:
            continue
        spare = load.copy()
        taken: list[int] = []
        joined = (hub_of >= 0) & (hub_of != np.arange(inst.n))
        pool = np.flatnonzero(np.isfinite(coef[:, h]) & joined)
        for m in pool[np.argsort(coef[pool, h], kind="stable")].tolist():
            if total >= inst.min_size - _TOL:
                break
            donor = int(hub_of[m])
            keeps = spare[donor] - inst.size[m] >= inst.min_size - _TOL
            if keeps and total + inst.size[m] <= inst.max_size[h] + _TOL:
                taken.append(m)
                spare[donor] -= inst.size[m]
                total += float(inst.size[m])
        if total >= inst.min_size - _TOL:
            load[:] = spare
            hub_of[members + taken] = h
            load[h] = total
            return True
    return False


def _hubs_then_assign(inst: Instance, coef: Vector, deadline: float | None) -> Vector | None:
    """p-median greedy hubs, then assignment by regret within the hubs' bounds."""
    n = inst.n
    usable = np.flatnonzero(inst.hubs_usable())
    if len(usable) == 0:
        return None
    count = _target_count(inst)
    finite = np.isfinite(coef)
    big = 10.0 * (float(coef[finite].max()) + 1.0) if finite.any() else 1.0
    cost = np.where(finite, coef, big * 10)
    chosen: list[int] = np.flatnonzero(inst.must_hub & inst.hubs_usable()).tolist()
    best = cost[:, chosen].min(axis=1) if chosen else np.full(n, big * 10)
    while len(chosen) < count:
        if past(deadline):
            raise Expired
        gain = np.maximum(best[:, None] - cost[:, usable], 0.0).sum(axis=0)
        gain[np.isin(usable, chosen)] = -1.0
        if gain.max() < 0:
            break
        j = int(usable[np.argmax(gain)])
        chosen.append(j)
        best = np.minimum(best, cost[:, j])
    return _assign_by_regret(inst, coef, np.asarray(sorted(chosen), dtype=np.int64), deadline)


def assign_and_improve(
    inst: Instance, hubs: Vector, *, deadline: float | None = None
) -> Vector | None:
    """Practices assigned to the given ``hubs`` by regret within their bounds, then local
    search, to ``deadline``; None if that gives no grouping keeping every rule."""
    coef = arc_costs(inst)
    try:
        hub_of = _assign_by_regret(inst, coef, hubs, deadline)
    except Expired:
        return None
    if hub_of is None:
        return None
    hub_of = local_search(inst, hub_of, coef, deadline=deadline)
    return hub_of if feasible(inst, hub_of) else None


def target_count(inst: Instance) -> int:
    """How many groups the greedy opens: the count rule's, or the patients over the
    middle of the list-size bounds."""
    return _target_count(inst)


def _target_count(inst: Instance) -> int:
    total = float(inst.size.sum())
    upper = (
        float(np.median(inst.max_size[np.isfinite(inst.max_size)]))
        if np.isfinite(inst.max_size).any()
        else total
    )
    if inst.min_size > 0:
        guess = int(total / (0.5 * (inst.min_size + min(upper, total))))
    else:
        guess = int(np.ceil(total / max(upper, 1e-9) * 1.1))
    low = inst.count_min if inst.count_min is not None else 1
    high = inst.count_max if inst.count_max is not None else inst.n
    return max(low, min(high, max(guess, 1)))


def _assign_by_regret(
    inst: Instance, coef: Vector, hubs: Vector, deadline: float | None
) -> Vector | None:
    n = inst.n
    hub_of = np.full(n, -1, dtype=np.int64)
    hub_of[hubs] = hubs
    load = np.zeros(n)
    load[hubs] = inst.size[hubs]
    for a, b in inst.fixed:
        if hub_of[b] != b:
            return None
        if hub_of[a] < 0:
            hub_of[a] = b
            load[b] += inst.size[a]
    sub = coef[:, hubs]
    while (hub_of < 0).any():
        if past(deadline):
            raise Expired
        left = np.flatnonzero(hub_of < 0)
        room = load[hubs][None, :] + inst.size[left][:, None] <= inst.max_size[hubs] + _TOL
        options = np.where(room, sub[left], np.inf)
        ordered = np.sort(options, axis=1)
        first = ordered[:, 0]
        if not np.isfinite(first).all():
            return None
        second = ordered[:, 1] if ordered.shape[1] > 1 else np.full(len(left), np.inf)
        regret = np.where(np.isfinite(second), second - first, np.inf)
        pick = int(np.argmax(regret + 1e-9 * inst.size[left]))
        i = int(left[pick])
        h = int(hubs[np.argmin(options[pick])])
        hub_of[i] = h
        load[h] += inst.size[i]
    return hub_of


def interchange(
    inst: Instance,
    hub_of: Vector,
    coef: Vector | None = None,
    *,
    deadline: float | None = None,
) -> Vector:
    """Vertex substitution for an :func:`uncapacitated` instance (Teitz and Bart's
    interchange, evaluated all at once as in Whitaker's fast interchange).

    Each round prices every swap of an open hub *h* for a closed candidate *c*: adding
    *c* moves each practice to *c* where cheaper; closing *h* then sends *h*'s members
    to the cheaper of *c* and their second-cheapest open hub. The best improving swap is
    made until none improves; forced hubs stay. The group count never changes, so the
    result keeps the count rule of ``hub_of``; each practice joins its cheapest hub.
    Stops swapping at ``deadline``.
    """
    coef = arc_costs(inst) if coef is None else coef
    usable = inst.hubs_usable()
    hubs = np.unique(hub_of)
    rows = np.arange(inst.n)
    for _ in range(10 * inst.n):
        if past(deadline):
            break
        closed = np.flatnonzero(usable & ~np.isin(np.arange(inst.n), hubs))
        if len(closed) == 0:
            break
        open_cost = coef[:, hubs]
        order = np.argsort(open_cost, axis=1, kind="stable")
        first = open_cost[rows, order[:, 0]]
        second = open_cost[rows, order[:, 1]] if len(hubs) > 1 else np.full(inst.n, np.inf)
        if not np.isfinite(first).all():
            break  # not a grouping every practice can join: leave it to the caller
        new = coef[:, closed]
        with_c = np.minimum(first[:, None], new)
        gain = (with_c - first[:, None]).sum(axis=0)  # adding c (never positive)
        extra = np.minimum(second[:, None], new) - with_c  # i's hub closed, c added
        loss = np.zeros((len(hubs), len(closed)))
        np.add.at(loss, order[:, 0], extra)
        delta = gain[None, :] + loss
        delta[inst.must_hub[hubs], :] = np.inf
        h, c = np.unravel_index(int(np.argmin(delta)), delta.shape)
        if not delta[h, c] < -_TOL * max(1.0, float(first.sum())):
            break
        hubs = np.sort(np.append(np.delete(hubs, h), closed[c]))
    best = hubs[np.argmin(coef[:, hubs], axis=1)]
    best[hubs] = hubs
    if not np.isfinite(coef[rows, best]).all():
        return hub_of
    best = np.asarray(best, dtype=np.int64)
    # the swaps priced each hub at its cheapest open hub; a hub stays in its own group,
    # which costs more only where a travel matrix has a non-zero diagonal
    return best if objective_value(inst, best) <= objective_value(inst, hub_of) else hub_of


# ---------------------------------------------------------------------------------------
# 2. Local search


def local_search(
    inst: Instance,
    hub_of: Vector,
    coef: Vector | None = None,
    *,
    rounds: int = 50,
    deadline: float | None = None,
) -> Vector:
    """Shift, swap and hub moves while the objective falls (first improvement per round),
    until ``deadline``; every move keeps the grouping valid, so stopping at any point
    returns one.

    Moves keep loads within bounds and arcs allowed; an instance with links, fixed
    assignments or contiguity only gets hub moves checked by :func:`broken_rules`.
    """
    coef = arc_costs(inst) if coef is None else coef
    hub_of = hub_of.copy()
    simple = not (inst.must_link or inst.cannot_link or inst.fixed or inst.contiguous)
    for _ in range(rounds):
        if past(deadline):
            break
        changed = False
        if simple:
            changed |= _shift_moves(inst, coef, hub_of, deadline)
            changed |= _swap_moves(inst, coef, hub_of, deadline)
        changed |= _hub_moves(inst, coef, hub_of, deadline)
        if not changed:
            break
    return hub_of


def _shift_moves(inst: Instance, coef: Vector, hub_of: Vector, deadline: float | None) -> bool:
    n = inst.n
    hubs = np.flatnonzero(hub_of == np.arange(n))
    load = np.bincount(hub_of, weights=inst.size, minlength=n)
    changed = False
    for i in np.flatnonzero(hub_of != np.arange(n)).tolist():
        if past(deadline):
            break
        a = hub_of[i]
        if load[a] - inst.size[i] < inst.min_size - _TOL:
            continue
        room = load[hubs] + inst.size[i] <= inst.max_size[hubs] + _TOL
        gain = coef[i, a] - coef[i, hubs]
        gain[~room | (hubs == a)] = -np.inf
        k = int(np.argmax(gain))
        if gain[k] > 1e-9:
            b = hubs[k]
            hub_of[i] = b
            load[a] -= inst.size[i]
            load[b] += inst.size[i]
            changed = True
    return changed


def _swap_moves(inst: Instance, coef: Vector, hub_of: Vector, deadline: float | None) -> bool:
    n = inst.n
    load = np.bincount(hub_of, weights=inst.size, minlength=n)
    members = np.flatnonzero(hub_of != np.arange(n))
    changed = False
    for i in members.tolist():
        if past(deadline):
            break
        a = hub_of[i]
        others = members[hub_of[members] != a]
        if len(others) == 0:
            continue
        b = hub_of[others]
        delta = inst.size[others] - inst.size[i]  # change of a's load; b changes by -delta
        new_a, new_b = load[a] + delta, load[b] - delta
        ok = (new_a <= inst.max_size[a] + _TOL) & (new_a >= inst.min_size - _TOL)
        ok &= (new_b <= inst.max_size[b] + _TOL) & (new_b >= inst.min_size - _TOL)
        gain = coef[i, a] + coef[others, b] - coef[i, b] - coef[others, a]
        gain = np.where(ok & np.isfinite(gain), gain, -np.inf)
        k = int(np.argmax(gain))
        if gain[k] > 1e-9:
            other, hb = int(others[k]), int(b[k])
            hub_of[i], hub_of[other] = hb, a
            load[a] += delta[k]
            load[hb] -= delta[k]
            changed = True
    return changed


def _hub_moves(inst: Instance, coef: Vector, hub_of: Vector, deadline: float | None) -> bool:
    """Move each group's hub to the member that serves the group at least cost."""
    usable = inst.hubs_usable()
    changed = False
    for h in np.unique(hub_of).tolist():
        if past(deadline):
            break
        if inst.must_hub[h]:
            continue
        group = np.flatnonzero(hub_of == h)
        load = float(inst.size[group].sum())
        options = group[usable[group] & (inst.max_size[group] + _TOL >= load)]
        if len(options) < 2:
            continue
        total = coef[np.ix_(group, options)].sum(axis=0)
        k = int(np.argmin(total))
        if total[k] < coef[group, h].sum() - 1e-9:
            trial = hub_of.copy()
            trial[group] = options[k]
            linked = inst.contiguous or inst.fixed or inst.must_link or inst.cannot_link
            if linked and broken_rules(inst, trial):
                continue
            hub_of[group] = options[k]
            changed = True
    return changed
