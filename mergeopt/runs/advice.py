"""Advice a planner can act on when a config's rules cannot all be met.

:func:`advise` answers "what would I have to change?" the way a planner would ask it:
for each rule that can give (the travel limit, the minimum and maximum list size, the
group count, the premises rule, oversize practices, and the named rules: takeovers,
forced and forbidden hubs, links), the **smallest change of that rule alone** that lets
every rule hold. Each is found by a search over the rule's value (whole minutes for the
travel limit, 100 patients for list sizes, one group for the count; for a named rule,
the fewest entries dropped) and each is **verified by solving with it** before it is
shown, with what the plan then looks like (groups, practices per group, mean travel).

Ranking. A change that defeats the rule's purpose is **degenerate**: most groups left
as single practices (the networks dissolved), a minimum list size lowered below half of
what the config asks, or a maximum raised above double. Degenerate changes are shown as
such and ranked last. The others are ranked by how far the rule moves: the relative
change of a number (a travel limit of 20 -> 25 minutes moves 25%), or the share of the
area's practices a change names (one practice of 70 standing alone: 1.4%).

When no single rule's change is enough (or every one is degenerate), the smallest set of
changes is searched: every rule at its most relaxed, then each dropped in turn where the
rest still solve, then each kept one moved back as far as it can go. Every change in it
is needed: without any one of them, the rules cannot all be met.

Regions. In a nested run (``rules.nest_by``, no group count, which would couple the
regions), each region is independent: each is solved on its own, and only the regions
that fail are explained, each by itself, named by code and name. The changes for the
whole run combine each failing region's first change (the most relaxed value of each
rule); every rule here only relaxes, so a region that is met stays met, and the
combination is verified on each failing region.

Time. Each region is first solved on its own, in at most :data:`SCREEN_SECONDS`. Each
region that fails then gets a budget of search (:data:`BUDGET_SECONDS` by default), made
of short solves of that region alone: at most :data:`SOLVE_SECONDS` each, a search step
stopping at the first grouping the heuristics or the solver find, the plan shown for a
change within :data:`SEARCH_GAP` of the best. A value not settled in time counts as not
working, so a search that runs short of time may report a larger change than the
smallest (it says so); a change shown always solved.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mergeopt._errors import InputError
from mergeopt.config import Config, load_config
from mergeopt.engine.errors import SolverError as EngineSolverError
from mergeopt.engine.instance import broken_rules
from mergeopt.engine.options import SolveOptions
from mergeopt.engine.portfolio import solve_instance
from mergeopt.engine.strategies.heuristics import construct
from mergeopt.inputs.practices import read_practices, read_source
from mergeopt.runs.areas import area_names
from mergeopt.runs.diagnose import precheck
from mergeopt.runs.problem import Problem, build_problem, unreachable
from mergeopt.runs.results import violations

#: Seconds of search for each region that fails, at most for each search solve, and at
#: most for the first solve of each region (is it met on its own?).
BUDGET_SECONDS = 120.0
SOLVE_SECONDS = 10.0
SCREEN_SECONDS = 30.0
#: A search step stops at a grouping proven within STEP_GAP of the best (it only asks
#: whether the rules can hold); the plan shown for a change, within SEARCH_GAP.
STEP_GAP, SEARCH_GAP = 0.5, 0.02
#: At most this long for the solve that gives a change's plan (its figures, not a proof).
PLAN_SECONDS = 5.0
#: Below this many seconds left, no further search solve is started.
MIN_SECONDS = 0.2
#: Step of the list-size searches (patients) and of the floor-area search (m² per patient).
LIST_STEP, AREA_STEP = 100, 0.001
#: A plan is degenerate when more than this share of its groups are single practices.
SINGLES_SHARE = 0.5

Entry = str | tuple[str, str]
Value = int | float | str | tuple[int | None, int | None] | None


@dataclass(frozen=True)
class Change:
    """One rule's change: a dotted config key and its new value, or, for a rule that is a
    list (forbidden hubs, links, takeovers), the entries dropped from it (for remote
    practices, the codes added).

    Takeover entries are ``(member, hub)`` pairs; link entries are code pairs.
    """

    key: str
    value: Value = None
    dropped: tuple[Entry, ...] = ()
    added: tuple[str, ...] = ()


@dataclass(frozen=True)
class Plan:
    """What a grouping looks like, in the figures a planner reads first."""

    groups: int
    practices: tuple[int, ...]  # practices per group, ascending
    singles: int  # groups of one practice below the minimum list size the config asks
    mean_travel: float  # patient-weighted
    max_travel: float
    unit: str
    remote: int = 0  # of those singles, remote practices standing alone by rule

    def describe(self) -> str:
        """``5 groups of 3-9 practices (median 6), mean travel 11.2 minutes, longest 24.6``."""
        low, high = self.practices[0], self.practices[-1]
        noun = "group" if self.groups == 1 else "groups"
        size = f"{low}" if low == high else f"{low}-{high}"
        median = f" (median {np.median(self.practices):g})" if self.groups > 2 else ""
        others = self.singles - self.remote
        singles = f", {others} of them a single practice below the minimum" if others else ""
        if self.remote:
            singles += f", {self.remote} a remote practice alone"
        return (
            f"{self.groups} {noun} of {size} practices{median}{singles}, mean travel "
            f"{self.mean_travel:.1f} {self.unit}, longest {self.max_travel:.1f}"
        )


@dataclass(frozen=True)
class Alternative:
    """A change of the rules, verified by solving with it.

    ``distance`` is how far the rule moves (the ranking key after ``degenerate``);
    ``note`` says whether a smaller change was proven not to work or only not settled.
    """

    rule: str
    text: str
    changes: tuple[Change, ...]
    overrides: dict[str, Any]
    plan: Plan
    distance: float
    degenerate: str | None = None
    note: str = ""


@dataclass(frozen=True)
class RegionAdvice:
    """Why one region's rules cannot all be met, and the changes that would let them.

    ``region`` and ``name`` are None for a run that is not split into regions.
    ``combined`` is the smallest set of changes found when no single non-degenerate
    change is enough (else the first alternative's); empty when none was found.
    """

    region: str | None
    name: str | None
    practices: int
    patients: int
    reasons: list[str]
    alternatives: list[Alternative]
    combined: Alternative | None
    searched: list[str] = field(default_factory=list)
    unsearched: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        if self.region is None:
            return "the area"
        return f"{self.region}" + (f" {self.name}" if self.name else "")

    @property
    def best(self) -> Alternative | None:
        """The change to make: the first non-degenerate alternative, else the combination."""
        first = self.alternatives[0] if self.alternatives else None
        if first is not None and first.degenerate is None:
            return first
        return self.combined or first


@dataclass(frozen=True)
class Advice:
    """The advice for a whole config: its failing regions, explained one by one.

    ``overrides`` are the config changes (dotted keys) that together let the whole run's
    rules be met, verified on every failing region; empty when none was found.
    ``unsettled`` names regions that neither solved nor failed within the time.
    """

    config: Config
    column: str | None
    regions: int
    failing: list[RegionAdvice]
    unsettled: list[str]
    overrides: dict[str, Any]
    seconds: float
    budget: float
    solve_seconds: float

    @property
    def feasible(self) -> bool:
        """True when every region's rules were met (nothing to explain)."""
        return not self.failing and not self.unsettled

    def lines(self) -> list[str]:
        """The advice as printed by ``mergeopt explain``."""
        return _render(self)

    def summary(self) -> str:
        """One line for an error message: what blocks, and the first change that works."""
        parts = []
        for region in self.failing:
            where = f"{region.label}: " if region.region is not None else ""
            reason = "; ".join(region.reasons[:2])
            best = region.best
            fix = (
                f"; first change that works: {best.text} ({_yaml(best.overrides)})" if best else ""
            )
            parts.append(f"{where}{reason}{fix}")
        if self.unsettled:
            parts.append(f"not settled within the time: {', '.join(self.unsettled)}")
        return "; ".join(parts) + " (`mergeopt explain` ranks every change that works)"


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
    blocked: list[tuple[str | None, _Search]] = []
    for region, members in parts:
        local = _region_config(config, set(members.index)) if region is not None else config
        search = _Search(local, members, math.inf, solve_seconds)
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
    overrides = _combine(config, [search for _, search in blocked], failing)
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
    ``<name>_code`` one in the practices table, else NHS Digital's names of sub-ICBs,
    ICBs and PCNs."""
    column = config.rules.nest_by
    if column is None:
        return {}
    names = area_names(column)
    if column.endswith("_code"):
        table = read_source(config)
        name = column.removesuffix("_code") + "_name"
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
    search = _Search(config, practices, time.perf_counter() + budget, solve_seconds)
    cost = search.base.km if key == "travel.max_km" else search.base.travel
    finite = cost[np.isfinite(cost)]
    values = list(range(1, math.ceil(float(finite.max())) + 1)) if len(finite) else []
    hit = _smallest_index(search, len(values), lambda k: (Change(key, values[k]),))
    return (values[hit[0]], hit[1]) if hit is not None else (None, "")


# ---------------------------------------------------------------------------------------
# Regions


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
    """The config's named rules restricted to one region's practices."""
    rules = config.rules

    def here(code: str) -> bool:
        return code.strip().upper() in codes

    fixed = [
        {"hub": g.hub, "practices": [p for p in g.practices if here(p)]}
        for g in rules.fixed
        if here(g.hub) and any(here(p) for p in g.practices)
    ]
    return config.with_overrides(
        **{
            "rules.fixed": fixed,
            "rules.forced_hubs": [c for c in rules.forced_hubs if here(c)],
            "rules.forbidden_hubs": [c for c in rules.forbidden_hubs if here(c)],
            "rules.must_link": [list(p) for p in rules.must_link if here(p[0]) and here(p[1])],
            "rules.cannot_link": [list(p) for p in rules.cannot_link if here(p[0]) and here(p[1])],
        }
    )


# ---------------------------------------------------------------------------------------
# Solving with a change


@dataclass(frozen=True)
class _Attempt:
    """One search solve: did the changed rules all hold, and if not, was that proven."""

    works: bool
    proven: bool
    plan: Plan | None = None
    problem: Problem | None = None


class _Search:
    """Short solves of one region under changed rules, cached, within a deadline.

    A search step only asks whether the changed rules can all hold, so it stops at the
    first grouping within :data:`STEP_GAP` of the bound; the plan of a change that is
    shown comes from a solve within :data:`SEARCH_GAP` (:meth:`plan`).
    """

    def __init__(
        self, config: Config, practices: pd.DataFrame, deadline: float, solve_seconds: float
    ) -> None:
        self.config = config
        self.practices = practices
        self.deadline = deadline
        self.solve_seconds = solve_seconds
        self.cache: dict[tuple[frozenset[Change], float], _Attempt] = {}
        self.base = build_problem(config, practices, part=True)
        self.minimum = float(config.groups.min_list_size)

    @property
    def n(self) -> int:
        return len(self.practices)

    def time_left(self) -> float:
        return self.deadline - time.perf_counter()

    def overrides(self, changes: Iterable[Change]) -> dict[str, Any]:
        return overrides_for(self.config, changes)

    def known_failure(self) -> _Attempt:
        """The rules as they are, known to fail (the caller proved it)."""
        attempt = _Attempt(works=False, proven=True, problem=self.base)
        self.cache[(frozenset(), STEP_GAP)] = attempt
        return attempt

    def screen(self) -> _Attempt:
        """Whether the rules as they are hold, with up to :data:`SCREEN_SECONDS`."""
        self.solve_seconds, short = max(self.solve_seconds, SCREEN_SECONDS), self.solve_seconds
        try:
            return self.attempt(())
        finally:
            self.solve_seconds = short

    def attempt(self, changes: Iterable[Change]) -> _Attempt:
        """Whether every rule holds with these changes (a grouping found, or proven not)."""
        key = (frozenset(changes), STEP_GAP)
        if key not in self.cache:
            self.cache[key] = self._solve(key[0], STEP_GAP)
        return self.cache[key]

    def plan(self, changes: Iterable[Change]) -> Plan | None:
        """The plan under changes that work, from a solve within :data:`SEARCH_GAP`."""
        key = (frozenset(changes), SEARCH_GAP)
        if key not in self.cache:
            self.cache[key] = self._solve(key[0], SEARCH_GAP)
        return self.cache[key].plan or self.attempt(key[0]).plan

    def _practices(self, config: Config) -> pd.DataFrame:
        """The practices, read again when the premises rule changes (capacities are
        worked out from it as the table is read)."""
        if config.premises == self.config.premises:
            return self.practices
        return read_practices(config).loc[self.practices.index]

    def _solve(self, changes: frozenset[Change], gap: float) -> _Attempt:
        try:
            config = self.config.with_overrides(**self.overrides(changes))
            problem = build_problem(config, self._practices(config), part=True)
        except InputError:  # e.g. a minimum above the maximum: not a change to offer
            return _Attempt(works=False, proven=True)
        if precheck(problem):
            return _Attempt(works=False, proven=True, problem=problem)
        if gap == STEP_GAP:
            start = construct(problem.instance)  # a greedy grouping answers most steps
            if _keeps_every_rule(problem, start):
                assert start is not None
                return _Attempt(True, True, plan_of(problem, start, minimum=self.minimum), problem)
        limit = min(self.solve_seconds, self.time_left())
        if gap == SEARCH_GAP:  # a plan to show: its figures, not a proof
            limit = min(limit, PLAN_SECONDS)
        if limit < MIN_SECONDS:
            return _Attempt(works=False, proven=False, problem=problem)
        options = SolveOptions(solver=config.solver.name, time_limit=limit, gap=gap, threads=1)
        try:
            report = solve_instance(problem.instance, options, name=config.name)
        except EngineSolverError:  # the solver failed on this one: not settled
            return _Attempt(works=False, proven=False, problem=problem)
        if not _keeps_every_rule(problem, report.hub_of):
            return _Attempt(works=False, proven=report.status == "infeasible", problem=problem)
        assert report.hub_of is not None
        return _Attempt(True, True, plan_of(problem, report.hub_of, minimum=self.minimum), problem)


def _keeps_every_rule(problem: Problem, hub_of: np.ndarray | None) -> bool:
    """A grouping that keeps every rule, checked by the run's and the engine's checkers."""
    return (
        hub_of is not None
        and not violations(problem, hub_of)
        and not broken_rules(problem.instance, hub_of)
    )


def overrides_for(config: Config, changes: Iterable[Change]) -> dict[str, Any]:
    """The dotted config overrides that make ``changes`` to ``config``."""
    found: dict[str, Any] = {}
    for change in sorted(changes, key=lambda c: c.key):
        if change.key == REMOTE:
            found[change.key] = [*config.groups.remote_practices, *change.added]
        elif change.key in _LIST_RULES:
            found[change.key] = _without(config, change.key, set(change.dropped))
        elif change.key == "groups.count":
            assert isinstance(change.value, tuple)
            low, high = change.value
            found[change.key] = low if low == high else {"min": low, "max": high}
        else:
            found[change.key] = change.value
    return found


def _without(config: Config, key: str, dropped: set[Entry]) -> list[Any]:
    rules = config.rules
    if key == "rules.fixed":
        return [
            {"hub": g.hub, "practices": kept}
            for g in rules.fixed
            if (kept := [p for p in g.practices if (_code(p), _code(g.hub)) not in dropped])
        ]
    items: list[Any] = getattr(rules, key.removeprefix("rules."))
    if key in ("rules.forced_hubs", "rules.forbidden_hubs"):
        return [c for c in items if _code(c) not in dropped]
    return [list(p) for p in items if (_code(p[0]), _code(p[1])) not in dropped]


def _code(code: str) -> str:
    return code.strip().upper()


def plan_of(problem: Problem, hub_of: np.ndarray, *, minimum: float) -> Plan:
    """The figures of a grouping: groups, practices per group, travel, and the groups of
    one practice below ``minimum`` (the config's own minimum list size, before any change)."""
    inst = problem.instance
    hubs, counts = np.unique(hub_of, return_counts=True)
    single = (counts == 1) & (inst.size[hubs] < minimum)
    remote = inst.standing_alone()[hubs]
    travel = problem.travel[np.arange(inst.n), hub_of]
    return Plan(
        groups=len(hubs),
        practices=tuple(sorted(int(c) for c in counts)),
        singles=int(single.sum()),
        remote=int((single & remote).sum()),
        mean_travel=float(np.average(travel, weights=inst.size)),
        max_travel=float(travel.max()),
        unit=problem.config.travel.unit,
    )


def _alone_by_rule(problem: Problem) -> np.ndarray:
    """Practices a rule makes a group of their own (oversize: alone, remote practices)."""
    inst = problem.instance
    oversize = np.asarray(problem.oversize & (inst.max_size == inst.size), dtype=bool)
    return np.asarray(oversize | inst.standing_alone(), dtype=bool)


def isolated(problem: Problem) -> np.ndarray:
    """(n,) bool: practices that can reach no group of the minimum list size
    (:func:`~mergeopt.runs.problem.unreachable` on the problem's arcs), besides those a
    rule already puts alone."""
    inst = problem.instance
    usable = inst.hubs_usable()
    reach = inst.allowed & np.isfinite(inst.cost) & usable[None, :]
    np.fill_diagonal(reach, usable)
    return unreachable(inst.size, reach, inst.min_size, alone=_alone_by_rule(problem))


# ---------------------------------------------------------------------------------------
# One region: each rule's smallest change, then the smallest set


_LIST_RULES = (
    "rules.forbidden_hubs",
    "rules.forced_hubs",
    "rules.fixed",
    "rules.must_link",
    "rules.cannot_link",
)


def _explain_region(search: _Search, region: str | None, name: str | None) -> RegionAdvice:
    reasons = _reasons(search)
    found: list[Alternative] = []
    searched: list[str] = []
    unsearched: list[str] = []
    for rule, family in _FAMILIES:
        if not family.applies(search):
            continue
        if search.time_left() <= MIN_SECONDS:
            unsearched.append(rule)
            continue
        searched.append(rule)
        found += family.search(search)
    ranked = sorted(
        found, key=lambda a: (a.degenerate is not None, a.distance, a.plan.mean_travel)
    )
    combined = ranked[0] if ranked and ranked[0].degenerate is None else None
    if combined is None and search.time_left() > MIN_SECONDS:
        combined = _smallest_set(search)
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


def _reasons(search: _Search) -> list[str]:
    """Why the rules cannot all hold, as far as a count can show it, in plain words."""
    problem = search.base
    reasons = precheck(problem)
    if not problem.instance.hubs_usable().any():  # precheck said so; the rest follows
        return reasons
    stranded = np.flatnonzero(isolated(problem))
    if len(stranded) and problem.instance.min_size > 0:
        limit = _travel_key(search)
        within = f" within {limit[1]:g} {_unit(search, limit[0])}" if limit else ""
        noun = "practice" if len(stranded) == 1 else "practices"
        reasons.append(
            f"{len(stranded)} {noun} can reach no group of {problem.instance.min_size:,.0f} "
            f"patients{within}: {_names(search, stranded)}"
        )
    return reasons or ["no grouping meets every rule together (proven by the solver)"]


def _unit(search: _Search, key: str) -> str:
    return "km" if key == "travel.max_km" else search.config.travel.unit


@dataclass(frozen=True)
class _Family:
    """A rule that can give: whether it applies, and the search for its smallest change."""

    applies: Callable[[_Search], bool]
    search: Callable[[_Search], list[Alternative]]


def _alternative(
    search: _Search,
    rule: str,
    text: str,
    changes: tuple[Change, ...],
    distance: float,
    note: str = "",
    degenerate: str | None = None,
) -> Alternative:
    plan = search.plan(changes)
    assert plan is not None  # only changes that worked become alternatives
    if degenerate is None and plan.groups > 1 and plan.singles > SINGLES_SHARE * plan.groups:
        degenerate = (
            f"{plan.singles} of {plan.groups} groups are a single practice below the minimum"
        )
    return Alternative(
        rule=rule,
        text=text,
        changes=changes,
        overrides=search.overrides(changes),
        plan=plan,
        distance=distance,
        degenerate=degenerate,
        note=note,
    )


def _smallest_index(
    search: _Search, count: int, make: Callable[[int], tuple[Change, ...]]
) -> tuple[int, str] | None:
    """The first of ``count`` ever larger changes that works (when one works, every
    larger one does too); None when none works.

    Galloping from the smallest change (indices 0, 1, 3, 7, ...: the answer is usually
    near, and small changes that fail are cheap to rule out), then bisecting. The note
    says whether the change just before the answer was proven not to work.
    """
    if count <= 0:
        return None
    low, high = -1, None  # low fails (or is the rule as it is); high works
    step = 1
    while high is None:
        probe = min(low + step, count - 1)
        if search.time_left() <= MIN_SECONDS:
            return None
        if search.attempt(make(probe)).works:
            high = probe
        elif probe == count - 1:
            return None
        else:
            low, step = probe, step * 2
    while high - low > 1:
        if search.time_left() <= MIN_SECONDS:
            return high, "smaller changes not tried within the time"
        mid = (low + high) // 2
        if search.attempt(make(mid)).works:
            high = mid
        else:
            low = mid
    if low < 0 or search.attempt(make(low)).proven:
        return high, ""
    return high, "a smaller change was not settled within the time"


def _relative(old: float, new: float) -> float:
    return abs(new - old) / old if old else 1.0


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else round(float(value), 6)


# travel ---------------------------------------------------------------------------------


def _travel_key(search: _Search) -> tuple[str, float] | None:
    travel = search.config.travel
    if travel.max_minutes is not None:
        return "travel.max_minutes", travel.max_minutes
    if travel.max_km is not None:
        return "travel.max_km", travel.max_km
    return None


def _search_travel(search: _Search, base: tuple[Change, ...] = ()) -> list[Alternative]:
    found = _travel_key(search)
    assert found is not None
    key, limit = found
    cost = search.base.km if key == "travel.max_km" else search.base.travel
    finite = cost[np.isfinite(cost)]
    cap = math.ceil(float(finite.max())) if len(finite) else math.floor(limit) + 1
    values = list(range(math.floor(limit) + 1, cap + 1))
    unit = _unit(search, key)

    def make(k: int) -> tuple[Change, ...]:
        return (*base, Change(key, values[k]))

    hit = _smallest_index(search, len(values), make)
    if hit is None:
        return []
    k, note = hit
    if not note and k > 0:
        note = f"{values[k] - 1} {unit} proven too short"
    elif not note:
        note = ""
    text = f"travel limit {limit:g} -> {values[k]} {unit}"
    return [_alternative(search, "travel limit", text, make(k), _relative(limit, values[k]), note)]


# list sizes -----------------------------------------------------------------------------


def _search_minimum(search: _Search) -> list[Alternative]:
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


def _search_maximum(search: _Search) -> list[Alternative]:
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
    search: _Search,
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

    hit = _smallest_index(search, len(values), make)
    if hit is None:
        return []
    k, note = hit
    new = values[k]
    if not note and k > 0:
        note = f"{values[k - 1]:,} proven too {side}"
    text = f"{label} {old:,} -> {new:,}"
    return [_alternative(search, label, text, make(k), _relative(old, new), note, degenerate(new))]


def _search_oversize(search: _Search) -> list[Alternative]:
    change = (Change("groups.oversize", "alone"),)
    if not search.attempt(change).works:
        return []
    big = np.flatnonzero(search.base.oversize)
    named = _names(search, big)
    text = f"let {named} form a group of its own (oversize: stop -> alone)"
    if len(big) > 1:
        text = f"let {named} each form a group of their own (oversize: stop -> alone)"
    return [_alternative(search, "oversize practices", text, change, len(big) / search.n)]


def _names(search: _Search, positions: Sequence[int] | np.ndarray, limit: int = 4) -> str:
    rows = search.practices.iloc[list(positions)]
    shown = [f"{code} ({row['name']}, {int(row['list_size']):,})" for code, row in rows.iterrows()]
    more = len(shown) - limit
    return ", ".join(shown[:limit]) + (f" and {more} more" if more > 0 else "")


# remote practices -----------------------------------------------------------------------

REMOTE = "groups.remote"


def _remote_candidates(search: _Search) -> list[str]:
    """Practices that could reach no group of the minimum list size even at twice the
    travel limit: remote, not merely beyond today's limit. None with ``remote: alone``,
    where every practice that can reach no group stands alone already."""
    if search.config.groups.remote == "alone":
        return []
    found = _travel_key(search)
    problem = search.base
    if found is not None:
        key, limit = found
        config = search.config.with_overrides(**{key: 2 * limit})
        problem = build_problem(config, search.practices, part=True)
    return [problem.codes[k] for k in np.flatnonzero(isolated(problem))]


def _search_remote(search: _Search) -> list[Alternative]:
    """Let the remote practices stand alone: alone, or with the smallest travel limit."""
    codes = _remote_candidates(search)
    if not codes:
        return []
    alone = (Change(REMOTE, added=tuple(codes)),)
    positions = np.flatnonzero(search.practices.index.isin(codes))
    noun = "a remote practice" if len(codes) == 1 else "remote practices"
    text = f"let {_names(search, positions)} stand alone as {noun} ({REMOTE})"
    share = len(codes) / search.n
    if search.attempt(alone).works:
        return [_alternative(search, "remote practices", text, alone, share)]
    if _travel_key(search) is None:  # no travel limit to raise beside it
        return []
    # with a travel limit too: offered only when standing alone is needed, that is when
    # that limit alone, without it, does not let every rule hold
    return [
        _alternative(
            search,
            "remote practices",
            f"{text}, and {travel.text}",
            travel.changes,
            share + travel.distance,
            travel.note,
        )
        for travel in _search_travel(search, base=alone)
        if not search.attempt(tuple(c for c in travel.changes if c.key != REMOTE)).works
    ]


# group count ----------------------------------------------------------------------------


def _search_count(search: _Search) -> list[Alternative]:
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
                text = f"group count {_count_text(low, high)} -> {_count_text(*new)}"
                found.append(
                    _alternative(search, "group count", text, change, _relative(old, moved))
                )
        if found:
            break
    return found


def _count_text(low: int | None, high: int | None) -> str:
    if low == high:
        return f"{low}"
    return f"{low or 1}-{high if high is not None else 'any'}"


# premises -------------------------------------------------------------------------------


def _search_premises(search: _Search) -> list[Alternative]:
    premises = search.config.premises
    if premises.rule == "floor_area" and premises.m2_per_patient is not None:
        old = premises.m2_per_patient
        steps = round(old / AREA_STEP)
        values = [round(old - AREA_STEP * s, 6) for s in range(1, steps)]

        def make(k: int) -> tuple[Change, ...]:
            return (Change("premises.m2_per_patient", values[k]),)

        hit = _smallest_index(search, len(values), make)
        if hit is not None:
            k, note = hit
            text = f"floor area per patient {old:g} -> {values[k]:g} m²"
            distance = _relative(old, values[k])
            return [_alternative(search, "premises rule", text, make(k), distance, note)]
    change = (Change("premises.rule", "none"),)
    if not search.attempt(change).works:
        return []
    text = f"drop the premises rule ({premises.rule} -> none)"
    return [_alternative(search, "premises rule", text, change, 1.0)]


# named rules ----------------------------------------------------------------------------

_NAMED: dict[str, tuple[str, str]] = {
    "rules.forbidden_hubs": ("forbidden hubs", "allow {} to host a group"),
    "rules.forced_hubs": ("forced hubs", "stop requiring {} to host a group"),
    "rules.fixed": ("takeovers", "drop the takeover of {}"),
    "rules.must_link": ("must-links", "let {} be in different groups"),
    "rules.cannot_link": ("cannot-links", "let {} share a group"),
}


def _entries(config: Config, key: str) -> list[Entry]:
    rules = config.rules
    if key == "rules.fixed":
        return [(_code(p), _code(g.hub)) for g in rules.fixed for p in g.practices]
    items: list[Any] = getattr(rules, key.removeprefix("rules."))
    if key in ("rules.forced_hubs", "rules.forbidden_hubs"):
        return [_code(c) for c in items]
    return [(_code(a), _code(b)) for a, b in items]


def _named_family(key: str) -> _Family:
    def applies(search: _Search) -> bool:
        return bool(_entries(search.config, key))

    def run(search: _Search) -> list[Alternative]:
        entries = _entries(search.config, key)
        dropped = _fewest(search, key, entries)
        if dropped is None:
            return []
        rule, words = _NAMED[key]
        text = words.format(_entry_text(search, key, dropped))
        change = (Change(key, dropped=tuple(dropped)),)
        return [_alternative(search, rule, text, change, len(dropped) / search.n)]

    return _Family(applies, run)


def _fewest(search: _Search, key: str, entries: list[Entry]) -> list[Entry] | None:
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


def _entry_text(search: _Search, key: str, entries: Sequence[Entry]) -> str:
    names = {str(c): str(n) for c, n in search.practices["name"].items()}

    def one(code: str) -> str:
        return f"{code} ({names.get(code, '?')})"

    if key == "rules.fixed":
        return ", ".join(f"{one(str(e[0]))} by hub {e[1]}" for e in entries)
    if key in ("rules.must_link", "rules.cannot_link"):
        return "; ".join(f"{one(str(e[0]))} and {one(str(e[1]))}" for e in entries)
    named = [one(str(e)) for e in entries]
    return ", ".join(named[:-1]) + " and " + named[-1] if len(named) > 1 else named[0]


def _has_oversize(search: _Search) -> bool:
    return search.config.groups.oversize == "stop" and bool(search.base.oversize.any())


#: The rules that can give, searched in this order (the cheapest searches first).
_FAMILIES: tuple[tuple[str, _Family], ...] = (
    ("oversize practices", _Family(_has_oversize, _search_oversize)),
    ("remote practices", _Family(lambda s: s.config.groups.min_list_size > 0, _search_remote)),
    ("travel limit", _Family(lambda s: _travel_key(s) is not None, _search_travel)),
    (
        "maximum list size",
        _Family(lambda s: s.config.groups.max_list_size is not None, _search_maximum),
    ),
    ("minimum list size", _Family(lambda s: s.config.groups.min_list_size > 0, _search_minimum)),
    ("group count", _Family(lambda s: s.config.groups.count is not None, _search_count)),
    ("premises rule", _Family(lambda s: s.config.premises.rule != "none", _search_premises)),
    *((key, _named_family(key)) for key in _NAMED),
)


# the smallest set of changes ------------------------------------------------------------


def _relaxed(search: _Search) -> list[Change]:
    """Every rule that can give, at its most relaxed."""
    config, base = search.config, search.base
    changes: list[Change] = []
    if _has_oversize(search):
        changes.append(Change("groups.oversize", "alone"))
    if config.groups.min_list_size > 0 and (codes := _remote_candidates(search)):
        changes.append(Change(REMOTE, added=tuple(codes)))
    found = _travel_key(search)
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
    for key in _NAMED:
        entries = _entries(config, key)
        if entries:
            changes.append(Change(key, dropped=tuple(entries)))
    return changes


#: Which change is dropped first from the smallest set: the one a planner least wants.
_DROP_FIRST = (
    "groups.min_list_size",
    "groups.count",
    "groups.max_list_size",
    "premises.rule",
    *_NAMED,
    "travel.max_km",
    "travel.max_minutes",
    "groups.oversize",
    REMOTE,
)


def _smallest_set(search: _Search) -> Alternative | None:
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
    return _alternative(search, "together", text, changes, distance)


def _tighten(search: _Search, pool: list[Change]) -> list[Change]:
    """Move each numeric change of a working set back as far as the rest allows."""
    for k in range(len(pool)):
        if search.time_left() <= MIN_SECONDS:
            break
        values = _back_values(search.config, pool[k])
        rest = tuple(pool[:k] + pool[k + 1 :])
        hit = _smallest_index(search, len(values), _with(rest, pool[k].key, values))
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


def _change_text(search: _Search, change: Change) -> str:
    config = search.config
    if change.key in _NAMED:
        return _NAMED[change.key][1].format(_entry_text(search, change.key, change.dropped))
    if change.key == "groups.count":
        assert isinstance(change.value, tuple)
        old_count = _count_text(*config.groups.count_range)
        return f"group count {old_count} -> {_count_text(*change.value)}"
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


def _change_distance(search: _Search, change: Change) -> float:
    if change.key in _NAMED:
        return len(change.dropped) / search.n
    if change.key == REMOTE:
        return len(change.added) / search.n
    if change.key in ("groups.oversize", "premises.rule", "groups.count"):
        return 1.0
    old, new = _current(search.config, change.key), change.value
    assert isinstance(new, int | float)
    return _relative(float(old), float(new))


# ---------------------------------------------------------------------------------------
# The whole run


def _combine(
    config: Config, searches: list[_Search], failing: list[RegionAdvice]
) -> dict[str, Any]:
    """Each failing region's change to make, merged into one set of overrides for the
    whole run (the most relaxed value of each rule), verified on every failing region."""
    chosen = [region.best for region in failing]
    if not failing or any(best is None for best in chosen):
        return {}
    merged = _merge([c for best in chosen if best is not None for c in best.changes])
    if len(searches) > 1:
        for search in searches:
            search.deadline = time.perf_counter() + search.solve_seconds
            if not search.attempt(merged).works:
                return {}
    return overrides_for(config, merged)


def _merge(changes: list[Change]) -> tuple[Change, ...]:
    by_key: dict[str, Change] = {}
    for change in changes:
        held = by_key.get(change.key)
        if held is None:
            by_key[change.key] = change
        elif change.key in (*_LIST_RULES, REMOTE):
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


# ---------------------------------------------------------------------------------------
# Printing


def _yaml(overrides: dict[str, Any]) -> str:
    return ", ".join(f"{key}: {_value_text(value)}" for key, value in overrides.items())


def _value_text(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_value_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_value_text(v) for v in value) + "]"
    if value is None:
        return "null"
    if isinstance(value, float):
        return f"{_number(value)}"
    return str(value)


def _render(advice: Advice) -> list[str]:
    """The advice as ``explain`` prints it: a headline, then each failing region."""
    if advice.feasible:
        return ["the rules can all be met; nothing to explain"]
    nested = advice.column is not None
    if nested:
        met = advice.regions - len(advice.failing) - len(advice.unsettled)
        lines = [
            f"the rules cannot all be met in {len(advice.failing)} of {advice.regions} "
            f"regions ({advice.column}), each solved on its own; {met} meet them"
        ]
    else:
        region = advice.failing[0] if advice.failing else None
        size = f" ({region.practices} practices, {region.patients:,} patients)" if region else ""
        lines = [f"the rules cannot all be met{size}"]
    for region in advice.failing:
        lines += _render_region(region, nested=nested)
    if advice.unsettled:
        lines.append(
            f"not settled within {max(advice.solve_seconds, SCREEN_SECONDS):g} s: "
            f"{', '.join(advice.unsettled)} (neither solved nor proven impossible)"
        )
    if advice.overrides and len(advice.failing) > 1:
        lines.append("these config changes together let every region's rules be met (solved):")
        lines += [f"  {key}: {_value_text(value)}" for key, value in advice.overrides.items()]
    lines.append(
        f"searched for {advice.seconds:.0f} s (at most {advice.budget:g} s for each region that "
        f"fails; each solve at most {advice.solve_seconds:g} s, on that region alone)"
    )
    return lines


def _render_region(region: RegionAdvice, *, nested: bool) -> list[str]:
    lines = []
    if nested:
        lines.append(
            f"{region.label} ({region.practices} practices, {region.patients:,} patients)"
        )
    lines += [f"  why: {reason}" for reason in region.reasons]
    if region.alternatives:
        lines.append(
            "  the smallest change of one rule that lets every rule hold, best first (each "
            "checked by solving with it):"
        )
    for k, alt in enumerate(region.alternatives, start=1):
        note = f" ({alt.note})" if alt.note else ""
        lines.append(f"  {k}. {alt.text}{note}")
        lines.append(f"     {_yaml(alt.overrides)}")
        lines.append(f"     plan: {alt.plan.describe()}")
        if alt.degenerate:
            lines.append(f"     degenerate: {alt.degenerate}, which defeats the rule's purpose")
    if not region.alternatives:
        lines.append("  no change of one rule alone lets every rule hold")
    combined = region.combined
    if combined is not None and combined.rule == "together":
        lines.append("  changes needed together (each one necessary; checked by solving):")
        lines.append(f"     {combined.text}")
        lines.append(f"     {_yaml(combined.overrides)}")
        lines.append(f"     plan: {combined.plan.describe()}")
    elif combined is None and not any(a.degenerate is None for a in region.alternatives):
        lines.append("  no set of changes found that lets every rule hold")
    if region.unsearched:
        lines.append(f"  not searched within the time budget: {', '.join(region.unsearched)}")
    return lines


__all__ = [
    "Advice",
    "Alternative",
    "Change",
    "Plan",
    "RegionAdvice",
    "advise",
    "explain",
    "plan_of",
    "region_names",
    "smallest_travel",
]
