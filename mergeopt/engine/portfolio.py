"""Which strategies run, where and in what order: the portfolio, one place.

:func:`solve_instance` is the engine's entry point. With ``solver="cbc"`` the MIP goes
through PuLP to CBC (:mod:`mergeopt.engine.solvers.pulp`). With HiGHS (the default),
independent regions are solved apart (:mod:`~mergeopt.engine.strategies.regions`, in
parallel lanes when two or more are large), each by :func:`solve_region`:

**Two CPUs or more** (not ``threads: 1``, not inside a lane, a sweep's pool or a Dask
worker). A *lead* runs in this process from the first second and one strategy *beside*
it in a second process (:class:`~mergeopt.engine.processes.Beside`), both to the same
deadline, sharing groupings and bounds through :class:`~mergeopt.engine.shared.Shared`.
Beside HiGHS or the hub search, the strategy starts only once the lead has had
:data:`BESIDE_DELAY_SHARE` of the time alone (at most :data:`BESIDE_DELAY_MAX` seconds):
a lead that proves sooner runs as it would alone, unslowed by a process on the CPU beside
it. Branch-and-price, which proves OR-Library's kind sooner than HiGHS, starts after at
most :data:`BNP_DELAY_MAX` seconds and at full priority, and steps back after a root far
from proving (:data:`BNP_STEP_BACK_GAP`):

- **HiGHS leads** (:func:`lead_highs`) on the whole strengthened MIP (the arrays of
  :mod:`~mergeopt.engine.formulation`, with its full time limit) on every capacitated
  instance, on the path HiGHS alone takes: the model in a plain PuLP model's order
  (:func:`~mergeopt.engine.formulation.plain_order`) and no start until the strategy
  beside starts. Through its callbacks it hands each grouping it finds to the strategy
  beside, takes each better grouping found there as a user solution, proves its bound to
  the others, and is interrupted once the best grouping and the best bound of any
  component prove the gap tolerance. Beside it runs, in this order of choice:
  branch-and-price (:mod:`~mergeopt.engine.strategies.branch_price`) where its
  ``preferred()`` says so (exact knapsacks, OR-Library's kind); Lagrangian fixing
  (:mod:`~mergeopt.engine.strategies.fixing`) where its bound applies; otherwise the
  matheuristic (:mod:`~mergeopt.engine.strategies.matheuristic`), from the LP-guided
  start (:mod:`~mergeopt.engine.strategies.lp_guided`) on a large model.
- **HiGHS runs beside** (at full priority, in a process stopped at the deadline) on a
  model of more than :data:`~mergeopt.engine.solvers.highs.PRESOLVE_MAX_COLS` arcs,
  where its root does not look at the clock; the p-median relaxation's bound, the greedy
  start and the matheuristic (:func:`lead_bound_improve`) lead here.
- **The hub search leads** on an uncapacitated instance (a p-median:
  :mod:`~mergeopt.engine.strategies.hubsearch`, measured 18-110 times faster than HiGHS
  on OR-Library's pmed), with HiGHS on the whole MIP beside it.

The lead's outcome stands if it proved optimality or infeasibility; otherwise the
strategy beside is given until the deadline (and :data:`GRACE_SECONDS`) for its own. The
grouping reported is the best of any component, the bound the best any component proved
(:func:`combine`), so neither the time nor the bound can be worse than the lead's alone.

**One CPU.** Nothing runs beside. An uncapacitated instance gets the hub search; any
other, HiGHS on the whole MIP with its full time from the greedy start
(:mod:`~mergeopt.engine.strategies.heuristics`, given at most
:data:`START_SHARE` of the time), then the matheuristic in any time left: never worse
than HiGHS alone with the same limit but for that start's seconds. On a model whose
root may overrun (:func:`root_ignores_clock`), HiGHS runs in a second process while
this one waits (:func:`highs_apart`), so that it is stopped at the deadline; from a
daemonic process (a Dask worker), that process is a new interpreter.

**Whole-number objectives.** When every objective coefficient is a whole number
(OR-Library), a proven bound *b* is raised to the next whole number, and a grouping
whose value meets it is optimal even if HiGHS stopped on its time limit.

Every phase looks at the deadline; the strategy beside is stopped (terminated) as soon
as the lead's proof or the deadline and grace are reached.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from mergeopt.engine.formulation import model_arrays, plain_order, plainly_infeasible
from mergeopt.engine.instance import (
    Instance,
    implied_count_max,
    integral_objective,
    objective_value,
    simple_bound,
)
from mergeopt.engine.options import Progress, SolveOptions, as_whole
from mergeopt.engine.outcome import Outcome, found, gap, infeasible, no_grouping, round_bound
from mergeopt.engine.processes import (
    BESIDE_NICE,
    OVERRAN,
    Beside,
    Strategy,
    spare_cpu,
    step_back,
    usable_cpus,
)
from mergeopt.engine.shared import Shared
from mergeopt.engine.solvers.highs import PRESOLVE_MAX_COLS, run_highs
from mergeopt.engine.solvers.pulp import solve_cbc
from mergeopt.engine.strategies import branch_price
from mergeopt.engine.strategies.fixing import QUICK_ARCS, fixing_applies, lagrangian_fixing
from mergeopt.engine.strategies.heuristics import construct
from mergeopt.engine.strategies.hubsearch import hub_search_applies, run_hub_search
from mergeopt.engine.strategies.large import (
    LARGE_ARCS,
    arc_count,
    candidate_instance,
    relaxed_bound,
    relaxed_start,
)
from mergeopt.engine.strategies.lp_guided import lp_guided
from mergeopt.engine.strategies.matheuristic import highs_sub_solver, improve
from mergeopt.engine.strategies.regions import solve_regions

#: Largest share of a large region's time for the bound of its relaxation.
LARGE_BOUND_SHARE = 0.1
#: Share of the time a lead (HiGHS, or the hub search) runs alone before the strategy
#: beside it starts, and the most seconds that may be. On the 2-CPU benchmark machine
#: a strategy beside HiGHS slowed HiGHS from 4.2-4.5 s alone to 8.5-14 s on ICB QOC and
#: from 0.5 s to 1.3-3.0 s on pmedcap1 #1, both of which HiGHS alone proves faster than
#: the plain model (why, the machine does not show: it reports one thread per core); a
#: lead that proves within this time runs alone. Not longer: with twice the delay, over
#: HiGHS seeds 0-2 at 3679d2a, pmedcap1 #14, #15, #17 and #19 proved later by the median
#: (15.1 -> 18.5, 9.9 -> 13.0, 7.9 -> 11.6, 7.3 -> 9.6 s), while TA100 (9.70 -> 9.65 s)
#: and sub-ICB 00T (34.2 -> 34.8 s), which the strategy beside slows by 3-6%, gained
#: nothing beyond noise. No rule on HiGHS's gap at the delay separates them: 3.43% on
#: TA100 (seed 0), within the 3.26-11.42% of the pmedcap1 cases it pays on (docs/engine.md).
BESIDE_DELAY_SHARE, BESIDE_DELAY_MAX = 0.1, 10.0
#: Branch-and-price (where ``preferred()``: exact knapsacks) starts beside HiGHS after at
#: most this many seconds, at full priority, and steps back (to ``BESIDE_NICE``) after its
#: root if the root's bound lies more than :data:`BNP_STEP_BACK_GAP` below the best
#: grouping it then holds. It alone proved 15 of the 27 pmedcap1 and TA cases sooner than
#: the portfolio did with the delay above and the lower priority throughout
#: (``benchmarks/PORTFOLIO_BNP.md`` at ab24003). This way (the same command at b7541c6),
#: 19 of 20 pmedcap1 were proven within 30 s, not 18, and #7, #10 and #18 went from 0.92x,
#: 1.29x and 1.00x the plain model to 1.40x, 2.09x and 2.20x; #8 stayed proven (0.96x).
#: Its root gaps were 0.0-1.4% on every pmedcap1 case it proves and 5.9% and 3.1% on #8
#: and #20 (against the optimum; 8.7% and 2.9% on #8 and #14 against the grouping after
#: its dive): on #8, which HiGHS alone proves at 26-28 s of 30, full priority throughout
#: left it unproven.
BNP_DELAY_MAX = 1.0
BNP_STEP_BACK_GAP = 0.05
#: Seconds past the deadline the lead waits for the strategy beside it to report.
GRACE_SECONDS = 0.5
#: Seconds past the deadline one CPU's HiGHS in a second process (:func:`highs_apart`)
#: has to end and send its outcome. HiGHS ends its last step past its limit (0.1-0.4 s
#: on the England ICBs in this process), and the process adds its start: with 0.5 s,
#: ICB QOP's HiGHS, which ends 0.42 s past 30 s in this process, was stopped with the
#: same grouping and bound it would have reported.
APART_GRACE_SECONDS = 1.0
#: Seconds between reports of where one CPU's HiGHS in a second process stands.
PROGRESS_SECONDS = 1.0
#: Largest share of the time the greedy start may take before HiGHS starts (one CPU).
START_SHARE = 0.05
#: Share of the time beside HiGHS for the LP-guided start of a large model.
LP_GUIDED_SHARE = 0.25
#: The LP-guided start is not tried on models of more arcs than this (its LP grew past
#: 12 GB on a 3,000-point instance of 9.2 million arcs).
LP_GUIDED_MAX_ARCS = 2_000_000


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
    # the live line shows the whole's figures: the rest's plus the alone practices' cost
    rest_options = replace(options, progress=as_whole(options.progress, constant, constant))
    outcome = solve_instance(inst.subset(rest, count=(low, high)), rest_options, name=name)
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
    """One region to ``deadline`` (``time.perf_counter()``): the lead here and a strategy
    beside it where a second CPU is free, else in turn (the module docstring); a region
    of more than :data:`~mergeopt.engine.strategies.large.LARGE_ARCS` arcs as
    :func:`solve_large` says."""
    if not hub_search_applies(inst) and arc_count(inst) > LARGE_ARCS:
        return solve_large(inst, options, deadline)
    return _solve_region(inst, options, deadline)


def solve_large(inst: Instance, options: SolveOptions, deadline: float) -> Outcome:
    """A region too large for the whole MIP (:mod:`~mergeopt.engine.strategies.large`):
    a bound from the p-median relaxation of the whole (at most :data:`LARGE_BOUND_SHARE`
    of the time), then the portfolio on the model over candidate hubs with the rest.
    The bound reported is the relaxation's only: the candidate model's own bound holds
    for it alone (hubs were left out without proof). HiGHS runs beside, in the second
    process, where a CPU is free: on a model of 400,000 columns its root overran a 30 s
    limit by 49 s, and a process can be stopped at the deadline where a call cannot;
    here the greedy and the matheuristic (:func:`lead_improve`) lead. With one CPU only
    they run."""
    began = time.perf_counter()
    left = max(deadline - began, 0.0)
    relaxed = relaxed_bound(inst, deadline=began + 0.3 * LARGE_BOUND_SHARE * left)
    start = relaxed_start(inst, relaxed, deadline=began + (LARGE_BOUND_SHARE + START_SHARE) * left)
    if start is not None:  # aim the steps at a grouping's value
        relaxed = max(
            relaxed,
            relaxed_bound(
                inst,
                deadline=began + 2 * LARGE_BOUND_SHARE * left,
                upper=objective_value(inst, start),
                start=relaxed.multipliers,
            ),
            key=lambda r: r.bound,
        )
    bound = round_bound(relaxed.bound, integral_objective(inst))
    proven = bound if np.isfinite(bound) else None
    sub = candidate_instance(inst, relaxed.hub_value, start)
    hubs = int(sub.hubs_usable().sum())
    of = int(inst.hubs_usable().sum())
    note = f"{hubs} candidate hubs of {of}; bound from the p-median relaxation"
    shared = Shared(sub)
    shared.offer(start)
    if spare_cpu(options.threads):
        outcome = run_portfolio(
            sub, options, deadline, lead_improve, highs_whole, "HiGHS", shared=shared
        )
    else:
        outcome = lead_improve(sub, options, deadline, shared)
    build = outcome.build_seconds
    if outcome.hub_of is None:
        why = (
            "no grouping among the candidate hubs"
            if outcome.status == "infeasible"
            else outcome.stopped_by
        )
        return no_grouping(proven, f"{why} ({note})", build_seconds=build)
    value = objective_value(inst, outcome.hub_of)
    proven = None if proven is None else min(proven, value)
    return found(
        outcome.hub_of, value, proven, f"{outcome.stopped_by} ({note})", build_seconds=build
    )


def _solve_region(inst: Instance, options: SolveOptions, deadline: float) -> Outcome:
    if not spare_cpu(options.threads):
        return _in_turn(inst, options, deadline)
    lead, beside, name = plan(inst)
    return run_portfolio(inst, options, deadline, lead, beside, name)


def plan(inst: Instance) -> tuple[Strategy, Strategy, str]:
    """The lead, the strategy beside it and its name, for an instance (module docstring)."""
    if hub_search_applies(inst):
        return lead_hub_search, highs_whole, "HiGHS"
    if root_ignores_clock(inst):  # in a process, HiGHS is stopped on time
        return lead_bound_improve, highs_whole, "HiGHS"
    if branch_price.preferred(inst):
        return lead_highs, branch_and_price, "branch-and-price"
    if fixing_applies(inst):
        return lead_highs, fixing, "Lagrangian fixing"
    return lead_highs, matheuristic, "matheuristic"


def root_ignores_clock(inst: Instance) -> bool:
    """Whether HiGHS's root on this instance's whole MIP may run past its time limit: a
    model of more than :data:`~mergeopt.engine.solvers.highs.PRESOLVE_MAX_COLS` arcs.

    HiGHS looks at the clock between the steps of its root, not inside them. It ran 49 s
    past a 30 s limit on 400,000 columns; on one CPU, ICB QRV (340 practices, 115,570
    arcs at 38 minutes) ended 10.5-11.4 s past a 30 s limit, in HiGHS's analytic centre
    (an interior-point solve of the root LP that HiGHS 1.16 runs to its end), while the
    other 13 of England's 14 largest ICBs (169-405 practices) ended 0.05-1.05 s past.
    """
    return len(inst.arcs()[0]) > PRESOLVE_MAX_COLS


def run_portfolio(
    inst: Instance,
    options: SolveOptions,
    deadline: float,
    lead: Strategy,
    strategy: Strategy,
    name: str,
    *,
    shared: Shared | None = None,
) -> Outcome:
    """``lead`` here and ``strategy`` in a second process, sharing groupings and bounds
    (from those ``shared`` already holds), to ``deadline``; their outcomes combined
    (:func:`combine`)."""
    shared = Shared(inst) if shared is None else shared
    single = replace(options, threads=1, log=False, progress=None)  # the hook stays here
    # HiGHS beside as the source of the bound (a model too large for it here) and the
    # matheuristic as the source of the grouping (HiGHS's own are poor on ICB-sized
    # networks) start at full priority; the others beside HiGHS or the hub search at a
    # lower one. At BESIDE_NICE on a busy machine the matheuristic's LP-guided start on
    # ICB QOP never ended, and the grouping stayed the greedy's, 19% above a 16.1 million
    # it reaches on a CPU of its own; once it has its start, it steps back (matheuristic)
    full = lead in (lead_improve, lead_bound_improve) or strategy in (
        matheuristic,
        branch_and_price,  # it steps back after a root far from proving (BNP_STEP_BACK_GAP)
    )
    nice = 0 if full else BESIDE_NICE
    # HiGHS beside a lead that proves nothing (a large model) is wanted from the first
    # second; beside HiGHS or the hub search, a strategy starts once the lead has had
    # BESIDE_DELAY_SHARE of the time alone (module docstring)
    alone = lead in (lead_improve, lead_bound_improve)
    delay = 0.0 if alone else beside_delay(deadline - time.perf_counter())
    if strategy is branch_and_price:
        delay = min(delay, BNP_DELAY_MAX)
    beside = Beside(strategy, inst, single, deadline, nice=nice, delay=delay)
    shared.connect(beside.conn)
    # a grouping the lead holds back (lead_highs: its greedy start) goes to HiGHS once
    # the strategy beside starts, with what that strategy finds
    shared.hand_at(time.perf_counter() + delay)
    # HiGHS as the lead takes every CPU: it runs alone for the delay, and beside the
    # strategy later on it still proved faster on 2 CPUs than on one (VARIABILITY.md,
    # HiGHS seeds 0-2, one CPU at 9f3a4bf -> both at 5684319: pmedcap1 #10 1.62x ->
    # 1.75x the plain model, #13 0.77x -> 0.82x, TA100 0.89x -> 0.92x, ICB QOC 0.89x ->
    # 0.93x; 17/20 pmedcap1 still proven). Any other lead leaves a CPU to HiGHS beside
    # it, at full priority (HiGHS's idle threads spin: with every CPU's worth beside a
    # busy process, ICB QOC's proof took 43 s, not 17)
    cpus = options.threads if options.threads is not None else usable_cpus()
    spare = 0 if lead is lead_highs else 1
    lead_options = replace(options, threads=max(1, cpus - spare))
    try:
        ours = lead(inst, lead_options, deadline, shared)
        shared.receive()
        theirs, note = None, ""
        if ours.status not in ("optimal", "infeasible") and not shared.proven(options.gap):
            theirs, note = beside.result(shared, deadline + GRACE_SECONDS)
    finally:
        beside.stop()
    if theirs is not None:
        note = theirs.stopped_by
    elif ours.status not in ("optimal", "infeasible") and shared.proven(options.gap):
        note = "its grouping and bound prove the gap tolerance"
    return combine(inst, ours, theirs, shared, f"{name} beside: {note}" if note else "")


def beside_delay(seconds: float) -> float:
    """How long a lead of ``seconds`` runs alone before the strategy beside it starts:
    :data:`BESIDE_DELAY_SHARE` of the time, at most :data:`BESIDE_DELAY_MAX` seconds."""
    return min(BESIDE_DELAY_SHARE * max(seconds, 0.0), BESIDE_DELAY_MAX)


def combine(
    inst: Instance, ours: Outcome, theirs: Outcome | None, shared: Shared, note: str
) -> Outcome:
    """The lead's outcome ``ours`` with the strategy's ``theirs`` and every grouping and
    bound shared meanwhile: the best grouping of any, the best bound of any.

    A proof of infeasibility by either stands. A bound is never lost: the one reported
    is the largest any component proved (never above the grouping's value).
    """
    if ours.status == "infeasible" or (
        theirs is not None and theirs.status == "infeasible" and shared.best is None
    ):
        return ours if ours.status == "infeasible" else theirs  # type: ignore[return-value]
    for outcome in (ours, theirs):
        if outcome is not None:
            shared.offer(outcome.hub_of)
            shared.prove(outcome.bound)
    bound = shared.bound if np.isfinite(shared.bound) else None
    if bound is not None:
        bound = round_bound(bound, integral_objective(inst))
    words = "; ".join(w for w in (ours.stopped_by, note) if w)
    if shared.best is None:
        return no_grouping(bound, words, build_seconds=ours.build_seconds)
    if ours.status == "optimal" and ours.hub_of is not None:
        return replace(ours, stopped_by=words)
    bound = None if bound is None else min(bound, shared.value)
    return found(shared.best, shared.value, bound, words, build_seconds=ours.build_seconds)


def _in_turn(inst: Instance, options: SolveOptions, deadline: float) -> Outcome:
    """One CPU: the hub search (uncapacitated), or HiGHS on the whole MIP from the greedy
    start with the rest of the time (in a second process where its root may overrun),
    then the matheuristic in any time left."""
    if hub_search_applies(inst):
        return lead_hub_search(inst, options, deadline, Shared(inst))
    shared = Shared(inst)
    relaxed = quick_bound(inst, deadline)
    if root_ignores_clock(inst):
        run = highs_apart(inst, options, deadline, shared)
    else:
        run = highs_whole(inst, options, deadline, shared)
    if run.status in ("optimal", "infeasible"):
        return run
    shared.offer(run.hub_of)
    shared.prove(run.bound)
    shared.prove(relaxed)  # where HiGHS stopped before its root gave a bound
    shared.prove(simple_bound(inst))  # a grouping from the start alone still has a gap
    if shared.best is not None and deadline - time.perf_counter() > 0.1 and inst.n > 8:
        target = shared.bound + 1e-9 * max(1.0, abs(shared.bound))
        sub = highs_sub_solver(options)
        shared.offer(improve(inst, shared.best, sub, deadline=deadline, target=target))
    outcome = combine(inst, run, None, shared, "")
    if outcome.status == "optimal":  # e.g. the matheuristic reached the bound
        return replace(outcome, stopped_by=f"{run.stopped_by}; grouping meets the proven bound")
    return outcome


def highs_apart(
    inst: Instance,
    options: SolveOptions,
    deadline: float,
    shared: Shared,
    *,
    strategy: Strategy | None = None,
) -> Outcome:
    """HiGHS on the whole MIP (:func:`highs_whole`, or ``strategy``) in a second process
    while this one waits, stopped at the deadline (and :data:`APART_GRACE_SECONDS`): one
    CPU's HiGHS on a model whose root may overrun (:func:`root_ignores_clock`).

    This process only waits, so the solve still takes one CPU. The groupings and bounds
    HiGHS finds come back through its callbacks as it runs (a bound every
    :data:`~mergeopt.engine.solvers.highs.BOUND_SECONDS`), so a run stopped in its root
    still reports the best of them; its outcome, where it ends in time, stands as it is.
    With ``options.progress``, the best of them is reported every
    :data:`PROGRESS_SECONDS` meanwhile. Where no second process can be started, HiGHS
    runs in this one, as on a smaller model.
    """
    began = time.perf_counter()
    final = deadline + APART_GRACE_SECONDS
    run = strategy or highs_whole
    beside = Beside(run, inst, replace(options, progress=None), deadline, nice=0)
    shared.connect(beside.conn)
    try:
        while True:
            until = final
            if options.progress is not None:
                until = min(final, time.perf_counter() + PROGRESS_SECONDS)
            theirs, note = beside.result(shared, until)
            if theirs is not None or note != OVERRAN or time.perf_counter() >= final:
                break
            if options.progress is not None:
                options.progress(shared_progress(shared, time.perf_counter() - began))
    finally:
        beside.stop()
    shared.receive()
    if theirs is not None:
        return theirs
    if beside.error:  # no second process (e.g. no interpreter to start): HiGHS here
        return run(inst, options, deadline, shared)
    words = f"HiGHS {note}"
    bound = shared.bound if np.isfinite(shared.bound) else None
    if bound is not None:
        bound = round_bound(bound, integral_objective(inst))
    if shared.best is None:
        return no_grouping(bound, words)
    return found(
        shared.best, shared.value, None if bound is None else min(bound, shared.value), words
    )


def shared_progress(shared: Shared, elapsed: float) -> Progress:
    """Where a solve stands by the best grouping and bound ``shared`` holds."""
    objective = shared.value if shared.best is not None else None
    bound = shared.bound if np.isfinite(shared.bound) else None
    if objective is not None and bound is not None:
        bound = min(bound, objective)
    relative = None if objective is None or bound is None else gap(objective, bound)
    return Progress(elapsed=elapsed, objective=objective, bound=bound, gap=relative)


def quick_bound(inst: Instance, deadline: float) -> float | None:
    """The p-median relaxation's bound (:func:`relaxed_bound`), in at most
    :data:`QUICK_BOUND_SHARE` of the time left and :data:`QUICK_BOUND_SECONDS`; None
    where it would say nothing (no minimum list size and no group count: every hub may
    open) or its (n, n) arrays would be too large (:data:`QUICK_BOUND_MAX_PRACTICES`).

    On one CPU (a nested run's lanes, a sweep's workers) HiGHS is the only other source
    of a bound, and it may stop at its limit before its root gives one. All of England
    nested by ICB at a 38-minute limit (``groups.remote: [L82017]``), in 60 s, stopped
    42 of its 53 regions at the limit: its bound was 188.8 and 203.4 million in two runs
    on an idle machine (96.0 million on a loaded one), its grouping 405.9 million, a gap
    of 50-53%. With this bound: 303.7 and 308.9 million, a gap of 24-25%, the grouping
    405.9-406.1 million (``mergeopt run configs/england_pcn.yaml --set
    travel.max_minutes=38 --set 'groups.remote=[L82017]'``).
    """
    if inst.n > QUICK_BOUND_MAX_PRACTICES or not inst.hubs_usable().any():
        return None
    if inst.count_max is None and implied_count_max(inst) >= inst.n:
        return None
    left = max(deadline - time.perf_counter(), 0.0)
    seconds = min(QUICK_BOUND_SHARE * left, QUICK_BOUND_SECONDS)
    relaxed = relaxed_bound(inst, deadline=time.perf_counter() + seconds)
    if not np.isfinite(relaxed.bound):
        return None
    return round_bound(relaxed.bound, integral_objective(inst))


#: :func:`quick_bound`'s share of a one-CPU solve's time, and its most seconds.
QUICK_BOUND_SHARE, QUICK_BOUND_SECONDS = 0.05, 1.0
#: :func:`quick_bound` only on regions of at most this many practices ((n, n) arrays).
QUICK_BOUND_MAX_PRACTICES = 2_000


# The strategies: each takes an instance, options, a deadline (time.perf_counter()) and
# the shared channel, and returns the one outcome type (processes.Strategy).


def highs_whole(
    inst: Instance, options: SolveOptions, deadline: float, shared: Shared, *, lead: bool = False
) -> Outcome:
    """HiGHS on the whole MIP from the best grouping shared so far (else from the greedy
    start, given at most :data:`START_SHARE` of the time), sharing through its callbacks.

    As the ``lead`` (:func:`lead_highs`), HiGHS takes the path it takes alone: the model
    in the plain order (:func:`~mergeopt.engine.formulation.plain_order`) and no start
    at its first second; :func:`run_portfolio` hands it the start once the strategy
    beside starts (:meth:`Shared.hand_at`).
    """
    began = time.perf_counter()
    if shared.best is None:
        shared.offer(construct(inst, deadline=began + START_SHARE * max(deadline - began, 0.0)))
    arrays = plain_order(model_arrays(inst)) if lead else model_arrays(inst)
    build = time.perf_counter() - began
    if plainly_infeasible(arrays):  # e.g. a practice with no hub it may join
        return infeasible("a rule no grouping can meet", build_seconds=build)
    start = None if lead else shared.best
    left = max(deadline - time.perf_counter(), 0.0)
    run = run_highs(arrays, inst, options, left, start, shared=shared)
    return replace(run, build_seconds=run.build_seconds + build)


def lead_highs(inst: Instance, options: SolveOptions, deadline: float, shared: Shared) -> Outcome:
    """HiGHS leading the portfolio on a capacitated instance, on the path HiGHS alone
    takes until the strategy beside starts (:func:`highs_whole` as the lead).

    HiGHS's path through a MIP hangs on what does not change the model: the order of its
    columns and rows, a start. Given the greedy start at its first second, on mergeopt's
    own order and with family 12, HiGHS proved some cases sooner than the plain model
    and others later: over HiGHS's seeds 0-2, pmedcap1 #13 and TA100 at 0.88x, slower
    than the plain model's every seed (``benchmarks/VARIABILITY.md`` at 2ea931a). On
    the plain path, with the start handed at the delay, 18 of the same 20 cases were as
    fast or faster, pmedcap1 #7 at 0.98x and TA100 at 0.95x (the same page at 7e07560).
    """
    return highs_whole(inst, options, deadline, shared, lead=True)


def lead_hub_search(
    inst: Instance, options: SolveOptions, deadline: float, shared: Shared
) -> Outcome:
    """The branch-and-bound over hubs from the greedy start (uncapacitated instances)."""
    start = construct(inst, deadline=deadline)
    start = shared.best if start is None else start
    return run_hub_search(inst, start, deadline, progress=options.progress)


def lead_improve(
    inst: Instance, options: SolveOptions, deadline: float, shared: Shared
) -> Outcome:
    """The greedy start (at most :data:`START_SHARE` of the time), else the first grouping
    shared from beside, improved by the matheuristic to the deadline. Proves nothing."""
    began = time.perf_counter()
    shared.offer(construct(inst, deadline=began + START_SHARE * max(deadline - began, 0.0)))
    while shared.best is None and shared.conn is not None and time.perf_counter() < deadline:
        shared.receive()
        shared.wait(deadline - time.perf_counter())
    if shared.best is None:
        return no_grouping(None, "no grouping found in the time")
    sub = highs_sub_solver(options)
    shared.offer(improve(inst, shared.best, sub, deadline=deadline, shared=shared))
    return found(shared.best, shared.value, None, "neighbourhoods re-optimised")


def lead_bound_improve(
    inst: Instance, options: SolveOptions, deadline: float, shared: Shared
) -> Outcome:
    """:func:`lead_improve` on a model too large for HiGHS to be stopped in a call, after
    proving the p-median relaxation's bound of the whole
    (:func:`~mergeopt.engine.strategies.large.relaxed_bound`, at most
    :data:`LARGE_BOUND_SHARE` of the time): HiGHS beside may be stopped at the deadline
    before its root ends (doni1, 1,000 points: no bound in 300 s), and the run still
    reports an honest bound."""
    began = time.perf_counter()
    relaxed = relaxed_bound(inst, deadline=began + LARGE_BOUND_SHARE * max(deadline - began, 0))
    if np.isfinite(relaxed.bound):
        shared.prove(round_bound(relaxed.bound, integral_objective(inst)))
    outcome = lead_improve(inst, options, deadline, shared)
    bound = shared.bound if np.isfinite(shared.bound) else None
    return replace(outcome, bound=None if bound is None else min(bound, shared.value))


def branch_and_price(
    inst: Instance, options: SolveOptions, deadline: float, shared: Shared
) -> Outcome:
    """Branch-and-price, its groupings and bounds shared as found; it steps back
    (:func:`~mergeopt.engine.processes.step_back`) after a root whose bound lies more than
    :data:`BNP_STEP_BACK_GAP` below the best grouping."""
    wall = time.time() + (deadline - time.perf_counter())

    def incumbent(hub_of: np.ndarray, _value: float) -> None:
        shared.offer(hub_of)

    def bound(value: float) -> None:
        shared.prove(value)

    def root(value: float) -> None:
        # far from proving: HiGHS is the likelier to prove, and has the CPUs back
        if gap(shared.value, value) > BNP_STEP_BACK_GAP:
            step_back()

    return branch_price.solve(
        inst,
        deadline=wall,
        start=shared.best,
        on_incumbent=incumbent,
        on_bound=bound,
        on_root=root,
        gap=options.gap,
    )


def fixing(inst: Instance, options: SolveOptions, deadline: float, shared: Shared) -> Outcome:
    """Lagrangian fixing, from the greedy start (its grouping and bound shared at the end)."""
    start = construct(inst, deadline=deadline)
    shared.offer(start)
    shared.receive()
    outcome = lagrangian_fixing(inst, model_arrays(inst), options, deadline, shared.best)
    shared.offer(outcome.hub_of)
    shared.prove(outcome.bound)
    return outcome


def matheuristic(
    inst: Instance, options: SolveOptions, deadline: float, shared: Shared
) -> Outcome:
    """The matheuristic from the greedy start, or on a large model from the LP-guided
    start; groupings exchanged with HiGHS as found. Proves nothing (bound None)."""
    began = time.perf_counter()
    start = construct(inst, deadline=deadline)
    shared.offer(start)
    ai, _ = inst.arcs()
    if QUICK_ARCS < len(ai) <= LP_GUIDED_MAX_ARCS:
        # HiGHS's own heuristics find a good grouping of ICB QOP only as its root's
        # cut rounds end (45-60 s of 60), in some runs not at all
        # the share counts from after the greedy start (seconds on a busy CPU)
        until = time.perf_counter() + LP_GUIDED_SHARE * max(deadline - began, 0.0)
        shared.offer(lp_guided(inst, model_arrays(inst), options, until, start))
    shared.receive()
    if shared.best is None:
        return no_grouping(None, "no grouping to improve")
    # the start is what needed full priority (run_portfolio); the neighbourhoods from it
    # run at a lower one, so that HiGHS's bound keeps both CPUs (ICB QT1 at 60 s: 6.273
    # million at full priority throughout, 6.280-6.283 million stepping back; the
    # grouping the same)
    step_back()
    best = improve(inst, shared.best, highs_sub_solver(options), deadline=deadline, shared=shared)
    shared.offer(best)
    return found(shared.best, shared.value, None, "neighbourhoods re-optimised")
