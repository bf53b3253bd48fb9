"""A two-level plan: the federation rules, the outcome of a plan, its value and the rules
it breaks.

:class:`FederationRules` is the federation level as plain arrays beside the network
:class:`~mergeopt.engine.instance.Instance`; a plan is each practice's network hub and
federation hub (positions). Every way of solving (:mod:`.sequential`, :mod:`.joint`)
reports a :class:`TwoLevelOutcome` built by :func:`two_level_outcome`, whose objective is
recomputed here from the arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np

from mergeopt.engine.instance import (
    Instance,
    arc_mask,
    feasible,
    objective_value,
    size_breaks,
)
from mergeopt.engine.outcome import Outcome, Status, gap

Vector = np.ndarray
Mode = Literal["today", "proposed", "joint"]


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


def two_level_outcome(
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
