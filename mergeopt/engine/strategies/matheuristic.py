"""The matheuristic: re-optimise neighbourhoods of groups exactly with the MIP.

:func:`improve` takes a group and its nearest groups, re-optimises that neighbourhood
exactly with a sub-solver (a callable, so that this search holds no solver calls of its
own), keeps the result if the whole grouping improves, and grows the neighbourhoods when a
round finds nothing better. The portfolio (:mod:`mergeopt.engine.portfolio`) runs it in a
second process beside HiGHS on the whole MIP, the two exchanging groupings. None of this
proves anything: the bound is always one proven for the whole instance.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from mergeopt.engine.formulation import model_arrays
from mergeopt.engine.instance import Instance, Vector, feasible, objective_value
from mergeopt.engine.options import SolveOptions
from mergeopt.engine.outcome import PROVEN_GAP
from mergeopt.engine.shared import Shared
from mergeopt.engine.solvers.highs import run_highs

#: Solve a (small) instance within a time limit, starting from a grouping (or None);
#: return the best grouping found, or None.
SubSolver = Callable[[Instance, Vector | None, float], Vector | None]
#: How long past the deadline the matheuristic's grouping is waited for.
BESIDE_GRACE_SECONDS = 5.0


def highs_sub_solver(options: SolveOptions) -> SubSolver:
    """The sub-solver :func:`improve` calls: HiGHS on a neighbourhood's MIP, quiet, from
    the neighbourhood's current grouping."""
    quiet = replace(options, log=False, progress=None)

    def solve_sub(sub: Instance, local: Vector | None, limit: float) -> Vector | None:
        return run_highs(model_arrays(sub), sub, quiet, limit, local).hub_of

    return solve_sub


def improve(
    inst: Instance,
    hub_of: Vector,
    solve_sub: SubSolver,
    *,
    deadline: float,
    size: int = 40,
    largest: int = 120,
    sub_time: float = 5.0,
    rng: np.random.Generator | None = None,
    target: float = -np.inf,
    shared: Shared | None = None,
) -> Vector:
    """Re-optimise neighbourhoods of groups until a round of all of them finds nothing.

    A neighbourhood is a group and its nearest groups (hub to hub), about ``size``
    practices; its practices and hubs are solved exactly as a sub-instance, the group
    count kept within the instance's bounds. Neighbourhoods grow by half after a round
    without improvement, up to ``largest`` practices; stops at ``deadline``
    (``time.perf_counter()``) or once the objective is at most ``target`` (a proven
    lower bound: nothing better exists). With ``shared`` (beside HiGHS in the
    portfolio), each better grouping is offered as it is found, a better one found
    beside is taken up, and it stops once the shared figures prove optimality.
    """
    rng = np.random.default_rng(0) if rng is None else rng
    best = hub_of.copy()
    value = objective_value(inst, best)
    tried: set[frozenset[int]] = set()
    while time.perf_counter() < deadline and value > target:
        if shared is not None:
            best, value = _exchange(inst, shared, best, value)
            if shared.proven(PROVEN_GAP):
                break
        better = False
        hubs = np.unique(best)
        for seed in rng.permutation(hubs).tolist():
            if time.perf_counter() >= deadline or value <= target:
                break
            area = _neighbourhood(inst, best, seed, size)
            key = frozenset(area.tolist())
            if key in tried:
                continue
            tried.add(key)
            trial = _reoptimise(inst, best, area, solve_sub, deadline, sub_time)
            if trial is not None:
                trial_value = objective_value(inst, trial)
                if trial_value < value - 1e-9 * max(1.0, abs(value)) and feasible(inst, trial):
                    best, value, better = trial, trial_value, True
                    tried.clear()
                    if shared is not None:
                        best, value = _exchange(inst, shared, best, value)
        if not better:
            if size >= min(largest, inst.n):
                break
            size = min(int(size * 1.5) + 1, largest, inst.n)
    return best


def _exchange(inst: Instance, shared: Shared, best: Vector, value: float) -> tuple[Vector, float]:
    """Offer ``best`` to the others and take up a better grouping they found."""
    shared.offer(best)
    shared.receive()
    if shared.best is not None and shared.value < value:
        return shared.best.copy(), shared.value
    return best, value


def _neighbourhood(inst: Instance, hub_of: Vector, seed: int, size: int) -> Vector:
    hubs = np.unique(hub_of)
    near = np.minimum(inst.cost[seed, hubs], inst.cost[hubs, seed])
    area: list[int] = []
    for h in hubs[np.argsort(near, kind="stable")].tolist():
        area += np.flatnonzero(hub_of == h).tolist()
        if len(area) >= size:
            break
    return np.asarray(sorted(area), dtype=np.int64)


def _reoptimise(
    inst: Instance,
    hub_of: Vector,
    area: Vector,
    solve_sub: SubSolver,
    deadline: float,
    sub_time: float,
) -> Vector | None:
    groups = len(np.unique(hub_of))
    here = len(np.unique(hub_of[area]))
    low = None if inst.count_min is None else max(1, here - (groups - inst.count_min))
    high = None if inst.count_max is None else here + (inst.count_max - groups)
    sub = inst.subset(area, count=(low, high))
    local = np.searchsorted(area, hub_of[area])
    limit = min(sub_time, deadline - time.perf_counter())
    if limit <= 0.01:
        return None
    grouping = solve_sub(sub, local, limit)
    if grouping is None:
        return None
    trial = hub_of.copy()
    trial[area] = area[grouping]
    return trial
