"""Solving a built model and reporting what the solver actually proved.

PuLP 3.3 reports "Optimal" for a HiGHS run stopped by its time limit; this module reads
the solver's own status, bound and gap instead. The status is one of:

``optimal``      the solver proved no better grouping exists (gap below 1e-6)
``feasible``     a valid grouping, with the best bound and gap the solver proved
``infeasible``   the solver proved no grouping meets every rule
``no_solution``  the solver stopped (time limit) before it found any valid grouping

How a HiGHS solve runs (:func:`solve_instance` with ``solver.name: highs``):

1. **Decomposition.** Without a group-count rule or a max-travel term, practices that
   share no arc and no rule (different nesting regions, or beyond the travel limit of
   each other's hubs) are independent: each region is solved on its own and the
   objectives and bounds are added up. The time limit is shared out by region size
   (practices, and arcs at 1/100 each); with two or more regions of 50+ practices they
   are solved in parallel, one process per CPU (or ``solver.threads``).
2. **Arrays, not PuLP.** The MIP is built with numpy (:func:`mergeopt.model.model_arrays`)
   and passed to HiGHS in one call; PuLP builds it row by row, which at ICB size takes
   longer than solving. CBC still goes through PuLP (:func:`mergeopt.model.build_model`).
3. **Warm start.** A greedy grouping improved by local search
   (:mod:`mergeopt.heuristics`) is handed to HiGHS as its first incumbent. Where no
   Lagrangian bound applies and the model is large (ICB-sized networks), a quarter of
   the time first goes to an LP-guided start (:func:`_lp_guided`): the MIP restricted
   to the hubs the LP relaxation opens, each practice to its nearest few of them.
4. **Hub search** (:mod:`mergeopt.hubsearch`). An uncapacitated instance (a p-median:
   no list-size bounds, no links) is solved by branch-and-bound over its hubs on
   Lagrangian bounds, started from the greedy grouping improved by vertex substitution
   (:func:`mergeopt.heuristics.interchange`); HiGHS is not called. Otherwise:
   **Lagrangian fixing** (:mod:`mergeopt.lagrangian`). Where the per-hub knapsacks are
   exact (whole list sizes and small hub bounds, as OR-Library's; or no bounds at all,
   the uncapacitated p-median), a Lagrangian bound (family 1 relaxed) is computed; the
   hubs its relaxation opens are completed into groupings (a small MIP over those hubs)
   and the best grouping is improved by the matheuristic (step 6) for a share of the
   time. Below that grouping's value *UB*, the bound closes the hubs and the arcs
   :math:`x_{ij}` no better grouping can use, and opens the hubs all need; HiGHS
   solves the reduced MIP, and the bound reported is min(*UB*, the reduced MIP's
   bound), never below the Lagrangian one.
5. **Whole-number objectives.** When every objective coefficient is a whole number
   (OR-Library), a proven bound *b* is raised to the next whole number, and a grouping
   whose value meets it is optimal even if HiGHS stopped on its time limit.
6. **Matheuristic.** If HiGHS stops without proof, neighbourhoods of groups are
   re-optimised exactly with small MIPs from its best grouping, in the time left. The
   bound stays the one proven for the whole instance, so the gap reported is always a
   proven one. Where no Lagrangian bound applies (the English networks), a region of
   50 or more practices with a second CPU free (not in a lane, not ``threads: 1``)
   runs the matheuristic in a second process beside HiGHS from the same start, and
   keeps the better grouping with HiGHS's bound (:func:`_highs_beside_improve`);
   HiGHS's time is not cut, as its root's cut rounds make the bound.

A region proven infeasible makes the whole instance infeasible; the report names it
(by :attr:`~mergeopt.model.Instance.region`, e.g. its ICB code, or its first practices)
and the other regions are then only checked for plain infeasibility.
"""

from __future__ import annotations

import multiprocessing
import re
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from importlib.metadata import version
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pulp

from mergeopt import heuristics
from mergeopt._errors import SolverError
from mergeopt._highs import highs_from_arrays, reset_thread_pool
from mergeopt._processes import process_context, usable_cpus
from mergeopt.config import Solver
from mergeopt.hubsearch import HubSearch, hub_search, hub_search_applies
from mergeopt.lagrangian import Lagrangian, lagrangian_applies, lagrangian_bound
from mergeopt.model import (
    Arrays,
    Instance,
    Model,
    build_model,
    integral_objective,
    model_arrays,
    objective_value,
    round_bound,
    simple_bound,
)

