"""Which strategies run, and in what order: today's choice, one place.

:func:`solve_instance` is the engine's entry point. With ``solver="cbc"`` the MIP goes
through PuLP to CBC (:mod:`mergeopt.engine.solvers.pulp`). With HiGHS (the default):

1. **Decomposition** (:mod:`~mergeopt.engine.strategies.regions`). Independent regions
   are solved apart, each with a share of the time limit, in parallel processes when two
   or more are large; each region is solved by :func:`solve_region`.
2. **Arrays, not PuLP.** The MIP is built with numpy
   (:func:`~mergeopt.engine.formulation.model_arrays`) and passed to HiGHS in one call;
   PuLP builds it row by row, which at ICB size takes longer than solving.
3. **Warm start.** A greedy grouping improved by local search
   (:mod:`~mergeopt.engine.strategies.heuristics`) is handed to HiGHS as its first
   incumbent. Where no Lagrangian bound applies and the model is large (ICB-sized
   networks), a quarter of the time first goes to an LP-guided start
   (:mod:`~mergeopt.engine.strategies.lp_guided`).
4. **Hub search** (:mod:`~mergeopt.engine.strategies.hubsearch`). An uncapacitated
   instance (a p-median: no list-size bounds, no links) is solved by branch-and-bound
   over its hubs on Lagrangian bounds, started from the greedy grouping improved by
   vertex substitution; HiGHS is not called. Otherwise: **Lagrangian fixing**
   (:mod:`~mergeopt.engine.strategies.fixing`). Where the per-hub knapsacks are exact
   (whole list sizes and small hub bounds, as OR-Library's; or no bounds at all), a
   Lagrangian bound (family 1 relaxed) is computed; the hubs its relaxation opens are
   completed into groupings (a small MIP over those hubs) and the best grouping is
   improved by the matheuristic (step 6) for a share of the time. Below that grouping's
   value *UB*, the bound closes the hubs and the arcs no better grouping can use, and
   opens the hubs all need; HiGHS solves the reduced MIP, and the bound reported is
   min(*UB*, the reduced MIP's bound), never below the Lagrangian one.
5. **Whole-number objectives.** When every objective coefficient is a whole number
   (OR-Library), a proven bound *b* is raised to the next whole number, and a grouping
   whose value meets it is optimal even if HiGHS stopped on its time limit.
6. **Matheuristic** (:mod:`~mergeopt.engine.strategies.matheuristic`). If HiGHS stops
   without proof, neighbourhoods of groups are re-optimised exactly with small MIPs from
   its best grouping, in the time left. The bound stays the one proven for the whole
   instance, so the gap reported is always a proven one. Where no Lagrangian bound
   applies (the English networks), a region of 50 or more practices with a second CPU
   free (not in a lane, not ``threads: 1``) runs the matheuristic in a second process
   beside HiGHS from the same start, and keeps the better grouping with HiGHS's bound;
   HiGHS's time is not cut, as its root's cut rounds make the bound.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from mergeopt.engine.formulation import Arrays, model_arrays, plainly_infeasible
from mergeopt.engine.instance import (
    Instance,
    integral_objective,
    objective_value,
    simple_bound,
)
from mergeopt.engine.options import SolveOptions
from mergeopt.engine.outcome import Outcome, found, infeasible, no_grouping, round_bound
from mergeopt.engine.processes import spare_cpu
from mergeopt.engine.solvers.highs import run_highs
from mergeopt.engine.solvers.pulp import solve_cbc
from mergeopt.engine.strategies.fixing import QUICK_ARCS, fixing_applies, lagrangian_fixing
from mergeopt.engine.strategies.heuristics import construct
from mergeopt.engine.strategies.hubsearch import hub_search_applies, run_hub_search
from mergeopt.engine.strategies.lp_guided import lp_guided
from mergeopt.engine.strategies.matheuristic import (
    highs_beside_improve,
    highs_sub_solver,
    improve,
)
from mergeopt.engine.strategies.regions import PARALLEL_MIN_PRACTICES, solve_regions

#: Share of a large non-Lagrangian region's time for the LP-guided start.
LP_GUIDED_SHARE = 0.25
#: A non-Lagrangian region of at least
#: :data:`~mergeopt.engine.strategies.regions.PARALLEL_MIN_PRACTICES` practices with this
#: many seconds left after its start runs the matheuristic beside HiGHS when a second
#: CPU is free (:func:`~mergeopt.engine.strategies.matheuristic.highs_beside_improve`).
BESIDE_MIN_SECONDS = 10.0


def solve_instance(inst: Instance, options: SolveOptions, *, name: str = "mergeopt") -> Outcome:
    """Solve an instance and report what was found and proved (the true status).

    ``name`` names the PuLP problem (CBC only). Practices that stand alone
    (:attr:`Instance.alone`) are set aside first (:func:`_beside_alone`).
    """
    if inst.standing_alone().any():
        return _beside_alone(inst, options, name)
    if options.solver == "highs":
        return solve_regions(inst, options, solve_region)
    return solve_cbc(inst, options, name=name)


def _beside_alone(inst: Instance, options: SolveOptions, name: str) -> Outcome:
    """Practices that stand alone are each a group of their own: the rest is grouped
    without them, with the group count less theirs.

    Their groups add a fixed amount to every grouping's objective: the per-group weight
    and each one's own arc (its travel to itself, zero on a map but whatever a supplied
    matrix says, and no move). The rest's objective and bound plus exactly that amount
    are the whole's, so a proof of the rest is a proof of the whole; the longest travel
    is the rest's, or an alone practice's own if larger (then the bound keeps the rest's
    and only the objective shows it). A takeover or a must-link tying one of them to
    another practice cannot hold, nor can one that may not host its own group.
    """
    alone = inst.standing_alone()
    k = int(alone.sum())
    tied = [(a, b) for a, b in (*inst.fixed, *inst.must_link) if a != b and (alone[a] or alone[b])]
    if tied or not inst.hubs_usable()[alone].all():
        return infeasible("a practice that stands alone is tied to another, or cannot host")
    if inst.count_max is not None and inst.count_max < k:
        return infeasible("more practices stand alone than groups are allowed")
    rest = np.flatnonzero(~alone)
    hub_of = np.arange(inst.n)
    constant = fixed_cost(inst, np.flatnonzero(alone))
    if not len(rest):
        value = objective_value(inst, hub_of)
        if inst.count_min is not None and inst.count_min > k:
            return infeasible("every practice stands alone: too few groups")
        return found(hub_of, value, value, "every practice stands alone")
    low = None if inst.count_min is None or inst.count_min <= k else inst.count_min - k
    high = None if inst.count_max is None else inst.count_max - k
    outcome = solve_instance(inst.subset(rest, count=(low, high)), options, name=name)
    bound = None if outcome.bound is None else outcome.bound + constant
    if outcome.hub_of is None:
        return replace(outcome, bound=bound)
    hub_of[rest] = rest[outcome.hub_of]
    value = objective_value(inst, hub_of)
    done = found(hub_of, value, bound, outcome.stopped_by)
    return replace(
        done,
        solver=outcome.solver,
        build_seconds=outcome.build_seconds,
        solve_seconds=outcome.solve_seconds,
    )


def fixed_cost(inst: Instance, alone: np.ndarray) -> float:
    """What practices ``alone``, each a group of its own, add to any grouping's objective:
    the per-group weight and each one's own arc (travel to itself, and no move)."""
    own = inst.arc_objective(alone, alone)
    return float(inst.weights[2] * len(alone) + own.sum())


