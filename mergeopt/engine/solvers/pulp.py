"""PuLP, the modelling layer: CBC (and any other PuLP solver) and readable LP/MPS files.

:func:`build_model` turns the arrays of :mod:`mergeopt.engine.formulation` into a PuLP
problem whose variables and constraints are named after the formulation's families, so a
written ``.lp`` file reads like the docstring; :func:`solve_cbc` solves it with CBC and
reads CBC's own bound from its log. :class:`QuietHiGHS` is PuLP's HiGHS interface without
the banner (the elastic model of :mod:`mergeopt.engine.elastic` uses it). Every PuLP call
of the engine is here or in the elastic model, so a PuLP major version touches two modules.
"""

from __future__ import annotations

import re
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pulp

from mergeopt.engine.errors import SolverError
from mergeopt.engine.formulation import model_arrays
from mergeopt.engine.instance import Instance, objective_value
from mergeopt.engine.options import SolveOptions
from mergeopt.engine.outcome import Outcome, found, gap, infeasible, no_grouping, proven
from mergeopt.engine.solvers.highs import quiet_highs


class QuietHiGHS(pulp.HiGHS):  # type: ignore[misc]
    """PuLP's HiGHS interface, solving on a :func:`quiet_highs` object (no banner)."""

    def createAndConfigureSolver(self, lp: pulp.LpProblem) -> None:
        lp.solverModel = quiet_highs()
        if self.callbackTuple:
            lp.solverModel.setCallback(*self.callbackTuple)
        for kind in self.callbacksToActivate or ():
            lp.solverModel.startCallback(kind)
        if self.msg:
            lp.solverModel.setOptionValue("output_flag", True)
        if self.gapRel is not None:
            lp.solverModel.setOptionValue("mip_rel_gap", self.gapRel)
        if self.gapAbs is not None:
            lp.solverModel.setOptionValue("mip_abs_gap", self.gapAbs)
        if self.threads is not None:
            lp.solverModel.setOptionValue("threads", self.threads)
        if self.timeLimit is not None:
            lp.solverModel.setOptionValue("time_limit", float(self.timeLimit))
        for key, value in self.optionsDict.items():
            lp.solverModel.setOptionValue(key, value)


@dataclass(frozen=True)
class Model:
    """A built PuLP problem with its variables keyed by practice position."""

    problem: pulp.LpProblem
    x: dict[tuple[int, int], pulp.LpVariable]
    y: dict[int, pulp.LpVariable]
    z: pulp.LpVariable | None


def build_model(inst: Instance, *, name: str = "mergeopt") -> Model:
    """Build the MIP of the formulation as a PuLP problem (from :func:`model_arrays`).

    Numbered families are named as in the formulation's docstring. PuLP is the path for
    CBC and for a readable ``.lp`` file; HiGHS reads the arrays directly
    (:mod:`mergeopt.engine.solvers.highs`).
    """
    arrays = model_arrays(inst)
    prob = pulp.LpProblem(name, pulp.LpMinimize)
    variables = [
        pulp.LpVariable(
            col,
            lowBound=float(arrays.col_lower[k]),
            upBound=float(arrays.col_upper[k]) if np.isfinite(arrays.col_upper[k]) else None,
            cat=pulp.LpBinary if arrays.integer[k] else pulp.LpContinuous,
        )
        for k, col in enumerate(arrays.col_names)
    ]
    prob.setObjective(
        pulp.LpAffineExpression(
            [(variables[k], float(c)) for k, c in enumerate(arrays.col_cost) if c]
        )
    )
    start, index, value = arrays.row_start, arrays.row_index.tolist(), arrays.row_value.tolist()
    for r, row_name in enumerate(arrays.row_names):
        expr = pulp.LpAffineExpression(
            [(variables[index[e]], value[e]) for e in range(start[r], start[r + 1])]
        )
        lower, upper = float(arrays.row_lower[r]), float(arrays.row_upper[r])
        if lower == upper:
            prob.addConstraint(expr == lower, row_name)
        elif np.isfinite(lower):
            prob.addConstraint(expr >= lower, row_name)
        else:
            prob.addConstraint(expr <= upper, row_name)
    x = {
        (int(i), int(j)): variables[int(c)]
        for i, j, c in zip(arrays.arc_i, arrays.arc_j, arrays.x_col, strict=True)
    }
    y = {int(j): variables[int(c)] for j, c in enumerate(arrays.y_col) if c >= 0}
    z = variables[arrays.z_col] if arrays.z_col is not None else None
    return Model(prob, x, y, z)


