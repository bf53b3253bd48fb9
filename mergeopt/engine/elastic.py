"""The elastic model: every rule may give, at a price, to explain an infeasible instance.

The rules are those of a config, not of each hub: the minimum list size, the maximum list
size, the premises capacity and the travel limit each give (or not) for all groups at
once; the group count, each fixed assignment, forced hub and link may each be broken. The
run layer turns what gave into advice in commissioning terms.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pulp

from mergeopt.engine.instance import Instance, Vector
from mergeopt.engine.solvers.pulp import QuietHiGHS


@dataclass(frozen=True)
class Elastic:
    """How far each rule had to give in the cheapest elastic solution.

    Arrays are indexed by practice position; a zero means the rule held.

    Attributes
    ----------
    hub_of : the elastic grouping
    short : patients below the minimum list size, per hub
    over : patients above the maximum list size U, per hub
    over_premises : patients beyond what the hub's premises serve (C_j), per hub
    far : practices whose hub is beyond the travel limit or across a nesting region
    count_short, count_over : groups missing below the minimum / above the maximum count
    fixed, forced, must, cannot : indices into the instance's rule lists that were broken
    """

    hub_of: Vector
    short: Vector
    over: Vector
    over_premises: Vector
    far: Vector
    count_short: int
    count_over: int
    fixed: tuple[int, ...]
    forced: tuple[int, ...]
    must: tuple[int, ...]
    cannot: tuple[int, ...]


#: Price of breaking one rule; each rule's amount is priced relative to the rule (e.g.
#: the excess over the maximum list size as a fraction of it), so the fewest rules give
#: first, then each by the least. Practices may also reach this many nearest hubs.
_RULE, _SPREAD, _ARC_NEAR = 100.0, 0.01, 8

_X = dict[tuple[int, int], pulp.LpVariable]
_Y = dict[int, pulp.LpVariable]


def _sum(terms: object) -> pulp.LpAffineExpression:
    return pulp.LpAffineExpression(list(terms))  # type: ignore[call-overload]


def solve_elastic(
    inst: Instance, *, max_list_size: float | None = None, time_limit: float = 60.0
) -> Elastic | None:
    """Solve the elastic version of an instance: the fewest rules broken, by the least.

    The rules are those of a config, not of each hub: the minimum list size, the
    maximum list size, the premises capacity and the travel limit each give (or not)
    for all groups at once, by the largest amount any group needs, priced relative to
    the rule; the group count, each fixed assignment, forced hub and link may each be
    broken too. Hub eligibility is kept. ``max_list_size`` is U, so that a hub's bound
    min(U, C_j) can be told apart from its premises C_j. Returns None if even this
    finds nothing.
    """
    prob = pulp.LpProblem("mergeopt_elastic", pulp.LpMinimize)
    usable = [int(j) for j in np.flatnonzero(inst.can_hub | inst.must_hub)]
    if not usable:
        return None
    near = _near_hubs(inst, np.asarray(usable))
    codes = inst.codes
    y = {j: pulp.LpVariable(f"y_{codes[j]}", cat=pulp.LpBinary) for j in usable}
    x = {(i, j): pulp.LpVariable(f"x_{codes[i]}_{codes[j]}", cat=pulp.LpBinary) for i, j in near}
    objective: list[tuple[pulp.LpVariable, float]] = []

    def broken(name: str) -> pulp.LpVariable:
        flag = pulp.LpVariable(f"b_{name}", cat=pulp.LpBinary)
        objective.append((flag, _RULE))
        return flag

    options: dict[int, list[int]] = {i: [] for i in range(inst.n)}
    members: dict[int, list[int]] = {j: [] for j in usable}
    b_travel = broken("travel")
    reach = pulp.LpVariable("travel_needed", lowBound=0)
    scale = max(
        float(np.nanmax(np.where(inst.allowed & np.isfinite(inst.cost), inst.cost, 0))), 1.0
    )
    objective.append((reach, 1.0 / scale))
    for i, j in near:
        options[i].append(j)
        members[j].append(i)
        if not (inst.allowed[i, j] or i == j):
            prob.addConstraint(x[(i, j)] - b_travel <= 0, f"e10_far_{codes[i]}_{codes[j]}")
            cost = float(inst.cost[i, j]) if np.isfinite(inst.cost[i, j]) else 1e6
            prob.addConstraint(cost * x[(i, j)] - reach <= 0, f"e10_reach_{codes[i]}_{codes[j]}")
    for i in range(inst.n):
        prob.addConstraint(_sum((x[(i, j)], 1) for j in options[i]) == 1, f"e1_{codes[i]}")
    for (i, j), var in x.items():
        prob.addConstraint(
            var - y[j] <= 0 if i != j else var - y[j] == 0, f"e2_{codes[i]}_{codes[j]}"
        )
    upper = float("inf") if max_list_size is None else float(max_list_size)
    short, over, over_c = _elastic_loads(prob, inst, upper, x, y, members, broken, objective)
    c_short, c_over = _elastic_count(prob, inst, y, objective)
    flags = _elastic_rules(prob, inst, x, y, options, broken)
    prob.setObjective(_sum(objective))
    prob.solve(QuietHiGHS(msg=False, timeLimit=time_limit))
    if prob.sol_status not in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
        return None
    hub_of = np.zeros(inst.n, dtype=np.int64)
    for (i, j), var in x.items():
        if (var.varValue or 0) > 0.5:
            hub_of[i] = j
    short_arr, over_arr, over_c_arr = np.zeros(inst.n), np.zeros(inst.n), np.zeros(inst.n)
    for j in usable:
        short_arr[j] = short[j].varValue or 0.0
        over_arr[j] = over[j].varValue or 0.0
        over_c_arr[j] = over_c[j].varValue or 0.0 if j in over_c else 0.0
    idx = np.arange(inst.n)
    far = ~(inst.allowed[idx, hub_of] | (idx == hub_of))
    return Elastic(
        hub_of=hub_of,
        short=np.round(short_arr, 6),
        over=np.round(over_arr, 6),
        over_premises=np.round(over_c_arr, 6),
        far=far,
        count_short=round(c_short.varValue or 0),
        count_over=round(c_over.varValue or 0),
        **{
            key: tuple(k for k, flag in enumerate(group) if (flag.varValue or 0) > 0.5)
            for key, group in flags.items()
        },
    )


def _near_hubs(inst: Instance, usable: Vector) -> list[tuple[int, int]]:
    """Allowed arcs, plus each practice's nearest usable hubs even beyond the limit."""
    pairs: set[tuple[int, int]] = set()
    finite = np.where(np.isfinite(inst.cost), inst.cost, np.inf)
    for i in range(inst.n):
        allowed = [int(j) for j in usable if inst.allowed[i, j] or i == j]
        order = usable[np.argsort(finite[i, usable], kind="stable")][:_ARC_NEAR]
        pairs.update((i, j) for j in [*allowed, *order.tolist()])
        if i in usable:
            pairs.add((i, i))
    for a, b in inst.fixed:
        if b in set(usable.tolist()):
            pairs.add((a, b))
    return sorted(pairs)


