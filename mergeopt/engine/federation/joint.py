"""The joint model (:mod:`.model`) solved by HiGHS from the sequential plan.

Without a rule that spans federation regions, each region is solved on its own and the
plans and bounds are added up; the plan returned is never worse than the sequential
plan it starts from.
"""

from __future__ import annotations

import time
from dataclasses import replace
from importlib.metadata import version

import numpy as np

from mergeopt.engine.federation.model import joint_arrays
from mergeopt.engine.federation.plan import (
    FederationRules,
    TwoLevelOutcome,
    nested,
    plan_feasible,
    plan_value,
    two_level_outcome,
)
from mergeopt.engine.federation.sequential import (
    SEQUENTIAL_FEDERATION_SHARE,
    SEQUENTIAL_NETWORK_SHARE,
    solve_sequential,
)
from mergeopt.engine.formulation import Arrays, plainly_infeasible
from mergeopt.engine.instance import Instance, names_of, simple_bound
from mergeopt.engine.options import SolveOptions, in_phase
from mergeopt.engine.outcome import (
    Outcome,
    found,
    infeasible,
    no_grouping,
    summed_bound,
    weakest,
)
from mergeopt.engine.solvers.highs import Answer, checked_answer

Vector = np.ndarray


def _run_highs(
    arrays: Arrays, options: SolveOptions, limit: float, start: Vector | None
) -> Answer:
    """HiGHS on ``arrays`` from the column values ``start``: status, values and bound,
    checked against itself (:func:`~mergeopt.engine.solvers.highs.checked_answer`)."""
    if plainly_infeasible(arrays):
        return Answer("infeasible", "a rule no plan can meet")
    return checked_answer(arrays, options, limit, start, model="the joint model")


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
        first = replace(options, time_limit=options.time_limit * share)
        start = solve_sequential(inst, fed, in_phase(first, "the start", started=started))
    plan: tuple[Vector, Vector] | None = None
    if plan_feasible(inst, fed, start.hub_of, start.federation_of):
        plan = (start.hub_of, start.federation_of)  # type: ignore[assignment]
    hub_of = np.full(inst.n, -1, dtype=np.int64)
    federation_of = np.full(inst.n, -1, dtype=np.int64)
    parts: list[Outcome] = []
    left_practices = inst.n
    regions = _separate_regions(inst, fed)
    for k, region in enumerate(regions, start=1):
        left = max(options.time_limit - (time.perf_counter() - started), 0.1)
        limit = left * len(region) / left_practices
        left_practices -= len(region)
        words = "both levels together"
        if len(regions) > 1:
            words += f", region {k} of {len(regions)}"
        part_options = in_phase(options, words, started=started)
        part, found_plan = _solve_joint_part(inst, fed, region, part_options, limit, plan)
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
    return two_level_outcome(
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