def solve_region(inst: Instance, options: SolveOptions, deadline: float) -> Outcome:
    """Heuristic start, HiGHS on the full MIP, then the matheuristic if not proven; or,
    uncapacitated, the hub search alone (no MIP is built)."""
    if hub_search_applies(inst):  # branching on hubs beats HiGHS's cut rounds (pmed6, 16)
        return run_hub_search(inst, construct(inst), deadline)
    began = time.perf_counter()
    arrays = model_arrays(inst)
    build = time.perf_counter() - began
    if plainly_infeasible(arrays):  # e.g. a practice with no hub it may join
        return infeasible("a rule no grouping can meet", build_seconds=build)
    start = construct(inst)
    run = _solve_mip(inst, arrays, options, deadline, start)
    build += run.build_seconds
    if run.status in ("optimal", "infeasible"):
        return replace(run, build_seconds=build)
    best = run.hub_of if run.hub_of is not None else start
    if best is None:  # neither HiGHS nor the greedy found a grouping in time
        return no_grouping(run.bound, run.stopped_by, build_seconds=build)
    # Both are proven lower bounds; the larger one is kept.
    bound = max(simple_bound(inst), run.bound if run.bound is not None else -np.inf)
    bound = round_bound(bound, integral_objective(inst))
    if time.perf_counter() < deadline - 0.1 and inst.n > 8:
        best = improve(inst, best, highs_sub_solver(options), deadline=deadline)
    outcome = found(best, objective_value(inst, best), bound, run.stopped_by, build_seconds=build)
    if outcome.status == "optimal":  # e.g. the matheuristic reached the bound
        return replace(outcome, stopped_by=f"{run.stopped_by}; grouping meets the proven bound")
    return outcome


def _solve_mip(
    inst: Instance,
    arrays: Arrays,
    options: SolveOptions,
    deadline: float,
    start: np.ndarray | None,
) -> Outcome:
    """HiGHS on the MIP: after Lagrangian fixing where it applies; otherwise from an
    LP-guided start on a large model, with the matheuristic beside it where a CPU is free.
    The outcome's ``build_seconds`` is the time spent building models."""
    if fixing_applies(inst):
        return lagrangian_fixing(inst, arrays, options, deadline, start)
    began = time.perf_counter()
    left = max(deadline - began, 0.0)
    if len(arrays.arc_i) > QUICK_ARCS:
        # HiGHS's own heuristics find a good grouping of ICB QOP only as its root's
        # cut rounds end (45-60 s of 60), in some runs not at all (35.6 million
        # patient-minutes, 2.3 times the bound): a start guided by the LP first
        start = lp_guided(inst, arrays, options, began + LP_GUIDED_SHARE * left, start)
    rest = max(deadline - time.perf_counter(), 0.0)
    beside = inst.n >= PARALLEL_MIN_PRACTICES and rest >= BESIDE_MIN_SECONDS
    if start is not None and beside and spare_cpu(options.threads):
        return highs_beside_improve(arrays, inst, options, rest, start)
    return run_highs(arrays, inst, options, rest, start)
