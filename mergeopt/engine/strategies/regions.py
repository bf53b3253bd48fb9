"""Decomposition by region: independent parts solved apart, in turn or in parallel lanes.

Without a group-count rule or a max-travel term, practices that share no arc and no rule
(different nesting regions, or beyond the travel limit of each other's hubs) are
independent: each region is solved on its own (by the region solver the portfolio
passes in) and the objectives and bounds are added up. The time limit is shared out by
region size (practices, and arcs at 1/100 each); with two or more regions of
:data:`PARALLEL_MIN_PRACTICES` practices or more they are solved in parallel, one process
per CPU (or ``threads``).

A region proven infeasible makes the whole instance infeasible; the report names it
(by :attr:`~mergeopt.engine.instance.Instance.region`, e.g. its ICB code, or its first
practices) and the other regions are then only checked for plain infeasibility. Regions
left without a grouping at their limit are named too (the first :data:`SHOWN_REGIONS`),
so that a run with no grouping says where the time ran out.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from mergeopt.engine.formulation import model_arrays, plainly_infeasible
from mergeopt.engine.instance import (
    Instance,
    independent_regions,
    objective_value,
    region_name,
    simple_bound,
)
from mergeopt.engine.options import Progress, SolveOptions, as_whole
from mergeopt.engine.outcome import Outcome, found, gap, summed_bound
from mergeopt.engine.processes import process_context, usable_cpus
from mergeopt.engine.solvers.highs import label

if TYPE_CHECKING:
    from multiprocessing.queues import SimpleQueue

#: Solve one region to a deadline (``time.perf_counter()``); a module-level function, as
#: lanes send it to their processes.
RegionSolver = Callable[[Instance, SolveOptions, float], Outcome]


def solve_regions(inst: Instance, options: SolveOptions, solve_region: RegionSolver) -> Outcome:
    """Solve each independent region with ``solve_region`` (in turn, or in lanes of
    processes), and add up their groupings, objectives and bounds."""
    started = time.perf_counter()
    regions = independent_regions(inst)
    subs = [inst] if len(regions) == 1 else [inst.subset(r) for r in regions]
    weight = np.asarray([_work(sub) for sub in subs], dtype=float)
    lanes = _lanes(options, subs)
    whole = None
    if options.progress is not None and len(subs) > 1:
        whole = _Whole(subs, options.progress, started, lanes)
    if lanes == 1:
        outcomes = _solve_in_turn(
            subs, weight, options, started + options.time_limit, solve_region, told=whole
        )
    else:
        wall_deadline = time.time() + options.time_limit
        outcomes = _solve_in_lanes(
            subs, weight, options, lanes, wall_deadline, solve_region, whole=whole
        )
    parts = [o for o in outcomes if isinstance(o, Outcome)]
    hub_of = np.full(inst.n, -1, dtype=np.int64)
    for region, outcome in zip(regions, outcomes, strict=True):
        if isinstance(outcome, Outcome) and outcome.hub_of is not None:
            hub_of[region] = region[outcome.hub_of]
    infeasible = [
        region_name(inst, region)
        for region, outcome in zip(regions, outcomes, strict=True)
        if outcome is True or (isinstance(outcome, Outcome) and outcome.status == "infeasible")
    ]
    report = _combine(inst, parts, hub_of, len(regions), started)
    if infeasible:
        unsolved = len(regions) - len(parts)
        named = "; ".join(infeasible)
        note = f"infeasible region{'s' if len(infeasible) > 1 else ''}: {named}"
        if unsolved:
            note += f" ({unsolved} other regions not solved: only plainly infeasible ones named)"
        report = replace(report, stopped_by=f"{report.stopped_by}; {note}")
    elif report.status == "no_solution" and len(regions) > 1:
        empty = [
            region_name(inst, region)
            for region, outcome in zip(regions, outcomes, strict=True)
            if isinstance(outcome, Outcome) and outcome.hub_of is None
        ]
        shown = "; ".join(empty[:SHOWN_REGIONS])
        more = f" and {len(empty) - SHOWN_REGIONS} more" if len(empty) > SHOWN_REGIONS else ""
        note = f"no grouping found in time in {shown}{more}"
        report = replace(report, stopped_by=f"{report.stopped_by}; {note}")
    return report


#: Regions left without a grouping named by the report, at most.
SHOWN_REGIONS = 5


#: A nested run solves its regions in parallel processes (one per CPU it may use, or
#: ``solver.threads``) when at least two regions have this many practices; below that,
#: starting the processes would cost more than the solves.
PARALLEL_MIN_PRACTICES = 50


def _lanes(options: SolveOptions, subs: list[Instance]) -> int:
    """How many processes solve the regions: 1 (this one) unless several are large."""
    large = sum(sub.n >= PARALLEL_MIN_PRACTICES for sub in subs)
    cpus = options.threads if options.threads is not None else usable_cpus()
    return max(1, min(cpus, large))


def _work(sub: Instance) -> float:
    """A region's weight in the share-out of the time: practices, and arcs at 1/100 each.

    By arcs alone, England's 37 smaller ICBs got 158 of the 600 s and ended at gaps of
    10-40%, 94% of the nested gap; by practices alone, the dense ones (QUA, QWE: 170
    practices, 16,000-18,000 arcs) were still in HiGHS's root at 17 s, at gaps of 16%.
    """
    return sub.n + float(sub.allowed.sum()) / 100.0


_RegionOutcome = Outcome | bool  # a solved region, or after an infeasible one: plainly infeasible?


def _solve_in_turn(
    subs: list[Instance],
    weight: np.ndarray,
    options: SolveOptions,
    deadline: float,
    solve_region: RegionSolver,
    *,
    told: Callable[[int, _RegionOutcome], None] | None = None,
) -> list[_RegionOutcome]:
    """Solve regions one after another, each with its weight's share of the time left.

    The lightest go first, so time one leaves unused (proven early) goes to the heavier
    ones. Once a region is proven infeasible, so is the instance: the rest are only
    checked for plain infeasibility (``True`` if plainly infeasible, else ``False``).

    ``options.progress`` hears only the last (heaviest) region's solve, with the finished
    regions' objectives and bounds added, so what it hears is the whole's; a region's own
    figures are not, and are not reported. ``told`` hears each region's outcome as it is
    known (by its position in ``subs``).
    """
    outcomes: list[_RegionOutcome] = [False] * len(subs)
    left = float(weight.sum())
    infeasible = False
    order = np.argsort(weight, kind="stable").tolist()
    for k in order:
        if infeasible:
            outcomes[k] = plainly_infeasible(model_arrays(subs[k]))
            if told is not None:
                told(k, outcomes[k])
            continue
        share = (deadline - time.perf_counter()) * weight[k] / max(left, 1e-12)
        left -= weight[k]
        done = [outcomes[j] for j in order[: order.index(k)]]
        hook = _as_whole(options.progress, done) if k == order[-1] else None
        region_options = replace(options, progress=hook)
        part = solve_region(subs[k], region_options, time.perf_counter() + max(share, 0.0))
        outcomes[k] = part
        infeasible = part.status == "infeasible"
        if told is not None:
            told(k, part)
    return outcomes


def _as_whole(
    report: Callable[[Progress], None] | None, done: list[_RegionOutcome]
) -> Callable[[Progress], None] | None:
    """``report`` fed the last region's progress as the whole's: the regions ``done``
    added to its objective and bound (each None where a region has none)."""
    parts = [part for part in done if isinstance(part, Outcome)]
    if report is None or len(parts) < len(done):
        return None
    objectives = [part.objective for part in parts]
    value = None if None in objectives else sum(o for o in objectives if o is not None)
    return as_whole(report, value, summed_bound(parts))


def _solve_in_lanes(
    subs: list[Instance],
    weight: np.ndarray,
    options: SolveOptions,
    lanes: int,
    wall_deadline: float,
    solve_region: RegionSolver,
    *,
    whole: _Whole | None = None,
) -> list[_RegionOutcome]:
    """Solve regions in ``lanes`` processes, each in turn (:func:`_solve_in_turn`) over a
    set of regions of about equal total weight, to the same deadline (wall clock, as
    each process has its own ``perf_counter``); each HiGHS uses one thread. ``whole``
    hears each region's outcome as its lane sends it (a lane's processes cannot call the
    progress hook of this one)."""
    load = np.zeros(lanes)
    lane_of = np.zeros(len(subs), dtype=np.int64)
    for k in np.argsort(-weight, kind="stable").tolist():  # heaviest into the lightest lane
        lane_of[k] = int(np.argmin(load))
        load[lane_of[k]] += weight[k]
    single = replace(options, threads=1, log=False, progress=None)
    outcomes: list[_RegionOutcome] = [False] * len(subs)
    context = process_context()
    heard: SimpleQueue[tuple[int, _RegionOutcome]] | None = None
    if whole is not None:
        heard = context.SimpleQueue()
    with ProcessPoolExecutor(
        max_workers=lanes, mp_context=context, initializer=_lane_start, initargs=(heard,)
    ) as pool:
        members = [np.flatnonzero(lane_of == lane) for lane in range(lanes)]
        futures = [
            pool.submit(
                _lane,
                ks.tolist(),
                [subs[k] for k in ks],
                weight[ks],
                single,
                wall_deadline,
                solve_region,
            )
            for ks in members
        ]
        if whole is not None and heard is not None:
            _follow(futures, heard, whole)
        for ks, future in zip(members, futures, strict=True):
            for k, outcome in zip(ks.tolist(), future.result(), strict=True):
                outcomes[k] = outcome
    return outcomes


def _follow(
    futures: list[Future[list[_RegionOutcome]]],
    heard: SimpleQueue[tuple[int, _RegionOutcome]],
    whole: _Whole,
) -> None:
    """Tell ``whole`` of each region its lane sends, until every lane has ended."""
    pending = set(futures)
    while pending:
        _, pending = wait(pending, timeout=FOLLOW_SECONDS, return_when=FIRST_COMPLETED)
        while not heard.empty():
            whole(*heard.get())


#: Seconds between two looks at what the lanes sent.
FOLLOW_SECONDS = 0.25

_heard: SimpleQueue[tuple[int, _RegionOutcome]] | None = None


def _lane_start(heard: SimpleQueue[tuple[int, _RegionOutcome]] | None) -> None:
    """In each lane's process: where to send each region's outcome (None: nowhere)."""
    global _heard
    _heard = heard


def _lane(
    positions: list[int],
    subs: list[Instance],
    weight: np.ndarray,
    options: SolveOptions,
    wall_deadline: float,
    solve_region: RegionSolver,
) -> list[_RegionOutcome]:
    """One process's regions (``positions`` among all), in turn, to a wall-clock
    deadline; each region's outcome is sent as soon as it is known."""
    deadline = time.perf_counter() + (wall_deadline - time.time())
    queue = _heard
    told = None
    if queue is not None:

        def told(k: int, outcome: _RegionOutcome) -> None:
            queue.put((positions[k], _light(outcome)))

    return _solve_in_turn(subs, weight, options, deadline, solve_region, told=told)


