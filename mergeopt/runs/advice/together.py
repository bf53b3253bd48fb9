"""Changes together: the smallest set of changes that lets one region's rules hold, each
one needed, and the failing regions' changes merged for the whole run."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from mergeopt.config import Config
from mergeopt.runs.advice.limits import LIST_STEP, MIN_SECONDS
from mergeopt.runs.advice.report import Alternative, Change, RegionAdvice, Value
from mergeopt.runs.advice.rules import (
    NAMED,
    count_text,
    entries_of,
    entry_text,
    has_oversize,
    remote_candidates,
    travel_key,
)
from mergeopt.runs.advice.search import (
    LIST_RULES,
    REMOTE,
    Search,
    alternative,
    overrides_for,
    relative,
    smallest_index,
)


def _relaxed(search: Search) -> list[Change]:
    """Every rule that can give, at its most relaxed."""
    config, base = search.config, search.base
    changes: list[Change] = []
    if has_oversize(search):
        changes.append(Change("groups.oversize", "alone"))
    if config.groups.min_list_size > 0 and (codes := remote_candidates(search)):
        changes.append(Change(REMOTE, added=tuple(codes)))
    found = travel_key(search)
    if found is not None:
        cost = base.km if found[0] == "travel.max_km" else base.travel
        finite = cost[np.isfinite(cost)]
        if len(finite):
            changes.append(Change(found[0], math.ceil(float(finite.max()))))
    if config.groups.max_list_size is not None:
        total = int(search.practices["list_size"].sum())
        changes.append(Change("groups.max_list_size", max(total, config.groups.max_list_size)))
    if config.groups.min_list_size > 0:
        changes.append(Change("groups.min_list_size", 0))
    if config.groups.count is not None:
        changes.append(Change("groups.count", (1, search.n)))
    if config.premises.rule != "none":
        changes.append(Change("premises.rule", "none"))
    for key in NAMED:
        entries = entries_of(config, key)
        if entries:
            changes.append(Change(key, dropped=tuple(entries)))
    return changes


#: Which change is dropped first from the smallest set: the one a planner least wants.
_DROP_FIRST = (
    "groups.min_list_size",
    "groups.count",
    "groups.max_list_size",
    "premises.rule",
    *NAMED,
    "travel.max_km",
    "travel.max_minutes",
    "groups.oversize",
    REMOTE,
)


def smallest_set(search: Search) -> Alternative | None:
    """The smallest set of changes that lets every rule hold, each one needed."""
    pool = sorted(_relaxed(search), key=lambda c: _DROP_FIRST.index(c.key))
    if not pool or not search.attempt(pool).works:
        return None
    for change in list(pool):
        if search.time_left() <= MIN_SECONDS:
            break
        trial = [c for c in pool if c != change]
        if trial and search.attempt(trial).works:
            pool = trial
    pool = _tighten(search, pool)
    changes = tuple(pool)
    text = "; ".join(_change_text(search, c) for c in changes)
    distance = sum(_change_distance(search, c) for c in changes)
    return alternative(search, "together", text, changes, distance)


def _tighten(search: Search, pool: list[Change]) -> list[Change]:
    """Move each numeric change of a working set back as far as the rest allows."""
    for k in range(len(pool)):
        if search.time_left() <= MIN_SECONDS:
            break
        values = _back_values(search.config, pool[k])
        rest = tuple(pool[:k] + pool[k + 1 :])
        hit = smallest_index(search, len(values), _with(rest, pool[k].key, values))
        if hit is not None:
            pool[k] = Change(pool[k].key, values[hit[0]])
    return pool


def _with(
    rest: tuple[Change, ...], key: str, values: list[Any]
) -> Callable[[int], tuple[Change, ...]]:
    """The changes ``rest`` with ``key`` set to its k-th value."""

    def make(k: int) -> tuple[Change, ...]:
        return (*rest, Change(key, values[k]))

    return make


def _back_values(config: Config, change: Change) -> list[Any]:
    """The values between the config's and a relaxed one, least change first."""
    groups = config.groups
    value = change.value
    if change.key in ("travel.max_minutes", "travel.max_km"):
        old = (
            config.travel.max_minutes
            if change.key == "travel.max_minutes"
            else config.travel.max_km
        )
        assert old is not None and isinstance(value, int | float)
        return list(range(math.floor(old) + 1, int(value) + 1))
    if change.key == "groups.min_list_size":
        return list(range(groups.min_list_size - LIST_STEP, -1, -LIST_STEP))
    if change.key == "groups.max_list_size" and groups.max_list_size is not None:
        assert isinstance(value, int)
        return list(range(groups.max_list_size + LIST_STEP, value + LIST_STEP, LIST_STEP))
    return []