def _elastic_loads(
    prob: pulp.LpProblem,
    inst: Instance,
    upper: float,
    x: _X,
    y: _Y,
    members: dict[int, list[int]],
    broken: Callable[[str], pulp.LpVariable],
    objective: list[tuple[pulp.LpVariable, float]],
) -> tuple[_Y, _Y, _Y]:
    """Families 4 and 5 with a shortfall or excess per hub; each rule gives as a whole.

    The upper bound min(U, C_j) is split into the list-size rule U (one for all groups)
    and the premises rule C_j (capacity of each hub's building), as a commissioner
    relaxes them separately.
    """
    codes = inst.codes
    total = float(inst.size.sum())
    b_min, b_max, b_premises = broken("min_size"), broken("max_size"), broken("premises")
    worst = {name: pulp.LpVariable(f"worst_{name}", lowBound=0) for name in ("min", "max", "cap")}
    objective += [
        (worst["min"], 1.0 / max(inst.min_size, 1.0)),
        (worst["max"], 1.0 / (upper if np.isfinite(upper) else total)),
        (worst["cap"], 1.0),
    ]
    short = {j: pulp.LpVariable(f"short_{codes[j]}", lowBound=0) for j in members}
    over = {j: pulp.LpVariable(f"over_{codes[j]}", lowBound=0) for j in members}
    over_c: _Y = {}
    # a little for every patient of excess or shortfall, so that once a rule gives,
    # no other group breaks it for free
    objective += [(var, _SPREAD / total) for var in [*short.values(), *over.values()]]
    for j, group in members.items():
        load = [(x[(i, j)], float(inst.size[i])) for i in group]
        low = [*load, (short[j], 1), (y[j], -inst.min_size)]
        prob.addConstraint(_sum(low) >= 0, f"e4_{codes[j]}")
        prob.addConstraint(short[j] - total * b_min <= 0, f"e4b_{codes[j]}")
        prob.addConstraint(short[j] - worst["min"] <= 0, f"e4c_{codes[j]}")
        # a lone oversize practice's own size is its list-size bound; with no maximum and
        # no premises limit the bound is infinite, and HiGHS drops a row holding an
        # infinite coefficient (PuLP then failed reading the solution): the total serves
        own = float(inst.max_size[j]) if np.isfinite(inst.max_size[j]) else 0.0
        cap_u = max(upper if np.isfinite(upper) else total, own)
        prob.addConstraint(_sum([*load, (over[j], -1), (y[j], -cap_u)]) <= 0, f"e5_{codes[j]}")
        prob.addConstraint(over[j] - total * b_max <= 0, f"e5b_{codes[j]}")
        prob.addConstraint(over[j] - worst["max"] <= 0, f"e5c_{codes[j]}")
        premises = float(inst.max_size[j])
        if premises < cap_u:  # the building, not the list-size rule, is the tighter bound
            over_c[j] = pulp.LpVariable(f"over_premises_{codes[j]}", lowBound=0)
            terms = [*load, (over_c[j], -1), (y[j], -premises)]
            prob.addConstraint(_sum(terms) <= 0, f"e5p_{codes[j]}")
            objective.append((over_c[j], _SPREAD / total))
            prob.addConstraint(over_c[j] - total * b_premises <= 0, f"e5q_{codes[j]}")
            prob.addConstraint(
                over_c[j] - max(premises, 1.0) * worst["cap"] <= 0, f"e5r_{codes[j]}"
            )
    return short, over, over_c


