"""Lagrangian fixing: HiGHS on the MIP after a Lagrangian bound has removed what no better
grouping uses.

With a grouping of value *UB* and a Lagrangian bound
(:func:`~mergeopt.engine.strategies.lagrangian.lagrangian_bound`), hubs and arcs that no
grouping below *UB* uses are removed and hubs every such grouping opens are forced: the
reduced MIP holds every better grouping, so the optimum is the better of *UB* and the
reduced optimum, and its bound is min(*UB*, reduced bound), never below the Lagrangian
one.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from mergeopt.engine.formulation import Arrays, model_arrays
from mergeopt.engine.instance import (
    Instance,
    arc_costs,
    feasible,
    integral_objective,
    objective_value,
)
from mergeopt.engine.options import SolveOptions
from mergeopt.engine.outcome import Outcome, found, no_grouping, round_bound
from mergeopt.engine.solvers.highs import run_highs
from mergeopt.engine.strategies.heuristics import local_search
from mergeopt.engine.strategies.lagrangian import Lagrangian, lagrangian_applies, lagrangian_bound
from mergeopt.engine.strategies.matheuristic import highs_sub_solver, improve

#: Models of at most this many arcs first get a plain HiGHS run of this many seconds.
QUICK_ARCS, QUICK_SECONDS = 20_000, 1.0


def fixing_applies(inst: Instance) -> bool:
    """Exact knapsacks (:func:`lagrangian_applies`), and no fixed assignment or must-link."""
    return lagrangian_applies(inst) and not (inst.fixed or inst.must_link)


def lagrangian_fixing(
    inst: Instance,
    arrays: Arrays,
    options: SolveOptions,
    deadline: float,
    start: np.ndarray | None,
) -> Outcome:
    """HiGHS on the MIP, after a Lagrangian bound has fixed what hubs and arcs it can.

    With a grouping of value *UB* and a Lagrangian bound (:func:`lagrangian_bound`),
    hubs and arcs that no grouping below *UB* uses are removed and hubs every such
    grouping opens are forced: the reduced MIP holds every better grouping, so the
    optimum is the better of *UB* and the reduced optimum, and its bound is
    min(*UB*, reduced bound), never below the Lagrangian one. *UB* comes from the
    greedy start, improved by completing the hubs the relaxation opens into groupings
    (small MIPs over those hubs only). A model of at most :data:`QUICK_ARCS` arcs first
    gets a plain HiGHS run of :data:`QUICK_SECONDS`. Needs :func:`fixing_applies`.
    Returns the outcome for the whole instance, with the time spent building models.
    """
    began = time.perf_counter()
    left = max(deadline - began, 0.0)
    if len(arrays.arc_i) <= QUICK_ARCS:  # a short plain run proves many small cases
        quick, start = _quick_run(inst, arrays, options, min(QUICK_SECONDS, 0.1 * left), start)
        if quick.status in ("optimal", "infeasible"):
            return quick
        began = time.perf_counter()
        left = max(deadline - began, 0.0)
    integral = integral_objective(inst)
    upper = objective_value(inst, start) if start is not None else np.inf
    lag = lagrangian_bound(inst, upper, integral=integral, deadline=began + 0.15 * left)
    lower = round_bound(lag.bound, integral)
    best = start
    if lower < upper - 1e-9 * max(1.0, abs(upper)):
        best = _better_start(inst, best, lower, lag, options, began + 0.35 * left)
    if best is None:  # no grouping yet: HiGHS on the whole MIP, the Lagrangian bound kept
        run = run_highs(arrays, inst, options, max(deadline - time.perf_counter(), 0.0))
        bound = lower if run.bound is None else max(lower, run.bound)
        if run.status in ("optimal", "infeasible"):
            return run
        if run.hub_of is None or run.objective is None:
            return no_grouping(bound, run.stopped_by)
        kept = found(run.hub_of, run.objective, bound, run.stopped_by)
        if kept.status == "optimal":  # HiGHS's grouping meets the Lagrangian bound
            return replace(kept, stopped_by=f"{run.stopped_by}; Lagrangian bound meets it")
        return kept
    if objective_value(inst, best) < upper - 1e-9 * max(1.0, abs(upper)):
        upper = objective_value(inst, best)
        if lower < upper - 1e-9 * max(1.0, abs(upper)):  # fix again below the better UB
            lag = lagrangian_bound(
                inst,
                upper,
                integral=integral,
                iterations=60,
                start=lag.multipliers,
                deadline=began + 0.45 * left,
            )
            lower = max(lower, round_bound(lag.bound, integral))
    if lower >= upper - 1e-9 * max(1.0, abs(upper)):
        value = objective_value(inst, best)
        return found(best, value, upper, "Lagrangian bound meets the best grouping")
    return _solve_reduced(inst, lag, options, deadline, best, upper, lower)


def _solve_reduced(
    inst: Instance,
    lag: Lagrangian,
    options: SolveOptions,
    deadline: float,
    best: np.ndarray,
    upper: float,
    lower: float,
) -> Outcome:
    """HiGHS on the instance without what ``lag`` fixed below ``upper`` (``best``'s value)."""
    built = time.perf_counter()
    reduced = _reduced(inst, lag)
    sub_arrays = model_arrays(reduced)
    build = time.perf_counter() - built
    run = run_highs(sub_arrays, reduced, options, max(deadline - time.perf_counter(), 0.0), best)
    note = (
        f"{run.stopped_by} (Lagrangian closed {int(lag.closed.sum())} hubs, "
        f"{int(lag.arc_closed.sum())} of {len(lag.arc_closed)} arcs)"
    )
    if run.status == "infeasible":  # nothing better than the best grouping exists
        return found(best, objective_value(inst, best), upper, note, build_seconds=build)
    if run.hub_of is not None and objective_value(inst, run.hub_of) < upper:
        best = run.hub_of
    value = objective_value(inst, best)
    bound = lower if run.bound is None else max(lower, min(upper, run.bound))
    if run.status == "optimal":
        bound = value
    return found(best, value, bound, note, build_seconds=build)


def _quick_run(
    inst: Instance, arrays: Arrays, options: SolveOptions, limit: float, start: np.ndarray | None
) -> tuple[Outcome, np.ndarray | None]:
    """HiGHS on the whole MIP for ``limit`` seconds, and the better of its grouping and
    ``start``."""
    quick = run_highs(arrays, inst, options, limit, start)
    grouping = quick.hub_of
    if grouping is not None and (
        start is None or objective_value(inst, grouping) < objective_value(inst, start)
    ):
        start = grouping
    return quick, start


def _reduced(inst: Instance, lag: Lagrangian) -> Instance:
    """The instance without the hubs and arcs the Lagrangian bound closed."""
    ai, aj = inst.arcs()
    allowed = inst.allowed.copy()
    allowed[ai[lag.arc_closed], aj[lag.arc_closed]] = False
    return replace(
        inst,
        allowed=allowed,
        can_hub=inst.can_hub & ~lag.closed,
        must_hub=inst.must_hub | lag.opened,
    )


def _better_start(
    inst: Instance,
    best: np.ndarray | None,
    lower: float,
    lag: Lagrangian,
    options: SolveOptions,
    deadline: float,
) -> np.ndarray | None:
    """A better grouping than ``best`` before the reduced MIP: complete the hubs the
    relaxation opened (a small MIP over those hubs), then re-optimise neighbourhoods of
    a few groups (:func:`~mergeopt.engine.strategies.matheuristic.improve`); stops at
    the bound ``lower``."""
    quiet = replace(options, log=False, progress=None)
    value = objective_value(inst, best) if best is not None else np.inf
    coef = arc_costs(inst)
    for hubs in reversed(lag.hub_sets[-2:]):
        limit = min(0.5, deadline - time.perf_counter())
        if limit <= 0.01:
            break
        mask = np.zeros(inst.n, dtype=bool)
        mask[hubs] = True
        sub = replace(inst, can_hub=inst.can_hub & (mask | inst.must_hub))
        grouping = run_highs(model_arrays(sub), sub, quiet, limit).hub_of
        if grouping is None:
            continue
        grouping = local_search(inst, grouping, coef)
        if feasible(inst, grouping) and objective_value(inst, grouping) < value:
            best, value = grouping, objective_value(inst, grouping)

    if best is not None and inst.n > 8 and value > lower + 1e-9 * max(1.0, abs(lower)):
        largest = max(min(40, inst.n // 2), 8)
        best = improve(
            inst,
            best,
            highs_sub_solver(quiet),
            deadline=deadline,
            size=min(20, largest),
            largest=largest,
            sub_time=0.5,
            target=lower + 1e-9 * max(1.0, abs(lower)),
        )
    return best
