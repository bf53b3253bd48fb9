"""Why a two-level plan cannot be made, and what would let it: ranked, verified advice.

:func:`explain_federations` is what ``run`` and ``explain`` call when a config's
``federations`` cannot all be met. It first finds which level blocks:

1. **The networks.** Without their own rules met no federation can be formed: the
   network advice (:func:`mergeopt.runs.advice.advise`, as a network run gives it, on
   the network level alone nested by ``federations.nest_by``) says why and ranks the
   changes that let them, each checked by solving. Networks that can be formed, but not
   inside each federation region, are named by region, with the change that lets them.
2. **The federations of those networks** (today's, or the networks solved first): plain
   facts (a region with fewer patients than a federation's minimum, a network larger than
   a federation may be, a network hub beyond the federation travel limit of every
   practice that may host a federation), then, for each federation rule that can give,
   the smallest change of that rule alone that lets federations of those networks be
   formed, found by search and **verified by solving** them with the change.

Changes are ranked by how little they ask (relative to the rule's value); a change that
only works by making federations of single networks defeats the level and is ranked
last. The first verified change is offered as the config override.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from mergeopt._errors import InputError
from mergeopt.config import Config, yaml_value
from mergeopt.engine.federation import (
    federate,
    nested,
    network_loads,
    straddling,
)
from mergeopt.engine.options import SolveOptions
from mergeopt.engine.portfolio import solve_instance
from mergeopt.inputs.practices import read_practices
from mergeopt.runs.advice import advise, region_names
from mergeopt.runs.diagnose import Explanation, explain
from mergeopt.runs.problem import Problem, build_problem
from mergeopt.runs.results import group_labels, hubs_for_grouping

#: Seconds for each verifying solve of federations of given networks (a small MIP).
VERIFY_SECONDS = 10.0
#: Seconds for solving the networks first (modes ``proposed`` and ``joint``).
NETWORK_SECONDS = 60.0


@dataclass(frozen=True)
class Advice:
    """One change of one rule, verified to let federations be formed (or not)."""

    key: str
    value: Any
    text: str
    cost: float
    verified: bool
    single_networks: bool = False


def explain_federations(problem: Problem, options: SolveOptions) -> Explanation:
    """Why the two levels of ``problem`` cannot both be planned, and verified changes."""
    config = problem.config
    assert config.federations is not None and problem.federation is not None
    options = replace(options, time_limit=min(options.time_limit, NETWORK_SECONDS), log=False)
    if config.federations.mode == "today":
        labels = group_labels(problem.practices["current_group"].tolist(), problem.codes)
        networks = hubs_for_grouping(problem, labels)
        names = dict(zip(networks.tolist(), labels, strict=True))
    else:
        inner = replace(problem, instance=nested(problem.instance, problem.federation))
        outcome = solve_instance(inner.instance, options)
        if outcome.hub_of is None:
            return _networks_blocked(problem, options, proven=outcome.status == "infeasible")
        networks = outcome.hub_of
        names = {int(j): f"{problem.codes[j]} (solved first)" for j in np.unique(networks)}
    facts = _facts(problem, networks, names)
    basis = (
        "today's networks" if config.federations.mode == "today" else "the networks solved first"
    )
    advice = _ranked(_advice(problem, networks, options))
    advice = [
        replace(a, text=a.text.replace("(verified)", f"(verified on {basis})")) for a in advice
    ]
    findings = facts + [item.text for item in advice]
    if not findings:
        findings = [
            "no federations of these networks meet every federation rule, and no one "
            "federation rule changed alone lets them: relax two (a wider list-size window "
            "and a longer travel limit are the usual pair)"
        ]
    best = next((item for item in advice if item.verified and not item.single_networks), None)
    overrides = {best.key: best.value} if best is not None else {}
    return Explanation(findings, overrides)


def _networks_blocked(problem: Problem, options: SolveOptions, *, proven: bool) -> Explanation:
    """The networks themselves cannot be formed inside the federation regions (``proven``:
    the solve showed it, so the network advice need not solve them again first)."""
    config = problem.config
    assert config.federations is not None and problem.federation is not None
    column = config.federations.nest_by
    if column is not None and solve_instance(problem.instance, options).hub_of is not None:
        region = problem.federation.region
        failing = [
            problem.federation.region_names[int(np.flatnonzero(region == r)[0])]
            for r in np.unique(region).tolist()
            if solve_instance(problem.instance.subset(np.flatnonzero(region == r)), options).hub_of
            is None
        ]
        named = ", ".join(failing) or "some regions"
        finding = (
            f"networks meeting every network rule can be formed, but not inside each "
            f"{column} (no network may straddle two federation regions): {column} {named} "
            f"cannot be grouped on its own: drop federations.nest_by, or nest by a larger area"
        )
        return Explanation([finding], {"federations.nest_by": None})
    network = _networks_only(config)
    if network is not None:
        advice = advise(
            network, read_practices(network), names=region_names(network), infeasible=proven
        )
        if advice.failing:
            inside = f" inside each {column} (federations.nest_by)" if column else ""
            head = f"the networks cannot be formed{inside}"
            return Explanation(
                [f"{head}: {advice.summary()}"],
                advice.overrides,
                detail=[f"{head}:", *advice.lines()],
            )
    inner = replace(problem, instance=nested(problem.instance, problem.federation))
    found = explain(inner)
    return Explanation(
        [f"the networks cannot be formed: {f}" for f in found.findings], found.overrides
    )


def _networks_only(config: Config) -> Config | None:
    """The config's network level alone, nested as its networks are (by
    ``federations.nest_by``: no network crosses a federation region), for the network
    advice (:func:`~mergeopt.runs.advice.advise`); None where the networks are nested by
    two different columns, which that advice cannot follow."""
    assert config.federations is not None
    column, own = config.federations.nest_by, config.rules.nest_by
    if column is not None and own is not None and own != column:
        return None
    return config.with_overrides(**{"federations": None, "rules.nest_by": own or column})


def _facts(problem: Problem, networks: np.ndarray, names: dict[int, str]) -> list[str]:
    """What plainly stops federations of these networks, each a fact checked here."""
    assert problem.federation is not None and problem.config.federations is not None
    fed, rules, inst = problem.federation, problem.config.federations, problem.instance
    found: list[str] = []
    column = rules.nest_by
    for j in straddling(fed, networks):
        members = np.flatnonzero(networks == j)
        regions = sorted({fed.region_names[k] for k in members.tolist()})
        found.append(
            f"network {names[j]} straddles {column} {' and '.join(regions)}: no federation "
            f"nested by {column} can hold it"
        )
    load = network_loads(inst, networks)
    hubs = np.unique(networks)
    upper = float(fed.max_size.max()) if len(fed.max_size) else np.inf
    found += [
        f"network {names[j]} has {load[j]:,.0f} patients, more than any federation may "
        f"hold ({upper:,.0f})"
        for j in hubs.tolist()
        if load[j] > upper
    ]
    usable = fed.hubs_usable(inst) & np.isin(np.arange(inst.n), hubs)
    reach = fed.pairs(inst)[np.ix_(hubs, np.flatnonzero(usable))].any(axis=1)
    stranded = hubs[~reach]
    if len(stranded):
        shown = ", ".join(names[j] for j in stranded[:6].tolist())
        found.append(
            f"the hubs of networks {shown} are beyond the federation travel limit of every "
            "hub of these networks whose premises may host a federation"
        )
    for r in np.unique(fed.region).tolist():
        total = float(inst.size[fed.region == r].sum())
        if total < fed.min_size:
            first = int(np.flatnonzero(fed.region == r)[0])
            where = f"{column} {fed.region_names[first]}" if fed.region_names else "the area"
            found.append(
                f"{where} has {total:,.0f} patients, fewer than a federation's minimum of "
                f"{fed.min_size:,.0f}"
            )
    return found


# ---------------------------------------------------------------------------------------
# One rule changed alone, found by search and verified by solving


def _advice(problem: Problem, networks: np.ndarray, options: SolveOptions) -> list[Advice]:
    config = problem.config
    assert config.federations is not None
    rules = config.federations
    quick = replace(options, time_limit=VERIFY_SECONDS)
    practices = problem.practices
    loads = network_loads(problem.instance, networks)[np.unique(networks)]

    def works(changes: dict[str, Any]) -> bool:
        changed = _changed(config, changes)
        if changed is None:
            return False
        table = practices if not _reads_columns(changes) else read_practices(changed)
        candidate = build_problem(changed, table)
        assert candidate.federation is not None
        found = federate(candidate.instance, candidate.federation, networks, quick)
        return found.hub_of is not None

    found: list[Advice] = []
    if rules.min_list_size > 0:
        lowest = _largest(works, "federations.min_list_size", 0, rules.min_list_size)
        if lowest is not None:
            alone = lowest <= float(loads.max())
            found.append(
                _number_advice(
                    "federations.min_list_size",
                    rules.min_list_size,
                    lowest,
                    "lower the federation minimum list size",
                    single=alone,
                )
            )
    total = int(problem.instance.size.sum())
    if rules.max_list_size is not None:
        highest = _smallest(works, "federations.max_list_size", rules.max_list_size, total)
        if highest is not None:
            found.append(
                _number_advice(
                    "federations.max_list_size",
                    rules.max_list_size,
                    highest,
                    "raise the federation maximum list size",
                )
            )
    found += _travel_advice(problem, networks, works)
    found += _count_advice(rules.count_range, works, len(loads))
    for key, value, what in (
        ("federations.nest_by", None, f"let federations cross {rules.nest_by}"),
        ("federations.hub_column", None, "let any practice host a federation hub"),
        ("federations.premises.rule", "none", "drop the federation premises rule"),
    ):
        current = _get(config, key)
        if current is not None and current != value and current != "none":
            ok = works({key: value})
            text = f"{what} ({key}: {yaml_value(value)}){_mark(ok)}"
            found.append(Advice(key, value, text, 1.0, ok))
    return found


def _travel_advice(
    problem: Problem, networks: np.ndarray, works: Callable[[dict[str, Any]], bool]
) -> list[Advice]:
    """The smallest federation travel limit (whole minutes or km) that lets them."""
    rules = problem.config.federations
    assert rules is not None
    hubs = np.unique(networks)
    found: list[Advice] = []
    for key, limit, matrix in (
        ("federations.max_minutes", rules.max_minutes, problem.travel),
        ("federations.max_km", rules.max_km, problem.km),
    ):
        if limit is None:
            continue
        steps = np.unique(
            np.ceil(matrix[np.ix_(hubs, hubs)][np.isfinite(matrix[np.ix_(hubs, hubs)])])
        )
        steps = steps[steps > limit]
        value = _first(works, key, steps.tolist())
        if value is not None:
            words = "raise the federation travel limit (network hub to federation hub)"
            found.append(_number_advice(key, limit, value, words))
    return found


def _count_advice(
    count: tuple[int | None, int | None], works: Callable[[dict[str, Any]], bool], networks: int
) -> list[Advice]:
    low, high = count
    found: list[Advice] = []
    if low is not None and low > 1:
        value = _first(
            works,
            "federations.count",
            list(range(low - 1, 0, -1)),
            make=lambda v: {"min": v, "max": high},
        )
        if value is not None:
            found.append(_count_item(low, value, "fewer", {"min": value, "max": high}))
    if high is not None:
        value = _first(
            works,
            "federations.count",
            list(range(high + 1, networks + 1)),
            make=lambda v: {"min": low, "max": v},
        )
        if value is not None:
            found.append(_count_item(high, value, "more", {"min": low, "max": value}))
    return found


def _count_item(old: int, new: int, word: str, value: dict[str, Any]) -> Advice:
    text = (
        f"allow {word} federations: {new} instead of {old} (federations.count: {value}) (verified)"
    )
    return Advice("federations.count", value, text, abs(new - old) / old, True)


def _number_advice(
    key: str, old: float, new: float, words: str, *, single: bool = False
) -> Advice:
    text = f"{words} from {old:,g} to {new:,g} ({key}: {new:g}) (verified)"
    if single:
        text += ": federations of single networks, which defeats the level"
    return Advice(key, new, text, abs(new - old) / max(abs(old), 1e-9), True, single)


def _mark(ok: bool) -> str:
    return " (verified)" if ok else " (tried: not enough alone)"


def _ranked(advice: list[Advice]) -> list[Advice]:
    """Verified first, those keeping federations of several networks before the rest,
    then by how little each asks."""
    return sorted(advice, key=lambda a: (not a.verified, a.single_networks, a.cost))


def _first(
    works: Callable[[dict[str, Any]], bool],
    key: str,
    values: list[Any],
    *,
    make: Callable[[Any], Any] = lambda v: v,
) -> Any:
    """The first of ``values`` (ordered from the least change) that works, by bisection:
    a rule that holds at one value holds at every larger change."""
    low, high = 0, len(values) - 1
    if high < 0 or not works({key: make(values[high])}):
        return None
    while low < high:
        middle = (low + high) // 2
        if works({key: make(values[middle])}):
            high = middle
        else:
            low = middle + 1
    return values[low]


def _largest(
    works: Callable[[dict[str, Any]], bool], key: str, floor: int, current: int
) -> int | None:
    """The largest whole thousand below ``current`` (down to ``floor``) that works."""
    values = list(range((current - 1) // 1000 * 1000, floor - 1, -1000))
    found: int | None = _first(works, key, values)
    return found


def _smallest(
    works: Callable[[dict[str, Any]], bool], key: str, current: int, ceiling: int
) -> int | None:
    """The smallest whole thousand above ``current`` (up to ``ceiling``) that works."""
    values = list(range((current // 1000 + 1) * 1000, ceiling + 1000, 1000))
    found: int | None = _first(works, key, values)
    return found


def _changed(config: Config, changes: dict[str, Any]) -> Config | None:
    try:
        return config.with_overrides(**changes)
    except InputError:  # e.g. a window turned inside out: not a change to offer
        return None


def _reads_columns(changes: dict[str, Any]) -> bool:
    """Whether a change alters which columns are read (so the table is read again)."""
    return any(
        key in ("federations.nest_by", "federations.hub_column", "federations.premises.rule")
        for key in changes
    )


def _get(config: Config, dotted: str) -> Any:
    node: Any = config
    for part in dotted.split("."):
        node = getattr(node, part)
    return node