#: CBC's command-line options. Its integer preprocessing is off: CBC 2.10.3 (PuLP's
#: bundled CBC) has proved a worse grouping optimal after preprocessing reduced the model
#: to nothing (``tests/test_regressions.py``), and a result is never called optimal
#: unless proven.
CBC_OPTIONS: tuple[str, ...] = ("preprocess off",)

_CBC_BOUND = re.compile(r"(?:Lower bound|Best possible):\s*(-?[\d.eE+-]+)")


def solve_cbc(inst: Instance, options: SolveOptions, *, name: str = "mergeopt") -> Outcome:
    """Build the MIP with PuLP, solve it with CBC and report what CBC proved (its bound
    read from its log, as PuLP reports none)."""
    started = time.perf_counter()
    model = build_model(inst, name=name)
    built = time.perf_counter()
    try:
        outcome = _run_cbc(model, options, inst, CBC_OPTIONS)
    except SolverError:
        if not CBC_OPTIONS:
            raise
        # without preprocessing CBC 2.10.3 crashes on some infeasible models (a segmentation
        # fault writing its solution): solve as CBC does by default, keep its "infeasible",
        # and no proof of optimality from it (the fault CBC_OPTIONS avoids)
        outcome = _run_cbc(build_model(inst, name=name), options, inst, ())
        if outcome.status == "optimal" and outcome.hub_of is not None:
            note = "CBC with preprocessing: its proof not trusted"
            outcome = found(outcome.hub_of, outcome.objective or 0.0, None, note)
    finished = time.perf_counter()
    return replace(
        outcome,
        solver=f"CBC via PuLP {pulp.__version__}",
        build_seconds=built - started,
        solve_seconds=finished - built,
    )


def _run_cbc(
    model: Model, options: SolveOptions, inst: Instance, cbc_options: tuple[str, ...]
) -> Outcome:
    with tempfile.TemporaryDirectory(prefix="mergeopt-cbc-") as folder:
        log = Path(folder) / "cbc.log"
        solver = pulp.PULP_CBC_CMD(
            msg=options.log,
            timeLimit=options.time_limit,
            gapRel=options.gap,
            threads=options.threads,
            logPath=str(log),
            options=list(cbc_options),
        )
        try:
            model.problem.solve(solver)
        except pulp.PulpSolverError as error:  # CBC crashed or could not be run
            raise SolverError(
                f"CBC failed on this model ({error}); nothing was written"
            ) from error
        text = log.read_text(errors="replace") if log.exists() else ""
    sol, status = model.problem.sol_status, model.problem.status
    if status == pulp.LpStatusUndefined:  # not a time limit: CBC said nothing
        raise SolverError("CBC failed on this model (status Undefined); nothing was written")
    # CBC's "Integer infeasible" reaches PuLP as status Infeasible with no solution status
    if sol == pulp.LpSolutionInfeasible or status == pulp.LpStatusInfeasible:
        return infeasible("infeasible")
    if sol not in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
        if status != pulp.LpStatusNotSolved:  # "Stopped" (a limit) is Not Solved; else a fault
            raise SolverError(
                f"CBC failed on this model ({pulp.LpStatus[status]}); nothing was written"
            )
        return no_grouping(None, pulp.LpStatus[status])
    bounds = _CBC_BOUND.findall(text)
    bound = float(bounds[-1]) if bounds else None
    if sol == pulp.LpSolutionOptimal and bound is None and "Optimal solution found" in text:
        bound = float(pulp.value(model.problem.objective) or 0.0)  # CBC's bound is its objective
    hub_of = pulp_assignment(model, inst.n)
    if hub_of is None:
        return no_grouping(bound, "the solution CBC returned was incomplete")
    # the grouping's own value, as for HiGHS: CBC's sum over its 0.9999999 carries rounding
    objective = objective_value(inst, hub_of)
    if proven(objective, bound):
        reason = "optimal"
    elif bound is not None and gap(objective, bound):
        reason = "time limit or gap tolerance"
    else:
        reason = "bound unknown"
    return found(hub_of, objective, bound, reason)


def pulp_assignment(model: Model, n: int) -> np.ndarray | None:
    """The grouping in a solved PuLP model, or None unless each practice has one hub."""
    hub_of = np.full(n, -1, dtype=np.int64)
    for (i, j), var in model.x.items():
        if (var.varValue or 0.0) > 0.5:
            if hub_of[i] != -1:
                return None
            hub_of[i] = j
    return None if (hub_of < 0).any() else hub_of
