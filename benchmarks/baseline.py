"""The plain baseline: the same MIP written plainly as a dense PuLP model, solved by HiGHS.

Every pair (i, j) gets a binary ``x_ij`` and every practice a ``y_j`` (n * n + n
variables; an arc the instance does not allow is a variable with upper bound 0), with the
formulation's families 1-7 of :mod:`mergeopt.engine.formulation` and nothing else: no implied rows
(family 12), no variable fixing, no decomposition, no warm start, no matheuristic. It
reads the same :class:`~mergeopt.engine.instance.Instance` arrays, so both sides solve the same
problem and their objectives are comparable.

PuLP 3.3 says "Optimal" for a HiGHS run stopped by its time limit, so the status, bound
and gap are read from the HiGHS object PuLP keeps in ``prob.solverModel``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pulp

from mergeopt.engine.instance import Instance, objective_value


@dataclass(frozen=True)
class PlainResult:
    """What the plain model found: status as HiGHS says it, objective, bound, timings."""

    status: str  # "optimal", "feasible", "infeasible" or "no_solution"
    hub_of: np.ndarray | None
    objective: float | None
    bound: float | None
    gap: float | None
    build_seconds: float
    solve_seconds: float
    highs_status: str


def build_plain(inst: Instance) -> tuple[pulp.LpProblem, dict[tuple[int, int], pulp.LpVariable]]:  # noqa: C901
    """The dense PuLP model: all n * n ``x_ij`` and n ``y_j``, families 1-7."""
    n = inst.n
    usable = inst.hubs_usable()
    allowed = inst.allowed & np.isfinite(inst.cost) & usable[None, :]
    np.fill_diagonal(allowed, usable)
    cost = np.zeros((n, n))
    i_all, j_all = np.nonzero(allowed)
    cost[i_all, j_all] = inst.arc_objective(i_all, j_all)
    prob = pulp.LpProblem("plain", pulp.LpMinimize)
    y = {j: pulp.LpVariable(f"y_{j}", cat=pulp.LpBinary) for j in range(n)}
    x = {
        (i, j): pulp.LpVariable(f"x_{i}_{j}", cat=pulp.LpBinary)
        for i in range(n)
        for j in range(n)
    }
    for i, j in zip(*np.nonzero(~allowed), strict=True):
        x[(int(i), int(j))].upBound = 0  # after creation: PuLP resets a binary's bounds
    for j in range(n):
        if not usable[j]:
            y[j].upBound = 0
    _, _, groups_w, _ = inst.weights
    prob += pulp.lpSum(cost[i, j] * x[(i, j)] for i, j in x if cost[i, j]) + pulp.lpSum(
        groups_w * y[j] for j in range(n)
    )
    for i in range(n):
        prob += pulp.lpSum(x[(i, j)] for j in range(n)) == 1, f"assign_{i}"
    for (i, j), var in x.items():
        if i == j:
            prob += var == y[j], f"self_{j}"
        else:
            prob += var <= y[j], f"link_{i}_{j}"
    for j in range(n):
        load = pulp.lpSum(float(inst.size[i]) * x[(i, j)] for i in range(n))
        if inst.min_size > 0:
            prob += load >= inst.min_size * y[j], f"min_{j}"
        if np.isfinite(inst.max_size[j]):
            prob += load <= float(inst.max_size[j]) * y[j], f"max_{j}"
    count = pulp.lpSum(y.values())
    if inst.count_min is not None:
        prob += count >= inst.count_min, "count_min"
    if inst.count_max is not None:
        prob += count <= inst.count_max, "count_max"
    for j in np.flatnonzero(inst.must_hub).tolist():
        prob += y[j] == 1, f"forced_{j}"
    for a, b in inst.fixed:
        prob += x[(a, b)] == 1, f"fixed_{a}_{b}"
    for a, b in inst.must_link:
        for j in range(n):
            prob += x[(a, j)] == x[(b, j)], f"must_{a}_{b}_{j}"
    for a, b in inst.cannot_link:
        for j in range(n):
            prob += x[(a, j)] + x[(b, j)] <= y[j], f"cannot_{a}_{b}_{j}"
    return prob, x


def solve_plain(
    inst: Instance, *, time_limit: float, gap: float = 1e-6, seed: int = 0
) -> PlainResult:
    """Build the dense model and solve it with ``pulp.HiGHS`` (HiGHS's ``random_seed``
    ``seed``); read HiGHS's own status.

    Only for instances without the max-travel term or contiguity (the benchmarks have
    neither); ``ValueError`` otherwise.
    """
    if inst.weights[3] or inst.contiguous:
        raise ValueError("the plain baseline covers families 1-9 only")
    started = time.perf_counter()
    prob, x = build_plain(inst)
    built = time.perf_counter()
    prob.solve(pulp.HiGHS(msg=False, timeLimit=time_limit, gapRel=gap, random_seed=seed))
    finished = time.perf_counter()
    highs = prob.solverModel
    model_status = highs.getModelStatus()
    info = highs.getInfo()
    text = highs.modelStatusToString(model_status)
    timing = {"build_seconds": built - started, "solve_seconds": finished - built}
    if text == "Infeasible":
        return PlainResult("infeasible", None, None, None, None, highs_status=text, **timing)
    bound = float(info.mip_dual_bound) if np.isfinite(info.mip_dual_bound) else None
    hub_of = _hub_of(x, inst.n) if info.primal_solution_status == 2 else None
    if hub_of is None:
        return PlainResult("no_solution", None, None, bound, None, highs_status=text, **timing)
    objective = objective_value(inst, hub_of)
    gap_now = None if bound is None else abs(objective - bound) / max(abs(objective), 1e-9)
    proven = text == "Optimal" and gap_now is not None and gap_now <= gap + 1e-12
    return PlainResult(
        "optimal" if proven else "feasible",
        hub_of,
        objective,
        bound,
        gap_now,
        highs_status=text,
        **timing,
    )


def _hub_of(x: dict[tuple[int, int], pulp.LpVariable], n: int) -> np.ndarray | None:
    hub_of = np.full(n, -1, dtype=np.int64)
    for (i, j), var in x.items():
        if (var.varValue or 0.0) > 0.5:
            if hub_of[i] >= 0:
                return None
            hub_of[i] = j
    return None if (hub_of < 0).any() else hub_of
