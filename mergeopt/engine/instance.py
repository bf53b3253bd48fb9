"""The instance the engine solves, and every check on it.

An :class:`Instance` is plain arrays indexed by practice position (list sizes, travel
costs, allowed arcs, hub bounds, links, weights): no geometry and no config. Everything a
strategy asks of an instance or of a grouping of it lives here: the arcs and their
objective coefficients, which hubs can host a group, the capacity tests, the group-count
range, the independent regions, the objective of a grouping and whether it keeps every
rule (:func:`broken_rules`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

# Arrays of these shapes: n practices, a arcs.
Vector = np.ndarray


@dataclass(frozen=True)
class Instance:
    """Everything the MIP needs, as plain arrays indexed by practice position, and the
    rule values those arrays were folded from.

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

    The rule values behind the arrays, as the user gave them (for reports and
    explanations; the solve reads only the arrays above):

    min_list_size, max_list_size : the list-size bounds *L* and *U* of a group as given
        (a config's whole numbers stay whole), or None where not given; the MIP reads
        ``min_size`` and each hub's bound ``max_size``, which is ``min(U, C_j)``, or a
        lone oversize practice's own size
    premises : patients each practice's premises can serve as a hub, :math:`C_j` (n,),
        ``inf`` where the premises set no limit; empty when not given
    max_minutes : the drive-time limit in minutes, or None; arcs beyond it are not
        ``allowed``
    max_km : the straight-line distance limit in km, or None (with straight-line travel,
        ``cost`` is that distance)
    travel_unit : the unit of ``cost`` (``"minutes"`` or ``"km"``), or empty
    nest_by : what ``region`` names (e.g. ``"icb_code"``): groups never cross it; None when
        groups are not nested
    oversize_alone : a practice larger than *U* forms a group on its own (its arcs are
        the self arc only and its bound its own size)
    alone : (n,) bool, or empty for none: practices that stand alone (remote practices),
        each a group of its own with no other member, exempt from the minimum list size
        *L*; the front end gives them the self arc only. The solve sets them aside and
        groups the rest (:func:`mergeopt.engine.portfolio.solve_instance`).
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
    min_list_size: float | None = None
    max_list_size: float | None = None
    premises: Vector = field(default_factory=lambda: np.zeros(0))
    max_minutes: float | None = None
    max_km: float | None = None
    travel_unit: str = ""
    nest_by: str | None = None
    oversize_alone: bool = False
    alone: Vector = field(default_factory=lambda: np.zeros(0, dtype=bool))

    @property
    def n(self) -> int:
        return len(self.codes)

    def standing_alone(self) -> Vector:
        """(n,) bool: the practices that stand alone (``alone``; none when it is empty)."""
        if len(self.alone) != self.n:
            return np.zeros(self.n, dtype=bool)
        return np.asarray(self.alone, dtype=bool)

    def moved(self) -> Vector:
        """(n, n) bool: practice *i* would leave its current group by joining hub *j*."""
        if len(self.group_id) != self.n:
            return np.zeros((self.n, self.n), dtype=bool)
        gi = self.group_id[:, None]
        moved: Vector = (gi >= 0) & (gi != self.group_id[None, :])
        return moved

    def list_size_bounds(self) -> tuple[float, float | None]:
        """The list-size bounds (*L*, *U*) as the user gave them: ``min_list_size`` (else
        the MIP's ``min_size``) and ``max_list_size`` (None for no maximum)."""
        low = self.min_list_size if self.min_list_size is not None else self.min_size
        return low, self.max_list_size

    def oversize(self) -> Vector:
        """(n,) bool: practices larger than the maximum list size *U* on their own."""
        if self.max_list_size is None:
            return np.zeros(self.n, dtype=bool)
        return np.asarray(self.size > self.max_list_size, dtype=bool)

    def hubs_usable(self) -> Vector:
        """(n,) bool: candidate hubs that can host a group at all."""
        reaches_minimum = (self.max_size >= self.min_size) | self.standing_alone()
        usable: Vector = self.can_hub & (self.max_size >= self.size) & reaches_minimum
        return usable

    def arcs(self) -> tuple[Vector, Vector]:
        """Positions (i, j) of the allowed practice -> hub arcs, row-major."""
        i, j = np.nonzero(arc_mask(self.allowed, self.cost, self.hubs_usable()))
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
            region=names_of(self.region, keep),
            premises=self.premises[keep] if len(self.premises) == self.n else self.premises,
            alone=self.alone[keep] if len(self.alone) == self.n else self.alone,
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


def arc_mask(allowed: Vector, cost: Vector, usable: Vector) -> Vector:
    """(n, n) bool: the arcs *i* -> *j* that are ``allowed``, have a finite ``cost`` and end
    at a ``usable`` hub; and every usable hub's own arc."""
    mask = allowed & np.isfinite(cost) & usable[None, :]
    np.fill_diagonal(mask, usable)
    return np.asarray(mask, dtype=bool)


def names_of(names: tuple[str, ...], keep: Vector) -> tuple[str, ...]:
    """The names of positions ``keep``; empty where there are no names."""
    return tuple(names[k] for k in keep.tolist()) if names else ()


def arc_regions(n: int, ai: Vector, aj: Vector) -> list[Vector]:
    """Positions of each connected set of practices, joined by the arcs (i, j)."""
    graph = coo_matrix((np.ones(len(ai)), (ai, aj)), shape=(n, n))
    count, label = connected_components(graph, directed=False)
    order = np.argsort(label, kind="stable")
    return np.split(order, np.cumsum(np.bincount(label, minlength=count))[:-1])


def arc_costs(inst: Instance) -> Vector:
    """(n, n) objective coefficient of practice *i* joining hub *j*; inf without an arc."""
    ai, aj = inst.arcs()
    coef = np.full((inst.n, inst.n), np.inf)
    coef[ai, aj] = inst.arc_objective(ai, aj)
    return coef


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
    tolerance for the solver's rounding: :func:`mergeopt.engine.outcome.round_bound`).
    """
    ai, aj = inst.arcs()
    coef = inst.arc_objective(ai, aj)
    _, _, groups_w, maxtravel_w = inst.weights
    whole = bool(np.all(coef == np.round(coef))) and float(groups_w).is_integer()
    if maxtravel_w:
        cost = inst.cost[ai, aj]
        whole &= float(maxtravel_w).is_integer() and bool(np.all(cost == np.round(cost)))
    return whole


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


def broken_rules(inst: Instance, hub_of: Vector) -> list[str]:
    """The rules of ``inst`` that the grouping ``hub_of`` breaks; empty if it is feasible."""
    found: list[str] = []
    n = inst.n
    if len(hub_of) != n or (hub_of < 0).any() or (hub_of >= n).any():
        return ["not every practice has a hub"]
    hubs = np.unique(hub_of)
    i = np.arange(n)
    if (hub_of[hubs] != hubs).any():
        found.append("a hub is not in its own group")
    if not inst.hubs_usable()[hubs].all():
        found.append("a group's hub cannot host a group")
    arc = inst.allowed[i, hub_of] & np.isfinite(inst.cost[i, hub_of]) | (i == hub_of)
    if not arc.all():
        found.append("a practice joins a hub it may not (travel, nesting or no cost)")
    load = np.bincount(hub_of, weights=inst.size, minlength=n)[hubs]
    least = np.where(inst.standing_alone()[hubs], -np.inf, inst.min_size)
    found += size_breaks("group", load, least, inst.max_size[hubs], inst.count_min, inst.count_max)
    if (hub_of[inst.must_hub] != i[inst.must_hub]).any():
        found.append("a forced hub is not a hub")
    found += ["a fixed assignment is broken" for a, b in inst.fixed if hub_of[a] != b][:1]
    found += ["a must-link pair is apart" for a, b in inst.must_link if hub_of[a] != hub_of[b]][:1]
    found += [
        "a cannot-link pair is together" for a, b in inst.cannot_link if hub_of[a] == hub_of[b]
    ][:1]
    if inst.contiguous and not is_contiguous(inst, hub_of):
        found.append("a group is not contiguous")
    return found


def size_breaks(
    unit: str,
    load: Vector,
    least: float | Vector,
    most: Vector,
    count_min: int | None,
    count_max: int | None,
) -> list[str]:
    """The list-size and count rules that groups of one level break: ``load`` holds each
    group's patients (one per group), each needs at least ``least`` and at most ``most``,
    and there are ``count_min`` to ``count_max`` of them; a ``unit`` is one group."""
    found: list[str] = []
    if (load < least - 1e-6).any():
        found.append(f"a {unit} is below the minimum list size")
    if (load > most + 1e-6).any():
        found.append(f"a {unit} is above its maximum list size")
    if count_min is not None and len(load) < count_min:
        found.append(f"too few {unit}s")
    if count_max is not None and len(load) > count_max:
        found.append(f"too many {unit}s")
    return found


def feasible(inst: Instance, hub_of: Vector | None) -> bool:
    """Whether ``hub_of`` is a grouping that keeps every rule of ``inst``."""
    return hub_of is not None and not broken_rules(inst, hub_of)


def is_contiguous(inst: Instance, hub_of: Vector) -> bool:
    """Whether every group's practices are connected through touching catchments."""
    touching = neighbours(inst)
    for j in np.unique(hub_of).tolist():
        group = set(np.flatnonzero(hub_of == j).tolist())
        seen, stack = {j}, [j]
        while stack:
            for k in touching.get(stack.pop(), set()) & group:
                if k not in seen:
                    seen.add(k)
                    stack.append(k)
        if seen != group:
            return False
    return True


def neighbours(inst: Instance) -> dict[int, set[int]]:
    """Practices whose catchments touch each practice's (from ``adjacency``)."""
    found: dict[int, set[int]] = {}
    for a, b in inst.adjacency:
        if a != b:
            found.setdefault(a, set()).add(b)
            found.setdefault(b, set()).add(a)
    return found


def unbounded_loads(inst: Instance) -> bool:
    """No minimum list size, and every usable hub's bound holds every patient."""
    caps = inst.max_size[inst.hubs_usable()]
    return inst.min_size <= 0 and bool((caps >= inst.size.sum()).all())


def uncapacitated(inst: Instance) -> bool:
    """No minimum list size, every hub's bound holds every patient, and no rule beyond
    the travel limit, forced hubs and the group count: a p-median, where each practice
    simply joins its cheapest open hub."""
    return (
        unbounded_loads(inst)
        and not (inst.fixed or inst.must_link or inst.cannot_link or inst.contiguous)
        and not inst.weights[3]
    )


def count_range(inst: Instance, hubs: int) -> tuple[int, int]:
    """The group-count bounds, with no bound meaning 0 and every candidate hub."""
    low = inst.count_min if inst.count_min is not None else 0
    high = inst.count_max if inst.count_max is not None else hubs
    return low, high


def implied_count_max(inst: Instance) -> int:
    """The most groups any grouping of ``inst`` can have, by its list sizes: each group
    holds at least the minimum list size, but for those of practices standing alone.

    A valid group-count bound for a relaxation that drops the list-size rows (the
    p-median relaxation: :func:`~mergeopt.engine.strategies.large.relaxed_bound`); every
    practice where there is no minimum.
    """
    if inst.min_size <= 0:
        return inst.n
    alone = int(inst.standing_alone().sum())
    others = math.floor(float(inst.size.sum()) / inst.min_size + 1e-9)
    return max(1, min(inst.n, alone + others))


def independent_regions(inst: Instance) -> list[Vector]:
    """Parts that may be solved apart (:meth:`Instance.regions`), or the whole instance
    where a group-count rule or a max-travel term couples them."""
    coupled = inst.count_min is not None or inst.count_max is not None or inst.weights[3] > 0
    if coupled:
        return [np.arange(inst.n)]
    return inst.regions()


def region_name(inst: Instance, region: Vector) -> str:
    """A region by its nesting names (e.g. ICB codes), else by its first practice codes."""
    count = f"{len(region)} practice{'s' if len(region) != 1 else ''}"
    if inst.region:
        names = sorted({inst.region[k] for k in region.tolist()})
        return f"{', '.join(names)} ({count})"
    codes = [inst.codes[k] for k in region.tolist()]
    shown = ", ".join(codes[:5]) + (", ..." if len(codes) > 5 else "")
    return f"{count}: {shown}"
