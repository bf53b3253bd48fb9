"""HiGHS through highspy: the MIP of :mod:`mergeopt.engine.formulation` solved from arrays.

:func:`run_highs` builds a HiGHS model from :class:`~mergeopt.engine.formulation.Arrays`
in one call, solves it (from a start grouping, if given) and reads HiGHS's own model
status, bound and gap; the grouping's objective is recomputed from the instance.

Every HiGHS object here is made by :func:`quiet_highs`: no banner, no log unless asked.
``highspy.Highs()`` prints "Running HiGHS ... Copyright ..." to standard output as it is
made (its Python ``__init__`` enables callbacks before ``output_flag`` can be set). The
compiled class underneath, ``highspy._core._Highs``, has every method mergeopt calls and
prints nothing; where a highspy version lacks it, the Python class is made with standard
output (file descriptor 1, where the C++ library writes) sent to ``os.devnull``.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from importlib.metadata import version
from typing import Any, Literal

import numpy as np
import pulp

from mergeopt.engine.errors import SolverError
from mergeopt.engine.formulation import Arrays
from mergeopt.engine.instance import Instance, integral_objective, objective_value
from mergeopt.engine.options import Progress, SolveOptions
from mergeopt.engine.outcome import (
    Outcome,
    found,
    gap,
    infeasible,
    no_grouping,
    round_bound,
    solver_ended,
)
from mergeopt.engine.shared import Shared

#: What a run says where HiGHS answered "Interrupted by user": mergeopt interrupts HiGHS
#: only from its callback, once the best grouping and bound known prove the gap tolerance
#: (:func:`share_through_callbacks`), and HiGHS's words told users they had stopped it.
STOPPED_EARLY = "HiGHS stopped early"
#: Models with more columns than this are solved without HiGHS's presolve.
PRESOLVE_MAX_COLS = 100_000
#: Models with more columns than this, given fewer seconds than this, are solved without
#: HiGHS's presolve, which does not look at the clock. On one CPU, the England ICBs of
#: 57,398-68,414 columns (QWO, QRV, QHM, each at its harness travel limit) ended 5.4-19.0
#: s past a 30 s limit with presolve (QHM 1.2-3.5 s past 10 s, its presolve alone 11.5 s)
#: and 0.2-3.1 s past without, with bounds no worse (12.87 against 12.80 million on QWO)
#: and the same groupings; at 60 s QHM ended 0.3 s past either way, with the same bound.
#: QOP (44,202 columns) ended 0.2 s past 10 s and 30 s either way.
PRESOLVE_SHORT_COLS, PRESOLVE_SHORT_SECONDS = 50_000, 45.0


def quiet_highs() -> Any:
    """A new HiGHS object with ``output_flag`` off and nothing printed."""
    import highspy

    core = getattr(getattr(highspy, "_core", None), "_Highs", None)
    highs: Any = None
    if core is not None:
        try:
            highs = core()
        except Exception:  # a highspy whose compiled class cannot be made directly
            highs = None
    if highs is None:
        highs = _silenced(highspy.Highs)
    highs.setOptionValue("output_flag", False)
    return highs


def highs_from_arrays(arrays: Arrays) -> Any:
    """A :func:`quiet_highs` object holding the model of ``arrays`` (integrality and
    names included); options are the caller's to set."""
    import highspy

    highs = quiet_highs()
    lp = highspy.HighsLp()
    lp.num_col_ = arrays.num_col
    lp.num_row_ = arrays.num_row
    lp.col_cost_ = arrays.col_cost
    lp.col_lower_ = arrays.col_lower
    lp.col_upper_ = arrays.col_upper
    lp.row_lower_ = arrays.row_lower
    lp.row_upper_ = arrays.row_upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.num_col_ = arrays.num_col
    lp.a_matrix_.num_row_ = arrays.num_row
    lp.a_matrix_.start_ = arrays.row_start.astype(np.int32)
    lp.a_matrix_.index_ = arrays.row_index.astype(np.int32)
    lp.a_matrix_.value_ = arrays.row_value
    kinds = (highspy.HighsVarType.kContinuous, highspy.HighsVarType.kInteger)
    lp.integrality_ = [kinds[int(b)] for b in arrays.integer]
    lp.col_names_ = arrays.col_names
    lp.row_names_ = arrays.row_names
    highs.passModel(lp)
    return highs


def reset_thread_pool() -> None:
    """Let the next solve in this thread size HiGHS's thread pool afresh."""
    import highspy

    core = getattr(getattr(highspy, "_core", None), "_Highs", highspy.Highs)
    reset = getattr(core, "resetThreadScheduler", None) or getattr(
        core, "resetGlobalScheduler", None
    )
    if reset is not None:
        reset(True)