def _elastic_count(
    prob: pulp.LpProblem, inst: Instance, y: _Y, objective: list[tuple[pulp.LpVariable, float]]
) -> tuple[pulp.LpVariable, pulp.LpVariable]:
    """Family 6 with groups missing below the minimum and extra above the maximum."""
    count = [(var, 1) for var in y.values()]
    c_short = pulp.LpVariable("count_short", lowBound=0, cat=pulp.LpInteger)
    c_over = pulp.LpVariable("count_over", lowBound=0, cat=pulp.LpInteger)
    b_count = pulp.LpVariable("b_count", cat=pulp.LpBinary)
    objective += [(b_count, _RULE), (c_short, 1.0 / inst.n), (c_over, 1.0 / inst.n)]
    prob.addConstraint(c_short + c_over - inst.n * b_count <= 0, "e6_broken")
    if inst.count_min is not None:
        prob.addConstraint(_sum([*count, (c_short, 1)]) >= inst.count_min, "e6_min")
    if inst.count_max is not None:
        prob.addConstraint(_sum([*count, (c_over, -1)]) <= inst.count_max, "e6_max")
    return c_short, c_over


def _elastic_rules(
    prob: pulp.LpProblem,
    inst: Instance,
    x: _X,
    y: _Y,
    options: dict[int, list[int]],
    broken: Callable[[str], pulp.LpVariable],
) -> dict[str, list[pulp.LpVariable]]:
    codes = inst.codes
    flags: dict[str, list[pulp.LpVariable]] = {"fixed": [], "forced": [], "must": [], "cannot": []}
    for k, (a, b) in enumerate(inst.fixed):
        flag = broken(f"fixed_{k}")
        flags["fixed"].append(flag)
        term = [(x[(a, b)], 1)] if (a, b) in x else []
        prob.addConstraint(_sum([*term, (flag, 1)]) >= 1, f"e7_fixed_{codes[a]}_{codes[b]}")
    for k, j in enumerate(np.flatnonzero(inst.must_hub).tolist()):
        flag = broken(f"forced_{k}")
        flags["forced"].append(flag)
        term = [(y[j], 1)] if j in y else []
        prob.addConstraint(_sum([*term, (flag, 1)]) >= 1, f"e7_hub_{codes[j]}")
    for k, (a, b) in enumerate(inst.must_link):
        flag = broken(f"must_{k}")
        flags["must"].append(flag)
        for j in sorted(set(options[a]) | set(options[b])):
            xa = [(x[(a, j)], 1)] if (a, j) in x else []
            xb = [(x[(b, j)], -1)] if (b, j) in x else []
            prob.addConstraint(_sum([*xa, *xb, (flag, -1)]) <= 0, f"e8a_{k}_{codes[j]}")
            prob.addConstraint(_sum([*xa, *xb, (flag, 1)]) >= 0, f"e8b_{k}_{codes[j]}")
    for k, (a, b) in enumerate(inst.cannot_link):
        flag = broken(f"cannot_{k}")
        flags["cannot"].append(flag)
        for j in sorted(set(options[a]) & set(options[b])):
            terms = [(x[(a, j)], 1), (x[(b, j)], 1), (y[j], -1), (flag, -1)]
            prob.addConstraint(_sum(terms) <= 0, f"e9_{k}_{codes[j]}")
    return flags