Status = Literal["optimal", "feasible", "infeasible", "no_solution"]
#: A relative gap at or below this is proof of optimality (the objective is exact to
#: about one patient-minute in a million).
PROVEN_GAP = 1e-6
#: Models of at most this many arcs first get a plain HiGHS run of this many seconds.
QUICK_ARCS, QUICK_SECONDS = 20_000, 1.0
#: Share of a large non-Lagrangian region's time for the LP-guided start, and how many of
#: the LP's hubs each practice may join there (:func:`_lp_guided`; on ICB QOP 6 gave
#: 16.06 million in 20 s, 10 gave 16.22 and 20 gave 16.36).
LP_GUIDED_SHARE, LP_GUIDED_HUBS = 0.25, 6
#: A non-Lagrangian region of at least :data:`PARALLEL_MIN_PRACTICES` practices with this
#: many seconds left after its start runs the matheuristic beside HiGHS when a second
#: CPU is free (:func:`_highs_beside_improve`).
BESIDE_MIN_SECONDS = 10.0
#: How long past the deadline the matheuristic's grouping is waited for.
BESIDE_GRACE_SECONDS = 5.0
#: Models with more columns than this are solved without HiGHS's presolve.
PRESOLVE_MAX_COLS = 100_000


@dataclass(frozen=True)
class SolveReport:
    """What a solve found and proved.

    ``hub_of`` gives, per practice position, the position of its hub (None unless a
    grouping was found). ``bound`` is the best proven lower bound on the objective and
    ``gap`` the relative distance between objective and bound.
    """

    status: Status
    hub_of: np.ndarray | None
    objective: float | None
    bound: float | None
    gap: float | None
    solver: str
    stopped_by: str
    build_seconds: float
    solve_seconds: float


def solve_instance(inst: Instance, settings: Solver, *, name: str = "mergeopt") -> SolveReport:
    """Build the MIP for an instance, solve it and report the true status."""
    if settings.name == "highs":
        return _solve_highs_instance(inst, settings)
    started = time.perf_counter()
    model = build_model(inst, name=name)
    built = time.perf_counter()
    status, objective, bound, gap, stopped_by, solver = _solve_cbc(model, settings)
    finished = time.perf_counter()
    hub_of = _assignment(model, inst.n) if status in ("optimal", "feasible") else None
    if status in ("optimal", "feasible") and hub_of is None:
        status, stopped_by = "no_solution", f"{stopped_by}; the solution returned was incomplete"
    return SolveReport(
        status=status,
        hub_of=hub_of,
        objective=objective if hub_of is not None else None,
        bound=bound,
        gap=gap if hub_of is not None else None,
        solver=solver,
        stopped_by=stopped_by,
        build_seconds=built - started,
        solve_seconds=finished - built,
    )


# ---------------------------------------------------------------------------------------
# HiGHS, from arrays


@dataclass(frozen=True)
class _Part:
    """What a solve of one region found: grouping (region positions), bound, timings."""

    status: Status
    hub_of: np.ndarray | None
    bound: float | None
    stopped_by: str
    build_seconds: float


def _label() -> str:
    return f"HiGHS {version('highspy')} (arrays; PuLP {pulp.__version__} for .lp and CBC)"


def _solve_highs_instance(inst: Instance, settings: Solver) -> SolveReport:
    started = time.perf_counter()
    regions = _independent_regions(inst)
    subs = [inst] if len(regions) == 1 else [inst.subset(r) for r in regions]
    weight = np.asarray([_work(sub) for sub in subs], dtype=float)
    lanes = _lanes(settings, subs)
    if lanes == 1:
        outcomes = _solve_in_turn(subs, weight, settings, started + settings.time_limit)
    else:
        wall_deadline = time.time() + settings.time_limit
        outcomes = _solve_in_lanes(subs, weight, settings, lanes, wall_deadline)
    parts = [o for o in outcomes if isinstance(o, _Part)]
    hub_of = np.full(inst.n, -1, dtype=np.int64)
    for region, outcome in zip(regions, outcomes, strict=True):
        if isinstance(outcome, _Part) and outcome.hub_of is not None:
            hub_of[region] = region[outcome.hub_of]
    infeasible = [
        _region_name(inst, region)
        for region, outcome in zip(regions, outcomes, strict=True)
        if outcome is True or (isinstance(outcome, _Part) and outcome.status == "infeasible")
    ]
    report = _combine(inst, parts, hub_of, len(regions), started)
    if infeasible:
        unsolved = len(regions) - len(parts)
        named = "; ".join(infeasible)
        note = f"infeasible region{'s' if len(infeasible) > 1 else ''}: {named}"
        if unsolved:
            note += f" ({unsolved} other regions not solved: only plainly infeasible ones named)"
        report = replace(report, stopped_by=f"{report.stopped_by}; {note}")
    return report


