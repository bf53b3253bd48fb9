"""The whole run: its independent regions, each solved on its own, each failing one
explained rule by rule, and the entry points :func:`advise` and :func:`explain`."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mergeopt.config import Config, load_config
from mergeopt.inputs.practices import read_practices, read_source
from mergeopt.runs.advice.limits import BUDGET_SECONDS, MIN_SECONDS, SOLVE_SECONDS
from mergeopt.runs.advice.report import Advice, Alternative, Change, RegionAdvice
from mergeopt.runs.advice.rules import FAMILIES, practice_names, travel_key, unit_of
from mergeopt.runs.advice.search import Search, isolated, smallest_index
from mergeopt.runs.advice.together import combine, smallest_set
from mergeopt.runs.areas import area_names
from mergeopt.runs.diagnose import precheck


def advise(
    config: Config,
    practices: pd.DataFrame,
    *,
    budget: float = BUDGET_SECONDS,
    solve_seconds: float = SOLVE_SECONDS,
    names: dict[str, str] | None = None,
    infeasible: bool = False,
) -> Advice:
    """Search the changes of the rules that would let a config's rules all be met.

    Parameters
    ----------
    config
        The config whose rules cannot all be met (or may not: then the advice says so).
    practices
        Its canonical practices table (:func:`mergeopt.inputs.read_practices`).
    budget
        Seconds of search for each region that fails (each region is first solved on
        its own, in at most :data:`SCREEN_SECONDS`); a search stops when it is spent.
    solve_seconds
        The time limit of each search solve.
    names
        Region names by code, to name failing regions.
    infeasible
        The caller has proven the rules cannot all be met (a run that is not split
        into regions): the first solve is skipped.

    Returns
    -------
    Advice
        The failing regions with their ranked, verified alternatives.
    """
    started = time.perf_counter()
    column, parts = _regions(config, practices)
    unsettled: list[str] = []
    blocked: list[tuple[str | None, Search]] = []
    for region, members in parts:
        local = _region_config(config, set(members.index)) if region is not None else config
        search = Search(local, members, math.inf, solve_seconds)
        first = search.known_failure() if infeasible and region is None else search.screen()
        if first.works:
            continue
        if first.proven:
            blocked.append((region, search))
        else:
            unsettled.append(region or "the area")
    failing: list[RegionAdvice] = []
    for region, search in blocked:
        search.deadline = time.perf_counter() + budget
        failing.append(_explain_region(search, region, (names or {}).get(region or "")))
    overrides = combine(config, [search for _, search in blocked], failing)
    return Advice(
        config=config,
        column=column,
        regions=len(parts),
        failing=failing,
        unsettled=unsettled,
        overrides=overrides,
        seconds=time.perf_counter() - started,
        budget=budget,
        solve_seconds=solve_seconds,
    )


def explain(
    config: Config | Path | str,
    *,
    overrides: Mapping[str, Any] | None = None,
    budget: float = BUDGET_SECONDS,
    solve_seconds: float = SOLVE_SECONDS,
) -> Advice:
    """Read a config's inputs and advise (:func:`advise`): the notebook entry.

    >>> advice = explain("configs/hull_pcn.yaml", overrides={"travel.max_minutes": 8})
    >>> advice.failing[0].alternatives[0].overrides
    {'travel.max_minutes': 14}
    """
    loaded = config if isinstance(config, Config) else load_config(config)
    loaded = loaded.with_overrides(**overrides) if overrides else loaded
    practices = read_practices(loaded)
    return advise(
        loaded,
        practices,
        budget=budget,
        solve_seconds=solve_seconds,
        names=region_names(loaded),
    )


def region_names(config: Config) -> dict[str, str]:
    """Names of the nesting regions by code: a ``<name>_name`` column beside a
    ``<name>code_of`` one in the practices table, else NHS Digital's names of sub-ICBs,
    ICBs and PCNs."""
    column = config.rules.nest_by
    if column is None:
        return {}
    names = area_names(column)
    if column.endswith("code_of"):
        table = read_source(config)
        name = column.removesuffix("code_of") + "_name"
        if name in table.columns and column in table.columns:
            pairs = table[[column, name]].dropna().astype(str).drop_duplicates(column)
            names |= dict(zip(pairs[column], pairs[name], strict=True))
    return names


def smallest_travel(
    config: Config,
    practices: pd.DataFrame,
    *,
    budget: float = BUDGET_SECONDS,
    solve_seconds: float = SOLVE_SECONDS,
) -> tuple[int | None, str]:
    """The smallest travel limit, in whole minutes (km for straight lines), with which
    every other rule of the config holds; None if none does within the budget.

    The note says whether one less was proven not to work. Searched as :func:`advise`
    searches a travel limit, from 1 upwards, for the whole config as one region.
    """
    key = "travel.max_km" if config.travel.model == "straight_line" else "travel.max_minutes"
    search = Search(config, practices, time.perf_counter() + budget, solve_seconds)
    cost = search.base.km if key == "travel.max_km" else search.base.travel
    finite = cost[np.isfinite(cost)]
    values = list(range(1, math.ceil(float(finite.max())) + 1)) if len(finite) else []
    hit = smallest_index(search, len(values), lambda k: (Change(key, values[k]),))
    return (values[hit[0]], hit[1]) if hit is not None else (None, "")


def _regions(
    config: Config, practices: pd.DataFrame
) -> tuple[str | None, list[tuple[str | None, pd.DataFrame]]]:
    """The independent regions of a run: by ``rules.nest_by`` unless something couples
    them (a group count, a max-travel term, a rule naming practices of two regions)."""
    column = config.rules.nest_by
    region = practices["region"]
    coupled = (
        column is None
        or config.groups.count is not None
        or config.objective.max_travel > 0
        or region.nunique(dropna=False) < 2
        or _rules_cross(config, region)
    )
    if coupled:
        return None, [(None, practices)]
    return column, [(str(value), rows) for value, rows in practices.groupby("region", sort=True)]


def _rules_cross(config: Config, region: pd.Series) -> bool:
    rules = config.rules
    pairs = [*rules.must_link, *rules.cannot_link]
    pairs += [(member, group.hub) for group in rules.fixed for member in group.practices]
    where = {str(code): value for code, value in region.items()}
    return any(where.get(a.strip().upper()) != where.get(b.strip().upper()) for a, b in pairs)


def _region_config(config: Config, codes: set[str]) -> Config:
    """The config's named rules and remote practices restricted to one region's
    practices (a code not in the region's table is not a valid config for it)."""
    rules = config.rules

    def here(code: str) -> bool:
        return code.strip().upper() in codes

    fixed = [
        {"hub": g.hub, "practices": [p for p in g.practices if here(p)]}
        for g in rules.fixed
        if here(g.hub) and any(here(p) for p in g.practices)
    ]
    remote = config.groups.remote
    remote = [c for c in remote if here(c)] if isinstance(remote, list) else remote
    return config.with_overrides(
        **{
            "groups.remote": remote,
            "rules.fixed": fixed,
            "rules.forced_hubs": [c for c in rules.forced_hubs if here(c)],
            "rules.forbidden_hubs": [c for c in rules.forbidden_hubs if here(c)],
            "rules.must_link": [list(p) for p in rules.must_link if here(p[0]) and here(p[1])],
            "rules.cannot_link": [list(p) for p in rules.cannot_link if here(p[0]) and here(p[1])],
        }
    )


def _explain_region(search: Search, region: str | None, name: str | None) -> RegionAdvice:
    reasons = _reasons(search)
    found: list[Alternative] = []
    searched: list[str] = []
    unsearched: list[str] = []
    for rule, family in FAMILIES:
        if not family.applies(search):
            continue
        if search.time_left() <= MIN_SECONDS:
            unsearched.append(rule)
            continue
        searched.append(rule)
        found += family.search(search)
    ranked = sorted(found, key=_rank)
    combined = ranked[0] if ranked and ranked[0].degenerate is None else None
    if combined is None and search.time_left() > MIN_SECONDS:
        combined = smallest_set(search)
    return RegionAdvice(
        region=region,
        name=name,
        practices=search.n,
        patients=int(search.practices["list_size"].sum()),
        reasons=reasons,
        alternatives=ranked,
        combined=combined,
        searched=searched,
        unsearched=unsearched,
    )


def _rank(alternative: Alternative) -> tuple[bool, float, float]:
    """Not degenerate first, then the least move of the rule, then the least travel."""
    return (alternative.degenerate is not None, alternative.distance, alternative.plan.mean_travel)


def _reasons(search: Search) -> list[str]:
    """Why the rules cannot all hold, as far as a count can show it, in plain words."""
    problem = search.base
    reasons = precheck(problem)
    if not problem.instance.hubs_usable().any():  # precheck said so; the rest follows
        return reasons
    stranded = np.flatnonzero(isolated(problem))
    if len(stranded) and problem.instance.min_size > 0:
        limit = travel_key(search)
        within = f" within {limit[1]:g} {unit_of(search, limit[0])}" if limit else ""
        noun = "practice" if len(stranded) == 1 else "practices"
        reasons.append(
            f"{len(stranded)} {noun} can reach no group of {problem.instance.min_size:,.0f} "
            f"patients{within}: {practice_names(search, stranded)}"
        )
    return reasons or ["no grouping meets every rule together (proven by the solver)"]
