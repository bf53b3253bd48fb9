"""The LP-guided start: the MIP restricted to the hubs its LP relaxation opens.

On ICB-sized networks HiGHS's own heuristics find a good grouping only as its root's cut
rounds end, in some runs not at all; a start from the hubs the LP relaxation points at is
found in a share of the time (:func:`lp_guided`).
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import numpy as np

from mergeopt.engine.formulation import Arrays, model_arrays
from mergeopt.engine.instance import Instance, arc_costs, feasible, objective_value
from mergeopt.engine.options import SolveOptions
from mergeopt.engine.solvers.highs import highs_model, run_highs

#: How many of the LP's hubs each practice may join in the restricted MIP (on ICB QOP 6
#: gave 16.06 million in 20 s, 10 gave 16.22 and 20 gave 16.36).
LP_GUIDED_HUBS = 6
#: Largest share of the time for the LP relaxation (the restricted MIP has the rest).
LP_SHARE = 0.7


def lp_guided(
    inst: Instance,
    arrays: Arrays,
    options: SolveOptions,
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
    # the LP may take most of the time: beside HiGHS on a busy machine ICB QOP's took
    # 4.2-9.6 s where it takes 2.8 s alone, and an LP cut off leaves only the start
    highs: Any = highs_model(arrays, replace(options, log=False, progress=None), LP_SHARE * limit)
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
    cost = np.where(hubs[None, :], arc_costs(inst), np.inf)
    nearest = np.argsort(cost, axis=1, kind="stable")[:, :LP_GUIDED_HUBS]
    rows = np.repeat(np.arange(inst.n), nearest.shape[1])
    allowed[rows, nearest.ravel()] |= np.isfinite(cost[rows, nearest.ravel()])
    sub = replace(inst, allowed=allowed & inst.allowed, can_hub=inst.can_hub & hubs)
    quiet = replace(options, log=False, progress=None)
    found = run_highs(model_arrays(sub), sub, quiet, deadline - time.perf_counter(), start)
    if found.hub_of is None or not feasible(inst, found.hub_of):
        return start
    if start is not None and objective_value(inst, start) <= objective_value(inst, found.hub_of):
        return start
    return found.hub_of