#: A nested run solves its regions in parallel processes (one per CPU it may use, or
#: ``solver.threads``) when at least two regions have this many practices; below that,
#: starting the processes would cost more than the solves.
PARALLEL_MIN_PRACTICES = 50


def _lanes(settings: Solver, subs: list[Instance]) -> int:
    """How many processes solve the regions: 1 (this one) unless several are large."""
    large = sum(sub.n >= PARALLEL_MIN_PRACTICES for sub in subs)
    cpus = settings.threads if settings.threads is not None else usable_cpus()
    return max(1, min(cpus, large))


def _work(sub: Instance) -> float:
    """A region's weight in the share-out of the time: practices, and arcs at 1/100 each.

    By arcs alone, England's 37 smaller ICBs got 158 of the 600 s and ended at gaps of
    10-40%, 94% of the nested gap; by practices alone, the dense ones (QUA, QWE: 170
    practices, 16,000-18,000 arcs) were still in HiGHS's root at 17 s, at gaps of 16%.
    """
    return sub.n + float(sub.allowed.sum()) / 100.0


_RegionOutcome = _Part | bool  # a solved region, or after an infeasible one: plainly infeasible?


def _solve_in_turn(
    subs: list[Instance], weight: np.ndarray, settings: Solver, deadline: float
) -> list[_RegionOutcome]:
    """Solve regions one after another, each with its weight's share of the time left.

    The lightest go first, so time one leaves unused (proven early) goes to the heavier
    ones. Once a region is proven infeasible, so is the instance: the rest are only
    checked for plain infeasibility (``True`` if plainly infeasible, else ``False``).
    """
    outcomes: list[_RegionOutcome] = [False] * len(subs)
    left = float(weight.sum())
    infeasible = False
    for k in np.argsort(weight, kind="stable").tolist():
        if infeasible:
            outcomes[k] = _plainly_infeasible(subs[k])
            continue
        share = (deadline - time.perf_counter()) * weight[k] / max(left, 1e-12)
        left -= weight[k]
        part = _solve_region(subs[k], settings, time.perf_counter() + max(share, 0.0))
        outcomes[k] = part
        infeasible = part.status == "infeasible"
    return outcomes


def _solve_in_lanes(
    subs: list[Instance], weight: np.ndarray, settings: Solver, lanes: int, wall_deadline: float
) -> list[_RegionOutcome]:
    """Solve regions in ``lanes`` processes, each in turn (:func:`_solve_in_turn`) over a
    set of regions of about equal total weight, to the same deadline (wall clock, as
    each process has its own ``perf_counter``); each HiGHS uses one thread."""
    load = np.zeros(lanes)
    lane_of = np.zeros(len(subs), dtype=np.int64)
    for k in np.argsort(-weight, kind="stable").tolist():  # heaviest into the lightest lane
        lane_of[k] = int(np.argmin(load))
        load[lane_of[k]] += weight[k]
    single = settings.model_copy(update={"threads": 1, "log": False})
    outcomes: list[_RegionOutcome] = [False] * len(subs)
    with ProcessPoolExecutor(max_workers=lanes, mp_context=process_context()) as pool:
        members = [np.flatnonzero(lane_of == lane) for lane in range(lanes)]
        futures = [
            pool.submit(_lane, [subs[k] for k in ks], weight[ks], single, wall_deadline)
            for ks in members
        ]
        for ks, future in zip(members, futures, strict=True):
            for k, outcome in zip(ks.tolist(), future.result(), strict=True):
                outcomes[k] = outcome
    return outcomes


def _lane(
    subs: list[Instance], weight: np.ndarray, settings: Solver, wall_deadline: float
) -> list[_RegionOutcome]:
    """One process's regions, in turn, to a wall-clock deadline."""
    deadline = time.perf_counter() + (wall_deadline - time.time())
    return _solve_in_turn(subs, weight, settings, deadline)


def _plainly_infeasible(inst: Instance) -> bool:
    """A rule that no grouping meets, seen without a solver (e.g. a practice with no hub)."""
    arrays = model_arrays(inst)
    empty = np.diff(arrays.row_start) == 0
    return bool(((arrays.row_lower[empty] > 0) | (arrays.row_upper[empty] < 0)).any())


