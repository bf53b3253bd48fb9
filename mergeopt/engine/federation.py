r"""Two levels in one plan: practices into networks, networks into federations.

Every practice is in exactly one network (the hub formulation of
:mod:`mergeopt.engine.formulation`, families 1-12) and every network lies wholly inside one
federation: a group of networks around a **federation hub**, the hub of one of its
networks whose premises can host the federation's shared services (community
specialists, back office).

Decisions (and why)
-------------------
- **Networks are the units of a federation.** A network joins a federation whole,
  placed at its hub and weighed by its patients, in all three modes: federations of
  today's networks, of proposed networks, and the joint plan.
- **The federation travel limit runs from each network hub to the federation hub**, and
  the federation objective is each network's patients times that travel. Federation
  staff and specialists work across the network hubs, and a network's patients already
  reach their network hub; with the road model (``8.33 + 1.164 km`` per leg, so the
  triangle inequality holds) a practice is at most its network limit plus the
  federation limit from its federation hub, and the tables give each practice's own
  travel there too. Measured from every practice instead, federation boundaries may
  cut through good networks and the relaxation cannot see that price: on Somerset that
  model still had a 6% gap after 120 s, where this one is proven optimal within a
  minute.
- **A federation hub is a network hub, in its own federation** (families 13 and 15
  imply :math:`u_h \le y_h`).

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

Modes
-----
``today``     federations of given networks (today's PCNs): the hub formulation of
              :mod:`mergeopt.engine.formulation` over the networks as units (:func:`federate`).
``proposed``  networks first (inside federation regions), then federations of them: the
              sequential plan (:func:`solve_sequential`).
``joint``     the model above, started from the sequential plan, so never worse; its
              bound is HiGHS's proven bound on the joint objective (:func:`solve_joint`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from importlib.metadata import version
from typing import Literal

import numpy as np

from mergeopt.engine.formulation import Arrays, model_arrays, plainly_infeasible
from mergeopt.engine.instance import (
    Instance,
    arc_mask,
    feasible,
    names_of,
    objective_value,
    simple_bound,
    size_breaks,
)
from mergeopt.engine.options import SolveOptions
from mergeopt.engine.outcome import (
    Outcome,
    Status,
    found,
    gap,
    infeasible,
    no_grouping,
    summed_bound,
    weakest,
)
from mergeopt.engine.portfolio import solve_instance
from mergeopt.engine.rows import Rows, fewest_holding, one_row, stack
from mergeopt.engine.solvers.highs import Answer, highs_model, solve_model

Vector = np.ndarray
Mode = Literal["today", "proposed", "joint"]

#: Share of the time limit the sequential plan (the joint model's start) may take: its
#: networks, then its federations; the joint model has the rest.
SEQUENTIAL_NETWORK_SHARE, SEQUENTIAL_FEDERATION_SHARE = 0.2, 0.1


@dataclass(frozen=True)
class FederationRules:
    r"""The federation level as plain arrays indexed by practice position.

    Attributes
    ----------
    min_size : :math:`L^F`, the fewest patients in a federation
    max_size : per federation hub :math:`\min(U^F, C^F_h)` (n,), ``inf`` where open
    can_hub, must_hub : practices whose premises may / must host a federation hub (n,)
    allowed : (n, n) bool, a network with hub *j* may join the federation of hub *h*
        (the federation travel limit)
    region : an integer per practice (n,); no network or federation crosses two (all
        equal without nesting)
    count_min, count_max : federation-count bounds, ``None`` where open
    travel_weight : :math:`\phi \ge 0`, on patient-weighted network-hub to federation-hub travel
    count_weight : :math:`\psi \ge 0`, per federation
    region_names : a name per practice's region, for messages (may be empty)
    """

    min_size: float
    max_size: Vector
    can_hub: Vector
    must_hub: Vector
    allowed: Vector
    region: Vector
    count_min: int | None = None
    count_max: int | None = None
    travel_weight: float = 1.0
    count_weight: float = 0.0
    region_names: tuple[str, ...] = ()

    def hubs_usable(self, inst: Instance) -> Vector:
        """(n,) bool: practices whose premises can host a federation hub at all."""
        return self.can_hub & (self.max_size >= inst.size) & (self.max_size >= self.min_size)

    def pairs(self, inst: Instance) -> Vector:
        """(n, n) bool: a network with hub *j* may join the federation of hub *h* (a
        usable one, within the limit, same region; always its own hub's, if usable)."""
        usable = self.hubs_usable(inst)
        same = self.region[:, None] == self.region[None, :]
        return arc_mask(self.allowed & same, inst.cost, usable)


def nested(inst: Instance, fed: FederationRules) -> Instance:
    """The network instance with no arc across a federation region, so that every
    network can lie inside one federation."""
    same = fed.region[:, None] == fed.region[None, :]
    return replace(inst, allowed=inst.allowed & same)


# ---------------------------------------------------------------------------------------
# Outcomes, values and rules


@dataclass(frozen=True)
class TwoLevelOutcome:
    """A two-level plan and what was proved about it.

    ``hub_of`` is each practice's network hub and ``federation_of`` its federation hub
    (positions; None without a plan). ``objective`` is the whole plan's value,
    ``network_objective`` plus ``federation_objective``. ``bound`` is a proven lower
    bound on the joint objective (mode ``joint`` only: a sequential plan proves each
    level only given the one before). ``levels`` holds each solve by name:
    ``networks`` (not for mode ``today``), ``federations`` and, for mode ``joint``,
    ``joint``. ``sequential`` is the sequential plan's value, the joint model's start
    (None if there is none).
    """

    mode: Mode
    status: Status
    hub_of: Vector | None
    federation_of: Vector | None
    objective: float | None
    network_objective: float | None
    federation_objective: float | None
    bound: float | None
    stopped_by: str
    levels: dict[str, Outcome] = field(default_factory=dict)
    sequential: float | None = None
    solver: str = ""
    seconds: float = 0.0

    @property
    def gap(self) -> float | None:
        if self.objective is None or self.bound is None:
            return None
        return gap(self.objective, self.bound)

    @property
    def gain(self) -> float | None:
        """How far the joint plan's value is below the sequential plan's (0 or more)."""
        if self.sequential is None or self.objective is None:
            return None
        return self.sequential - self.objective


def network_loads(inst: Instance, hub_of: Vector) -> Vector:
    """(n,) patients in the network of each hub (0 for a practice that is no hub)."""
    return np.bincount(hub_of, weights=inst.size, minlength=inst.n)


def federation_value(
    inst: Instance, fed: FederationRules, hub_of: Vector, federation_of: Vector
) -> float:
    """The federation part of the objective: phi times each network's patients times its
    hub's travel to its federation hub, plus psi per federation."""
    hubs = np.unique(hub_of)
    load = network_loads(inst, hub_of)[hubs]
    travel = float((load * inst.cost[hubs, federation_of[hubs]]).sum())
    return fed.travel_weight * travel + fed.count_weight * len(np.unique(federation_of))


def plan_value(
    inst: Instance, fed: FederationRules, hub_of: Vector, federation_of: Vector
) -> float:
    """The whole plan's objective: the network objective plus the federation part."""
    return objective_value(inst, hub_of) + federation_value(inst, fed, hub_of, federation_of)


def straddling(fed: FederationRules, hub_of: Vector) -> list[int]:
    """Hubs of networks whose practices lie in more than one federation region."""
    return [j for j in np.unique(hub_of).tolist() if len(np.unique(fed.region[hub_of == j])) > 1]


def broken_federation_rules(
    inst: Instance, fed: FederationRules, hub_of: Vector, federation_of: Vector
) -> list[str]:
    """The federation rules a plan breaks (the network rules are
    :func:`mergeopt.engine.instance.broken_rules`'); empty if it keeps them all."""
    found: list[str] = []
    if (federation_of != federation_of[hub_of]).any():
        found.append("a network is split between federations")
    if straddling(fed, hub_of):
        found.append("a network straddles two federation regions")
    hubs = np.unique(hub_of)
    feds = np.unique(federation_of)
    if not np.isin(feds, hubs).all() or (federation_of[feds] != feds).any():
        found.append("a federation hub is not a network hub in its own federation")
    if not fed.hubs_usable(inst)[feds].all():
        found.append("a federation hub's premises cannot host a federation")
    if not fed.pairs(inst)[hubs, federation_of[hubs]].all():
        found.append("a network hub is beyond the federation travel limit or region")
    load = np.bincount(federation_of, weights=inst.size, minlength=inst.n)[feds]
    found += size_breaks(
        "federation", load, fed.min_size, fed.max_size[feds], fed.count_min, fed.count_max
    )
    must = np.flatnonzero(fed.must_hub)
    if (federation_of[must] != must).any():
        found.append("a required federation hub is not one")
    return found


def plan_feasible(
    inst: Instance, fed: FederationRules, hub_of: Vector | None, federation_of: Vector | None
) -> bool:
    """Whether a plan keeps every rule of both levels (networks inside regions too)."""
    if hub_of is None or federation_of is None:
        return False
    return feasible(nested(inst, fed), hub_of) and not broken_federation_rules(
        inst, fed, hub_of, federation_of
    )


# ---------------------------------------------------------------------------------------
# Federations of given networks: the hub formulation over the networks


def units_instance(
    inst: Instance, fed: FederationRules, hub_of: Vector
) -> tuple[Instance, Vector]:
    """The federations of given networks as a hub problem whose "practices" are the
    networks, at their hubs, sized by their patients; and each unit's hub position.

    Its objective is :func:`federation_value` of the plan.
    """
    units = np.unique(hub_of)
    return (
        Instance(
            codes=tuple(inst.codes[j] for j in units.tolist()),
            size=network_loads(inst, hub_of)[units],
            cost=inst.cost[np.ix_(units, units)],
            allowed=fed.pairs(inst)[np.ix_(units, units)],
            min_size=float(fed.min_size),
            max_size=fed.max_size[units].astype(float),
            can_hub=fed.hubs_usable(inst)[units],
            must_hub=fed.must_hub[units],
            count_min=fed.count_min,
            count_max=fed.count_max,
            weights=(fed.travel_weight, 0.0, fed.count_weight, 0.0),
            travel_by_size=True,
            region=names_of(fed.region_names, units),
        ),
        units,
    )


def why_not_federable(inst: Instance, fed: FederationRules, hub_of: Vector) -> str:
    """Why no federation of these networks can exist, plainly; '' if nothing plain."""
    across = straddling(fed, hub_of)
    if across:
        named = ", ".join(inst.codes[j] for j in across[:5])
        more = f" and {len(across) - 5} more" if len(across) > 5 else ""
        return f"networks straddle two federation regions (hubs {named}{more})"
    hubs = set(np.unique(hub_of).tolist())
    missing = [inst.codes[h] for h in np.flatnonzero(fed.must_hub).tolist() if h not in hubs]
    if missing:
        return f"required federation hubs are no network's hub: {', '.join(missing[:5])}"
    return ""


def federate(
    inst: Instance,
    fed: FederationRules,
    hub_of: Vector,
    options: SolveOptions,
    *,
    mode: Mode = "today",
) -> TwoLevelOutcome:
    """Federations of the given networks ``hub_of``, each whole (mode ``today``).

    The networks are taken as they are (their objective is reported, not optimised);
    the federations are solved by the hub formulation over the networks, to proof or
    to the time limit.
    """
    started = time.perf_counter()
    blocked = why_not_federable(inst, fed, hub_of)
    if blocked:
        levels = {"federations": infeasible(blocked)}
        return _sequential(mode, None, None, inst, fed, levels, started)
    units, unit_hub = units_instance(inst, fed, hub_of)
    report = solve_instance(units, options, name="federations")
    levels = {"federations": replace(report, hub_of=None)}  # its hubs are units'
    if report.hub_of is None:
        return _sequential(mode, None, None, inst, fed, levels, started)
    federation_of = unit_hub[report.hub_of][np.searchsorted(unit_hub, hub_of)]
    outcome = _sequential(mode, hub_of, federation_of, inst, fed, levels, started)
    return replace(outcome, solver=report.solver)


def solve_sequential(
    inst: Instance, fed: FederationRules, options: SolveOptions
) -> TwoLevelOutcome:
    """Networks first (inside federation regions), then federations of those networks."""
    started = time.perf_counter()
    share = SEQUENTIAL_NETWORK_SHARE / (SEQUENTIAL_NETWORK_SHARE + SEQUENTIAL_FEDERATION_SHARE)
    first = replace(options, time_limit=options.time_limit * share)
    networks = solve_instance(nested(inst, fed), first, name="networks")
    if networks.hub_of is None:
        return _sequential("proposed", None, None, inst, fed, {"networks": networks}, started)
    rest = max(options.time_limit - (time.perf_counter() - started), 0.1)
    second = federate(inst, fed, networks.hub_of, replace(options, time_limit=rest))
    levels = {"networks": networks, **second.levels}
    outcome = _sequential(
        "proposed", second.hub_of, second.federation_of, inst, fed, levels, started
    )
    return replace(outcome, solver=networks.solver)


def _sequential(
    mode: Mode,
    hub_of: Vector | None,
    federation_of: Vector | None,
    inst: Instance,
    fed: FederationRules,
    levels: dict[str, Outcome],
    started: float,
) -> TwoLevelOutcome:
    """A sequential outcome: its status is the weakest of its levels'."""
    status = weakest(level.status for level in levels.values())
    notes = "; ".join(f"{name}: {level.stopped_by}" for name, level in levels.items())
    seconds = time.perf_counter() - started
    plan = None if hub_of is None or federation_of is None else (hub_of, federation_of)
    return _two_level(
        inst, fed, mode, status, plan, bound=None, stopped_by=notes, levels=levels, seconds=seconds
    )


def _two_level(
    inst: Instance,
    fed: FederationRules,
    mode: Mode,
    status: Status,
    plan: tuple[Vector, Vector] | None,
    *,
    bound: float | None,
    stopped_by: str,
    levels: dict[str, Outcome],
    sequential: float | None = None,
    solver: str = "",
    seconds: float,
) -> TwoLevelOutcome:
    """A two-level outcome of ``plan`` (network hubs, federation hubs; None for none),
    its objective and each level's part recomputed from the arrays."""
    if plan is None:
        return TwoLevelOutcome(
            mode,
            status,
            None,
            None,
            None,
            None,
            None,
            bound,
            stopped_by,
            levels,
            sequential,
            solver,
            seconds,
        )
    hub_of, federation_of = plan
    network = objective_value(inst, hub_of)
    federation = federation_value(inst, fed, hub_of, federation_of)
    return TwoLevelOutcome(
        mode=mode,
        status=status,
        hub_of=hub_of,
        federation_of=federation_of,
        objective=network + federation,
        network_objective=network,
        federation_objective=federation,
        bound=bound,
        stopped_by=stopped_by,
        levels=levels,
        sequential=sequential,
        solver=solver,
        seconds=seconds,
    )


# ---------------------------------------------------------------------------------------
# The joint model as arrays


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


# ---------------------------------------------------------------------------------------
# Solving the joint model


def _run_highs(
    arrays: Arrays, options: SolveOptions, limit: float, start: Vector | None
) -> Answer:
    """HiGHS on ``arrays`` from the column values ``start``: status, values and bound."""
    if plainly_infeasible(arrays):
        return Answer("infeasible", "a rule no plan can meet")
    highs = highs_model(arrays, options, limit)
    return solve_model(highs, arrays.num_col, start, options, model="the joint model")


def solve_joint(
    inst: Instance,
    fed: FederationRules,
    options: SolveOptions,
    *,
    start: TwoLevelOutcome | None = None,
) -> TwoLevelOutcome:
    """Both levels in one model, solved by HiGHS from the sequential plan.

    ``start`` is the sequential plan (solved here with a share of the time if not
    given). The plan returned is never worse than it: HiGHS starts from it and the
    better of the two is kept. The bound is the larger of HiGHS's proven bound on the
    joint objective and the networks' own proven bound in ``start`` (the federation part
    is never negative). Without a rule that spans regions (a network or federation
    count, a longest-travel term), each federation region is solved on its own, with a
    share of the time by its practices, and plans and bounds are added up.
    """
    started = time.perf_counter()
    if start is None:
        share = SEQUENTIAL_NETWORK_SHARE + SEQUENTIAL_FEDERATION_SHARE
        start = solve_sequential(
            inst, fed, replace(options, time_limit=options.time_limit * share)
        )
    plan: tuple[Vector, Vector] | None = None
    if plan_feasible(inst, fed, start.hub_of, start.federation_of):
        plan = (start.hub_of, start.federation_of)  # type: ignore[assignment]
    hub_of = np.full(inst.n, -1, dtype=np.int64)
    federation_of = np.full(inst.n, -1, dtype=np.int64)
    parts: list[Outcome] = []
    left_practices = inst.n
    for region in _separate_regions(inst, fed):
        left = max(options.time_limit - (time.perf_counter() - started), 0.1)
        limit = left * len(region) / left_practices
        left_practices -= len(region)
        part, found_plan = _solve_joint_part(inst, fed, region, options, limit, plan)
        parts.append(part)
        if found_plan is not None:
            hub_of[region] = region[found_plan[0]]
            federation_of[region] = region[found_plan[1]]
    return _joint_outcome(inst, fed, start, plan, parts, (hub_of, federation_of), started)


def _separate_regions(inst: Instance, fed: FederationRules) -> list[Vector]:
    """The federation regions, if each can be solved on its own; else all practices."""
    spans = (inst.count_min, inst.count_max, fed.count_min, fed.count_max, inst.weights[3] or None)
    regions = np.unique(fed.region)
    if len(regions) == 1 or any(value is not None for value in spans):
        return [np.arange(inst.n)]
    linked = [*inst.fixed, *inst.must_link]
    if any(fed.region[a] != fed.region[b] for a, b in linked):
        return [np.arange(inst.n)]  # a rule no plan meets: one model says so
    return [np.flatnonzero(fed.region == r) for r in regions]


def _solve_joint_part(
    inst: Instance,
    fed: FederationRules,
    region: Vector,
    options: SolveOptions,
    limit: float,
    plan: tuple[Vector, Vector] | None,
) -> tuple[Outcome, tuple[Vector, Vector] | None]:
    """The joint model of one region (positions ``region``) from the sequential plan:
    its outcome (``stopped_by`` names the model's size) and its plan, in region positions."""
    began = time.perf_counter()
    whole = len(region) == inst.n
    sub = inst if whole else inst.subset(region)
    sub_fed = fed if whole else _subset_rules(fed, region)
    local = None
    if plan is not None:
        local = (
            np.searchsorted(region, plan[0][region]),
            np.searchsorted(region, plan[1][region]),
        )
    model = joint_arrays(sub, sub_fed)
    build = time.perf_counter() - began
    run = _run_highs(model.arrays, options, limit, model.columns(sub, *local) if local else None)
    size = f"{model.arrays.num_col:,} columns, {model.arrays.num_row:,} rows"
    reason = f"{run.reason} (joint model: {size})"
    best = model.plan(run.values) if run.values is not None else None
    if best is not None and not plan_feasible(sub, sub_fed, *best):
        best = None
    if local is not None and (
        best is None or plan_value(sub, sub_fed, *local) < plan_value(sub, sub_fed, *best)
    ):
        best = local
    if best is None:
        if run.status == "infeasible":
            return infeasible(reason, build_seconds=build), None
        return no_grouping(run.bound, reason, build_seconds=build), None
    value = plan_value(sub, sub_fed, *best)
    bound = run.bound if run.bound is not None else simple_bound(nested(sub, sub_fed))
    outcome = found(best[0], value, min(bound, value), reason, build_seconds=build)
    return replace(outcome, solve_seconds=time.perf_counter() - began - build), best


def _subset_rules(fed: FederationRules, keep: Vector) -> FederationRules:
    """The federation rules of practices ``keep`` (positions, in order)."""
    return replace(
        fed,
        max_size=fed.max_size[keep],
        can_hub=fed.can_hub[keep],
        must_hub=fed.must_hub[keep],
        allowed=fed.allowed[np.ix_(keep, keep)],
        region=fed.region[keep],
        region_names=names_of(fed.region_names, keep),
    )


def _joint_outcome(
    inst: Instance,
    fed: FederationRules,
    start: TwoLevelOutcome,
    plan: tuple[Vector, Vector] | None,
    parts: list[Outcome],
    found_plan: tuple[Vector, Vector],
    started: float,
) -> TwoLevelOutcome:
    """The regions' joint solves as one outcome: plans and bounds added up, and the
    bound raised to the networks' own proven bound where HiGHS proved less."""
    complete = all(part.hub_of is not None for part in parts)
    reasons = sorted({part.stopped_by for part in parts})
    where = f"; {len(parts)} regions solved apart" if len(parts) > 1 else ""
    stopped_by = "; ".join(reasons) + where
    bound = summed_bound(parts)
    bound = float(bound) if bound is not None else None
    networks = start.levels.get("networks")
    if networks is not None and networks.bound is not None:
        bound = networks.bound if bound is None else max(bound, networks.bound)
    build = sum(part.build_seconds for part in parts)
    seconds = time.perf_counter() - started
    sequential = plan_value(inst, fed, *plan) if plan is not None else None
    if complete:
        value = plan_value(inst, fed, *found_plan)
        bound = value if bound is None else min(bound, value)
        joint = found(found_plan[0], value, bound, stopped_by, build_seconds=build)
    else:
        worst = weakest(part.status for part in parts)
        joint = Outcome(worst, bound=bound, stopped_by=stopped_by, build_seconds=build)
    joint = replace(joint, solver=_label(), solve_seconds=seconds - build)
    return _two_level(
        inst,
        fed,
        "joint",
        joint.status,
        found_plan if complete else None,
        bound=bound,
        stopped_by=stopped_by,
        levels={**start.levels, "joint": joint},
        sequential=sequential,
        solver=_label(),
        seconds=seconds,
    )


def _label() -> str:
    return f"HiGHS {version('highspy')} (joint two-level model, arrays)"


def solve_federations(
    inst: Instance,
    fed: FederationRules,
    options: SolveOptions,
    *,
    mode: Mode,
    networks: Vector | None = None,
) -> TwoLevelOutcome:
    """A two-level plan in one of the three modes.

    ``networks`` (each practice's network hub) is needed for mode ``today`` and
    ignored otherwise.
    """
    if mode == "today":
        if networks is None:
            raise ValueError("mode 'today' federates given networks: pass networks=")
        return federate(inst, fed, networks, options)
    if mode == "proposed":
        return solve_sequential(inst, fed, options)
    return solve_joint(inst, fed, options)
