"""Two-level runs: the networks, and the federations that hold them whole.

With a ``federations`` block a run plans both levels (:mod:`mergeopt.engine.federation`
holds the model and the three modes). This module turns a problem into the engine's call
for the config's mode, and a plan into tables, figures and rules broken:

``federations.csv`` (:func:`federations_table`), one row per federation: federation,
hub, hub_name, networks, network_hubs, practices, list_size, slack_to_min, slack_to_max,
premises_capacity, premises_use, mean_travel and max_travel (each practice to the
federation hub, patient-weighted mean), mean_hub_travel and max_hub_travel (each network
hub to the federation hub: the rule's measure), region.

``assignments.csv`` gains federation, federation_hub, federation_hub_name and
federation_travel (the practice to its federation hub); ``groups.csv`` gains federation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mergeopt.engine.federation import (
    TwoLevelOutcome,
    federation_value,
    network_loads,
    plan_value,
    solve_federations,
)
from mergeopt.engine.instance import objective_value
from mergeopt.engine.options import SolveOptions
from mergeopt.engine.outcome import Outcome, gap
from mergeopt.runs.problem import Problem, count_breaks


@dataclass(frozen=True)
class FederationPlan:
    """The federation level of a run: each practice's federation and what was proved.

    ``federation_of`` is each practice's federation hub (position); ``labels`` names each
    practice's federation (the hub's code, or the label of an evaluated column).
    ``outcome`` is the engine's two-level outcome (None for an evaluation, and for a run
    opened again, whose run.json block is ``saved``).
    """

    mode: str
    federation_of: np.ndarray
    labels: list[str]
    table: pd.DataFrame
    metrics: dict[str, float | int]
    violations: list[str]
    outcome: TwoLevelOutcome | None = None
    column: str | None = None
    saved: dict[str, Any] | None = None

    def status_text(self) -> str:
        """What the plan's status means, in one line."""
        if self.saved is not None:
            return str(self.saved.get("status_text", ""))
        outcome = self.outcome
        if outcome is None:
            return f"existing federations '{self.column}': {len(self.violations)} rule(s) broken"
        levels = outcome.levels
        if self.mode == "today":
            return f"federations of today's networks: {levels['federations'].status_line()}"
        if self.mode == "proposed":
            return (
                f"sequential plan (networks first: {levels['networks'].status}; then their "
                f"federations: {levels['federations'].status}); not proven for both levels "
                "together (mode joint proves a bound)"
            )
        joint = levels["joint"].status_line()
        gain = self.metrics.get("joint_gain")
        if gain is None:
            return f"joint plan: {joint}; the sequential plan found none"
        share = self.metrics.get("joint_gain_percent", 0.0)
        return f"joint plan: {joint}; {gain:,.1f} ({share:.2f}%) better than the sequential plan"

    def record(self) -> dict[str, Any]:
        """The ``federations`` block of run.json (as saved, for a run opened again)."""
        if self.saved is not None:
            return self.saved
        outcome = self.outcome
        record: dict[str, Any] = {
            "mode": self.mode if outcome is not None else "evaluated",
            "column": self.column,
            "status_text": self.status_text(),
            "metrics": self.metrics,
            "violations": self.violations,
        }
        if outcome is not None:
            record |= {
                "status": outcome.status,
                "objective": outcome.objective,
                "network_objective": outcome.network_objective,
                "federation_objective": outcome.federation_objective,
                "bound": outcome.bound,
                "gap": outcome.gap,
                "sequential_objective": outcome.sequential,
                "gain_over_sequential": outcome.gain,
                "levels": {name: _level(level) for name, level in outcome.levels.items()},
            }
        return record


def _level(level: Outcome) -> dict[str, Any]:
    return {
        "status": level.status,
        "objective": level.objective,
        "bound": level.bound,
        "gap": level.gap,
        "stopped_by": level.stopped_by,
        "seconds": round(level.build_seconds + level.solve_seconds, 4),
    }


def solve_two_levels(
    problem: Problem, options: SolveOptions, *, networks: np.ndarray | None = None
) -> TwoLevelOutcome:
    """The engine's two-level solve in the config's mode; ``networks`` are today's
    networks' hubs (mode ``today``)."""
    assert problem.federation is not None and problem.config.federations is not None
    mode = problem.config.federations.mode
    return solve_federations(
        problem.instance, problem.federation, options, mode=mode, networks=networks
    )


def plan_of(
    problem: Problem,
    hub_of: np.ndarray,
    federation_of: np.ndarray,
    *,
    outcome: TwoLevelOutcome | None = None,
    labels: Sequence[str] | None = None,
    column: str | None = None,
    saved: dict[str, Any] | None = None,
) -> FederationPlan:
    """A two-level plan's federation tables, figures and rules broken (``saved``: its
    run.json block, for a run opened again)."""
    assert problem.config.federations is not None
    codes = np.asarray(problem.codes, dtype=object)
    names = list(labels) if labels is not None else [str(c) for c in codes[federation_of]]
    return FederationPlan(
        mode=problem.config.federations.mode,
        federation_of=federation_of,
        labels=names,
        table=federations_table(problem, hub_of, federation_of, names),
        metrics=federation_metrics(problem, hub_of, federation_of, outcome),
        violations=federation_violations(problem, hub_of, federation_of, names),
        outcome=outcome,
        column=column,
        saved=saved,
    )


