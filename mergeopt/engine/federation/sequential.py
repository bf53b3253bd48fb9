"""Federations of given networks (mode ``today``), and networks first, then federations
of them (mode ``proposed``, the sequential plan).

Federations of given networks are the hub formulation of
:mod:`mergeopt.engine.formulation` over the networks as units, at their hubs and weighed
by their patients (:func:`units_instance`), solved by the portfolio.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from mergeopt.engine.federation.plan import (
    FederationRules,
    Mode,
    TwoLevelOutcome,
    nested,
    network_loads,
    straddling,
    two_level_outcome,
)
from mergeopt.engine.instance import Instance, names_of
from mergeopt.engine.options import SolveOptions, in_phase
from mergeopt.engine.outcome import Outcome, infeasible, weakest
from mergeopt.engine.portfolio import solve_instance

Vector = np.ndarray

#: Share of the time limit the sequential plan (the joint model's start) may take: its
#: networks, then its federations; the joint model has the rest.
SEQUENTIAL_NETWORK_SHARE, SEQUENTIAL_FEDERATION_SHARE = 0.2, 0.1


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
    first = in_phase(first, "networks, level 1 of 2", started=started)
    networks = solve_instance(nested(inst, fed), first, name="networks")
    if networks.hub_of is None:
        return _sequential("proposed", None, None, inst, fed, {"networks": networks}, started)
    rest = max(options.time_limit - (time.perf_counter() - started), 0.1)
    second_options = replace(options, time_limit=rest)
    second_options = in_phase(second_options, "federations, level 2 of 2", started=started)
    second = federate(inst, fed, networks.hub_of, second_options)
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
    return two_level_outcome(
        inst, fed, mode, status, plan, bound=None, stopped_by=notes, levels=levels, seconds=seconds
    )
