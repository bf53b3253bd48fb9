r"""The joint two-level model as arrays: the network model with federations above it.

Joint formulation
-----------------
The network model of :mod:`mergeopt.engine.formulation` (columns :math:`y_j`, :math:`x_{ij}`, rows
1-12) with no network arc across a federation region (``region``: no network may
straddle two), and added :math:`u_h \in \{0,1\}` for each candidate federation hub *h*,
:math:`v_{jh} \in \{0,1\}` for each allowed pair (network hub *j* within the federation
travel limit of *h*, same region: network *j* is in *h*'s federation) and
:math:`q_{jh} \ge 0`, the patients network *j* brings into federation *h*.

.. math::

    \min \; \text{(network objective)} + \phi \sum_{jh} c_{jh}\, q_{jh} + \psi \sum_h u_h

with :math:`\phi` the weight of patient-weighted travel from network hub to federation
hub and :math:`\psi` a weight per federation.

====  ============================  ======================================================
 no.  constraint name               meaning
====  ============================  ======================================================
 13   ``c13_fed_assign_<j>``        :math:`\sum_h v_{jh} = y_j`: every network in one
                                    federation
 14   ``c14_fed_link_<j>_<h>``      :math:`v_{jh} \le u_h`: only open federation hubs take
                                    networks
 15   ``c15_fed_self_<h>``          :math:`v_{hh} = u_h`: a federation hub's own network is
                                    in its federation
 16   ``c16_fed_carry_<j>_<h>``     :math:`q_{jh} \le B_j v_{jh}` (:math:`B_j` the most
                                    patients network *j* can hold) and
      ``c16_fed_least_<j>_<h>``     :math:`q_{jh} \ge L_j v_{jh}` (:math:`L_j = L`, or
                                    a lone practice's own size): patients go only with
                                    their network
 17   ``c17_fed_load_<j>``          :math:`\sum_h q_{jh} = \sum_i w_i x_{ij}`: all of a
                                    network's patients go into its federation
 18   ``c18_fed_min_<h>``           :math:`\sum_j q_{jh} \ge L^F u_h`
 19   ``c19_fed_max_<h>``           :math:`\sum_j q_{jh} \le \min(U^F, C^F_h)\, u_h`
                                    (:math:`C^F_h`: patients *h*'s premises serve as a
                                    federation hub)
 20   ``c20_fed_count_min/max``     :math:`K^F_{min} \le \sum_h u_h \le K^F_{max}`
 21   ``c21_fed_hub_<h>``           :math:`u_h = 1` for a required federation hub
 22   ``c22_feds_min/max_<r>``      federations implied by list sizes per region *r*: at
                                    least the fewest largest bounds holding its patients,
                                    at most its patients over :math:`L^F`
 23   ``c23_fed_networks_min/max_   networks per federation implied by list sizes:
      <h>``                         :math:`\lceil L^F / \max_j B_j \rceil u_h \le
                                    \sum_j v_{jh} \le \lfloor \min(U^F, C^F_h) /
                                    \min_j L_j \rfloor u_h`
====  ============================  ======================================================

With :math:`v` integral, 16 and 17 make :math:`q_{jh}` network *j*'s list size if it is
in federation *h* and 0 otherwise, so 18-19 bound the federations' list sizes. The
lower half of 16 and families 22-23 hold for every plan; they only tighten the
relaxation (without 23, a network could sit fractionally in a federation of its own).

"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from mergeopt.engine.federation.plan import FederationRules, nested, network_loads
from mergeopt.engine.formulation import Arrays, model_arrays
from mergeopt.engine.instance import Instance
from mergeopt.engine.rows import Rows, fewest_holding, one_row, stack

Vector = np.ndarray


@dataclass(frozen=True)
class JointArrays:
    """The joint model as arrays, and where its federation columns are.

    ``network`` is the network model's arrays (its columns come first, unchanged);
    ``arrays`` the whole model. ``u_col`` per practice (-1 where it cannot host a
    federation); the pairs (network hub ``pair_j``, federation hub ``pair_h``) with
    their ``v_col`` and ``q_col``.
    """

    network: Arrays
    arrays: Arrays
    u_col: Vector
    pair_j: Vector
    pair_h: Vector
    v_col: Vector
    q_col: Vector

    def columns(self, inst: Instance, hub_of: Vector, federation_of: Vector) -> Vector:
        """Column values of a plan (a start for HiGHS)."""
        values = np.zeros(self.arrays.num_col)
        values[: self.network.num_col] = self.network.columns(inst, hub_of)
        feds = np.unique(federation_of)
        values[self.u_col[feds][self.u_col[feds] >= 0]] = 1.0
        member = (hub_of[self.pair_j] == self.pair_j) & (federation_of[self.pair_j] == self.pair_h)
        values[self.v_col[member]] = 1.0
        values[self.q_col[member]] = network_loads(inst, hub_of)[self.pair_j[member]]
        return values

    def plan(self, values: Vector) -> tuple[Vector, Vector] | None:
        """The plan in column values, or None if it is incomplete."""
        hub_of = self.network.hub_of(values[: self.network.num_col])
        if hub_of is None:
            return None
        chosen = values[self.v_col] > 0.5
        fed_of_hub = np.full(len(hub_of), -1, dtype=np.int64)
        fed_of_hub[self.pair_j[chosen]] = self.pair_h[chosen]
        federation_of = fed_of_hub[hub_of]
        return None if (federation_of < 0).any() else (hub_of, federation_of)


def _with_columns(
    base: Arrays, rows: Rows, names: list[str], cost: Vector, upper: Vector, integer: Vector
) -> Arrays:
    """``base`` with these columns after its own and these rows below its own."""
    row_names, lower, upper_rows, start, index, value = rows.pack()
    return replace(
        base,
        col_names=base.col_names + names,
        col_cost=np.concatenate([base.col_cost, cost]),
        col_lower=np.concatenate([base.col_lower, np.zeros(len(names))]),
        col_upper=np.concatenate([base.col_upper, upper]),
        integer=np.concatenate([base.integer, integer]),
        row_names=base.row_names + row_names,
        row_lower=np.concatenate([base.row_lower, lower]),
        row_upper=np.concatenate([base.row_upper, upper_rows]),
        row_start=np.concatenate([base.row_start, base.row_start[-1] + start[1:]]),
        row_index=np.concatenate([base.row_index, index]),
        row_value=np.concatenate([base.row_value, value]),
    )


def joint_arrays(inst: Instance, fed: FederationRules) -> JointArrays:
    """The joint model of this module's docstring as arrays; ``inst`` is the network
    instance as given (its arcs are kept inside federation regions here)."""
    inner = nested(inst, fed)
    network = model_arrays(inner)
    codes = np.asarray(inst.codes, dtype=object)
    hubs = np.flatnonzero(network.y_col >= 0)
    pairs = fed.pairs(inst)
    is_hub = network.y_col >= 0
    pairs &= is_hub[:, None] & is_hub[None, :]
    pair_j, pair_h = np.nonzero(pairs)
    fed_hubs = np.unique(pair_h)
    first = network.num_col
    u_col = np.full(inst.n, -1, dtype=np.int64)
    u_col[fed_hubs] = first + np.arange(len(fed_hubs))
    v_col = first + len(fed_hubs) + np.arange(len(pair_j))
    q_col = v_col + len(pair_j)
    reach = np.bincount(network.arc_j, weights=inst.size[network.arc_i], minlength=inst.n)
    most = np.minimum(inner.max_size, reach)  # B_j
    rows = Rows()
    _membership_rows(rows, codes, network.y_col, hubs, pair_j, pair_h, u_col, v_col)
    _carry_rows(rows, inner, codes, network, hubs, (pair_j, pair_h, v_col, q_col), most)
    _federation_load_rows(rows, inner, fed, codes, (pair_j, pair_h, v_col, q_col), u_col, most)
    _federation_count_rows(rows, inner, fed, codes, u_col, fed_hubs)
    label = [f"{a}_{b}" for a, b in zip(codes[pair_j], codes[pair_h], strict=True)]
    names = [f"u_{c}" for c in codes[fed_hubs]] + [f"v_{p}" for p in label]
    names += [f"q_{p}" for p in label]
    binary = len(fed_hubs) + len(pair_j)
    cost = np.concatenate(
        [
            np.full(len(fed_hubs), fed.count_weight),
            np.zeros(len(pair_j)),
            fed.travel_weight * inst.cost[pair_j, pair_h],
        ]
    )
    upper = np.concatenate([np.ones(binary), most[pair_j]])
    integer = np.concatenate([np.ones(binary, bool), np.zeros(len(pair_j), bool)])
    arrays = _with_columns(network, rows, names, cost, upper, integer)
    return JointArrays(network, arrays, u_col, pair_j, pair_h, v_col, q_col)


def _membership_rows(
    rows: Rows,
    codes: Vector,
    y_col: Vector,
    hubs: Vector,
    pair_j: Vector,
    pair_h: Vector,
    u_col: Vector,
    v_col: Vector,
) -> None:
    """Families 13 (one federation per network), 14 and 15 (open hubs; a hub's own)."""
    ones = np.ones(len(pair_j))
    joins = (np.searchsorted(hubs, pair_j), v_col, ones)
    rows.add_linked(
        [f"c13_fed_assign_{c}" for c in codes[hubs]], 0.0, 0.0, joins, y_col[hubs], 1.0
    )
    names = [
        f"c15_fed_self_{b}" if a == b else f"c14_fed_link_{a}_{b}"
        for a, b in zip(codes[pair_j], codes[pair_h], strict=True)
    ]
    own = np.where(pair_j == pair_h, 0.0, -np.inf)
    rows.add_linked(names, own, 0.0, (np.arange(len(pair_j)), v_col, ones), u_col[pair_h], 1.0)


def _carry_rows(
    rows: Rows,
    inst: Instance,
    codes: Vector,
    network: Arrays,
    hubs: Vector,
    pairs: tuple[Vector, Vector, Vector, Vector],
    most: Vector,
) -> None:
    """Families 16 (patients go only with their network) and 17 (all of them go)."""
    pair_j, pair_h, v_col, q_col = pairs
    ones = np.ones(len(pair_j))
    carried = (np.arange(len(pair_j)), q_col, ones)
    label = [f"{a}_{b}" for a, b in zip(codes[pair_j], codes[pair_h], strict=True)]
    rows.add_linked(
        [f"c16_fed_carry_{p}" for p in label], -np.inf, 0.0, carried, v_col, most[pair_j]
    )
    least = _least_networks(inst)
    if least.max(initial=0.0) > 0:
        names = [f"c16_fed_least_{p}" for p in label]
        rows.add_linked(names, 0.0, np.inf, carried, v_col, least[pair_j])
    rows.add(
        [f"c17_fed_load_{c}" for c in codes[hubs]],
        0.0,
        0.0,
        stack(
            (np.searchsorted(hubs, pair_j), q_col, ones),
            (np.searchsorted(hubs, network.arc_j), network.x_col, -inst.size[network.arc_i]),
        ),
    )


def _least_networks(inst: Instance) -> Vector:
    """(n,) the fewest patients a network with hub *j* holds: *L*, or the practice's own
    list size if it stands alone (a network of its own, exempt from *L*)."""
    return np.where(inst.standing_alone(), np.minimum(inst.size, inst.min_size), inst.min_size)


def _federation_load_rows(
    rows: Rows,
    inst: Instance,
    fed: FederationRules,
    codes: Vector,
    pairs: tuple[Vector, Vector, Vector, Vector],
    u_col: Vector,
    most: Vector,
) -> None:
    """Families 18 and 19 (federation list sizes) and 23 (networks per federation)."""
    pair_j, pair_h, v_col, q_col = pairs
    fed_hubs = np.flatnonzero(u_col >= 0)
    into = np.searchsorted(fed_hubs, pair_h)
    ones = np.ones(len(pair_j))
    open_ = u_col[fed_hubs]
    named = codes[fed_hubs]
    if fed.min_size > 0:
        names = [f"c18_fed_min_{c}" for c in named]
        rows.add_linked(names, 0.0, np.inf, (into, q_col, ones), open_, fed.min_size)
    cap = np.minimum(fed.max_size[fed_hubs], float(inst.size.sum()))
    rows.add_linked(
        [f"c19_fed_max_{c}" for c in named], -np.inf, 0.0, (into, q_col, ones), open_, cap
    )
    biggest = float(most[np.unique(pair_j)].max()) if len(pair_j) else 0.0
    fewest = int(np.ceil(fed.min_size / biggest - 1e-9)) if biggest > 0 else 1
    if fewest > 1:
        names = [f"c23_fed_networks_min_{c}" for c in named]
        rows.add_linked(names, 0.0, np.inf, (into, v_col, ones), open_, float(fewest))
    smallest = float(_least_networks(inst)[np.unique(pair_j)].min(initial=np.inf))
    if 0 < smallest < np.inf:
        most_networks = np.floor(cap / smallest + 1e-9)
        names = [f"c23_fed_networks_max_{c}" for c in named]
        rows.add_linked(names, -np.inf, 0.0, (into, v_col, ones), open_, most_networks)


def _federation_count_rows(
    rows: Rows,
    inst: Instance,
    fed: FederationRules,
    codes: Vector,
    u_col: Vector,
    fed_hubs: Vector,
) -> None:
    """Families 20 (federation count), 21 (required hubs) and 22 (implied counts)."""
    counts = ("c20_fed_count_min", "c20_fed_count_max")
    rows.add_count(counts, u_col[fed_hubs], fed.count_min, fed.count_max)
    for h in np.flatnonzero(fed.must_hub).tolist():
        if u_col[h] >= 0:
            rows.add([f"c21_fed_hub_{codes[h]}"], 1.0, 1.0, one_row(u_col[h], 1.0))
        else:  # cannot host a federation (or a network): a rule no plan meets
            rows.add([f"c21_fed_hub_{codes[h]}_unusable"], 1.0, 1.0)
    for region in np.unique(fed.region).tolist():
        here = fed_hubs[fed.region[fed_hubs] == region]
        total = float(inst.size[fed.region == region].sum())
        if len(here) == 0:  # practices with no federation hub in their region
            rows.add([f"c22_feds_none_{region}"], 1.0, 1.0)
            continue
        low = fewest_holding(np.minimum(fed.max_size[here], total), total)
        high = int(np.floor(total / fed.min_size * (1 + 1e-9))) if fed.min_size > 0 else None
        names = (f"c22_feds_min_{region}", f"c22_feds_max_{region}")
        rows.add_implied_count(names, u_col[here], low or len(here) + 1, high)