def _light(outcome: _RegionOutcome) -> _RegionOutcome:
    """A region's outcome without its grouping, as its figures need no more."""
    return replace(outcome, hub_of=None) if isinstance(outcome, Outcome) else outcome


class _Whole:
    """The whole instance's progress from its regions', told each region's outcome as it
    is known: the bound adds each solved region's proven bound and each other region's
    bound that needs no solver (:func:`~mergeopt.engine.instance.simple_bound`), the
    objective is known once every region has a grouping, and the phase says how many
    regions are solved."""

    def __init__(
        self, subs: list[Instance], report: Callable[[Progress], None], started: float, lanes: int
    ) -> None:
        self.floor = [simple_bound(sub) for sub in subs]
        self.known: dict[int, _RegionOutcome] = {}
        self.report, self.started = report, started
        self.where = f" in {lanes} processes" if lanes > 1 else ""
        report(self.progress())

    def __call__(self, k: int, outcome: _RegionOutcome) -> None:
        self.known[k] = outcome
        self.report(self.progress())

    def progress(self) -> Progress:
        parts = list(self.known.values())
        infeasible = any(
            p is True or (isinstance(p, Outcome) and p.status == "infeasible") for p in parts
        )
        phase = f"{len(parts)} of {len(self.floor)} regions solved{self.where}"
        elapsed = time.perf_counter() - self.started
        if infeasible:
            return Progress(elapsed, None, None, None, phase=f"{phase}; a region is infeasible")
        bound = 0.0
        for k, floor in enumerate(self.floor):
            part = self.known.get(k)
            proven = part.bound if isinstance(part, Outcome) else None
            bound += floor if proven is None else max(proven, floor)
        objectives = [p.objective for p in parts if isinstance(p, Outcome)]
        objective = None
        if len(objectives) == len(self.floor) and None not in objectives:
            objective = sum(o for o in objectives if o is not None)
            bound = min(bound, objective)
        relative = None if objective is None else gap(objective, bound)
        return Progress(elapsed, objective, bound, relative, phase=phase)


