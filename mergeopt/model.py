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
 11   ``c11_flow_<i>_<j>``        contiguity (only if ``contiguous``): hub *j* sends one unit
      ``c11_cap_<i>_<k>_<j>``     of flow :math:`f^j` to each member over catchment
                                  adjacency: :math:`\sum_k f^j_{ki} - \sum_k f^j_{ik} =
                                  x_{ij}`, and flow enters only members of *j*'s group:
                                  :math:`f^j_{ik} \le (|A_j| - 1)\, x_{kj}`
 12   ``c12_groups_min/max_<r>``  group count implied by list sizes, per region *r* of the
                                  arc graph: at least the fewest largest bounds holding its
                                  patients, at most its patients over *L*
====  ==========================  ==========================================================

A practice larger than *U* that may form a group alone (``oversize: alone``) arrives here
as a forced hub whose upper bound :math:`\min(U, C_j)` is replaced by its own list size,
so nobody else fits in its group. Candidate hubs whose bound is below their own list size
or below *L* cannot host a group and get no arcs.

Family 2 is the strong (disaggregated) linking: it is implied by 5 for integer solutions
but makes the LP relaxation much tighter, which is what lets HiGHS prove optimality fast.
Family 12 holds for every grouping too; it only tightens the LP relaxation. In family
11, :math:`f^j_{ik} \ge 0` is the flow of hub *j*'s commodity from practice *i* to a
practice *k* whose catchment touches *i*'s (``adjacency``), :math:`A_j` the practices
that may join *j*; a member keeps one unit, so each member is reached from the hub
through members only, which is exactly a connected group.

