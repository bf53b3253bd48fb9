"""The matheuristic: re-optimise neighbourhoods of groups exactly with the MIP.

:func:`improve` takes a group and its nearest groups, re-optimises that neighbourhood
exactly with a sub-solver (a callable, so that this search holds no solver calls of its
own), keeps the result if the whole grouping improves, and grows the neighbourhoods when a
round finds nothing better. :func:`highs_beside_improve` runs it in a second process beside
HiGHS on the whole MIP, from the same start, and keeps the better grouping with HiGHS's
bound. None of this proves anything: the bound is always one proven for the whole instance.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from multiprocessing.connection import Connection

import numpy as np

from mergeopt.engine.formulation import Arrays, model_arrays
from mergeopt.engine.instance import Instance, Vector, feasible, objective_value
from mergeopt.engine.options import SolveOptions
from mergeopt.engine.outcome import Outcome, found
from mergeopt.engine.processes import process_context
from mergeopt.engine.solvers.highs import run_highs

#: Solve a (small) instance within a time limit, starting from a grouping (or None);
#: return the best grouping found, or None.
SubSolver = Callable[[Instance, Vector | None, float], Vector | None]
#: How long past the deadline the matheuristic's grouping is waited for.
BESIDE_GRACE_SECONDS = 5.0


def highs_sub_solver(options: SolveOptions) -> SubSolver:
    """The sub-solver :func:`improve` calls: HiGHS on a neighbourhood's MIP, quiet, from
    the neighbourhood's current grouping."""
    quiet = replace(options, log=False)

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
) -> Vector:
    """Re-optimise neighbourhoods of groups until a round of all of them finds nothing.

    A neighbourhood is a group and its nearest groups (hub to hub), about ``size``
    practices; its practices and hubs are solved exactly as a sub-instance, the group
    count kept within the instance's bounds. Neighbourhoods grow by half after a round
    without improvement, up to ``largest`` practices; stops at ``deadline``
    (``time.perf_counter()``) or once the objective is at most ``target`` (a proven
    lower bound: nothing better exists).
    """
    rng = np.random.default_rng(0) if rng is None else rng
    best = hub_of.copy()
    value = objective_value(inst, best)
    tried: set[frozenset[int]] = set()
    while time.perf_counter() < deadline and value > target:
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
        if not better:
            if size >= min(largest, inst.n):
                break
            size = min(int(size * 1.5) + 1, largest, inst.n)
    return best


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


def highs_beside_improve(
    arrays: Arrays, inst: Instance, options: SolveOptions, limit: float, start: np.ndarray
) -> Outcome:
    """HiGHS on the whole MIP for ``limit`` seconds, and beside it, in a second process,
    the matheuristic (:func:`improve`) from the same ``start``.

    HiGHS's bound comes from its root's cut rounds, which take most of an ICB's minute,
    so its time is not cut; the matheuristic finds the better grouping there (ICB QOP,
    60 s: 16.02 million patient-minutes against HiGHS's 16.19). The better of the two
    groupings is kept with HiGHS's bound. If HiGHS ends before its time limit (proof, or
    the gap tolerance met) the matheuristic is stopped and its grouping not awaited.
    """
    wall_deadline = time.time() + limit
    single = replace(options, threads=1, log=False)
    context = process_context()
    receive, send = context.Pipe(duplex=False)
    worker = context.Process(
        target=_improve_into, args=(send, inst, start, single, wall_deadline), daemon=True
    )
    try:
        worker.start()
    except (OSError, RuntimeError) as error:  # e.g. a script without a __main__ guard
        send.close()
        receive.close()
        run = run_highs(arrays, inst, options, limit, start)
        note = f"matheuristic beside HiGHS could not start ({type(error).__name__})"
        return replace(run, stopped_by=f"{run.stopped_by}; {note}")
    send.close()
    try:
        run = run_highs(arrays, inst, options, limit, start)
        improved, note = None, "matheuristic beside HiGHS"
        if run.status not in ("optimal", "infeasible") and time.time() >= wall_deadline - 1.0:
            if receive.poll(max(wall_deadline - time.time(), 0.0) + BESIDE_GRACE_SECONDS):
                try:
                    improved, failure = receive.recv()
                except EOFError:  # the process ended without a word (killed)
                    improved, failure = None, "it ended without a result"
                if failure:
                    note = f"matheuristic beside HiGHS failed ({failure})"
            else:
                note = "matheuristic beside HiGHS overran and was stopped"
    finally:
        if worker.is_alive():
            worker.terminate()
        worker.join()
        receive.close()
    if run.status in ("optimal", "infeasible"):
        return run
    best = run.hub_of if run.hub_of is not None else start
    if improved is not None and feasible(inst, improved):
        best = min(best, improved, key=lambda hub_of: objective_value(inst, hub_of))
    value = objective_value(inst, best)
    bound = run.bound if run.bound is None else min(run.bound, value)
    return found(best, value, bound, f"{run.stopped_by}; {note}")


def _improve_into(
    send: Connection,
    inst: Instance,
    start: np.ndarray,
    options: SolveOptions,
    wall_deadline: float,
) -> None:
    """The matheuristic from ``start`` to a wall-clock deadline, in a worker process; sends
    (grouping, None), or (None, the error) if it failed."""
    deadline = time.perf_counter() + (wall_deadline - time.time())
    try:
        send.send((improve(inst, start, highs_sub_solver(options), deadline=deadline), None))
    except Exception as error:  # reported beside HiGHS's result, which still stands
        send.send((None, f"{type(error).__name__}: {error}"))
    finally:
        send.close()