def run_outcome(problem: Problem, plan: FederationPlan, hub_of: np.ndarray) -> Outcome:
    """The whole run's outcome for a two-level plan: its objective is both levels', and
    it is ``optimal`` only where that was proven (mode ``today``: the federations of
    today's networks; ``joint``: both levels together); a sequential plan is
    ``feasible`` with no bound, as nothing bounds both levels together there."""
    outcome = plan.outcome
    assert outcome is not None and outcome.objective is not None
    if plan.mode == "today":
        level = outcome.levels["federations"]
        shift = outcome.objective - (level.objective or 0.0)  # today's networks, as given
        bound = None if level.bound is None else level.bound + shift
        status = level.status
    elif plan.mode == "proposed":
        bound, status = None, "feasible"
    else:
        bound, status = outcome.bound, outcome.status
    return Outcome(
        status=status,
        hub_of=hub_of,
        objective=outcome.objective,
        bound=bound,
        gap=None if bound is None else gap(outcome.objective, bound),
        stopped_by=outcome.stopped_by,
        solver=outcome.solver,
        solve_seconds=outcome.seconds,
    )


def federations_table(
    problem: Problem, hub_of: np.ndarray, federation_of: np.ndarray, labels: Sequence[str]
) -> pd.DataFrame:
    """One row per federation (the columns of this module's docstring), largest first."""
    assert problem.config.federations is not None
    rules = problem.config.federations
    practices = problem.practices
    codes = np.asarray(problem.codes, dtype=object)
    size = problem.instance.size
    i = np.arange(len(codes))
    travel = problem.travel[i, federation_of]
    hub_travel = problem.travel[hub_of, federation_of]
    rows = []
    frame = pd.DataFrame({"label": list(labels), "pos": i})
    for label, members in frame.groupby("label", sort=False):
        pos = members["pos"].to_numpy()
        hub = int(np.bincount(federation_of[pos]).argmax())
        load = int(size[pos].sum())
        capacity = float(practices["federation_capacity"].iloc[hub])
        hubs = sorted({str(codes[j]) for j in hub_of[pos]})
        rows.append(
            {
                "federation": label,
                "hub": codes[hub],
                "hub_name": practices["name"].iloc[hub],
                "networks": len(hubs),
                "network_hubs": ";".join(hubs),
                "practices": len(pos),
                "list_size": load,
                "slack_to_min": load - rules.min_list_size,
                "slack_to_max": None
                if rules.max_list_size is None
                else rules.max_list_size - load,
                "premises_capacity": None if np.isnan(capacity) else capacity,
                "premises_use": None if np.isnan(capacity) else round(load / capacity, 4),
                "mean_travel": round(float(np.average(travel[pos], weights=size[pos])), 3),
                "max_travel": round(float(travel[pos].max()), 3),
                "mean_hub_travel": round(float(np.average(hub_travel[pos], weights=size[pos])), 3),
                "max_hub_travel": round(float(hub_travel[pos].max()), 3),
                "region": practices["federation_region"].iloc[hub],
            }
        )
    table = pd.DataFrame(rows)
    return table.sort_values("list_size", ascending=False, ignore_index=True)


def federation_metrics(
    problem: Problem,
    hub_of: np.ndarray,
    federation_of: np.ndarray,
    outcome: TwoLevelOutcome | None,
) -> dict[str, float | int]:
    """The federation figures a plan is judged by, recomputed from the plan; with the
    whole objective (both levels) as ``objective``."""
    assert problem.federation is not None
    inst, fed = problem.instance, problem.federation
    size = inst.size
    i = np.arange(inst.n)
    travel = problem.travel[i, federation_of]
    loads = pd.Series(size).groupby(federation_of).sum()
    found: dict[str, float | int] = {
        "objective": plan_value(inst, fed, hub_of, federation_of),
        "network_objective": objective_value(inst, hub_of),
        "federation_objective": federation_value(inst, fed, hub_of, federation_of),
        "federations": len(loads),
        "smallest_federation": int(loads.min()),
        "largest_federation": int(loads.max()),
        "federation_mean_travel": float((size * travel).sum() / size.sum()),
        "federation_max_travel": float(travel.max()),
        "federation_max_hub_travel": float(problem.travel[hub_of, federation_of].max()),
    }
    if outcome is not None and outcome.gain is not None and outcome.sequential:
        found["joint_gain"] = float(outcome.gain)
        found["joint_gain_percent"] = round(100.0 * outcome.gain / outcome.sequential, 4)
    return found