def _silenced(make: Any) -> Any:
    """``make()`` with file descriptor 1 sent to ``os.devnull`` meanwhile."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            return make()
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def label() -> str:
    """The solver's name as a run reports it."""
    return f"HiGHS {version('highspy')} (arrays; PuLP {pulp.__version__} for .lp and CBC)"


def highs_model(
    arrays: Arrays, options: SolveOptions, time_limit: float, *, presolve: bool = True
) -> object:
    """A quiet HiGHS holding ``arrays``, with the options of ``options`` and the time limit
    (and presolve off if asked)."""
    highs = highs_from_arrays(arrays)
    highs.setOptionValue("output_flag", bool(options.log))
    highs.setOptionValue("time_limit", max(float(time_limit), 0.001))
    highs.setOptionValue("mip_rel_gap", float(options.gap))
    highs.setOptionValue("random_seed", int(options.seed))
    if options.threads is not None:
        highs.setOptionValue("threads", int(options.threads))
    short = arrays.num_col > PRESOLVE_SHORT_COLS and time_limit < PRESOLVE_SHORT_SECONDS
    if arrays.num_col > PRESOLVE_MAX_COLS or short or not presolve:
        # HiGHS's MIP presolve does not look at the clock: on pmed16's 160,400 columns it
        # ran 40-70 s past a 20-60 s limit; without it the limit holds
        highs.setOptionValue("presolve", "off")
    return highs


def run_highs(
    arrays: Arrays,
    inst: Instance,
    options: SolveOptions,
    time_limit: float,
    start: np.ndarray | None = None,
    *,
    shared: Shared | None = None,
) -> Outcome:
    """HiGHS on ``arrays`` for ``time_limit`` seconds, from the grouping ``start`` if given.

    Reads HiGHS's own model status and dual bound; the grouping's objective is recomputed
    from ``inst``, and with a whole-number objective the bound is rounded up. Raises
    ``SolverError`` if HiGHS itself failed (never reported as a time limit).

    With ``shared`` (:class:`~mergeopt.engine.shared.Shared`), HiGHS takes part in the
    portfolio through its callbacks (:func:`share_through_callbacks`): each grouping it
    finds and its bound are shared, a better grouping found beside it is handed to it as
    a user solution, and it is interrupted once the best grouping and bound of any
    component prove the gap tolerance. The outcome is HiGHS's own; the caller combines
    it with ``shared``.

    HiGHS's answer is checked against itself (:func:`checked_answer`).
    """

    def connect(highs: Any) -> None:
        if shared is not None or options.progress is not None:
            share_through_callbacks(highs, arrays, inst, options, shared)

    first = arrays.columns(inst, start) if start is not None else None
    answer = checked_answer(arrays, options, time_limit, first, prepare=connect)
    reason = answer.reason
    if answer.status == "infeasible":
        return infeasible(reason)
    if answer.values is None:
        return no_grouping(answer.bound, reason)
    hub_of = arrays.hub_of(answer.values)
    if hub_of is None:
        return no_grouping(answer.bound, f"{reason}; incomplete solution")
    objective = objective_value(inst, hub_of)
    bound = answer.bound
    if bound is not None:
        bound = round_bound(bound, integral_objective(inst))
    outcome = found(hub_of, objective, bound, reason)
    if answer.optimal and outcome.status != "optimal":
        # HiGHS met its gap tolerance on the model it solved; say so only if the
        # grouping's own gap shows it
        return replace(outcome, stopped_by=solver_ended(outcome, options.gap))
    if outcome.status == "optimal" and not answer.optimal:
        # stopped (time limit, or interrupted once the portfolio's figures proved it):
        # its own grouping and bound prove optimality, with the rounding where it did
        rounded = found(hub_of, objective, answer.bound, reason).status != "optimal"
        why = (
            "bound rounded up to the whole-number objective"
            if rounded
            else "its grouping and bound prove the gap tolerance"
        )
        return replace(outcome, stopped_by=f"{reason}; {why}: optimal")
    return outcome


@dataclass(frozen=True)
class Answer:
    """What HiGHS answered on a model.

    ``status`` is ``infeasible`` (HiGHS proved no solution exists), ``no_solution`` (it
    found none in time) or ``feasible`` (``values``: the columns of the best solution
    found); ``reason`` is HiGHS's model status in words, ``bound`` its proven bound
    (None where it proved none), ``optimal`` whether its status is "Optimal" (its gap
    tolerance met on the model it solved) and ``info`` HiGHS's own info record.
    """

    status: Literal["infeasible", "no_solution", "feasible"]
    reason: str
    values: np.ndarray | None = None
    bound: float | None = None
    optimal: bool = False
    info: Any = None


