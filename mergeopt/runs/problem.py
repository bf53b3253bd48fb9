"""From a config and its practices to the MIP's plain arrays (the geo front end).

This is where domain rules become arrays: the travel limit and nesting become
disallowed arcs, premises become per-hub capacities, named practices in the rules
become positions. The engine (:mod:`mergeopt.engine`) knows none of this.
:func:`prepare_problem` reads a config's inputs and builds its :class:`Problem`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mergeopt._errors import InputError
from mergeopt.config import Config
from mergeopt.engine.federation import FederationRules
from mergeopt.engine.instance import Instance, arc_mask
from mergeopt.inputs.matrix import read_travel_matrix
from mergeopt.inputs.practices import UNALLOCATED
from mergeopt.inputs.travel import road_minutes, straight_line_km
from mergeopt.runs.preflight import read_checked


@dataclass(frozen=True)
class Problem:
    """A config made concrete: the practices, their travel and the MIP instance.

    ``travel`` is in ``config.travel.unit`` (minutes, or km for straight lines) and
    ``km`` is always the straight-line distance; both are (n, n) in practice order.
    ``federation`` holds the federation level's rules when the config has a
    ``federations`` block.
    """

    config: Config
    practices: pd.DataFrame
    travel: np.ndarray
    km: np.ndarray
    instance: Instance
    federation: FederationRules | None = None

    @property
    def codes(self) -> list[str]:
        return [str(code) for code in self.practices.index]

    @property
    def oversize(self) -> np.ndarray:
        """(n,) bool: practices larger than the maximum list size."""
        return self.instance.oversize()


def prepare_problem(config: Config) -> tuple[Problem, dict[str, float]]:
    """Read a config's inputs, check that its files fit together
    (:func:`~mergeopt.runs.preflight.read_checked`), and build its problem; the seconds
    each step took."""
    started = time.perf_counter()
    practices = read_checked(config)
    read = time.perf_counter()
    problem = build_problem(config, practices)
    built = time.perf_counter()
    return problem, {"read_seconds": read - started, "travel_seconds": built - read}


def _count_range(config: Config, practices: int) -> tuple[int | None, int | None]:
    """``groups.count`` as bounds the solver takes: a count above the number of practices
    is refused (10^25 groups once overflowed the solver); a range's maximum above it is
    cut to it."""
    low, high = config.groups.count_range
    if low is not None and low > practices:
        shown = f"{low:,}" if low < 10**15 else f"{low:.3g}"
        raise InputError(
            f"{config.source}: key 'groups.count': {shown} groups is more than the "
            f"{practices:,} practices; each group needs a hub practice, so at most {practices:,}"
        )
    return low, None if high is None else min(high, practices)


def build_problem(config: Config, practices: pd.DataFrame, *, part: bool = False) -> Problem:
    """Turn a validated config and practices table into a :class:`Problem`.

    ``part``: the practices are part of the run's (one region searched alone), so a
    supplied travel matrix may name practices outside them.

    Raises
    ------
    InputError
        A rule names a practice code that is not in the practices table.
    """
    codes = [str(code) for code in practices.index]
    where = _Positions(codes, config)
    easting = practices["easting"].to_numpy(dtype=float)
    northing = practices["northing"].to_numpy(dtype=float)
    km = straight_line_km(easting, northing)
    cost = (
        km
        if config.travel.model == "straight_line"
        else travel_costs(config, practices, part=part)
    )

    rules, groups = config.rules, config.groups
    size = practices["list_size"].to_numpy(dtype=float)
    eligibility = practices["hub_eligibility"].to_numpy()
    forbidden = where.mask(rules.forbidden_hubs, "rules.forbidden_hubs")
    fixed = [
        (
            where.one(member, f"rules.fixed[{k}].practices"),
            where.one(group.hub, f"rules.fixed[{k}].hub"),
        )
        for k, group in enumerate(rules.fixed)
        for member in group.practices
    ]
    must_hub = (
        (eligibility == "must")
        | where.mask(rules.forced_hubs, "rules.forced_hubs")
        | where.mask([group.hub for group in rules.fixed], "rules.fixed")
    )
    can_hub = ((eligibility != "never") | must_hub) & ~forbidden

    upper = np.inf if groups.max_list_size is None else float(groups.max_list_size)
    capacity = practices["capacity"].to_numpy(dtype=float)
    premises = np.where(np.isnan(capacity), np.inf, capacity)
    max_size = np.minimum(upper, premises)
    region = practices["region"].to_numpy()
    allowed = _allowed_arcs(config, cost, km, region)

    oversize = size > upper
    if groups.oversize == "alone" and oversize.any():
        # A lone oversize practice is its own hub and nobody else fits in its group.
        must_hub |= oversize
        can_hub |= oversize & ~forbidden
        max_size = np.where(oversize, size, max_size)
        allowed[:, oversize] = False
        allowed[oversize, :] = False
        allowed[oversize, oversize] = True
    remote = where.mask(groups.remote_practices, "groups.remote")
    if groups.remote == "alone":
        usable = can_hub & (max_size >= size) & (max_size >= groups.min_list_size)
        reach = arc_mask(allowed, cost, usable)
        lone = oversize if groups.oversize == "alone" else np.zeros_like(oversize)
        remote = unreachable(size, reach, float(groups.min_list_size), alone=lone)
    if remote.any():
        # A remote practice stands alone: its own hub, nobody else in its group, and
        # exempt from the minimum list size (Instance.alone).
        must_hub |= remote
        can_hub |= remote & ~forbidden
        max_size = np.where(remote, size, max_size)
        allowed[:, remote] = False
        allowed[remote, :] = False
        allowed[np.flatnonzero(remote), np.flatnonzero(remote)] = True

    count_min, count_max = _count_range(config, len(codes))
    instance = Instance(
        codes=tuple(codes),
        size=size,
        cost=cost,
        allowed=allowed,
        min_size=float(groups.min_list_size),
        max_size=max_size,
        can_hub=can_hub,
        must_hub=must_hub,
        count_min=count_min,
        count_max=count_max,
        fixed=tuple(fixed),
        must_link=where.pairs(rules.must_link, "rules.must_link"),
        cannot_link=where.pairs(rules.cannot_link, "rules.cannot_link"),
        group_id=_group_ids(practices["current_group"]),
        weights=(
            config.objective.travel,
            config.objective.moved_patients,
            config.objective.groups,
            config.objective.max_travel,
        ),
        travel_by_size=config.objective.weight_by_list_size,
        adjacency=_adjacency(config, codes, easting, northing),
        contiguous=config.geography.contiguous,
        region=tuple(str(name) for name in region) if config.rules.nest_by is not None else (),
        min_list_size=groups.min_list_size,
        max_list_size=groups.max_list_size,
        premises=premises,
        max_minutes=config.travel.max_minutes,
        max_km=config.travel.max_km,
        travel_unit=config.travel.unit,
        nest_by=config.rules.nest_by,
        oversize_alone=groups.oversize == "alone",
        alone=remote,
    )
    federation = _federation_rules(config, practices, cost, km)
    return Problem(config, practices, cost, km, instance, federation)


def _federation_rules(
    config: Config, practices: pd.DataFrame, cost: np.ndarray, km: np.ndarray
) -> FederationRules | None:
    """The ``federations`` block as the engine's arrays (None without one): the window,
    federation premises and eligibility, the travel limit from each network hub to its
    federation hub, and the nesting regions."""
    federations = config.federations
    if federations is None:
        return None
    n = len(practices)
    upper = np.inf if federations.max_list_size is None else float(federations.max_list_size)
    capacity = practices["federation_capacity"].to_numpy(dtype=float)
    eligibility = practices["federation_hub"].to_numpy()
    allowed = np.isfinite(cost)
    if federations.max_minutes is not None:
        allowed &= cost <= federations.max_minutes + 1e-9
    if federations.max_km is not None:
        allowed &= km <= federations.max_km + 1e-9
    names = practices["federation_region"].to_numpy()
    nested = federations.nest_by is not None
    region = pd.factorize(names)[0] if nested else np.zeros(n, dtype=np.int64)
    low, high = federations.count_range
    return FederationRules(
        min_size=float(federations.min_list_size),
        max_size=np.minimum(upper, np.where(np.isnan(capacity), np.inf, capacity)),
        can_hub=eligibility != "never",
        must_hub=eligibility == "must",
        allowed=np.asarray(allowed, dtype=bool),
        region=np.asarray(region, dtype=np.int64),
        count_min=low,
        count_max=high,
        travel_weight=config.objective.federation_travel,
        count_weight=config.objective.federations,
        region_names=tuple(str(name) for name in names) if nested else (),
    )


def count_breaks(count: int, low: int | None, high: int | None, noun: str) -> list[str]:
    """A count rule that ``count`` groups (``noun``: groups, federations) break, in plain
    words; empty if they keep it.

    >>> count_breaks(7, 8, 10, "groups")
    ['7 groups, fewer than the minimum 8']
    """
    found = []
    if low is not None and count < low:
        found.append(f"{count} {noun}, fewer than the minimum {low}")
    if high is not None and count > high:
        found.append(f"{count} {noun}, more than the maximum {high}")
    return found


def unreachable(
    size: np.ndarray, reach: np.ndarray, minimum: float, *, alone: np.ndarray
) -> np.ndarray:
    """(n,) bool: practices that can reach no group of ``minimum`` patients.

    ``reach[i, j]``: practice *i* may join hub *j* (the diagonal: *j* may host a group).
    A hub's group can at most gather the patients of every practice that may join it; a
    practice none of whose hubs could gather the minimum can reach no group. It then
    joins no one, which may strand others, so this repeats until nothing changes.
    Practices ``alone`` (already groups of their own) are left out.

    >>> reach = np.array([[1, 1, 0], [1, 1, 0], [0, 0, 1]], dtype=bool)
    >>> unreachable(np.array([20.0, 15.0, 10.0]), reach, 30.0, alone=np.zeros(3, bool))
    array([False, False,  True])
    """
    out = np.zeros(len(size), dtype=bool)
    while True:
        active = ~(out | alone)
        gathered = (size * active) @ reach
        hubs = active & (gathered >= minimum - 1e-9)
        newly = active & ~reach[:, hubs].any(axis=1)
        if not newly.any():
            return out
        out |= newly


def travel_costs(config: Config, practices: pd.DataFrame, *, part: bool = False) -> np.ndarray:
    """(n, n) travel from each practice (row) to each (column), in ``config.travel.unit``.

    Raises
    ------
    InputError
        A supplied matrix or road network cannot be used (the message says why).
    """
    codes = [str(code) for code in practices.index]
    easting = practices["easting"].to_numpy(dtype=float)
    northing = practices["northing"].to_numpy(dtype=float)
    if config.travel.model == "road":
        return road_minutes(easting, northing)
    if config.travel.model == "straight_line":
        return straight_line_km(easting, northing)
    if config.travel.model == "network":
        return _network_minutes(config, codes, easting, northing, practices["region"])
    assert config.travel.matrix is not None  # the schema guarantees it
    return read_travel_matrix(config.travel.matrix, codes, part=part)


def _network_minutes(
    config: Config,
    codes: list[str],
    easting: np.ndarray,
    northing: np.ndarray,
    region: pd.Series,
) -> np.ndarray:
    """Minutes routed on the config's road network; region by region when nested."""
    from mergeopt.inputs.roads.cache import network_minutes
    from mergeopt.inputs.roads.routing import search_limit
    from mergeopt.inputs.roads.speeds import SpeedProfile

    assert config.travel.network is not None  # the schema guarantees it
    try:
        profile = SpeedProfile(**config.travel.profile.changes())
    except ValueError as error:
        raise InputError(f"{config.source}: key 'travel.profile': {error}") from None
    return network_minutes(
        config.travel.network,
        codes,
        easting,
        northing,
        profile=profile,
        limit=search_limit(config.travel.max_minutes),
        regions=region.tolist() if config.rules.nest_by is not None else None,
        cache=config.travel.cache_dir,
    )