def _region_name(inst: Instance, region: np.ndarray) -> str:
    """A region by its nesting names (e.g. ICB codes), else by its first practice codes."""
    count = f"{len(region)} practice{'s' if len(region) != 1 else ''}"
    if inst.region:
        names = sorted({inst.region[k] for k in region.tolist()})
        return f"{', '.join(names)} ({count})"
    codes = [inst.codes[k] for k in region.tolist()]
    shown = ", ".join(codes[:5]) + (", ..." if len(codes) > 5 else "")
    return f"{count}: {shown}"


def _independent_regions(inst: Instance) -> list[np.ndarray]:
    coupled = inst.count_min is not None or inst.count_max is not None or inst.weights[3] > 0
    if coupled:
        return [np.arange(inst.n)]
    return inst.regions()


def _combine(
    inst: Instance, parts: list[_Part], hub_of: np.ndarray, regions: int, started: float
) -> SolveReport:
    build = sum(p.build_seconds for p in parts)
    finished = time.perf_counter()
    solve_seconds = finished - started - build
    reasons = sorted({p.stopped_by for p in parts})
    stopped_by = "; ".join(reasons) + (f" ({regions} independent regions)" if regions > 1 else "")

    def report(status: Status, *, solution: bool) -> SolveReport:
        bounds = [p.bound for p in parts]
        bound = sum(b for b in bounds if b is not None) if None not in bounds else None
        objective = objective_value(inst, hub_of) if solution else None
        gap = _gap(objective, bound) if objective is not None and bound is not None else None
        if status == "optimal" and (gap is None or gap > PROVEN_GAP):
            status = "feasible"
        return SolveReport(
            status=status,
            hub_of=hub_of if solution else None,
            objective=objective,
            bound=bound,
            gap=gap,
            solver=_label(),
            stopped_by=stopped_by,
            build_seconds=build,
            solve_seconds=solve_seconds,
        )

    statuses = {p.status for p in parts}
    if "infeasible" in statuses:
        return report("infeasible", solution=False)
    if "no_solution" in statuses or len(parts) == 0 or (hub_of < 0).any():
        return report("no_solution", solution=False)
    return report("optimal" if statuses == {"optimal"} else "feasible", solution=True)


def _solve_region(inst: Instance, settings: Solver, deadline: float) -> _Part:
    """Heuristic start, HiGHS on the full MIP, then the matheuristic if not proven; or,
    uncapacitated, the hub search alone (no MIP is built)."""
    if hub_search_applies(inst):  # branching on hubs beats HiGHS's cut rounds (pmed6, 16)
        run, build = _run_hub_search(inst, heuristics.construct(inst), deadline)
        return _Part(run.status, run.hub_of, run.bound, run.stopped_by, build)
    began = time.perf_counter()
    arrays = model_arrays(inst)
    build = time.perf_counter() - began
    empty = np.diff(arrays.row_start) == 0
    if ((arrays.row_lower[empty] > 0) | (arrays.row_upper[empty] < 0)).any():
        # e.g. a practice with no hub it may join: proven infeasible without a solver
        return _Part("infeasible", None, None, "a rule no grouping can meet", build)
    start = heuristics.construct(inst)
    run, extra_build = _run_lagrangian_then_highs(inst, arrays, settings, deadline, start)
    build += extra_build
    if run.status in ("optimal", "infeasible"):
        return _Part(run.status, run.hub_of, run.bound, run.stopped_by, build)
    best = run.hub_of if run.hub_of is not None else start
    if best is None:  # neither HiGHS nor the greedy found a grouping in time
        return _Part("no_solution", None, run.bound, run.stopped_by, build)
    # Both are proven lower bounds; the larger one is kept.
    bound = max(simple_bound(inst), run.bound if run.bound is not None else -np.inf)
    bound = round_bound(bound, integral_objective(inst))
    if time.perf_counter() < deadline - 0.1 and inst.n > 8:
        sub_settings = settings.model_copy(update={"log": False})

        def solve_sub(sub: Instance, local: np.ndarray | None, limit: float) -> np.ndarray | None:
            found = _run_highs(model_arrays(sub), sub, sub_settings, limit, local)
            return found.hub_of

        best = heuristics.improve(inst, best, solve_sub, deadline=deadline)
    return _Part("feasible", best, bound, run.stopped_by, build)


@dataclass(frozen=True)
class _Run:
    status: Status
    hub_of: np.ndarray | None
    bound: float | None
    stopped_by: str


