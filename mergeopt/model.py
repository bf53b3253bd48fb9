r"""The grouping MIP, built from plain arrays (no geography here).

Formulation (hub formulation, single sourcing)
----------------------------------------------
Practices :math:`i \in I` with list sizes :math:`w_i`; candidate hubs :math:`J \subseteq I`;
arcs :math:`A = \{(i, j) : j \in J, (i, j) \text{ allowed}\}`, where the front end has
already disallowed travel over the limit, pairs in different nesting regions and
forbidden hubs. Variables: :math:`y_j \in \{0,1\}` (practice *j* hosts a
group's hub), :math:`x_{ij} \in \{0,1\}` for :math:`(i,j) \in A` (practice *i* belongs to
hub *j*'s group), and :math:`z \ge 0` (the longest travel, only with a max-travel weight).

.. math::

    \min \sum_{(i,j) \in A} (\alpha\, v_i\, c_{ij} + \beta\, w_i\, m_{ij})\, x_{ij}
         + \gamma \sum_j y_j + \delta z

where :math:`v_i = w_i` (patient-weighted travel) or 1, and :math:`m_{ij} = 1` when
practice *i* would leave its current group (hub *j*'s current group differs from *i*'s).

====  ==========================  ==========================================================
 no.  constraint name             meaning
====  ==========================  ==========================================================
 1    ``c1_assign_<i>``           :math:`\sum_j x_{ij} = 1`: every practice in one group
 2    ``c2_link_<i>_<j>``         :math:`x_{ij} \le y_j`: only open hubs take members
 3    ``c3_self_<j>``             :math:`x_{jj} = y_j`: a hub belongs to its own group
 4    ``c4_min_<j>``              :math:`\sum_i w_i x_{ij} \ge L\, y_j`
 5    ``c5_max_<j>``              :math:`\sum_i w_i x_{ij} \le \min(U, C_j)\, y_j`
 6    ``c6_count_min/max``        :math:`K_{min} \le \sum_j y_j \le K_{max}`
 7    ``c7_fixed_<a>_<b>``        :math:`x_{ab} = 1` (takeover), :math:`y_b = 1` forced hub
 8    ``c8_must_<a>_<b>_<j>``     :math:`x_{aj} = x_{bj}` for every hub *j*
 9    ``c9_cannot_<a>_<b>_<j>``   :math:`x_{aj} + x_{bj} \le y_j` for every hub *j*
 10   ``c10_maxtravel_<i>``       :math:`z \ge \sum_j c_{ij} x_{ij}` (only if :math:`\delta > 0`)
====  ==========================  ==========================================================

A practice larger than *U* that may form a group alone (``oversize: alone``) arrives here
as a forced hub whose upper bound :math:`\min(U, C_j)` is replaced by its own list size,
so nobody else fits in its group. Candidate hubs whose bound is below their own list size
or below *L* cannot host a group and get no arcs.

Family 2 is the strong (disaggregated) linking: it is implied by 5 for integer solutions
but makes the LP relaxation much tighter, which is what lets HiGHS prove optimality fast.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pulp

# Arrays of these shapes: n practices, a arcs.
Vector = np.ndarray


@dataclass(frozen=True)
class Instance:
    """Everything the MIP needs, as plain arrays indexed by practice position.

    Attributes
    ----------
    codes : practice codes, length n (used to name variables and constraints)
    size : list sizes :math:`w_i` (n,)
    cost : travel cost :math:`c_{ij}` (n, n), ``inf`` where unknown (no matrix entry)
    allowed : (n, n) bool, *i* may join hub *j* (travel limit, nesting, forbidden hubs)
    min_size, max_size : :math:`L` and per-hub upper bound :math:`\\min(U, C_j)` (n,)
    can_hub, must_hub : candidate hubs and forced hubs (n,) bool
    count_min, count_max : group-count bounds, ``None`` where open
    fixed : (member, hub) position pairs that must hold
    must_link, cannot_link : position pairs
    group_id : current group as an integer per practice, -1 for none (n,)
    weights : objective weights (travel, moved patients, groups, max travel)
    travel_by_size : weight travel by list size (True) or count each practice once
    adjacency : position pairs (i, k) whose catchments touch (for contiguity)
    contiguous : each group's catchments must form one connected piece
    """

    codes: tuple[str, ...]
    size: Vector
    cost: Vector
    allowed: Vector
    min_size: float
    max_size: Vector
    can_hub: Vector
    must_hub: Vector
    count_min: int | None = None
    count_max: int | None = None
    fixed: tuple[tuple[int, int], ...] = ()
    must_link: tuple[tuple[int, int], ...] = ()
    cannot_link: tuple[tuple[int, int], ...] = ()
    group_id: Vector = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    weights: tuple[float, float, float, float] = (1.0, 0.0, 0.0, 0.0)
    travel_by_size: bool = True
    adjacency: tuple[tuple[int, int], ...] = ()
    contiguous: bool = False

    @property
    def n(self) -> int:
        return len(self.codes)

    def moved(self) -> Vector:
        """(n, n) bool: practice *i* would leave its current group by joining hub *j*."""
        if len(self.group_id) != self.n:
            return np.zeros((self.n, self.n), dtype=bool)
        gi = self.group_id[:, None]
        moved: Vector = (gi >= 0) & (gi != self.group_id[None, :])
        return moved

    def hubs_usable(self) -> Vector:
        """(n,) bool: candidate hubs that can host a group at all."""
        return self.can_hub & (self.max_size >= self.size) & (self.max_size >= self.min_size)

    def arcs(self) -> tuple[Vector, Vector]:
        """Positions (i, j) of the allowed practice -> hub arcs, row-major."""
        usable = self.hubs_usable()
        allowed = self.allowed & np.isfinite(self.cost) & usable[None, :]
        np.fill_diagonal(allowed, usable)
        i, j = np.nonzero(allowed)
        return i, j

    def arc_objective(self, i: Vector, j: Vector) -> Vector:
        """Objective coefficient of each arc: travel term plus moved-patients term."""
        travel_w, moved_w, _, _ = self.weights
        per = self.size[i] if self.travel_by_size else np.ones(len(i))
        coef = travel_w * per * self.cost[i, j]
        if moved_w:
            coef = coef + moved_w * self.size[i] * self.moved()[i, j]
        return np.asarray(coef, dtype=float)


@dataclass(frozen=True)
class Model:
    """A built PuLP problem with its variables keyed by practice position."""

    problem: pulp.LpProblem
    x: dict[tuple[int, int], pulp.LpVariable]
    y: dict[int, pulp.LpVariable]
    z: pulp.LpVariable | None


def build_model(inst: Instance, *, name: str = "mergeopt") -> Model:
    """Build the MIP of this module's docstring; numbered families as named there."""
    prob = pulp.LpProblem(name, pulp.LpMinimize)
    ai, aj = inst.arcs()
    codes = inst.codes
    hubs = sorted(set(aj.tolist()))
    y = {j: pulp.LpVariable(f"y_{codes[j]}", cat=pulp.LpBinary) for j in hubs}
    x = {
        (i, j): pulp.LpVariable(f"x_{codes[i]}_{codes[j]}", cat=pulp.LpBinary)
        for i, j in zip(ai.tolist(), aj.tolist(), strict=True)
    }
    coef = inst.arc_objective(ai, aj)
    _, _, groups_w, maxtravel_w = inst.weights
    terms = [(x[(i, j)], float(c)) for i, j, c in zip(ai.tolist(), aj.tolist(), coef, strict=True)]
    if groups_w:
        terms += [(var, groups_w) for var in y.values()]
    z = pulp.LpVariable("z_max_travel", lowBound=0) if maxtravel_w else None
    if z is not None:
        terms.append((z, maxtravel_w))
    prob.setObjective(pulp.LpAffineExpression(terms))

    members: dict[int, list[int]] = {j: [] for j in hubs}
    options: dict[int, list[int]] = {i: [] for i in range(inst.n)}
    for i, j in zip(ai.tolist(), aj.tolist(), strict=True):
        members[j].append(i)
        options[i].append(j)

    _add_assignment(prob, inst, x, y, options)  # 1, 2, 3
    _add_loads(prob, inst, x, y, members)  # 4, 5, 6
    _add_fixed(prob, inst, x, y)  # 7
    _add_links(prob, inst, x, y, options)  # 8, 9
    if z is not None:  # 10
        for i in range(inst.n):
            spread = [(x[(i, j)], float(inst.cost[i, j])) for j in options[i]]
            prob.addConstraint(_sum([*spread, (z, -1.0)]) <= 0, f"c10_maxtravel_{codes[i]}")
    return Model(prob, x, y, z)