The model is built once as arrays (:func:`model_arrays`); :func:`build_model` turns them
into a PuLP problem (for CBC and readable ``.lp`` files) and :mod:`mergeopt.solve` passes
them to HiGHS directly, so both paths solve the same variables, rows and names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import pulp
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from mergeopt._highs import QuietHiGHS

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
    region : a name per practice for its nesting region (e.g. its ICB code), or empty;
        used only to name a region in messages (an infeasible one)
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
    region: tuple[str, ...] = ()

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

    def subset(
        self, keep: Vector, *, count: tuple[int | None, int | None] | None = None
    ) -> Instance:
        """The instance on practices ``keep`` (positions, in order), renumbered.

        Rules between kept practices stay; pairs with a practice left out are dropped,
        so a subset is a relaxation unless the caller keeps whole groups. ``count``
        replaces the group-count bounds (default: unchanged).
        """
        keep = np.asarray(keep, dtype=np.int64)
        new = np.full(self.n, -1, dtype=np.int64)
        new[keep] = np.arange(len(keep))

        def pairs(items: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
            return tuple(
                (int(new[a]), int(new[b])) for a, b in items if new[a] >= 0 and new[b] >= 0
            )

        low, high = (self.count_min, self.count_max) if count is None else count
        return replace(
            self,
            codes=tuple(self.codes[k] for k in keep.tolist()),
            size=self.size[keep],
            cost=self.cost[np.ix_(keep, keep)],
            allowed=self.allowed[np.ix_(keep, keep)],
            max_size=self.max_size[keep],
            can_hub=self.can_hub[keep],
            must_hub=self.must_hub[keep],
            count_min=low,
            count_max=high,
            fixed=pairs(self.fixed),
            must_link=pairs(self.must_link),
            cannot_link=pairs(self.cannot_link),
            group_id=self.group_id[keep] if len(self.group_id) == self.n else self.group_id,
            adjacency=pairs(self.adjacency),
            region=tuple(self.region[k] for k in keep.tolist()) if self.region else (),
        )

    def regions(self) -> list[Vector]:
        """Independent parts: practices joined by an arc or a rule naming two of them.

        No group spans two regions, so without a group-count rule or a max-travel term
        each region can be solved on its own and the optima added up.
        """
        ai, aj = self.arcs()
        links = [*self.fixed, *self.must_link, *self.cannot_link]
        if links:
            extra = np.asarray(links, dtype=np.int64).reshape(-1, 2)
            ai, aj = np.concatenate([ai, extra[:, 0]]), np.concatenate([aj, extra[:, 1]])
        return arc_regions(self.n, ai, aj)


@dataclass(frozen=True)
class Model:
    """A built PuLP problem with its variables keyed by practice position."""

    problem: pulp.LpProblem
    x: dict[tuple[int, int], pulp.LpVariable]
    y: dict[int, pulp.LpVariable]
    z: pulp.LpVariable | None


@dataclass(frozen=True)
class Arrays:
    """The MIP of this module's docstring as arrays: columns, and rows in CSR form.

    One source for every solver path: :func:`build_model` turns it into a PuLP problem
    (CBC, readable ``.lp`` files), :mod:`mergeopt.solve` hands it to HiGHS directly.
    Columns are the hubs' ``y`` (``y_col``), the arcs' ``x`` (``x_col``, arc *a* is
    ``(arc_i[a], arc_j[a])``), then ``z`` and the contiguity flows.

    Rows are ``row_lower <= A x <= row_upper`` with ``A`` given by ``row_start``,
    ``row_index`` and ``row_value``; a row with no entries and bounds 1 is a rule that
    cannot hold (a forced hub that cannot host a group, a fixed pair without an arc).
    """

    col_names: list[str]
    col_cost: Vector
    col_lower: Vector
    col_upper: Vector
    integer: Vector
    row_names: list[str]
    row_lower: Vector
    row_upper: Vector
    row_start: Vector
    row_index: Vector
    row_value: Vector
    arc_i: Vector
    arc_j: Vector
    y_col: Vector
    x_col: Vector
    z_col: int | None
    flows: Vector = field(default_factory=lambda: np.zeros((0, 3), dtype=np.int64))
    flow_col: int = 0

    @property
    def num_col(self) -> int:
        return len(self.col_names)

    @property
    def num_row(self) -> int:
        return len(self.row_names)

    def columns(self, inst: Instance, hub_of: Vector) -> Vector:
        """Column values of a grouping: x, y, the longest travel z and contiguity flows.

        The flows follow a breadth-first tree of each group's adjacency from its hub, so
        a contiguous grouping gives a feasible start; arcs the model lacks are left out.
        """
        values = np.zeros(self.num_col)
        values[self.x_col[hub_of[self.arc_i] == self.arc_j]] = 1.0
        hubs = self.y_col[np.unique(hub_of)]
        values[hubs[hubs >= 0]] = 1.0
        if self.z_col is not None:
            values[self.z_col] = float(inst.cost[np.arange(inst.n), hub_of].max())
        if len(self.flows):
            column = {
                (j, i, k): self.flow_col + c for c, (j, i, k) in enumerate(self.flows.tolist())
            }
            for (j, i, k), amount in _tree_flows(inst, hub_of).items():
                if (j, i, k) in column:
                    values[column[(j, i, k)]] = amount
        return values

    def hub_of(self, values: Vector) -> Vector | None:
        """The grouping in column values, or None if some practice is not in exactly one."""
        chosen = values[self.x_col] > 0.5
        n = len(self.y_col)
        count = np.bincount(self.arc_i[chosen], minlength=n)
        if (count != 1).any():
            return None
        hub_of = np.full(n, -1, dtype=np.int64)
        hub_of[self.arc_i[chosen]] = self.arc_j[chosen]
        return hub_of


class _Rows:
    """Rows gathered family by family, then packed into CSR."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.lower: list[Vector] = []
        self.upper: list[Vector] = []
        self.rows: list[Vector] = []
        self.cols: list[Vector] = []
        self.vals: list[Vector] = []

    def add(
        self,
        names: list[str],
        lower: float | Vector,
        upper: float | Vector,
        entries: tuple[Vector, Vector, Vector] | None = None,
    ) -> None:
        """Rows ``names`` with entries (local row, column, value)."""
        count = len(names)
        first = len(self.names)
        self.names += names
        self.lower.append(np.broadcast_to(np.asarray(lower, dtype=float), (count,)))
        self.upper.append(np.broadcast_to(np.asarray(upper, dtype=float), (count,)))
        empty = np.zeros(0, dtype=np.int64)
        row, col, val = entries if entries is not None else (empty, empty, empty)
        self.rows.append(np.asarray(row, dtype=np.int64) + first)
        self.cols.append(np.asarray(col, dtype=np.int64))
        self.vals.append(np.asarray(val, dtype=float))

    def pack(self) -> tuple[list[str], Vector, Vector, Vector, Vector, Vector]:
        row = np.concatenate(self.rows) if self.rows else np.zeros(0, np.int64)
        col = np.concatenate(self.cols) if self.cols else np.zeros(0, np.int64)
        val = np.concatenate(self.vals) if self.vals else np.zeros(0)
        order = np.argsort(row, kind="stable")
        start = np.zeros(len(self.names) + 1, dtype=np.int64)
        np.cumsum(np.bincount(row, minlength=len(self.names)), out=start[1:])
        lower = np.concatenate(self.lower) if self.lower else np.zeros(0)
        upper = np.concatenate(self.upper) if self.upper else np.zeros(0)
        return self.names, lower, upper, start, col[order], val[order]


def model_arrays(inst: Instance) -> Arrays:
    """The MIP of this module's docstring as :class:`Arrays`, built with numpy."""
    ai, aj = inst.arcs()
    codes = np.asarray(inst.codes, dtype=object)
    hubs = np.unique(aj)
    y_col = np.full(inst.n, -1, dtype=np.int64)
    y_col[hubs] = np.arange(len(hubs))
    x_col = len(hubs) + np.arange(len(ai))
    _, _, groups_w, maxtravel_w = inst.weights
    names = [f"y_{c}" for c in codes[hubs]] + [
        f"x_{a}_{b}" for a, b in zip(codes[ai], codes[aj], strict=True)
    ]
    cost = [np.full(len(hubs), float(groups_w)), inst.arc_objective(ai, aj)]
    z_col = None
    if maxtravel_w:
        z_col = len(names)
        names.append("z_max_travel")
        cost.append(np.array([float(maxtravel_w)]))
    rows = _Rows()
    _assignment_rows(rows, inst, ai, aj, y_col, x_col)  # 1, 2, 3
    _load_rows(rows, inst, ai, aj, hubs, y_col, x_col)  # 4, 5, 6
    _fixed_rows(rows, inst, ai, aj, y_col, x_col)  # 7
    _link_rows(rows, inst, ai, aj, y_col, x_col)  # 8, 9
    if z_col is not None:  # 10
        rows.add(
            [f"c10_maxtravel_{c}" for c in codes],
            -np.inf,
            0.0,
            (
                np.concatenate([ai, np.arange(inst.n)]),
                np.concatenate([x_col, np.full(inst.n, z_col)]),
                np.concatenate([inst.cost[ai, aj], -np.ones(inst.n)]),
            ),
        )
    flow_col = len(names)
    flows = np.zeros((0, 3), dtype=np.int64)
    if inst.contiguous:  # 11
        flows = _contiguity_rows(rows, inst, ai, aj, x_col, first_col=flow_col)
        codes = np.asarray(inst.codes, dtype=object)
        names += [f"f_{codes[j]}_{codes[i]}_{codes[k]}" for j, i, k in flows.tolist()]
        cost.append(np.zeros(len(flows)))
    _implied_count_rows(rows, inst, ai, aj, hubs, y_col)  # 12
    row_names, row_lower, row_upper, start, index, value = rows.pack()
    binary = len(hubs) + len(ai)
    num_col = len(names)
    upper = np.full(num_col, np.inf)
    upper[:binary] = 1.0
    integer = np.zeros(num_col, dtype=bool)
    integer[:binary] = True
    return Arrays(
        col_names=names,
        col_cost=np.concatenate(cost),
        col_lower=np.zeros(num_col),
        col_upper=upper,
        integer=integer,
        row_names=row_names,
        row_lower=row_lower,
        row_upper=row_upper,
        row_start=start,
        row_index=index,
        row_value=value,
        arc_i=ai,
        arc_j=aj,
        y_col=y_col,
        x_col=x_col,
        z_col=z_col,
        flows=flows,
        flow_col=flow_col,
    )


def _assignment_rows(
    rows: _Rows, inst: Instance, ai: Vector, aj: Vector, y_col: Vector, x_col: Vector
) -> None:
    codes = np.asarray(inst.codes, dtype=object)
    ones = np.ones(len(ai))
    rows.add([f"c1_assign_{c}" for c in codes], 1.0, 1.0, (ai, x_col, ones))  # 1
    self_arc = ai == aj  # 2, 3: one row per arc, in arc order
    link = [
        f"c3_self_{b}" if a == b else f"c2_link_{a}_{b}"
        for a, b in zip(codes[ai], codes[aj], strict=True)
    ]
    local = np.arange(len(ai))
    rows.add(
        link,
        np.where(self_arc, 0.0, -np.inf),
        0.0,
        (
            np.concatenate([local, local]),
            np.concatenate([x_col, y_col[aj]]),
            np.concatenate([ones, -ones]),
        ),
    )


def _load_rows(
    rows: _Rows,
    inst: Instance,
    ai: Vector,
    aj: Vector,
    hubs: Vector,
    y_col: Vector,
    x_col: Vector,
) -> None:
    codes = np.asarray(inst.codes, dtype=object)
    local = np.searchsorted(hubs, aj)  # arc -> hub row
    members = (local, x_col, inst.size[ai].astype(float))
    span = np.arange(len(hubs))
    if inst.min_size > 0:  # 4
        entries = _stack(members, (span, y_col[hubs], np.full(len(hubs), -inst.min_size)))
        rows.add([f"c4_min_{c}" for c in codes[hubs]], 0.0, np.inf, entries)
    bounded = np.isfinite(inst.max_size[hubs])  # 5
    keep = np.flatnonzero(bounded)
    renumber = np.cumsum(bounded) - 1
    arcs = bounded[local]
    entries = (
        np.concatenate([renumber[local[arcs]], np.arange(len(keep))]),
        np.concatenate([x_col[arcs], y_col[hubs[keep]]]),
        np.concatenate([inst.size[ai[arcs]].astype(float), -inst.max_size[hubs[keep]]]),
    )
    rows.add([f"c5_max_{c}" for c in codes[hubs[keep]]], -np.inf, 0.0, entries)
    everyone = (np.zeros(len(hubs), np.int64), y_col[hubs], np.ones(len(hubs)))  # 6
    if inst.count_min is not None:
        rows.add(["c6_count_min"], float(inst.count_min), np.inf, everyone)
    if inst.count_max is not None:
        rows.add(["c6_count_max"], -np.inf, float(inst.count_max), everyone)


def _stack(*parts: tuple[Vector, Vector, Vector]) -> tuple[Vector, Vector, Vector]:
    return (
        np.concatenate([p[0] for p in parts]),
        np.concatenate([p[1] for p in parts]),
        np.concatenate([p[2] for p in parts]),
    )


def _arc_lookup(ai: Vector, aj: Vector, x_col: Vector) -> dict[tuple[int, int], int]:
    return dict(zip(zip(ai.tolist(), aj.tolist(), strict=True), x_col.tolist(), strict=True))


def _fixed_rows(
    rows: _Rows, inst: Instance, ai: Vector, aj: Vector, y_col: Vector, x_col: Vector
) -> None:
    codes = inst.codes
    for j in np.flatnonzero(inst.must_hub).tolist():
        if y_col[j] >= 0:
            rows.add([f"c7_hub_{codes[j]}"], 1.0, 1.0, _one(y_col[j], 1.0))
        else:  # the front end's checks should have explained this already
            rows.add([f"c7_hub_{codes[j]}_unusable"], 1.0, 1.0)
    if not inst.fixed:
        return
    arc = _arc_lookup(ai, aj, x_col)
    for a, b in inst.fixed:
        if (a, b) in arc:
            rows.add([f"c7_fixed_{codes[a]}_{codes[b]}"], 1.0, 1.0, _one(arc[(a, b)], 1.0))
        else:
            rows.add([f"c7_fixed_{codes[a]}_{codes[b]}_no_arc"], 1.0, 1.0)


def _one(*pairs: float) -> tuple[Vector, Vector, Vector]:
    """Entries of a single row from (column, value, column, value, ...)."""
    cols = np.asarray(pairs[0::2], dtype=np.int64)
    return np.zeros(len(cols), np.int64), cols, np.asarray(pairs[1::2], dtype=float)


def _link_rows(
    rows: _Rows, inst: Instance, ai: Vector, aj: Vector, y_col: Vector, x_col: Vector
) -> None:
    if not (inst.must_link or inst.cannot_link):
        return
    codes = inst.codes
    arc = _arc_lookup(ai, aj, x_col)
    options: dict[int, set[int]] = {}
    for i, j in zip(ai.tolist(), aj.tolist(), strict=True):
        options.setdefault(i, set()).add(j)
    for a, b in inst.must_link:  # 8
        for j in sorted(options.get(a, set()) | options.get(b, set())):
            terms = [(arc[(a, j)], 1.0)] if (a, j) in arc else []
            terms += [(arc[(b, j)], -1.0)] if (b, j) in arc else []
            name = f"c8_must_{codes[a]}_{codes[b]}_{codes[j]}"
            rows.add([name], 0.0, 0.0, _one(*[v for term in terms for v in term]))
    for a, b in inst.cannot_link:  # 9
        for j in sorted(options.get(a, set()) & options.get(b, set())):
            name = f"c9_cannot_{codes[a]}_{codes[b]}_{codes[j]}"
            rows.add([name], -np.inf, 0.0, _one(arc[(a, j)], 1, arc[(b, j)], 1, y_col[j], -1))


def _contiguity_rows(
    rows: _Rows, inst: Instance, ai: Vector, aj: Vector, x_col: Vector, *, first_col: int
) -> Vector:
    """Family 11: per hub, a flow from the hub through adjacent members of its group.

    Returns the flow columns, numbered from ``first_col``, as rows (hub, from, to).
    """
    codes = inst.codes
    arc = _arc_lookup(ai, aj, x_col)
    neighbours = _neighbours(inst)
    names: list[tuple[int, int, int]] = []
    for j in np.unique(aj).tolist():
        group = set(ai[aj == j].tolist())
        big = float(len(group) - 1)
        into: dict[int, list[int]] = {i: [] for i in group}
        out_of: dict[int, list[int]] = {i: [] for i in group}
        for i in sorted(group):
            for k in sorted(neighbours.get(i, set()) & group):
                if k == j:  # nothing flows back into the hub
                    continue
                col = first_col + len(names)
                names.append((j, i, k))
                out_of[i].append(col)
                into[k].append(col)
                rows.add(  # the flow enters only a member of j's group
                    [f"c11_cap_{codes[i]}_{codes[k]}_{codes[j]}"],
                    -np.inf,
                    0.0,
                    _one(col, 1.0, arc[(k, j)], -big),
                )
        for i in sorted(group - {j}):  # each member keeps one unit
            pairs = [*((c, 1.0) for c in into[i]), *((c, -1.0) for c in out_of[i])]
            pairs.append((arc[(i, j)], -1.0))
            rows.add(
                [f"c11_flow_{codes[i]}_{codes[j]}"], 0.0, 0.0, _one(*[v for p in pairs for v in p])
            )
    return np.asarray(names, dtype=np.int64).reshape(-1, 3)


def _neighbours(inst: Instance) -> dict[int, set[int]]:
    neighbours: dict[int, set[int]] = {}
    for a, b in inst.adjacency:
        if a != b:
            neighbours.setdefault(a, set()).add(b)
            neighbours.setdefault(b, set()).add(a)
    return neighbours


def _tree_flows(inst: Instance, hub_of: Vector) -> dict[tuple[int, int, int], float]:
    """Flows (hub, from, to) -> amount along a breadth-first tree of each group."""
    neighbours = _neighbours(inst)
    flows: dict[tuple[int, int, int], float] = {}
    for j in np.unique(hub_of).tolist():
        group = set(np.flatnonzero(hub_of == j).tolist())
        parent = {j: j}
        order = [j]
        for node in order:
            for k in sorted(neighbours.get(node, set()) & group):
                if k not in parent:
                    parent[k] = node
                    order.append(k)
        below = dict.fromkeys(order, 1.0)
        for node in reversed(order[1:]):
            below[parent[node]] += below[node]
            flows[(j, parent[node], node)] = below[node]
    return flows


def is_contiguous(inst: Instance, hub_of: Vector) -> bool:
    """Whether every group's practices are connected through touching catchments."""
    neighbours = _neighbours(inst)
    for j in np.unique(hub_of).tolist():
        group = set(np.flatnonzero(hub_of == j).tolist())
        seen, stack = {j}, [j]
        while stack:
            for k in neighbours.get(stack.pop(), set()) & group:
                if k not in seen:
                    seen.add(k)
                    stack.append(k)
        if seen != group:
            return False
    return True


def _implied_count_rows(
    rows: _Rows, inst: Instance, ai: Vector, aj: Vector, hubs: Vector, y_col: Vector
) -> None:
    """Family 12: group-count bounds implied by the list sizes, per region of the arcs.

    A region (connected set of practices and the hubs they may join) holds whole groups:
    at least as many as it takes of its largest hub bounds to hold its patients, at most
    its patients over *L*. Valid for every grouping; only the LP relaxation gets tighter.
    """
    for k, region in enumerate(arc_regions(inst.n, ai, aj)):
        here = hubs[np.isin(hubs, region)]
        if len(here) == 0:
            continue
        total = float(inst.size[region].sum())
        caps = np.sort(inst.max_size[here])[::-1]
        fits = np.cumsum(caps) >= total * (1 - 1e-9)
        low = int(np.argmax(fits)) + 1 if fits.any() else len(here)
        high = int(np.floor(total / inst.min_size * (1 + 1e-9))) if inst.min_size > 0 else None
        entries = (np.zeros(len(here), np.int64), y_col[here], np.ones(len(here)))
        if low > 1:
            rows.add([f"c12_groups_min_{k}"], float(low), np.inf, entries)
        if high is not None and high < len(here):
            rows.add([f"c12_groups_max_{k}"], -np.inf, float(high), entries)


def arc_regions(n: int, ai: Vector, aj: Vector) -> list[Vector]:
    """Positions of each connected set of practices, joined by the arcs (i, j)."""
    graph = coo_matrix((np.ones(len(ai)), (ai, aj)), shape=(n, n))
    count, label = connected_components(graph, directed=False)
    order = np.argsort(label, kind="stable")
    return np.split(order, np.cumsum(np.bincount(label, minlength=count))[:-1])


def build_model(inst: Instance, *, name: str = "mergeopt") -> Model:
    """Build the MIP of this module's docstring as a PuLP problem (from :func:`model_arrays`).

    Numbered families are named as in the docstring. PuLP is the path for CBC and for a
    readable ``.lp`` file; HiGHS reads the arrays directly (:mod:`mergeopt.solve`).
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


_X = dict[tuple[int, int], pulp.LpVariable]
_Y = dict[int, pulp.LpVariable]


def _sum(terms: object) -> pulp.LpAffineExpression:
    return pulp.LpAffineExpression(list(terms))  # type: ignore[call-overload]


def objective_value(inst: Instance, hub_of: Vector) -> float:
    """The objective of an assignment, recomputed from the arrays (not from the solver)."""
    i = np.arange(inst.n)
    _, _, groups_w, maxtravel_w = inst.weights
    value = float(inst.arc_objective(i, hub_of).sum())
    value += groups_w * len(set(hub_of.tolist()))
    if maxtravel_w:
        value += maxtravel_w * float(inst.cost[i, hub_of].max())
    return value


def integral_objective(inst: Instance) -> bool:
    """Whether every grouping's objective is a whole number (all coefficients integers).

    Then any proven lower bound *b* may be raised to the next whole number (less a
    tolerance for the solver's rounding: :func:`round_bound`).
    """
    ai, aj = inst.arcs()
    coef = inst.arc_objective(ai, aj)
    _, _, groups_w, maxtravel_w = inst.weights
    whole = bool(np.all(coef == np.round(coef))) and float(groups_w).is_integer()
    if maxtravel_w:
        cost = inst.cost[ai, aj]
        whole &= float(maxtravel_w).is_integer() and bool(np.all(cost == np.round(cost)))
    return whole


def round_bound(bound: float, integral: bool) -> float:
    """A proven lower bound, raised to the next whole number when the objective is whole."""
    if not integral or not np.isfinite(bound):
        return bound
    return float(np.ceil(bound - max(1e-5, 1e-8 * abs(bound))))


def simple_bound(inst: Instance) -> float:
    """A lower bound on the objective that needs no solver: each practice at its cheapest arc.

    Valid for every grouping (each practice pays at least its cheapest arc; at least
    ``count_min`` groups, or one, are open; the longest travel is at least the largest
    cheapest travel). Weak, but it lets a grouping found before the solver proved any
    bound still be reported with a proven gap.
    """
    ai, aj = inst.arcs()
    if inst.n == 0 or len(ai) == 0:
        return 0.0
    cheapest = np.full(inst.n, np.inf)
    np.minimum.at(cheapest, ai, inst.arc_objective(ai, aj))
    nearest = np.full(inst.n, np.inf)
    np.minimum.at(nearest, ai, inst.cost[ai, aj])
    _, _, groups_w, maxtravel_w = inst.weights
    value = float(cheapest[np.isfinite(cheapest)].sum())
    value += groups_w * max(inst.count_min or 1, 1)
    if maxtravel_w and np.isfinite(nearest).any():
        value += maxtravel_w * float(nearest[np.isfinite(nearest)].max())
    return value


# ---------------------------------------------------------------------------------------
# The elastic model: every rule may give, at a price, to explain an infeasible instance.


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
        # a lone oversize practice's own size is its list-size bound
        cap_u = max(upper if np.isfinite(upper) else total, float(inst.max_size[j]))
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
