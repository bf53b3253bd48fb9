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
or below *L* cannot host a group and get no arcs. A practice that stands alone
(:attr:`~mergeopt.engine.instance.Instance.alone`, with its self arc only) has no
family-4 minimum and counts as a group of its own in family 12; the portfolio sets such
practices aside before building a model, the joint federation model
(:mod:`mergeopt.engine.federation`) keeps them in.

Lifted knapsack-cover cuts on family 5 (:mod:`mergeopt.engine.cuts`, rows
``c13_cover_<j>_<k>``) can be added to these arrays; they hold for every grouping and
only tighten the LP relaxation. :func:`model_arrays` does not add them: on pmedcap1 #8,
#12, #14 and #20 at 30 s HiGHS with them proved nothing HiGHS alone did not, with a bound
never higher (``benchmarks/BNP_CUTS.md``), and the LP relaxations of ICBs QT1 and QOP
break no cover at all.

Family 2 is the strong (disaggregated) linking: it is implied by 5 for integer solutions
but makes the LP relaxation much tighter, which is what lets HiGHS prove optimality fast.
Family 12 holds for every grouping too; it only tightens the LP relaxation
(:func:`plain_order` leaves it out, for HiGHS's lead). In family
11, :math:`f^j_{ik} \ge 0` is the flow of hub *j*'s commodity from practice *i* to a
practice *k* whose catchment touches *i*'s (``adjacency``), :math:`A_j` the practices
that may join *j*; a member keeps one unit, so each member is reached from the hub
through members only, which is exactly a connected group.

The model is built once as arrays (:func:`model_arrays`);
:func:`mergeopt.engine.solvers.pulp.build_model` turns them into a PuLP problem (for CBC
and readable ``.lp`` files) and :mod:`mergeopt.engine.solvers.highs` passes them to HiGHS
directly, so both paths solve the same variables, rows and names. The instance and the
checks on it are in :mod:`mergeopt.engine.instance`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from mergeopt.engine.instance import Instance, Vector, arc_regions, neighbours
from mergeopt.engine.rows import Rows, fewest_holding, one_row


@dataclass(frozen=True)
class Arrays:
    """The MIP of this module's docstring as arrays: columns, and rows in CSR form.

    One source for every solver path: :func:`mergeopt.engine.solvers.pulp.build_model`
    turns it into a PuLP problem (CBC, readable ``.lp`` files),
    :mod:`mergeopt.engine.solvers.highs` hands it to HiGHS directly.
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
    rows = Rows()
    _assignment_rows(rows, inst, ai, aj, y_col, x_col)  # 1, 2, 3
    _load_rows(rows, inst, ai, aj, hubs, y_col, x_col)  # 4, 5, 6
    _fixed_rows(rows, inst, ai, aj, y_col, x_col)  # 7
    _link_rows(rows, inst, ai, aj, y_col, x_col)  # 8, 9
    if z_col is not None:  # 10
        longest = (ai, x_col, inst.cost[ai, aj])
        names_z = [f"c10_maxtravel_{c}" for c in codes]
        rows.add_linked(names_z, -np.inf, 0.0, longest, np.full(inst.n, z_col), 1.0)
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
    rows: Rows, inst: Instance, ai: Vector, aj: Vector, y_col: Vector, x_col: Vector
) -> None:
    codes = np.asarray(inst.codes, dtype=object)
    ones = np.ones(len(ai))
    rows.add([f"c1_assign_{c}" for c in codes], 1.0, 1.0, (ai, x_col, ones))  # 1
    self_arc = ai == aj  # 2, 3: one row per arc, in arc order
    link = [
        f"c3_self_{b}" if a == b else f"c2_link_{a}_{b}"
        for a, b in zip(codes[ai], codes[aj], strict=True)
    ]
    members = (np.arange(len(ai)), x_col, ones)
    rows.add_linked(link, np.where(self_arc, 0.0, -np.inf), 0.0, members, y_col[aj], 1.0)


def _load_rows(
    rows: Rows,
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
    if inst.min_size > 0:  # 4, but for practices that stand alone
        least = np.where(inst.standing_alone()[hubs], 0.0, inst.min_size)
        names = [f"c4_min_{c}" for c in codes[hubs]]
        rows.add_linked(names, 0.0, np.inf, members, y_col[hubs], least)
    bounded = np.isfinite(inst.max_size[hubs])
    keep = np.flatnonzero(bounded)
    renumber = np.cumsum(bounded) - 1
    arcs = bounded[local]
    held = (renumber[local[arcs]], x_col[arcs], inst.size[ai[arcs]].astype(float))
    names = [f"c5_max_{c}" for c in codes[hubs[keep]]]  # 5
    rows.add_linked(names, -np.inf, 0.0, held, y_col[hubs[keep]], inst.max_size[hubs[keep]])
    counts = ("c6_count_min", "c6_count_max")  # 6
    rows.add_count(counts, y_col[hubs], inst.count_min, inst.count_max)


def _arc_lookup(ai: Vector, aj: Vector, x_col: Vector) -> dict[tuple[int, int], int]:
    return dict(zip(zip(ai.tolist(), aj.tolist(), strict=True), x_col.tolist(), strict=True))


def _fixed_rows(
    rows: Rows, inst: Instance, ai: Vector, aj: Vector, y_col: Vector, x_col: Vector
) -> None:
    codes = inst.codes
    for j in np.flatnonzero(inst.must_hub).tolist():
        if y_col[j] >= 0:
            rows.add([f"c7_hub_{codes[j]}"], 1.0, 1.0, one_row(y_col[j], 1.0))
        else:  # the front end's checks should have explained this already
            rows.add([f"c7_hub_{codes[j]}_unusable"], 1.0, 1.0)
    if not inst.fixed:
        return
    arc = _arc_lookup(ai, aj, x_col)
    for a, b in inst.fixed:
        if (a, b) in arc:
            rows.add([f"c7_fixed_{codes[a]}_{codes[b]}"], 1.0, 1.0, one_row(arc[(a, b)], 1.0))
        else:
            rows.add([f"c7_fixed_{codes[a]}_{codes[b]}_no_arc"], 1.0, 1.0)


def _link_rows(
    rows: Rows, inst: Instance, ai: Vector, aj: Vector, y_col: Vector, x_col: Vector
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
            rows.add([name], 0.0, 0.0, one_row(*[v for term in terms for v in term]))
    for a, b in inst.cannot_link:  # 9
        for j in sorted(options.get(a, set()) & options.get(b, set())):
            name = f"c9_cannot_{codes[a]}_{codes[b]}_{codes[j]}"
            rows.add([name], -np.inf, 0.0, one_row(arc[(a, j)], 1, arc[(b, j)], 1, y_col[j], -1))


def _contiguity_rows(
    rows: Rows, inst: Instance, ai: Vector, aj: Vector, x_col: Vector, *, first_col: int
) -> Vector:
    """Family 11: per hub, a flow from the hub through adjacent members of its group.

    Returns the flow columns, numbered from ``first_col``, as rows (hub, from, to).
    """
    codes = inst.codes
    arc = _arc_lookup(ai, aj, x_col)
    touching = neighbours(inst)
    names: list[tuple[int, int, int]] = []
    for j in np.unique(aj).tolist():
        group = set(ai[aj == j].tolist())
        big = float(len(group) - 1)
        into: dict[int, list[int]] = {i: [] for i in group}
        out_of: dict[int, list[int]] = {i: [] for i in group}
        for i in sorted(group):
            for k in sorted(touching.get(i, set()) & group):
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
                    one_row(col, 1.0, arc[(k, j)], -big),
                )
        for i in sorted(group - {j}):  # each member keeps one unit
            pairs = [*((c, 1.0) for c in into[i]), *((c, -1.0) for c in out_of[i])]
            pairs.append((arc[(i, j)], -1.0))
            rows.add(
                [f"c11_flow_{codes[i]}_{codes[j]}"],
                0.0,
                0.0,
                one_row(*[v for p in pairs for v in p]),
            )
    return np.asarray(names, dtype=np.int64).reshape(-1, 3)


def _tree_flows(inst: Instance, hub_of: Vector) -> dict[tuple[int, int, int], float]:
    """Flows (hub, from, to) -> amount along a breadth-first tree of each group."""
    touching = neighbours(inst)
    flows: dict[tuple[int, int, int], float] = {}
    for j in np.unique(hub_of).tolist():
        group = set(np.flatnonzero(hub_of == j).tolist())
        parent = {j: j}
        order = [j]
        for node in order:
            for k in sorted(touching.get(node, set()) & group):
                if k not in parent:
                    parent[k] = node
                    order.append(k)
        below = dict.fromkeys(order, 1.0)
        for node in reversed(order[1:]):
            below[parent[node]] += below[node]
            flows[(j, parent[node], node)] = below[node]
    return flows


def _implied_count_rows(
    rows: Rows, inst: Instance, ai: Vector, aj: Vector, hubs: Vector, y_col: Vector
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
        low = fewest_holding(inst.max_size[here], total) or len(here)
        alone = region[inst.standing_alone()[region]]  # groups of their own, of any size
        rest = total - float(inst.size[alone].sum())
        high = (
            len(alone) + int(np.floor(rest / inst.min_size * (1 + 1e-9)))
            if inst.min_size > 0
            else None
        )
        names = (f"c12_groups_min_{k}", f"c12_groups_max_{k}")
        rows.add_implied_count(names, y_col[here], low, high)


def plain_order(arrays: Arrays) -> Arrays:
    """The model of ``arrays`` in the form a plain PuLP model of it hands HiGHS.

    HiGHS's search depends on the order of a model's columns and rows (performance
    variability): on OR-Library pmedcap1 #1 the same model took 1,695 simplex iterations
    in :func:`model_arrays`'s order and 1,285 in PuLP's, on ICB QOC 3,757 nodes against
    606. A plain model (variables ``x_<i>_<j>`` and ``y_<j>`` numbered by practice, rows
    added family by family, a hub's minimum beside its maximum) reaches HiGHS with its
    columns sorted by name, as PuLP sorts them. In that form, and without family 12,
    HiGHS follows the plain model's path step for step (same threads, same seed, no
    start), so HiGHS leading the portfolio (:func:`mergeopt.engine.portfolio.lead_highs`)
    takes the path of HiGHS alone until something is handed to it.

    Columns: the ``x`` and ``y`` sorted by those names, then ``z`` and the flows in
    their order. Rows: as built, with each hub's family-4 row moved beside its family-5
    row and family 12 left out (it holds for every grouping; HiGHS without it follows
    the plain model).
    """
    x_names = [
        f"x_{i}_{j}" for i, j in zip(arrays.arc_i.tolist(), arrays.arc_j.tolist(), strict=True)
    ]
    hubs = np.flatnonzero(arrays.y_col >= 0)
    named = [*zip(x_names, arrays.x_col.tolist(), strict=True)]
    named += [(f"y_{j}", int(arrays.y_col[j])) for j in hubs.tolist()]
    sorted_cols = [col for _, col in sorted(named)]
    rest = np.setdiff1d(np.arange(arrays.num_col), sorted_cols)  # z, flows: in order
    order = np.concatenate([np.asarray(sorted_cols, dtype=np.int64), rest])
    new_of = np.empty(arrays.num_col, dtype=np.int64)
    new_of[order] = np.arange(arrays.num_col)
    rows = _plain_rows(arrays.row_names)
    start, index, value = _rows_taken(arrays, rows)
    y_col = arrays.y_col.copy()
    y_col[hubs] = new_of[y_col[hubs]]
    return replace(
        arrays,
        col_names=[arrays.col_names[c] for c in order.tolist()],
        col_cost=arrays.col_cost[order],
        col_lower=arrays.col_lower[order],
        col_upper=arrays.col_upper[order],
        integer=arrays.integer[order],
        row_names=[arrays.row_names[r] for r in rows.tolist()],
        row_lower=arrays.row_lower[rows],
        row_upper=arrays.row_upper[rows],
        row_start=start,
        row_index=new_of[index],
        row_value=value,
        y_col=y_col,
        x_col=new_of[arrays.x_col],
        z_col=None if arrays.z_col is None else int(new_of[arrays.z_col]),
        flow_col=int(new_of[arrays.flow_col]) if len(arrays.flows) else arrays.flow_col,
    )


def _plain_rows(names: list[str]) -> Vector:
    """Row positions in :func:`plain_order`'s order: family 12 left out, each hub's
    family-4 row just before its family-5 row (or where family 5 would be)."""
    families = [name.split("_", 1)[0] for name in names]
    loads = [r for r, f in enumerate(families) if f in ("c4", "c5")]
    hub_rank: dict[str, int] = {}
    for r in loads:
        hub_rank.setdefault(names[r].split("_", 2)[2], len(hub_rank))
    first = loads[0] if loads else 0

    def key(r: int) -> tuple[int, int, int]:
        if families[r] in ("c4", "c5"):
            return (first, hub_rank[names[r].split("_", 2)[2]], int(families[r] == "c5"))
        return (r, 0, 0)

    kept = [r for r, f in enumerate(families) if f != "c12"]
    return np.asarray(sorted(kept, key=key), dtype=np.int64)


def _rows_taken(arrays: Arrays, rows: Vector) -> tuple[Vector, Vector, Vector]:
    """CSR start, index and value of ``arrays``'s rows ``rows``, in that order."""
    begins = arrays.row_start[rows]
    lengths = arrays.row_start[rows + 1] - begins
    start = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    where = np.repeat(begins - start[:-1], lengths) + np.arange(int(start[-1]))
    return start, arrays.row_index[where], arrays.row_value[where]


def plainly_infeasible(arrays: Arrays) -> bool:
    """A rule that no grouping meets, seen without a solver: a row with no entries whose
    bounds exclude zero (e.g. a practice with no hub it may join)."""
    empty = np.diff(arrays.row_start) == 0
    return bool(((arrays.row_lower[empty] > 0) | (arrays.row_upper[empty] < 0)).any())