_X = dict[tuple[int, int], pulp.LpVariable]
_Y = dict[int, pulp.LpVariable]


def _add_assignment(
    prob: pulp.LpProblem, inst: Instance, x: _X, y: _Y, options: dict[int, list[int]]
) -> None:
    codes = inst.codes
    for i in range(inst.n):  # 1
        prob.addConstraint(_sum((x[(i, j)], 1) for j in options[i]) == 1, f"c1_assign_{codes[i]}")
    for (i, j), var in x.items():  # 2, 3
        if i == j:
            prob.addConstraint(var - y[j] == 0, f"c3_self_{codes[j]}")
        else:
            prob.addConstraint(var - y[j] <= 0, f"c2_link_{codes[i]}_{codes[j]}")


def _add_loads(
    prob: pulp.LpProblem, inst: Instance, x: _X, y: _Y, members: dict[int, list[int]]
) -> None:
    codes = inst.codes
    for j, group in members.items():  # 4, 5
        load = [(x[(i, j)], float(inst.size[i])) for i in group]
        if inst.min_size > 0:
            prob.addConstraint(_sum([*load, (y[j], -inst.min_size)]) >= 0, f"c4_min_{codes[j]}")
        if np.isfinite(inst.max_size[j]):
            upper = -float(inst.max_size[j])
            prob.addConstraint(_sum([*load, (y[j], upper)]) <= 0, f"c5_max_{codes[j]}")
    count = _sum((var, 1) for var in y.values())  # 6
    if inst.count_min is not None:
        prob.addConstraint(count >= inst.count_min, "c6_count_min")
    if inst.count_max is not None:
        prob.addConstraint(count <= inst.count_max, "c6_count_max")


