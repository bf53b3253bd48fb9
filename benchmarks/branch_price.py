"""The branch-and-price strategy as an engine of the harness (``--engines bnp``).

:func:`mergeopt.engine.strategies.branch_price.solve` on the whole instance, or, where
the instance splits into independent regions (no group-count rule, e.g. England nested
by ICB), on each region in turn, smallest first, each with its share of the time left by
practices and arcs (as :mod:`mergeopt.solve` shares it); objectives and bounds add up.
One process, one CPU: no region runs in parallel here.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from mergeopt.engine.instance import Instance, objective_value
from mergeopt.engine.strategies import branch_price


def solve_bnp(inst: Instance, *, time_limit: float) -> dict[str, Any]:
    """Solve ``inst`` by branch-and-price within ``time_limit`` seconds; the harness's
    row fields (status, objective, bound, gap, build_seconds, detail)."""
    deadline = time.time() + time_limit
    coupled = inst.count_min is not None or inst.count_max is not None
    regions = [np.arange(inst.n)] if coupled else inst.regions()
    subs = [inst] if len(regions) == 1 else [inst.subset(r) for r in regions]
    if not all(branch_price.applies(sub) for sub in subs):
        return {"error": "branch-and-price does not apply (max travel, contiguity or memory)"}
    weight = np.asarray([len(r) + float(inst.allowed[np.ix_(r, r)].sum()) / 100 for r in regions])
    hub_of = np.full(inst.n, -1, dtype=np.int64)
    bounds: list[float | None] = []
    statuses: set[str] = set()
    left = float(weight.sum())
    for k in np.argsort(weight, kind="stable").tolist():
        region = regions[k]
        share = (deadline - time.time()) * weight[k] / max(left, 1e-12)
        left -= weight[k]
        found = branch_price.solve(subs[k], deadline=time.time() + max(share, 0.0))
        statuses.add(found.status)
        bounds.append(found.bound)
        if found.hub_of is not None:
            hub_of[region] = region[found.hub_of]
        if found.status == "infeasible":
            break
    detail = (
        f"branch-and-price, {len(regions)} independent regions"
        if len(regions) > 1
        else found.stopped_by
    )
    row: dict[str, Any] = {"build_seconds": 0.0, "detail": detail, "gap": None}
    bound = sum(b for b in bounds if b is not None) if None not in bounds else None
    if "infeasible" in statuses:
        return row | {"status": "infeasible", "objective": None, "bound": None}
    if "no_solution" in statuses or (hub_of < 0).any():
        return row | {"status": "no_solution", "objective": None, "bound": bound}
    objective = objective_value(inst, hub_of)
    gap = None if bound is None else abs(objective - bound) / max(abs(objective), 1e-9)
    proven = statuses == {"optimal"}
    return row | {
        "status": "optimal" if proven else "feasible",
        "objective": objective,
        "bound": bound,
        "gap": 0.0 if proven else gap,
    }