def _change_text(search: Search, change: Change) -> str:
    config = search.config
    if change.key in NAMED:
        return NAMED[change.key][1].format(entry_text(search, change.key, change.dropped))
    if change.key == "groups.count":
        assert isinstance(change.value, tuple)
        old_count = count_text(*config.groups.count_range)
        return f"group count {old_count} -> {count_text(*change.value)}"
    if change.key == "groups.oversize":
        return "oversize practices alone"
    if change.key == REMOTE:
        return f"let {', '.join(change.added)} stand alone as remote practices"
    if change.key == "premises.rule":
        return "drop the premises rule"
    old = _current(config, change.key)
    return f"{_RULE_WORDS[change.key]} {old:,g} -> {change.value:,g}"


_RULE_WORDS = {
    "travel.max_minutes": "travel limit",
    "travel.max_km": "travel limit (km)",
    "groups.min_list_size": "minimum list size",
    "groups.max_list_size": "maximum list size",
    "premises.m2_per_patient": "floor area per patient",
}


def _current(config: Config, key: str) -> Any:
    node: Any = config
    for part in key.split("."):
        node = getattr(node, part)
    return node


def _change_distance(search: Search, change: Change) -> float:
    if change.key in NAMED:
        return len(change.dropped) / search.n
    if change.key == REMOTE:
        return len(change.added) / search.n
    if change.key in ("groups.oversize", "premises.rule", "groups.count"):
        return 1.0
    old, new = _current(search.config, change.key), change.value
    assert isinstance(new, int | float)
    return relative(float(old), float(new))


def combine(config: Config, searches: list[Search], failing: list[RegionAdvice]) -> dict[str, Any]:
    """Each failing region's change to make, merged into one set of overrides for the
    whole run (the most relaxed value of each rule), verified on every failing region."""
    chosen = [region.best for region in failing]
    if not failing or any(best is None for best in chosen):
        return {}
    merged = _merge([c for best in chosen if best is not None for c in best.changes])
    if len(searches) > 1:
        for search, best in zip(searches, chosen, strict=True):
            assert best is not None
            if not _holds(search, merged, best.changes):
                return {}
    return overrides_for(config, merged)


def _holds(search: Search, merged: tuple[Change, ...], own: tuple[Change, ...]) -> bool:
    """Whether the rules hold in a region under the merged changes. They relax every rule
    at least as far as the region's own changes, so the grouping that met those is
    checked against them first, without a solve; else a short solve decides. (The
    region's search leaves out remote practices of other regions: all of England at a
    20-minute limit had no set of changes for its 25 failing ICBs because of one island
    practice of ICB QT6.)"""
    held = search.held(own)
    if held is not None and search.keeps(merged, held):
        return True
    search.deadline = time.perf_counter() + search.solve_seconds
    return search.attempt(merged).works


def _merge(changes: list[Change]) -> tuple[Change, ...]:
    by_key: dict[str, Change] = {}
    for change in changes:
        held = by_key.get(change.key)
        if held is None:
            by_key[change.key] = change
        elif change.key in (*LIST_RULES, REMOTE):
            by_key[change.key] = replace(
                held,
                dropped=tuple(dict.fromkeys([*held.dropped, *change.dropped])),
                added=tuple(dict.fromkeys([*held.added, *change.added])),
            )
        elif change.key == "groups.min_list_size":
            by_key[change.key] = min(held, change, key=lambda c: _as_float(c.value))
        elif change.key in ("travel.max_minutes", "travel.max_km", "groups.max_list_size"):
            by_key[change.key] = max(held, change, key=lambda c: _as_float(c.value))
        elif change.key == "premises.m2_per_patient":
            by_key[change.key] = min(held, change, key=lambda c: _as_float(c.value))
    return tuple(by_key.values())


def _as_float(value: Value) -> float:
    assert isinstance(value, int | float)
    return float(value)