def _run_lagrangian_then_highs(
    inst: Instance, arrays: Arrays, settings: Solver, deadline: float, start: np.ndarray | None
) -> tuple[_Run, float]:
    """HiGHS on the MIP, after a Lagrangian bound has fixed what hubs and arcs it can.

    With a grouping of value *UB* and a Lagrangian bound (:func:`lagrangian_bound`),
    hubs and arcs that no grouping below *UB* uses are removed and hubs every such
    grouping opens are forced: the reduced MIP holds every better grouping, so the
    optimum is the better of *UB* and the reduced optimum, and its bound is
    min(*UB*, reduced bound), never below the Lagrangian one. *UB* comes from the
    greedy start, improved by completing the hubs the relaxation opens into groupings
    (small MIPs over those hubs only). Returns the run for the whole instance and the
    time spent building models.
    """
    began = time.perf_counter()
    left = max(deadline - began, 0.0)
    if not lagrangian_applies(inst) or inst.fixed or inst.must_link:
        if len(arrays.arc_i) > QUICK_ARCS:
            # HiGHS's own heuristics find a good grouping of ICB QOP only as its root's
            # cut rounds end (45-60 s of 60), in some runs not at all (35.6 million
            # patient-minutes, 2.3 times the bound): a start guided by the LP first
            start = _lp_guided(inst, arrays, settings, began + LP_GUIDED_SHARE * left, start)
        rest = max(deadline - time.perf_counter(), 0.0)
        beside = inst.n >= PARALLEL_MIN_PRACTICES and rest >= BESIDE_MIN_SECONDS
        if start is not None and beside and _spare_cpu(settings):
            return _highs_beside_improve(arrays, inst, settings, rest, start), 0.0
        return _run_highs(arrays, inst, settings, rest, start), 0.0
    if len(arrays.arc_i) <= QUICK_ARCS:  # a short plain run proves many small cases
        quick, start = _quick_run(inst, arrays, settings, min(QUICK_SECONDS, 0.1 * left), start)
        if quick.status in ("optimal", "infeasible"):
            return quick, 0.0
        began = time.perf_counter()
        left = max(deadline - began, 0.0)
    integral = integral_objective(inst)
    upper = objective_value(inst, start) if start is not None else np.inf
    lag = lagrangian_bound(inst, upper, integral=integral, deadline=began + 0.15 * left)
    lower = round_bound(lag.bound, integral)
    best = start
    if lower < upper - 1e-9 * max(1.0, abs(upper)):
        best = _better_start(inst, best, lower, lag, settings, began + 0.35 * left)
    if best is None:  # no grouping yet: HiGHS on the whole MIP, the Lagrangian bound kept
        run = _run_highs(arrays, inst, settings, max(deadline - time.perf_counter(), 0.0))
        bound = lower if run.bound is None else max(lower, run.bound)
        if run.status in ("optimal", "infeasible"):
            return run, 0.0
        return replace(run, bound=bound), 0.0
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
        return _Run("optimal", best, upper, "Lagrangian bound meets the best grouping"), 0.0
    return _solve_reduced(inst, lag, settings, deadline, best, upper, lower)


def _spare_cpu(settings: Solver) -> bool:
    """Whether this solve may start a process on a second CPU: not told one thread, and
    not itself in a daemonic worker (a lane, a sweep's pool, a Dask worker), which may
    start none."""
    cpus = settings.threads if settings.threads is not None else usable_cpus()
    return cpus >= 2 and not multiprocessing.current_process().daemon


def _highs_beside_improve(
    arrays: Arrays, inst: Instance, settings: Solver, limit: float, start: np.ndarray
) -> _Run:
    """HiGHS on the whole MIP for ``limit`` seconds, and beside it, in a second process,
    the matheuristic (:func:`mergeopt.heuristics.improve`) from the same ``start``.

    HiGHS's bound comes from its root's cut rounds, which take most of an ICB's minute,
    so its time is not cut; the matheuristic finds the better grouping there (ICB QOP,
    60 s: 16.02 million patient-minutes against HiGHS's 16.19). The better of the two
    groupings is kept with HiGHS's bound. If HiGHS ends before its time limit (proof, or
    the gap tolerance met) the matheuristic is stopped and its grouping not awaited.
    """
    wall_deadline = time.time() + limit
    single = settings.model_copy(update={"threads": 1, "log": False})
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
        run = _run_highs(arrays, inst, settings, limit, start)
        note = f"matheuristic beside HiGHS could not start ({type(error).__name__})"
        return replace(run, stopped_by=f"{run.stopped_by}; {note}")
    send.close()
    try:
        run = _run_highs(arrays, inst, settings, limit, start)
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
    if improved is not None and heuristics.feasible(inst, improved):
        best = min(best, improved, key=lambda hub_of: objective_value(inst, hub_of))
    value = objective_value(inst, best)
    bound = run.bound if run.bound is None else min(run.bound, value)
    proven = bound is not None and _gap(value, bound) <= PROVEN_GAP
    return _Run("optimal" if proven else "feasible", best, bound, f"{run.stopped_by}; {note}")