def federation_violations(
    problem: Problem, hub_of: np.ndarray, federation_of: np.ndarray, labels: Sequence[str]
) -> list[str]:
    """Every federation rule the plan breaks, in plain words."""
    found = _networks_kept_whole(problem, hub_of, labels)
    found += _federations_kept(problem, hub_of, federation_of, labels)
    assert problem.federation is not None
    fed, codes = problem.federation, problem.codes
    count = len(np.unique(federation_of))
    found += count_breaks(count, fed.count_min, fed.count_max, "federations")
    found += [
        f"{codes[h]} must host a federation hub but does not"
        for h in np.flatnonzero(fed.must_hub).tolist()
        if federation_of[h] != h
    ]
    return found


def _networks_kept_whole(problem: Problem, hub_of: np.ndarray, labels: Sequence[str]) -> list[str]:
    """Networks split between federations, or across federation regions."""
    nest_by = problem.config.federations.nest_by if problem.config.federations else None
    region = problem.practices["federation_region"].to_numpy()
    found: list[str] = []
    for j in np.unique(hub_of).tolist():
        members = np.flatnonzero(hub_of == j).tolist()
        feds = sorted({labels[k] for k in members})
        if len(feds) > 1:
            found.append(
                f"network {problem.codes[j]} is split between federations {', '.join(feds)}"
            )
        regions = sorted({str(region[k]) for k in members})
        if nest_by is not None and len(regions) > 1:
            found.append(f"network {problem.codes[j]} straddles {nest_by} {' and '.join(regions)}")
    return found


def _federations_kept(
    problem: Problem, hub_of: np.ndarray, federation_of: np.ndarray, labels: Sequence[str]
) -> list[str]:
    """Each federation's hub, size and travel from its networks' hubs."""
    assert problem.federation is not None
    fed, inst, codes = problem.federation, problem.instance, problem.codes
    label_of = dict(zip(federation_of.tolist(), labels, strict=True))
    usable, pairs = fed.hubs_usable(inst), fed.pairs(inst)
    loads = np.bincount(federation_of, weights=inst.size, minlength=inst.n)
    found: list[str] = []
    for h in np.unique(federation_of).tolist():
        name = f"federation {label_of[h]}"
        if hub_of[h] != h or federation_of[h] != h:
            found.append(f"{name}: its hub {codes[h]} is not the hub of one of its networks")
        if not usable[h]:
            found.append(f"{name}: the premises of its hub {codes[h]} cannot host a federation")
        if loads[h] < fed.min_size - 1e-9:
            found.append(
                f"{name} has {loads[h]:,.0f} patients, below the minimum {fed.min_size:,.0f}"
            )
        if loads[h] > fed.max_size[h] + 1e-9:
            found.append(
                f"{name} has {loads[h]:,.0f} patients, above the {fed.max_size[h]:,.0f} "
                "its hub may hold (the maximum list size or its premises)"
            )
    unit = problem.config.travel.unit
    for j in np.unique(hub_of).tolist():
        h = int(federation_of[j])
        if j != h and not pairs[j, h]:
            found.append(
                f"network hub {codes[j]} is {problem.travel[j, h]:.1f} {unit} from its "
                f"federation hub {codes[h]}, beyond the federation travel limit or region"
            )
    return found


def hubs_for_federations(
    problem: Problem, hub_of: np.ndarray, labels: Sequence[str]
) -> np.ndarray:
    """Federation hub positions for existing federations (a column of labels).

    Existing federations name groups, not hubs: each federation's hub is taken as the hub
    of one of its networks that could host it, with the least patient-weighted travel
    from its networks' hubs (the most favourable reading, as for networks), or the best
    of them if none is eligible.
    """
    assert problem.federation is not None
    inst, fed = problem.instance, problem.federation
    usable = fed.hubs_usable(inst)
    load = network_loads(inst, hub_of)
    federation_of = np.empty(inst.n, dtype=np.int64)
    frame = pd.DataFrame({"key": list(labels), "pos": np.arange(inst.n)})
    cost = np.nan_to_num(inst.cost, posinf=1e9)
    for _, members in frame.groupby("key", sort=False):
        pos = members["pos"].to_numpy()
        hubs = np.unique(hub_of[pos])
        weight = load[hubs]
        total = (weight[:, None] * cost[np.ix_(hubs, hubs)]).sum(axis=0)
        total = total + np.where(usable[hubs], 0.0, 1e15)
        federation_of[pos] = hubs[int(np.argmin(total))]
    return federation_of


def with_federations(
    assignments: pd.DataFrame, groups: pd.DataFrame, problem: Problem, plan: FederationPlan
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The assignments and groups tables with each practice's and group's federation."""
    codes = np.asarray(problem.codes, dtype=object)
    i = np.arange(len(codes))
    fed_of = plan.federation_of
    assignments = assignments.assign(
        federation=plan.labels,
        federation_hub=codes[fed_of],
        federation_hub_name=problem.practices["name"].to_numpy()[fed_of],
        federation_travel=np.round(problem.travel[i, fed_of], 3),
    )
    federation_of_hub = dict(zip(assignments["hub"], assignments["federation"], strict=True))
    groups = groups.assign(federation=groups["hub"].map(federation_of_hub))
    return assignments, groups