def solve_model(
    highs: Any,
    num_col: int,
    start: np.ndarray | None,
    options: SolveOptions,
    *,
    model: str = "this model",
) -> Answer:
    """Run ``highs`` (a model of ``num_col`` columns) from the column values ``start`` if
    given, and read its answer.

    Raises ``SolverError`` if HiGHS itself failed (never reported as a time limit); the
    message names ``model``.
    """
    import highspy

    if start is not None:
        highs.setSolution(num_col, np.arange(num_col, dtype=np.int32), start)
    status = _run(highs, options)
    info = highs.getInfo()
    ms = highspy.HighsModelStatus
    reason = STOPPED_EARLY if status == ms.kInterrupt else str(highs.modelStatusToString(status))
    failed = (ms.kNotset, ms.kLoadError, ms.kModelError, ms.kPresolveError, ms.kSolveError)
    if status in (*failed, ms.kPostsolveError):  # never reported as a time limit
        raise SolverError(f"HiGHS failed on {model} ({reason}); nothing was written")
    if status in (ms.kInfeasible, ms.kUnboundedOrInfeasible):
        return Answer("infeasible", reason, info=info)
    optimal = status == ms.kOptimal
    if info.primal_solution_status != 2:  # kSolutionStatusFeasible
        return Answer("no_solution", reason, bound=solver_bound(info), optimal=optimal, info=info)
    values = np.asarray(highs.getSolution().col_value)
    return Answer("feasible", reason, values, solver_bound(info), optimal, info)


def _run(highs: Any, options: SolveOptions) -> Any:
    """Run HiGHS; return its model status."""
    import highspy

    highs.run()
    status = highs.getModelStatus()
    if status == highspy.HighsModelStatus.kNotset and options.threads is not None:
        # HiGHS sizes one thread pool per thread at its first solve and refuses a later
        # solve asking for another size ("Not Set"): size it afresh and run again
        reset_thread_pool()
        highs.run()
        status = highs.getModelStatus()
    return status


def checked_answer(
    arrays: Arrays,
    options: SolveOptions,
    time_limit: float,
    start: np.ndarray | None,
    *,
    model: str = "this model",
    prepare: Callable[[Any], None] | None = None,
) -> Answer:
    """HiGHS on ``arrays`` (:func:`highs_model`, then ``prepare``, e.g. its callbacks)
    from the column values ``start``, its answer checked against itself.

    Where the objective HiGHS reports is not the value of the solution it returns,
    neither its status nor its bound is trusted, and the model is solved again without
    presolve in the time left. HiGHS 1.16, with presolve and a start, answered "Optimal"
    for 9 practices returning the start unchanged, with an objective and "bound" 60,006
    below the start's value, and on a 4-practice joint two-level model returning the
    start (6.5) with objective and bound 3.0 (optimum 6.24). If HiGHS still contradicts
    itself, its solution is kept without a bound.
    """
    began = time.perf_counter()
    for presolve in (True, False):
        left = max(time_limit - (time.perf_counter() - began), 0.0)
        highs = highs_model(arrays, options, left, presolve=presolve)
        if prepare is not None:
            prepare(highs)
        answer = solve_model(highs, arrays.num_col, start, options, model=model)
        if answer.values is None or not contradicts_itself(answer.info, arrays, answer.values):
            return answer
    note = f"{answer.reason}; HiGHS's objective contradicts its solution: no bound kept"
    return replace(answer, reason=note, bound=None, optimal=False)


def contradicts_itself(info: object, arrays: Arrays, values: np.ndarray) -> bool:
    """Whether the objective HiGHS reports differs from the value of its own solution."""
    claimed = float(info.objective_function_value)  # type: ignore[attr-defined]
    actual = float(arrays.col_cost @ values)
    return abs(claimed - actual) > 1e-6 * max(1.0, abs(actual))


#: Seconds between looks at the pipe, and between bounds sent, from HiGHS's callbacks.
POLL_SECONDS, BOUND_SECONDS = 0.05, 0.5