def _improve_into(
    send: Connection, inst: Instance, start: np.ndarray, settings: Solver, wall_deadline: float
) -> None:
    """The matheuristic from ``start`` to a wall-clock deadline, in a worker process; sends
    (grouping, None), or (None, the error) if it failed."""

    def solve_sub(sub: Instance, local: np.ndarray | None, limit: float) -> np.ndarray | None:
        return _run_highs(model_arrays(sub), sub, settings, limit, local).hub_of

    deadline = time.perf_counter() + (wall_deadline - time.time())
    try:
        send.send((heuristics.improve(inst, start, solve_sub, deadline=deadline), None))
    except Exception as error:  # reported beside HiGHS's result, which still stands
        send.send((None, f"{type(error).__name__}: {error}"))
    finally:
        send.close()


def _lp_guided(
    inst: Instance,
    arrays: Arrays,
    settings: Solver,
    deadline: float,
    start: np.ndarray | None,
) -> np.ndarray | None:
    """A grouping from the MIP restricted to what the LP relaxation points at, or ``start``.

    The LP relaxation of the whole model names the hubs it opens at all (y > 0); each
    practice may then join only its :data:`LP_GUIDED_HUBS` cheapest such hubs, or an
    arc the LP or ``start`` uses. Every grouping of that restriction is a grouping of the
    instance, so HiGHS's best one within ``deadline`` is a valid start; the better of it
    and ``start`` is returned. Proves nothing.
    """
    limit = deadline - time.perf_counter()
    if limit <= 0.5:
        return start
    highs: Any = _highs_model(arrays, settings.model_copy(update={"log": False}), 0.4 * limit)
    highs.setOptionValue("solve_relaxation", True)
    highs.run()
    import highspy

    if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return start
    x = np.asarray(highs.getSolution().col_value)[arrays.x_col]
    used = x > 1e-6
    hubs = np.zeros(inst.n, dtype=bool)
    hubs[arrays.arc_j[used]] = True
    hubs |= inst.must_hub
    allowed = np.zeros_like(inst.allowed)
    allowed[arrays.arc_i[used], arrays.arc_j[used]] = True
    if start is not None:
        hubs[np.unique(start)] = True
        allowed[np.arange(inst.n), start] = True
    for a, b in inst.fixed:
        allowed[a, b] = hubs[b] = True
    cost = np.where(hubs[None, :], heuristics.arc_costs(inst), np.inf)
    nearest = np.argsort(cost, axis=1, kind="stable")[:, :LP_GUIDED_HUBS]
    rows = np.repeat(np.arange(inst.n), nearest.shape[1])
    allowed[rows, nearest.ravel()] |= np.isfinite(cost[rows, nearest.ravel()])
    sub = replace(inst, allowed=allowed & inst.allowed, can_hub=inst.can_hub & hubs)
    quiet = settings.model_copy(update={"log": False})
    found = _run_highs(model_arrays(sub), sub, quiet, deadline - time.perf_counter(), start)
    if found.hub_of is None or not heuristics.feasible(inst, found.hub_of):
        return start
    if start is not None and objective_value(inst, start) <= objective_value(inst, found.hub_of):
        return start
    return found.hub_of


def _run_hub_search(
    inst: Instance, start: np.ndarray | None, deadline: float
) -> tuple[_Run, float]:
    """The Lagrangian branch-and-bound over hubs (:mod:`mergeopt.hubsearch`) as a run, and
    the seconds it spent building its arrays."""
    integral = integral_objective(inst)
    found = hub_search(inst, start, deadline=deadline, integral=integral)
    return _hub_search_run(inst, found, integral), found.build_seconds


def _hub_search_run(inst: Instance, found: HubSearch, integral: bool) -> _Run:
    note = f"hub search, {found.nodes} node{'s' if found.nodes != 1 else ''}"
    bound = round_bound(found.bound, integral) if np.isfinite(found.bound) else None
    if found.hub_of is None:
        if found.finished:
            return _Run("infeasible", None, None, f"{note}: no set of hubs meets every rule")
        return _Run("no_solution", None, bound, f"{note}: time limit reached")
    value = objective_value(inst, found.hub_of)
    if found.finished:
        return _Run("optimal", found.hub_of, value, f"{note}: optimal")
    bound = value if bound is None else min(bound, value)
    proven = _gap(value, bound) <= PROVEN_GAP
    return _Run(
        "optimal" if proven else "feasible", found.hub_of, bound, f"{note}: time limit reached"
    )