def _adjacency(
    config: Config, codes: list[str], easting: np.ndarray, northing: np.ndarray
) -> tuple[tuple[int, int], ...]:
    """Which practices' catchments touch, when groups must be contiguous (else none)."""
    if not config.geography.contiguous:
        return ()
    from mergeopt.geo.adjacency import adjacency
    from mergeopt.geo.catchments import practice_catchments

    return adjacency(practice_catchments(config.geography, codes, easting, northing))


def _allowed_arcs(
    config: Config, cost: np.ndarray, km: np.ndarray, region: np.ndarray
) -> np.ndarray:
    allowed = np.isfinite(cost)
    if config.travel.max_minutes is not None:
        allowed &= cost <= config.travel.max_minutes + 1e-9
    if config.travel.max_km is not None:
        allowed &= km <= config.travel.max_km + 1e-9
    if config.rules.nest_by is not None:
        allowed &= region[:, None] == region[None, :]
    np.fill_diagonal(allowed, True)
    return np.asarray(allowed, dtype=bool)


def _group_ids(current: pd.Series) -> np.ndarray:
    """Current groups as integers; none or unallocated (``U``) is -1."""
    labels = current.where(current.notna() & (current != UNALLOCATED), None)
    ids, _ = pd.factorize(labels, use_na_sentinel=True)
    return np.asarray(ids, dtype=np.int64)


class _Positions:
    """Practice codes named in the config's rules -> positions, with clear errors."""

    def __init__(self, codes: list[str], config: Config) -> None:
        self.index = {code: k for k, code in enumerate(codes)}
        self.n = len(codes)
        self.table = config.inputs.source.name
        self.config = config.source

    def one(self, code: str, key: str) -> int:
        found = self.index.get(code.strip().upper())
        if found is None:
            raise InputError(
                f"{self.config}: key '{key}': unknown practice code '{code}' (not in {self.table})"
            )
        return found

    def mask(self, codes: list[str], key: str) -> np.ndarray:
        mask = np.zeros(self.n, dtype=bool)
        for code in codes:
            mask[self.one(code, key)] = True
        return mask

    def pairs(self, pairs: list[tuple[str, str]], key: str) -> tuple[tuple[int, int], ...]:
        return tuple((self.one(a, key), self.one(b, key)) for a, b in pairs)