def share_through_callbacks(
    highs: Any, arrays: Arrays, inst: Instance, options: SolveOptions, shared: Shared | None
) -> None:
    """Connect HiGHS to the portfolio's channel (highspy's callbacks, HiGHS 1.10 on), and
    to ``options.progress``: one callback does both, since HiGHS has one callback slot.

    - improving solution: the grouping goes to :meth:`Shared.offer`;
    - user solution: a better grouping received from beside is handed to HiGHS
      (``setSolution`` on the callback's input, which HiGHS checks and may improve);
    - MIP interrupt: the pipe is read, HiGHS's dual bound (rounded up with a whole-number
      objective) is proven to the others every :data:`BOUND_SECONDS`, and HiGHS is
      interrupted once the best grouping and bound known prove ``options.gap``.

    With ``options.progress``, each improving solution and each interrupt check also
    reports where the solve stands (:class:`~mergeopt.engine.options.Progress`): the
    best grouping and bound known, HiGHS's or shared from beside, whichever is better.
    ``shared`` None (HiGHS alone) only reports.

    HiGHS calls these between its own steps (not inside its sub-MIPs), so an interrupt
    is seen within HiGHS's next step. An error in a callback is kept out of HiGHS (it
    would abort the solve) and only stops the sharing (or the reporting).
    """
    import highspy

    kind = highspy.cb.HighsCallbackType
    share = _Sharing(arrays, inst, options.gap, shared) if shared is not None else None
    report = _Reporting(options.progress, shared) if options.progress is not None else None

    def callback(which: int, _message: str, out: Any, into: Any, _data: object) -> None:
        if share is not None:
            share(int(which), out, into)
        if report is not None:
            report(int(which), out)

    highs.setCallback(callback, None)
    for which in (
        kind.kCallbackMipImprovingSolution,
        *([kind.kCallbackMipUserSolution] if shared is not None else []),
        kind.kCallbackMipInterrupt,
    ):
        highs.startCallback(which)


class _Sharing:
    """The portfolio's side of HiGHS's callback (:func:`share_through_callbacks`)."""

    def __init__(self, arrays: Arrays, inst: Instance, tolerance: float, shared: Shared) -> None:
        import highspy

        kind = highspy.cb.HighsCallbackType
        self.improving = int(kind.kCallbackMipImprovingSolution)
        self.user = int(kind.kCallbackMipUserSolution)
        self.interrupt = int(kind.kCallbackMipInterrupt)
        self.arrays, self.inst, self.tolerance, self.shared = arrays, inst, tolerance, shared
        self.integral = integral_objective(inst)
        self.poll = self.sent = -math.inf
        self.failed = False

    def __call__(self, which: int, out: Any, into: Any) -> None:
        if self.failed:
            return
        shared = self.shared
        try:
            if which == self.improving:
                shared.offer(self.arrays.hub_of(np.asarray(out.mip_solution)))
            elif which == self.user:
                shared.receive()
                fresh = shared.take_fresh()
                if fresh is not None and shared.value < float(out.mip_primal_bound) - 1e-9:
                    into.setSolution(self.arrays.columns(self.inst, fresh))
            elif which == self.interrupt:
                now = time.perf_counter()
                if now - self.poll >= POLL_SECONDS:
                    self.poll = now
                    shared.receive()
                bound = float(out.mip_dual_bound)
                if math.isfinite(bound) and now - self.sent >= BOUND_SECONDS:
                    self.sent = now
                    shared.prove(round_bound(bound, self.integral))
                if shared.proven(self.tolerance):
                    into.user_interrupt = True
        except Exception:  # never into HiGHS: the solve goes on without sharing
            self.failed = True


class _Reporting:
    """The progress hook's side of HiGHS's callback: on each improving solution and each
    interrupt check, where the solve stands (:func:`_progress`)."""

    def __init__(self, report: Callable[[Progress], None], shared: Shared | None) -> None:
        import highspy

        kind = highspy.cb.HighsCallbackType
        self.kinds = {int(kind.kCallbackMipImprovingSolution), int(kind.kCallbackMipInterrupt)}
        self.report, self.shared = report, shared
        self.failed = False

    def __call__(self, which: int, out: Any) -> None:
        if self.failed or which not in self.kinds:
            return
        try:
            progress = _progress(out, self.shared)
            if progress is not None:
                self.report(progress)
        except Exception:  # a display never stops a solve: it only stops reporting
            self.failed = True


def _progress(out: Any, shared: Shared | None) -> Progress | None:
    """Where the solve stands, from a callback's output and what ``shared`` holds; None
    before the MIP has started (HiGHS reports zeros then)."""
    if out.mip_primal_bound == out.mip_dual_bound == out.mip_gap == 0:
        return None
    objective = _finite(out.mip_primal_bound)
    bound = _finite(out.mip_dual_bound)
    if shared is not None:
        if math.isfinite(shared.value):
            objective = shared.value if objective is None else min(objective, shared.value)
        if math.isfinite(shared.bound):
            bound = shared.bound if bound is None else max(bound, shared.bound)
    relative = None
    if objective is not None and bound is not None:
        bound = min(bound, objective)
        relative = gap(objective, bound)
    return Progress(
        elapsed=float(out.running_time), objective=objective, bound=bound, gap=relative
    )


def _finite(value: Any) -> float | None:
    number = float(value)
    return number if np.isfinite(number) and abs(number) < 1e300 else None


def solver_bound(info: object) -> float | None:
    """HiGHS's proven dual bound, or None where it proved none."""
    value = float(info.mip_dual_bound)  # type: ignore[attr-defined]
    return value if np.isfinite(value) else None