def _solve_reduced(
    inst: Instance,
    lag: Lagrangian,
    settings: Solver,
    deadline: float,
    best: np.ndarray,
    upper: float,
    lower: float,
) -> tuple[_Run, float]:
    """HiGHS on the instance without what ``lag`` fixed below ``upper`` (``best``'s value)."""
    built = time.perf_counter()
    reduced = _reduced(inst, lag)
    sub_arrays = model_arrays(reduced)
    build = time.perf_counter() - built
    run = _run_highs(sub_arrays, reduced, settings, max(deadline - time.perf_counter(), 0.0), best)
    note = (
        f"{run.stopped_by} (Lagrangian closed {int(lag.closed.sum())} hubs, "
        f"{int(lag.arc_closed.sum())} of {len(lag.arc_closed)} arcs)"
    )
    if run.status == "infeasible":  # nothing better than the best grouping exists
        return _Run("optimal", best, upper, note), build
    if run.hub_of is not None and objective_value(inst, run.hub_of) < upper:
        best = run.hub_of
    value = objective_value(inst, best)
    bound = lower if run.bound is None else max(lower, min(upper, run.bound))
    if run.status == "optimal":
        bound = value
    proven = _gap(value, bound) <= PROVEN_GAP
    return _Run("optimal" if proven else "feasible", best, bound, note), build