def _sum(terms: object) -> pulp.LpAffineExpression:
    return pulp.LpAffineExpression(list(terms))  # type: ignore[call-overload]


def _add_fixed(prob: pulp.LpProblem, inst: Instance, x: _X, y: _Y) -> None:
    codes = inst.codes
    for j in np.flatnonzero(inst.must_hub).tolist():
        if j in y:
            prob.addConstraint(_sum([(y[j], 1)]) == 1, f"c7_hub_{codes[j]}")
        else:  # the front end's checks should have explained this already
            prob.addConstraint(_sum([]) == 1, f"c7_hub_{codes[j]}_unusable")
    for a, b in inst.fixed:
        if (a, b) in x:
            prob.addConstraint(_sum([(x[(a, b)], 1)]) == 1, f"c7_fixed_{codes[a]}_{codes[b]}")
        else:
            prob.addConstraint(_sum([]) == 1, f"c7_fixed_{codes[a]}_{codes[b]}_no_arc")


def _add_links(
    prob: pulp.LpProblem, inst: Instance, x: _X, y: _Y, options: dict[int, list[int]]
) -> None:
    codes = inst.codes
    for a, b in inst.must_link:
        for j in sorted(set(options[a]) | set(options[b])):
            terms = [(x[(a, j)], 1)] if (a, j) in x else []
            terms += [(x[(b, j)], -1)] if (b, j) in x else []
            prob.addConstraint(_sum(terms) == 0, f"c8_must_{codes[a]}_{codes[b]}_{codes[j]}")
    for a, b in inst.cannot_link:
        for j in sorted(set(options[a]) & set(options[b])):
            terms = [(x[(a, j)], 1), (x[(b, j)], 1), (y[j], -1)]
            prob.addConstraint(_sum(terms) <= 0, f"c9_cannot_{codes[a]}_{codes[b]}_{codes[j]}")


def objective_value(inst: Instance, hub_of: Vector) -> float:
    """The objective of an assignment, recomputed from the arrays (not from the solver)."""
    i = np.arange(inst.n)
    _, _, groups_w, maxtravel_w = inst.weights
    value = float(inst.arc_objective(i, hub_of).sum())
    value += groups_w * len(set(hub_of.tolist()))
    if maxtravel_w:
        value += maxtravel_w * float(inst.cost[i, hub_of].max())
    return value