def _combine(
    inst: Instance, parts: list[Outcome], hub_of: np.ndarray, regions: int, started: float
) -> Outcome:
    """The whole instance's outcome from its regions': groupings side by side, bounds
    added up; optimal only if every region was proven and the sums prove it too."""
    build = sum(p.build_seconds for p in parts)
    finished = time.perf_counter()
    stopped_by = _reasons(parts) + (f" ({regions} independent regions)" if regions > 1 else "")
    bound = summed_bound(parts)
    statuses = {p.status for p in parts}
    if "infeasible" in statuses:
        whole = Outcome("infeasible", bound=bound, stopped_by=stopped_by)
    elif "no_solution" in statuses or len(parts) == 0 or (hub_of < 0).any():
        whole = Outcome("no_solution", bound=bound, stopped_by=stopped_by)
    else:
        whole = found(hub_of, objective_value(inst, hub_of), bound, stopped_by)
    return replace(
        whole, solver=label(), build_seconds=build, solve_seconds=finished - started - build
    )


def _reasons(parts: list[Outcome]) -> str:
    """Why the regions stopped: one reason as it is; several, each with how many regions
    it applies to, so that one region's "Optimal" is not read as the whole's.

    >>> _reasons([Outcome("optimal", stopped_by="Optimal")] * 2)
    'Optimal'
    >>> _reasons(
    ...     [Outcome("optimal", stopped_by="Optimal")] * 2
    ...     + [Outcome("feasible", stopped_by="Time limit reached")]
    ... )
    'Optimal [2 regions]; Time limit reached [1 region]'
    """
    counts = Counter(p.stopped_by for p in parts)
    if len(counts) <= 1:
        return "; ".join(counts)
    return "; ".join(
        f"{reason} [{count} region{'s' if count != 1 else ''}]"
        for reason, count in sorted(counts.items())
    )
