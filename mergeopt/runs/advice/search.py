"""Solving one region under changed rules: cached short solves within a deadline, the
config overrides a change makes, the plan a grouping gives, and the search for the
smallest of ever larger changes that works."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from mergeopt._errors import InputError
from mergeopt.config import Config
from mergeopt.engine.errors import SolverError as EngineSolverError
from mergeopt.engine.instance import arc_mask, broken_rules
from mergeopt.engine.options import SolveOptions
from mergeopt.engine.portfolio import solve_instance
from mergeopt.engine.strategies.heuristics import construct
from mergeopt.inputs.practices import read_practices
from mergeopt.runs.advice.limits import (
    MIN_SECONDS,
    PLAN_SECONDS,
    SCREEN_SECONDS,
    SEARCH_GAP,
    SINGLES_SHARE,
    STEP_GAP,
)
from mergeopt.runs.advice.report import Alternative, Change, Entry, Plan
from mergeopt.runs.diagnose import precheck
from mergeopt.runs.problem import Problem, build_problem, unreachable
from mergeopt.runs.results import violations

REMOTE = "groups.remote"


LIST_RULES = (
    "rules.forbidden_hubs",
    "rules.forced_hubs",
    "rules.fixed",
    "rules.must_link",
    "rules.cannot_link",
)


@dataclass(frozen=True)
class Attempt:
    """One search solve: did the changed rules all hold, and if not, was that proven."""

    works: bool
    proven: bool
    plan: Plan | None = None
    problem: Problem | None = None
    hub_of: np.ndarray | None = field(default=None, compare=False)  # the grouping that worked


class Search:
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
        self.cache: dict[tuple[frozenset[Change], float], Attempt] = {}
        self.base = build_problem(config, practices, part=True)
        self.minimum = float(config.groups.min_list_size)

    @property
    def n(self) -> int:
        return len(self.practices)

    def time_left(self) -> float:
        return self.deadline - time.perf_counter()

    def overrides(self, changes: Iterable[Change]) -> dict[str, Any]:
        """The overrides of ``changes`` for this region: remote practices of other regions
        (the changes merged for a whole nested run name them) are left out."""
        codes = {code_of(code) for code in self.practices.index}
        here = [
            replace(c, added=tuple(a for a in c.added if code_of(a) in codes))
            if c.key == REMOTE
            else c
            for c in changes
        ]
        return overrides_for(self.config, here)

    def known_failure(self) -> Attempt:
        """The rules as they are, known to fail (the caller proved it)."""
        attempt = Attempt(works=False, proven=True, problem=self.base)
        self.cache[(frozenset(), STEP_GAP)] = attempt
        return attempt

    def screen(self) -> Attempt:
        """Whether the rules as they are hold, with up to :data:`SCREEN_SECONDS`."""
        self.solve_seconds, short = max(self.solve_seconds, SCREEN_SECONDS), self.solve_seconds
        try:
            return self.attempt(())
        finally:
            self.solve_seconds = short

    def attempt(self, changes: Iterable[Change]) -> Attempt:
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

    def held(self, changes: Iterable[Change]) -> np.ndarray | None:
        """A grouping already found that keeps every rule under these changes, else None."""
        key = frozenset(changes)
        for gap in (SEARCH_GAP, STEP_GAP):
            attempt = self.cache.get((key, gap))
            if attempt is not None and attempt.works and attempt.hub_of is not None:
                return attempt.hub_of
        return None

    def keeps(self, changes: Iterable[Change], hub_of: np.ndarray) -> bool:
        """Whether ``hub_of`` keeps every rule under these changes (no solve)."""
        problem = self._problem(frozenset(changes))
        return problem is not None and keeps_every_rule(problem, hub_of)

    def _problem(self, changes: frozenset[Change]) -> Problem | None:
        """The region's problem under these changes; None if they make no valid config."""
        try:
            config = self.config.with_overrides(**self.overrides(changes))
            return build_problem(config, self._practices(config), part=True)
        except InputError:  # e.g. a minimum above the maximum: not a change to offer
            return None

    def _solve(self, changes: frozenset[Change], gap: float) -> Attempt:
        problem = self._problem(changes)
        if problem is None:
            return Attempt(works=False, proven=True)
        config = problem.config
        if precheck(problem):
            return Attempt(works=False, proven=True, problem=problem)
        if gap == STEP_GAP:
            start = construct(problem.instance)  # a greedy grouping answers most steps
            if keeps_every_rule(problem, start):
                assert start is not None
                plan = plan_of(problem, start, minimum=self.minimum)
                return Attempt(True, True, plan, problem, hub_of=start)
        limit = min(self.solve_seconds, self.time_left())
        if gap == SEARCH_GAP:  # a plan to show: its figures, not a proof
            limit = min(limit, PLAN_SECONDS)
        if limit < MIN_SECONDS:
            return Attempt(works=False, proven=False, problem=problem)
        options = SolveOptions(solver=config.solver.name, time_limit=limit, gap=gap, threads=1)
        try:
            report = solve_instance(problem.instance, options, name=config.name)
        except EngineSolverError:  # the solver failed on this one: not settled
            return Attempt(works=False, proven=False, problem=problem)
        if not keeps_every_rule(problem, report.hub_of):
            return Attempt(works=False, proven=report.status == "infeasible", problem=problem)
        assert report.hub_of is not None
        plan = plan_of(problem, report.hub_of, minimum=self.minimum)
        return Attempt(True, True, plan, problem, hub_of=report.hub_of)


def keeps_every_rule(problem: Problem, hub_of: np.ndarray | None) -> bool:
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
        elif change.key in LIST_RULES:
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
            if (kept := [p for p in g.practices if (code_of(p), code_of(g.hub)) not in dropped])
        ]
    items: list[Any] = getattr(rules, key.removeprefix("rules."))
    if key in ("rules.forced_hubs", "rules.forbidden_hubs"):
        return [c for c in items if code_of(c) not in dropped]
    return [list(p) for p in items if (code_of(p[0]), code_of(p[1])) not in dropped]


def code_of(code: str) -> str:
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
    reach = arc_mask(inst.allowed, inst.cost, inst.hubs_usable())
    return unreachable(inst.size, reach, inst.min_size, alone=_alone_by_rule(problem))


def alternative(
    search: Search,
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


def smallest_index(
    search: Search, count: int, make: Callable[[int], tuple[Change, ...]]
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


def relative(old: float, new: float) -> float:
    return abs(new - old) / old if old else 1.0
