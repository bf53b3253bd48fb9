"""Solving a built model and reporting what the solver actually proved.

PuLP 3.3 reports "Optimal" for a HiGHS run stopped by its time limit; this module reads
the solver's own status, bound and gap instead. The status is one of:

``optimal``      the solver proved no better grouping exists (gap below 1e-6)
``feasible``     a valid grouping, with the best bound and gap the solver proved
``infeasible``   the solver proved no grouping meets every rule
``no_solution``  the solver stopped (time limit) before it found any valid grouping
"""

from __future__ import annotations

import re
import tempfile
import time
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Literal

import numpy as np
import pulp

from mergeopt.config import Solver
from mergeopt.model import Instance, Model, build_model

Status = Literal["optimal", "feasible", "infeasible", "no_solution"]
#: A relative gap at or below this is proof of optimality (the objective is exact to
#: about one patient-minute in a million).
PROVEN_GAP = 1e-6


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
    started = time.perf_counter()
    model = build_model(inst, name=name)
    built = time.perf_counter()
    if settings.name == "highs":
        outcome = _solve_highs(model, settings)
    else:
        outcome = _solve_cbc(model, settings)
    finished = time.perf_counter()
    status, objective, bound, gap, stopped_by, solver = outcome
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


_Outcome = tuple[Status, float | None, float | None, float | None, str, str]


def _solve_highs(model: Model, settings: Solver) -> _Outcome:
    import highspy

    solver = pulp.HiGHS(
        msg=settings.log,
        timeLimit=settings.time_limit,
        gapRel=settings.gap,
        threads=settings.threads,
    )
    model.problem.solve(solver)
    highs = model.problem.solverModel
    status = highs.getModelStatus()
    info = highs.getInfo()
    label = f"HiGHS {version('highspy')} via PuLP {pulp.__version__}"
    reason = highs.modelStatusToString(status)
    ms = highspy.HighsModelStatus
    if status in (ms.kInfeasible, ms.kUnboundedOrInfeasible):
        return "infeasible", None, None, None, reason, label
    has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
    if not has_solution:
        return "no_solution", None, None, None, reason, label
    objective = float(info.objective_function_value)
    bound = float(info.mip_dual_bound)
    gap = _gap(objective, bound)
    proven = status == ms.kOptimal and gap <= PROVEN_GAP
    if status == ms.kOptimal and not proven:
        reason = f"gap tolerance {settings.gap:g} reached"
    return ("optimal" if proven else "feasible"), objective, bound, gap, reason, label


_CBC_BOUND = re.compile(r"(?:Lower bound|Best possible):\s*(-?[\d.eE+-]+)")


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