def _quick_run(
    inst: Instance, arrays: Arrays, settings: Solver, limit: float, start: np.ndarray | None
) -> tuple[_Run, np.ndarray | None]:
    """HiGHS on the whole MIP for ``limit`` seconds, and the better of its grouping and
    ``start``."""
    quick = _run_highs(arrays, inst, settings, limit, start)
    found = quick.hub_of
    if found is not None and (
        start is None or objective_value(inst, found) < objective_value(inst, start)
    ):
        start = found
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
    settings: Solver,
    deadline: float,
) -> np.ndarray | None:
    """A better grouping than ``best`` before the reduced MIP: complete the hubs the
    relaxation opened (a small MIP over those hubs), then re-optimise neighbourhoods of
    a few groups (:func:`mergeopt.heuristics.improve`); stops at the bound ``lower``."""
    quiet = settings.model_copy(update={"log": False})
    value = objective_value(inst, best) if best is not None else np.inf
    coef = heuristics.arc_costs(inst)
    for hubs in reversed(lag.hub_sets[-2:]):
        limit = min(0.5, deadline - time.perf_counter())
        if limit <= 0.01:
            break
        mask = np.zeros(inst.n, dtype=bool)
        mask[hubs] = True
        sub = replace(inst, can_hub=inst.can_hub & (mask | inst.must_hub))
        found = _run_highs(model_arrays(sub), sub, quiet, limit).hub_of
        if found is None:
            continue
        found = heuristics.local_search(inst, found, coef)
        if heuristics.feasible(inst, found) and objective_value(inst, found) < value:
            best, value = found, objective_value(inst, found)

    def solve_sub(sub: Instance, local: np.ndarray | None, limit: float) -> np.ndarray | None:
        return _run_highs(model_arrays(sub), sub, quiet, limit, local).hub_of

    if best is not None and inst.n > 8 and value > lower + 1e-9 * max(1.0, abs(lower)):
        largest = max(min(40, inst.n // 2), 8)
        best = heuristics.improve(
            inst,
            best,
            solve_sub,
            deadline=deadline,
            size=min(20, largest),
            largest=largest,
            sub_time=0.5,
            target=lower + 1e-9 * max(1.0, abs(lower)),
        )
    return best


def _highs_model(arrays: Arrays, settings: Solver, time_limit: float) -> object:
    highs = highs_from_arrays(arrays)
    highs.setOptionValue("output_flag", bool(settings.log))
    highs.setOptionValue("time_limit", max(float(time_limit), 0.001))
    highs.setOptionValue("mip_rel_gap", float(settings.gap))
    if settings.threads is not None:
        highs.setOptionValue("threads", int(settings.threads))
    if arrays.num_col > PRESOLVE_MAX_COLS:
        # HiGHS's MIP presolve does not look at the clock: on pmed16's 160,400 columns it
        # ran 40-70 s past a 20-60 s limit; without it the limit holds
        highs.setOptionValue("presolve", "off")
    return highs


def _run_highs(
    arrays: Arrays,
    inst: Instance,
    settings: Solver,
    time_limit: float,
    start: np.ndarray | None = None,
) -> _Run:
    import highspy

    highs = _highs_model(arrays, settings, time_limit)
    if start is not None:
        values = arrays.columns(inst, start)
        highs.setSolution(  # type: ignore[attr-defined]
            arrays.num_col, np.arange(arrays.num_col, dtype=np.int32), values
        )
    highs.run()  # type: ignore[attr-defined]
    status = highs.getModelStatus()  # type: ignore[attr-defined]
    if status == highspy.HighsModelStatus.kNotset and settings.threads is not None:
        # HiGHS sizes one thread pool per thread at its first solve and refuses a later
        # solve asking for another size ("Not Set"): size it afresh and run again
        reset_thread_pool()
        highs.run()  # type: ignore[attr-defined]
        status = highs.getModelStatus()  # type: ignore[attr-defined]
    info = highs.getInfo()  # type: ignore[attr-defined]
    reason = highs.modelStatusToString(status)  # type: ignore[attr-defined]
    ms = highspy.HighsModelStatus
    failed = (ms.kNotset, ms.kLoadError, ms.kModelError, ms.kPresolveError, ms.kSolveError)
    if status in (*failed, ms.kPostsolveError):  # never reported as a time limit
        raise SolverError(f"HiGHS failed on this model ({reason}); nothing was written")
    if status in (ms.kInfeasible, ms.kUnboundedOrInfeasible):
        return _Run("infeasible", None, None, reason)
    if info.primal_solution_status != 2:  # kSolutionStatusFeasible
        return _Run("no_solution", None, _bound(info), reason)
    values = np.asarray(highs.getSolution().col_value)  # type: ignore[attr-defined]
    hub_of = arrays.hub_of(values)
    if hub_of is None:
        return _Run("no_solution", None, _bound(info), f"{reason}; incomplete solution")
    objective = objective_value(inst, hub_of)
    bound = _bound(info)
    if bound is not None:
        bound = round_bound(bound, integral_objective(inst))
    proven = bound is not None and _gap(objective, bound) <= PROVEN_GAP
    if status == ms.kOptimal and not proven:
        reason = f"gap tolerance {settings.gap:g} reached"
    elif proven and status != ms.kOptimal:
        reason = f"{reason}; bound rounded up to the whole-number objective: optimal"
    return _Run("optimal" if proven else "feasible", hub_of, bound, reason)


def _bound(info: object) -> float | None:
    value = float(info.mip_dual_bound)  # type: ignore[attr-defined]
    return value if np.isfinite(value) else None


# ---------------------------------------------------------------------------------------
# CBC, through PuLP


_CBC_BOUND = re.compile(r"(?:Lower bound|Best possible):\s*(-?[\d.eE+-]+)")
_Outcome = tuple[Status, float | None, float | None, float | None, str, str]


def _solve_cbc(model: Model, settings: Solver) -> _Outcome:
    with tempfile.TemporaryDirectory(prefix="mergeopt-cbc-") as folder:
        log = Path(folder) / "cbc.log"
        solver = pulp.PULP_CBC_CMD(
            msg=settings.log,
            timeLimit=settings.time_limit,
            gapRel=settings.gap,
            threads=settings.threads,
            logPath=str(log),
        )
        model.problem.solve(solver)
        text = log.read_text(errors="replace") if log.exists() else ""
    label = f"CBC via PuLP {pulp.__version__}"
    sol = model.problem.sol_status
    if sol == pulp.LpSolutionInfeasible:
        return "infeasible", None, None, None, "infeasible", label
    if sol not in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
        return "no_solution", None, None, None, pulp.LpStatus[model.problem.status], label
    objective = float(pulp.value(model.problem.objective) or 0.0)
    found = _CBC_BOUND.findall(text)
    bound = float(found[-1]) if found else None
    if sol == pulp.LpSolutionOptimal and bound is None and "Optimal solution found" in text:
        bound = objective
    gap = _gap(objective, bound) if bound is not None else None
    proven = sol == pulp.LpSolutionOptimal and gap is not None and gap <= PROVEN_GAP
    reason = "optimal" if proven else ("time limit or gap tolerance" if gap else "bound unknown")
    return ("optimal" if proven else "feasible"), objective, bound, gap, reason, label


def _gap(objective: float, bound: float) -> float:
    """Relative gap as HiGHS defines it: |objective - bound| / |objective|."""
    if abs(objective - bound) <= 1e-9:
        return 0.0
    return abs(objective - bound) / max(abs(objective), 1e-9)


def _assignment(model: Model, n: int) -> np.ndarray | None:
    hub_of = np.full(n, -1, dtype=np.int64)
    for (i, j), var in model.x.items():
        if (var.varValue or 0.0) > 0.5:
            if hub_of[i] != -1:
                return None
            hub_of[i] = j
    return None if (hub_of < 0).any() else hub_of
