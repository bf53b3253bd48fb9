"""Each rule that can give, and the search for its smallest change alone: the travel
limit, the list sizes, oversize and remote practices, the group count, the premises rule
and the named rules (forbidden and forced hubs, takeovers, links)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mergeopt.config import Config
from mergeopt.runs.advice.limits import AREA_STEP, LIST_STEP, MIN_SECONDS
from mergeopt.runs.advice.report import Alternative, Change, Entry
from mergeopt.runs.advice.search import (
    REMOTE,
    Search,
    alternative,
    code_of,
    isolated,
    relative,
    smallest_index,
)
from mergeopt.runs.problem import build_problem


@dataclass(frozen=True)
class Family:
    """A rule that can give: whether it applies, and the search for its smallest change."""

    applies: Callable[[Search], bool]
    search: Callable[[Search], list[Alternative]]


def travel_key(search: Search) -> tuple[str, float] | None:
    travel = search.config.travel
    if travel.max_minutes is not None:
        return "travel.max_minutes", travel.max_minutes
    if travel.max_km is not None:
        return "travel.max_km", travel.max_km
    return None


def unit_of(search: Search, key: str) -> str:
    return "km" if key == "travel.max_km" else search.config.travel.unit


def search_travel(search: Search, base: tuple[Change, ...] = ()) -> list[Alternative]:
    found = travel_key(search)
    assert found is not None
    key, limit = found
    cost = search.base.km if key == "travel.max_km" else search.base.travel
    finite = cost[np.isfinite(cost)]
    cap = math.ceil(float(finite.max())) if len(finite) else math.floor(limit) + 1
    values = list(range(math.floor(limit) + 1, cap + 1))
    unit = unit_of(search, key)

    def make(k: int) -> tuple[Change, ...]:
        return (*base, Change(key, values[k]))

    hit = smallest_index(search, len(values), make)
    if hit is None:
        return []
    k, note = hit
    if not note and k > 0:
        note = f"{values[k] - 1} {unit} proven too short"
    elif not note:
        note = ""
    text = f"travel limit {limit:g} -> {values[k]} {unit}"
    return [alternative(search, "travel limit", text, make(k), relative(limit, values[k]), note)]


def _search_minimum(search: Search) -> list[Alternative]:
    old = search.config.groups.min_list_size
    values = list(range(old - LIST_STEP, -1, -LIST_STEP)) or [0]
    if values[-1] != 0:
        values.append(0)
    half = f"groups of under half the minimum ({old:,})"
    return _search_list_size(
        search,
        ("groups.min_list_size", "minimum list size", "high"),
        old,
        values,
        lambda new: half if new < old / 2 else None,
    )


def _search_maximum(search: Search) -> list[Alternative]:
    old = search.config.groups.max_list_size
    assert old is not None
    total = int(search.practices["list_size"].sum())
    top = max(total, old + LIST_STEP)
    values = list(range(old + LIST_STEP, top + LIST_STEP, LIST_STEP))
    twice = f"groups of over twice the maximum ({old:,})"
    return _search_list_size(
        search,
        ("groups.max_list_size", "maximum list size", "low"),
        old,
        values,
        lambda new: twice if new > 2 * old else None,
    )


def _search_list_size(
    search: Search,
    rule: tuple[str, str, str],
    old: int,
    values: list[int],
    degenerate: Callable[[int], str | None],
) -> list[Alternative]:
    """The first of ``values`` (in order of change) for the config key ``rule[0]`` that lets
    every rule hold; ``rule`` = (key, label, what the value before it was proven: too
    high or too low)."""
    key, label, side = rule

    def make(k: int) -> tuple[Change, ...]:
        return (Change(key, values[k]),)

    hit = smallest_index(search, len(values), make)
    if hit is None:
        return []
    k, note = hit
    new = values[k]
    if not note and k > 0:
        note = f"{values[k - 1]:,} proven too {side}"
    text = f"{label} {old:,} -> {new:,}"
    return [alternative(search, label, text, make(k), relative(old, new), note, degenerate(new))]


def _search_oversize(search: Search) -> list[Alternative]:
    change = (Change("groups.oversize", "alone"),)
    if not search.attempt(change).works:
        return []
    big = np.flatnonzero(search.base.oversize)
    named = practice_names(search, big)
    text = f"let {named} form a group of its own (oversize: stop -> alone)"
    if len(big) > 1:
        text = f"let {named} each form a group of their own (oversize: stop -> alone)"
    return [alternative(search, "oversize practices", text, change, len(big) / search.n)]


def practice_names(search: Search, positions: Sequence[int] | np.ndarray, limit: int = 4) -> str:
    rows = search.practices.iloc[list(positions)]
    shown = [f"{code} ({row['name']}, {int(row['list_size']):,})" for code, row in rows.iterrows()]
    more = len(shown) - limit
    return ", ".join(shown[:limit]) + (f" and {more} more" if more > 0 else "")


def remote_candidates(search: Search) -> list[str]:
    """Practices that could reach no group of the minimum list size even at twice the
    travel limit: remote, not merely beyond today's limit. None with ``remote: alone``,
    where every practice that can reach no group stands alone already."""
    if search.config.groups.remote == "alone":
        return []
    found = travel_key(search)
    problem = search.base
    if found is not None:
        key, limit = found
        config = search.config.with_overrides(**{key: 2 * limit})
        problem = build_problem(config, search.practices, part=True)
    return [problem.codes[k] for k in np.flatnonzero(isolated(problem))]


def _search_remote(search: Search) -> list[Alternative]:
    """Let the remote practices stand alone: alone, or with the smallest travel limit."""
    codes = remote_candidates(search)
    if not codes:
        return []
    alone = (Change(REMOTE, added=tuple(codes)),)
    positions = np.flatnonzero(search.practices.index.isin(codes))
    noun = "a remote practice" if len(codes) == 1 else "remote practices"
    text = f"let {practice_names(search, positions)} stand alone as {noun} ({REMOTE})"
    share = len(codes) / search.n
    if search.attempt(alone).works:
        return [alternative(search, "remote practices", text, alone, share)]
    if travel_key(search) is None:  # no travel limit to raise beside it
        return []
    # with a travel limit too: offered only when standing alone is needed, that is when
    # that limit alone, without it, does not let every rule hold
    return [
        alternative(
            search,
            "remote practices",
            f"{text}, and {travel.text}",
            travel.changes,
            share + travel.distance,
            travel.note,
        )
        for travel in search_travel(search, base=alone)
        if not search.attempt(tuple(c for c in travel.changes if c.key != REMOTE)).works
    ]


def _search_count(search: Search) -> list[Alternative]:
    low, high = search.config.groups.count_range
    found: list[Alternative] = []
    for step in range(1, search.n):
        trials: list[tuple[int | None, int | None]] = []
        if low is not None and low - step >= 1:
            trials.append((low - step, high if high != low else low - step))
        if high is not None and high + step <= search.n:
            trials.append((low if high != low else high + step, high + step))
        if not trials or search.time_left() <= MIN_SECONDS:
            break
        for new in trials:
            change = (Change("groups.count", new),)
            if search.attempt(change).works:
                old = low if new[0] != low else high
                moved = new[0] if new[0] != low else new[1]
                assert old is not None and moved is not None
                text = f"group count {count_text(low, high)} -> {count_text(*new)}"
                found.append(
                    alternative(search, "group count", text, change, relative(old, moved))
                )
        if found:
            break
    return found


def count_text(low: int | None, high: int | None) -> str:
    if low == high:
        return f"{low}"
    return f"{low or 1}-{high if high is not None else 'any'}"


def _search_premises(search: Search) -> list[Alternative]:
    premises = search.config.premises
    if premises.rule == "floor_area" and premises.m2_per_patient is not None:
        old = premises.m2_per_patient
        steps = round(old / AREA_STEP)
        values = [round(old - AREA_STEP * s, 6) for s in range(1, steps)]

        def make(k: int) -> tuple[Change, ...]:
            return (Change("premises.m2_per_patient", values[k]),)

        hit = smallest_index(search, len(values), make)
        if hit is not None:
            k, note = hit
            text = f"floor area per patient {old:g} -> {values[k]:g} m²"
            distance = relative(old, values[k])
            return [alternative(search, "premises rule", text, make(k), distance, note)]
    change = (Change("premises.rule", "none"),)
    if not search.attempt(change).works:
        return []
    text = f"drop the premises rule ({premises.rule} -> none)"
    return [alternative(search, "premises rule", text, change, 1.0)]


NAMED: dict[str, tuple[str, str]] = {
    "rules.forbidden_hubs": ("forbidden hubs", "allow {} to host a group"),
    "rules.forced_hubs": ("forced hubs", "stop requiring {} to host a group"),
    "rules.fixed": ("takeovers", "drop the takeover of {}"),
    "rules.must_link": ("must-links", "let {} be in different groups"),
    "rules.cannot_link": ("cannot-links", "let {} share a group"),
}


def entries_of(config: Config, key: str) -> list[Entry]:
    rules = config.rules
    if key == "rules.fixed":
        return [(code_of(p), code_of(g.hub)) for g in rules.fixed for p in g.practices]
    items: list[Any] = getattr(rules, key.removeprefix("rules."))
    if key in ("rules.forced_hubs", "rules.forbidden_hubs"):
        return [code_of(c) for c in items]
    return [(code_of(a), code_of(b)) for a, b in items]


def _named_family(key: str) -> Family:
    def applies(search: Search) -> bool:
        return bool(entries_of(search.config, key))

    def run(search: Search) -> list[Alternative]:
        entries = entries_of(search.config, key)
        dropped = _fewest(search, key, entries)
        if dropped is None:
            return []
        rule, words = NAMED[key]
        text = words.format(entry_text(search, key, dropped))
        change = (Change(key, dropped=tuple(dropped)),)
        return [alternative(search, rule, text, change, len(dropped) / search.n)]

    return Family(applies, run)


def _fewest(search: Search, key: str, entries: list[Entry]) -> list[Entry] | None:
    """The fewest entries of a list rule to drop so that every rule holds: all dropped,
    then each put back where the rules still hold."""
    if not search.attempt((Change(key, dropped=tuple(entries)),)).works:
        return None
    dropped = list(entries)
    for entry in entries:
        if search.time_left() <= MIN_SECONDS:
            break
        trial = tuple(e for e in dropped if e != entry)
        if search.attempt((Change(key, dropped=trial),)).works:
            dropped = list(trial)
    return dropped


def entry_text(search: Search, key: str, entries: Sequence[Entry]) -> str:
    names = {str(c): str(n) for c, n in search.practices["name"].items()}

    def one(code: str) -> str:
        return f"{code} ({names.get(code, '?')})"

    if key == "rules.fixed":
        return ", ".join(f"{one(str(e[0]))} by hub {e[1]}" for e in entries)
    if key in ("rules.must_link", "rules.cannot_link"):
        return "; ".join(f"{one(str(e[0]))} and {one(str(e[1]))}" for e in entries)
    named = [one(str(e)) for e in entries]
    return ", ".join(named[:-1]) + " and " + named[-1] if len(named) > 1 else named[0]


def has_oversize(search: Search) -> bool:
    return search.config.groups.oversize == "stop" and bool(search.base.oversize.any())


#: The rules that can give, searched in this order (the cheapest searches first).
FAMILIES: tuple[tuple[str, Family], ...] = (
    ("oversize practices", Family(has_oversize, _search_oversize)),
    ("remote practices", Family(lambda s: s.config.groups.min_list_size > 0, _search_remote)),
    ("travel limit", Family(lambda s: travel_key(s) is not None, search_travel)),
    (
        "maximum list size",
        Family(lambda s: s.config.groups.max_list_size is not None, _search_maximum),
    ),
    ("minimum list size", Family(lambda s: s.config.groups.min_list_size > 0, _search_minimum)),
    ("group count", Family(lambda s: s.config.groups.count is not None, _search_count)),
    ("premises rule", Family(lambda s: s.config.premises.rule != "none", _search_premises)),
    *((key, _named_family(key)) for key in NAMED),
)
