"""The plain PuLP model of an :class:`~.area.Area`, solved by CBC (HiGHS to confirm).

Written from the design notes' formulation (hub formulation, single sourcing) in its
plainest form: a binary x[i, j] for every practice i and every practice j it may join,
a binary y[j] for every practice that may host, and one constraint per rule, with no
strengthening, reduction or decomposition.

CBC (PuLP's bundled solver) and PuLP's HiGHS interface both solve it, so a fault of
either solver shows. Every grouping a solver returns is checked by the reference's own
checker and scored by its own objective; where both prove an optimum and they differ,
the better grouping refutes the other's proof (CBC 2.10.3 has called a grouping of 7
practices optimal at 283,823.38 against 244,370.22); an optimum one proves outweighs the
other's "infeasible" (CBC's preprocessing has called a feasible model of ten practices
infeasible, "Cut generators found to be infeasible"); ``infeasible`` needs both. CBC gets
20 seconds (it takes minutes over some symmetric areas that HiGHS proves at once). No
start is given to HiGHS (the HiGHS fault mergeopt works around needs one).

The status is read from the solution a solver returned, not from PuLP's summary:
``optimal`` only for a solution proved optimal, checked by the reference's own checker
and scored by its own objective; ``infeasible`` for a proof of infeasibility;
``unknown`` for anything else.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import highspy
import pulp

from tests.reference.area import Area
from tests.reference.scoring import Grouping, broken_rules, objective


@dataclass(frozen=True)
class Solved:
    """What the plain model proved: ``status``, and with ``optimal`` the grouping and
    its objective (recomputed by :func:`~.scoring.objective`, not read from a solver);
    ``by`` names the solver(s) that decided it."""

    status: str
    hub_of: Grouping | None = None
    objective: float | None = None
    by: str = ""


def solve_plain(area: Area, *, time_limit: float = 120.0) -> Solved:
    """Build the plain model of ``area`` and solve it with CBC and with HiGHS."""
    problem, x = build_plain(area)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # PuLP 4 drops the bundled CBC
        cbc = pulp.PULP_CBC_CMD(msg=False, timeLimit=min(time_limit, 20.0), gapRel=0.0, threads=1)
    highs = pulp.HiGHS(msg=False, timeLimit=time_limit, gapRel=0.0, threads=1)
    first = _solve(area, problem, x, cbc, "CBC")
    # HiGHS keeps one thread pool per thread, sized by its first solve, and answers "Not
    # Set" to a later solve asking for another size (mergeopt's sweeps ask for one)
    highspy.Highs.resetThreadScheduler(True)
    second = _solve(area, problem, x, highs, "HiGHS")
    answers = {first.status, second.status}
    if answers == {"optimal"}:
        assert first.objective is not None and second.objective is not None
        if abs(first.objective - second.objective) <= 1e-9 * max(1.0, abs(first.objective)):
            return Solved("optimal", first.hub_of, first.objective, "CBC and HiGHS")
        # both groupings hold every rule, so the worse one's proof is refuted (CBC 2.10.3
        # has called a grouping of 7 practices optimal at 283,823.38 against 244,370.22)
        best, worse = sorted((first, second), key=lambda s: s.objective or 0.0)
        return Solved("optimal", best.hub_of, best.objective, f"{best.by} ({worse.by} refuted)")
    if "optimal" in answers:
        proved, other = (first, second) if first.status == "optimal" else (second, first)
        return Solved(
            "optimal", proved.hub_of, proved.objective, f"{proved.by} ({other.by}: {other.status})"
        )
    if answers == {"infeasible"}:
        return Solved("infeasible", by="CBC and HiGHS")
    return Solved("unknown", by=f"CBC: {first.status}, HiGHS: {second.status}")


def _solve(
    area: Area,
    problem: pulp.LpProblem,
    x: Variables,
    solver: Any,
    name: str,
) -> Solved:
    problem.solve(solver)
    if problem.status == pulp.LpStatusInfeasible:
        return Solved("infeasible", by=name)
    if problem.sol_status != pulp.LpSolutionOptimal:
        return Solved("unknown", by=name)
    hub_of = {i: j for (i, j), var in x.items() if (var.varValue or 0.0) > 0.5}
    broken = broken_rules(area, hub_of)
    if broken:  # the model and the checker disagree: the reference itself is wrong
        raise AssertionError(f"{name}: the plain model's optimum breaks rules: {broken}")
    value = objective(area, hub_of)
    solver_value = float(pulp.value(problem.objective) or 0.0)
    if abs(solver_value - value) > 1e-6 * max(1.0, abs(value)):
        raise AssertionError(f"{name}: plain model objective {solver_value} != scored {value}")
    return Solved("optimal", hub_of, value, name)


Variables = dict[tuple[str, str], pulp.LpVariable]


def build_plain(area: Area) -> tuple[pulp.LpProblem, Variables]:
    """The plain model: variables, objective and one constraint family per rule."""
    codes = area.codes
    hosts = [j for j in codes if area.may_host(j)]
    pairs = [(i, j) for i in codes for j in hosts if area.reaches(i, j)]
    problem = pulp.LpProblem("reference", pulp.LpMinimize)
    y = {j: pulp.LpVariable(f"y_{j}", cat="Binary") for j in hosts}
    x = {(i, j): pulp.LpVariable(f"x_{i}_{j}", cat="Binary") for i, j in pairs}
    _objective(problem, area, x, y)
    for i in codes:  # every practice in exactly one group
        problem += pulp.lpSum(v for (a, _), v in x.items() if a == i) == 1, f"one_group_{i}"
    for (_, j), var in x.items():  # only an open hub takes members
        problem += var <= y[j]
    for j in hosts:  # a hub is in its own group; its group's list size and premises
        problem += x[(j, j)] == y[j]
        _load_rules(problem, area, j, [i for (i, b) in pairs if b == j], x, y)
    groups = pulp.lpSum(y.values())
    if area.count_min is not None:
        problem += groups >= area.count_min
    if area.count_max is not None:
        problem += groups <= area.count_max
    _named_rules(problem, area, hosts, x, y)
    return problem, x


def _objective(
    problem: pulp.LpProblem, area: Area, x: Variables, y: dict[str, pulp.LpVariable]
) -> None:
    """README.md's objective: travel (by list size or not), moved patients, groups and
    the longest travel (a variable above every practice's travel)."""
    w = area.weights
    terms = [
        (
            w.travel * (area.size[i] if w.by_size else 1.0) * area.travel[(i, j)]
            + w.moved * area.size[i] * area.moves(i, j)
        )
        * var
        for (i, j), var in x.items()
    ]
    terms += [w.groups * var for var in y.values()]
    if w.max_travel:
        longest = pulp.LpVariable("longest", lowBound=0)
        terms.append(w.max_travel * longest)
        for i in area.codes:
            trips = [area.travel[(a, j)] * var for (a, j), var in x.items() if a == i]
            problem += longest >= pulp.lpSum(trips)
    problem += pulp.lpSum(terms)


def _named_rules(
    problem: pulp.LpProblem,
    area: Area,
    hosts: list[str],
    x: Variables,
    y: dict[str, pulp.LpVariable],
) -> None:
    """Hubs that must host, takeovers, must-links and cannot-links. A rule naming a
    variable that does not exist (a hub that may not host, a member that cannot reach
    its hub) is an empty row: infeasible where it asks for 1."""
    for j in area.codes:
        if area.must_host(j):
            problem += _sum(y, [j]) == 1, f"must_host_{j}"
    for k, (a, b) in enumerate(area.fixed):
        problem += _sum(x, [(a, b)]) == 1, f"fixed_{k}"
    for k, (a, b) in enumerate(area.must_link):
        for j in hosts:
            problem += _sum(x, [(a, j)]) == _sum(x, [(b, j)]), f"must_{k}_{j}"
    for k, (a, b) in enumerate(area.cannot_link):
        for j in hosts:
            problem += _sum(x, [(a, j), (b, j)]) <= 1, f"cannot_{k}_{j}"


def _load_rules(
    problem: pulp.LpProblem,
    area: Area,
    j: str,
    members: list[str],
    x: Variables,
    y: dict[str, pulp.LpVariable],
) -> None:
    """List-size bounds and premises of hub j's group; an oversize practice that forms a
    group alone takes nobody else and is exempt from both."""
    if area.alone(j):
        for i in members:
            if i != j:
                problem += x[(i, j)] == 0
        return
    load = pulp.lpSum(area.size[i] * x[(i, j)] for i in members)
    problem += load >= area.min_size * y[j]
    if area.max_size is not None:
        problem += load <= area.max_size * y[j]
    capacity = area.capacity[j]
    if capacity is not None:
        # load <= capacity exactly: list sizes are whole, so load <= floor(capacity)
        problem += load <= (capacity.numerator // capacity.denominator) * y[j]


def _sum(variables: Mapping[Any, pulp.LpVariable], keys: list[Any]) -> pulp.LpAffineExpression:
    """The sum of the variables that exist among ``keys`` (an empty sum is 0)."""
    return pulp.lpSum([variables[key] for key in keys if key in variables])
