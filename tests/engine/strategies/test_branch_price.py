"""Branch-and-price: its knapsacks against brute force, its optimum against the plain model.

No test here asserts a wall time: speed is measured by ``python -m benchmarks.run``.
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks import baseline, instances
from mergeopt.engine.instance import Instance, feasible, objective_value
from mergeopt.engine.strategies import branch_price, heuristics
from mergeopt.engine.strategies.branch_price import colgen, primal, tree
from mergeopt.engine.strategies.branch_price import knapsack as kn
from mergeopt.engine.strategies.branch_price.search import Search


def _later(seconds: float = 60.0) -> float:
    return time.time() + seconds


@st.composite
def small_instances(draw: st.DrawFn, *, rules: bool = True) -> Instance:
    """Small instances with list-size windows, travel limits, counts and link rules."""
    n = draw(st.integers(3, 8))
    coords = st.tuples(st.integers(0, 30), st.integers(0, 30))
    xy = np.array(draw(st.lists(coords, min_size=n, max_size=n)), dtype=float)
    size = np.array(draw(st.lists(st.integers(1, 12), min_size=n, max_size=n)), dtype=float)
    cost = np.floor(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)))
    limit = draw(st.sampled_from([np.inf, 12.0, 25.0]))
    upper = draw(st.lists(st.integers(10, 40), min_size=n, max_size=n))
    count = draw(st.one_of(st.none(), st.integers(1, max(1, n // 2))))
    pair = st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda p: p[0] != p[1])
    unordered = {"unique_by": lambda p: (min(p), max(p))}
    must_link = tuple(draw(st.lists(pair, max_size=1))) if rules else ()
    cannot_link = tuple(draw(st.lists(pair, max_size=2, **unordered))) if rules else ()
    fixed = tuple(draw(st.lists(pair, max_size=1))) if rules else ()
    forced = np.zeros(n, dtype=bool)
    if rules and draw(st.booleans()):
        forced[draw(st.integers(0, n - 1))] = True
    return Instance(
        codes=tuple(f"P{k}" for k in range(n)),
        size=size,
        cost=cost,
        allowed=cost <= limit,
        min_size=float(draw(st.sampled_from([0, 0, 8, 15]))),
        max_size=np.asarray(upper, dtype=float),
        can_hub=np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
        | (np.arange(n) == 0),
        must_hub=forced,
        count_min=count,
        count_max=count if draw(st.booleans()) else None,
        fixed=fixed,
        must_link=must_link,
        cannot_link=cannot_link,
        weights=(
            1.0,
            float(draw(st.sampled_from([0, 0, 2]))),
            float(draw(st.sampled_from([0, 7]))),
            0.0,
        ),
        group_id=np.array(draw(st.lists(st.integers(-1, 2), min_size=n, max_size=n))),
        travel_by_size=draw(st.booleans()),
    )


def _brute_force(inst: Instance) -> float:
    """The optimum by trying every assignment (tiny instances only); inf if infeasible."""
    best = math.inf
    for hub_of in itertools.product(range(inst.n), repeat=inst.n):
        grouping = np.asarray(hub_of)
        if feasible(inst, grouping):
            best = min(best, objective_value(inst, grouping))
    return best


# ---------------------------------------------------------------------------------------
# The optimum and the bound


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_instances())
def test_optimum_matches_the_plain_model(inst: Instance):
    """Where both prove, the same optimum; the same verdict on infeasibility; the bound
    is never above the optimum; the grouping keeps every rule."""
    ours = branch_price.solve(inst, deadline=_later())
    plain = baseline.solve_plain(inst, time_limit=30)
    assert (ours.status == "infeasible") == (plain.status == "infeasible")
    if ours.hub_of is not None:
        assert feasible(inst, ours.hub_of)
        assert ours.objective == pytest.approx(objective_value(inst, ours.hub_of))
    if plain.status == "optimal":
        assert ours.status == "optimal"
        assert ours.objective == pytest.approx(plain.objective, abs=1e-6)
        assert ours.bound <= plain.objective + 1e-6


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_instances())
def test_a_pool_cut_down_at_every_node_keeps_the_optimum(inst: Instance):
    """Columns dropped from the pool (down to a handful at every node) are priced again
    where needed: the same optimum and verdict as the plain model, the bound below it."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tree, "POOL_MOST", 4)
        patch.setattr(tree, "POOL_KEEP", 2)
        ours = branch_price.solve(inst, deadline=_later())
    plain = baseline.solve_plain(inst, time_limit=30)
    assert (ours.status == "infeasible") == (plain.status == "infeasible")
    if ours.hub_of is not None:
        assert feasible(inst, ours.hub_of)
    if plain.status == "optimal":
        assert ours.status == "optimal"
        assert ours.objective == pytest.approx(plain.objective, abs=1e-6)
        assert ours.bound <= plain.objective + 1e-6


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_instances(rules=False), st.sampled_from([137.3, 1000.0 / 7.0]))
def test_relaxed_knapsacks_keep_the_bound_below_the_optimum(inst: Instance, factor: float):
    """List sizes in fractions of a unit (a relaxed knapsack): the bound stays proven."""
    scaled = replace(
        inst,
        size=inst.size * factor,
        min_size=inst.min_size * factor,
        max_size=inst.max_size * factor,
    )
    optimum = _brute_force(scaled) if scaled.n <= 6 else None
    ours = branch_price.solve(scaled, deadline=_later())
    if optimum is None:
        plain = baseline.solve_plain(scaled, time_limit=30)
        optimum = plain.objective if plain.status == "optimal" else None
        if plain.status == "infeasible":
            optimum = math.inf
    if optimum is None:
        return
    if math.isinf(optimum):
        assert ours.status in ("infeasible", "no_solution")
        return
    assert ours.bound is None or ours.bound <= optimum + 1e-6 * max(1.0, optimum)
    if ours.status == "optimal":
        assert ours.objective == pytest.approx(optimum, rel=1e-9, abs=1e-6)


def test_pmedcap_proven_at_its_published_optimum():
    case = instances.pmedcap(1)
    found = branch_price.solve(case.instance, deadline=_later(120))
    assert found.status == "optimal"
    assert found.objective == case.optimum == found.bound


def test_every_better_grouping_and_bound_is_shared_as_found():
    case = instances.pmedcap(2)
    groupings: list[float] = []
    bounds: list[float] = []
    found = branch_price.solve(
        case.instance,
        deadline=_later(120),
        on_incumbent=lambda hub_of, value: groupings.append(value),
        on_bound=bounds.append,
    )
    assert groupings == sorted(groupings, reverse=True) and groupings[-1] == found.objective
    assert all(a < b for a, b in itertools.pairwise(bounds)), "each better bound once"
    assert all(b <= case.optimum for b in bounds)


def test_the_roots_bound_is_told_once_rounded_as_it_is_shared():
    """``on_root`` hears the root's bound once, rounded as it is shared, with a grouping
    already offered: the portfolio weighs the root's gap with it."""
    case = instances.pmedcap(1)  # root 705, optimum 713: the root is not the end
    heard: list[tuple[float, int]] = []
    offered: list[float] = []
    found = branch_price.solve(
        case.instance,
        deadline=_later(120),
        on_incumbent=lambda hub_of, value: offered.append(value),
        on_root=lambda bound: heard.append((bound, len(offered))),
    )
    root = tree.root_bound(case.instance, deadline=_later())
    assert [bound for bound, _ in heard] == [math.ceil(root - 1e-9)] == [705]
    assert heard[0][1] >= 1 and found.objective == case.optimum


def test_a_deadline_already_past_reports_an_honest_bound():
    case = instances.pmedcap(11)
    start = heuristics.construct(case.instance)
    found = branch_price.solve(case.instance, deadline=time.time() - 1.0, start=start)
    assert found.status == "feasible"
    assert found.objective == objective_value(case.instance, start)
    assert found.bound is None or found.bound <= case.optimum


def _worse(inst: Instance, hub_of: np.ndarray) -> np.ndarray:
    """``hub_of`` with members of different groups swapped, each swap kept while the
    grouping stays valid: a worse grouping that keeps every rule."""
    worse = hub_of.copy()
    members = np.flatnonzero(worse != np.arange(inst.n))
    for a, b in itertools.combinations(members.tolist(), 2):
        if worse[a] != worse[b]:
            trial = worse.copy()
            trial[a], trial[b] = worse[b], worse[a]
            if feasible(inst, trial):
                worse = trial
    return worse


def test_a_better_grouping_is_polished_by_local_search_before_it_is_shared(monkeypatch):
    """A grouping offered that beats the best is improved by the local search first: the
    polished one is kept and shared (once), and both are columns of the master."""
    from mergeopt.engine.strategies.branch_price import search as state
    from mergeopt.engine.strategies.branch_price.master import Master

    monkeypatch.setattr(state, "POLISH_SECONDS", 600.0)  # no deadline inside the test
    inst = instances.pmedcap(1).instance
    start = _worse(inst, heuristics.construct(inst))
    polished = heuristics.local_search(inst, start)
    assert objective_value(inst, polished) < objective_value(inst, start)
    ks = kn.build(inst)
    shared: list[float] = []
    search = Search(
        inst=inst,
        ks=ks,
        master=Master(ks, (5, 5), tree.big_price(inst, ks)),
        count=(5, 5),
        deadline=_later(),
        integral=True,
        gap=1e-6,
        on_incumbent=lambda hub_of, value: shared.append(value),
        on_bound=None,
    )
    assert search.offer(start)
    assert search.value == objective_value(inst, polished) and shared == [search.value]
    assert feasible(inst, search.best)
    assert primal.columns_of(search, start) is not None
    assert primal.columns_of(search, search.best) is not None
    assert not search.offer(start), "a worse grouping is not kept"


def test_a_bound_below_the_trivial_one_is_never_reported():
    """With no negative cost, 0 is a bound: an early Lagrangian bound far below it (the
    artificial columns' price in the duals) is reported as 0, shared or returned; with a
    negative cost there is no such floor."""
    inst = instances.pmedcap(11).instance
    shared: list[float] = []
    found = branch_price.solve(inst, deadline=time.time() - 1.0, on_bound=shared.append)
    assert found.status == "no_solution" and found.bound == 0.0
    assert shared and min(shared) >= 0.0
    ks = kn.build(inst)
    search = Search(
        inst=inst,
        ks=ks,
        master=None,  # type: ignore[arg-type]
        count=(10, 10),
        deadline=_later(),
        integral=True,
        gap=1e-6,
        on_incumbent=None,
        on_bound=None,
    )
    assert search.floor == 0.0
    assert tree._outcome(search, -9.9e9, finished=False, note="").bound == 0.0
    negative = replace(inst, weights=(1.0, 0.0, -50.0, 0.0))
    assert (
        Search(
            **{**search.__dict__, "inst": negative, "ks": kn.build(negative), "floor": -math.inf}
        ).floor
        == -math.inf
    )


def test_it_leads_where_its_knapsacks_are_exact():
    pmedcap = instances.pmedcap(1).instance
    assert branch_price.preferred(pmedcap)
    networks = replace(pmedcap, size=pmedcap.size * 400, max_size=pmedcap.max_size * 400)
    assert branch_price.applies(networks) and not branch_price.preferred(networks)
    halves = replace(pmedcap, size=pmedcap.size + 0.5)
    assert not branch_price.preferred(halves)


def test_what_it_does_not_cover_is_refused():
    inst = instances.pmedcap(1).instance
    with pytest.raises(ValueError, match="max-travel"):
        branch_price.solve(replace(inst, weights=(1.0, 0.0, 0.0, 2.0)), deadline=_later())
    assert not branch_price.applies(replace(inst, contiguous=True))


# ---------------------------------------------------------------------------------------
# The knapsacks


@st.composite
def hubs_and_duals(draw: st.DrawFn) -> tuple[Instance, np.ndarray]:
    inst = draw(small_instances())
    duals = np.array(draw(st.lists(st.integers(-5, 40), min_size=inst.n, max_size=inst.n)))
    return inst, duals.astype(float)


def _best_column(ks: kn.Knapsacks, h: int, u: np.ndarray, exact_sizes: bool) -> float:
    """Hub h's best column value by trying every set of items (real sizes, links kept)."""
    arcs = ks.by_hub[h]
    item_u = np.bincount(ks.item_of, weights=u, minlength=len(ks.items))
    best = math.inf
    own = int(ks.hub_item[h])
    for r in range(len(arcs) + 1):
        for pick in itertools.combinations(arcs.tolist(), r):
            chosen = ks.arc_item[list(pick)]
            load = ks.base[h] + ks.item_size[chosen].sum()
            if load < ks.min_size[h] - 1e-9 or load > ks.cap[h] + 1e-9:
                continue
            inside = {own, *chosen.tolist()}
            if any(a in inside and b in inside for a, b in ks.cannot):
                continue
            value = (
                ks.hub_cost[h]
                - item_u[own]
                + sum(ks.arc_cost[a] - item_u[ks.arc_item[a]] for a in pick)
            )
            best = min(best, float(value))
    return best


@settings(max_examples=80, deadline=None)
@given(hubs_and_duals())
def test_knapsack_matches_brute_force(case: tuple[Instance, np.ndarray]):
    """Exact tables: each hub's value is the best column's; the backtracked members
    make a column of that value; a cannot-link re-solve keeps the pairs apart."""
    inst, u = case
    ks = kn.build(inst)
    assert ks.exact
    r = kn.Restriction.none(ks)
    priced = kn.with_cannot_links(ks, r, kn.price(ks, r, u))
    for h in range(ks.num_hubs):
        if len(ks.by_hub[h]) > 7:
            continue
        expected = _best_column(ks, h, u, exact_sizes=True)
        assert priced.value[h] == pytest.approx(expected, abs=1e-9)
        if not ks.cannot and math.isfinite(expected):
            members = kn.members(ks, r, priced, h)
            item_u = np.bincount(ks.item_of, weights=u, minlength=len(ks.items))
            arcs = [a for a in ks.by_hub[h].tolist() if ks.arc_item[a] in set(members.tolist())]
            value = (
                ks.hub_cost[h]
                - item_u[ks.hub_item[h]]
                + sum(ks.arc_cost[a] - item_u[ks.arc_item[a]] for a in arcs)
            )
            assert value == pytest.approx(expected, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(hubs_and_duals(), st.sampled_from([137.3, 1000.0 / 7.0, 0.37]))
def test_relaxed_knapsack_is_never_above_the_best_column(
    case: tuple[Instance, np.ndarray], factor: float
):
    inst, u = case
    scaled = replace(
        inst,
        size=inst.size * factor,
        min_size=inst.min_size * factor,
        max_size=inst.max_size * factor,
    )
    ks = kn.build(scaled)
    r = kn.Restriction.none(ks)
    priced = kn.price(ks, r, u)
    for h in range(ks.num_hubs):
        if len(ks.by_hub[h]) > 7:
            continue
        assert priced.value[h] <= _best_column(ks, h, u, exact_sizes=False) + 1e-9


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.one_of(st.integers(-20, 20).map(float), st.just(math.inf)), min_size=1, max_size=7
    ),
    st.data(),
)
def test_hub_choice_matches_brute_force(values: list[float], data: st.DataObject):
    value = np.asarray(values)
    h = len(value)
    forced = np.asarray(data.draw(st.lists(st.booleans(), min_size=h, max_size=h)))
    low = data.draw(st.integers(0, h))
    high = data.draw(st.integers(low, h + 1))

    def brute(must_open: int | None, must_close: int | None) -> float:
        best = math.inf
        for mask in itertools.product([False, True], repeat=h):
            pick = np.asarray(mask)
            if (forced & ~pick).any() or not low <= pick.sum() <= high:
                continue
            if must_open is not None and not pick[must_open]:
                continue
            if must_close is not None and pick[must_close]:
                continue
            best = min(
                best, float(value[pick].sum()) if np.isfinite(value[pick]).all() else math.inf
            )
        return best

    choice = kn.choose(value, forced, (low, high))
    assert choice.value == brute(None, None)
    for k in range(h):
        assert choice.if_open[k] == brute(k, None)
        assert choice.if_closed[k] == brute(None, k)


def test_the_restricted_masters_mip_takes_the_columns_of_least_reduced_cost(monkeypatch):
    """A pool larger than the MIP may take gives it the cheapest columns at the last
    duals (and the start's): HiGHS's MIP presolve once ran minutes past its limit on a
    pool of many thousand columns."""
    from mergeopt.engine.strategies.branch_price import master as _master

    inst = instances.pmedcap(1).instance
    start = heuristics.construct(inst)
    search = Search(
        inst=inst,
        ks=kn.build(inst),
        master=None,  # type: ignore[arg-type]
        count=(5, 5),
        deadline=_later(),
        integral=True,
        gap=1e-6,
        on_incumbent=None,
        on_bound=None,
    )
    search.master = _master.Master(search.ks, (5, 5), tree.big_price(inst, search.ks))
    search.offer(start)
    rng = np.random.default_rng(3)
    ks = search.ks
    while search.master.size < 300:
        h = int(rng.integers(ks.num_hubs))
        items = rng.choice(ks.arc_item[ks.by_hub[h]], size=3, replace=False)
        if search.master.feasible(h, items):
            search.master.add(h, items)
    search.master.solve(60.0)
    monkeypatch.setattr(_master, "MIP_COLUMNS", 40)
    start_columns = primal.columns_of(search, start)
    chosen = search.master.integer(30.0, start_columns, math.inf)
    assert chosen is not None
    found = search.grouping(chosen)
    assert heuristics.feasible(inst, found)
    assert objective_value(inst, found) <= objective_value(inst, start)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_instances(rules=False), st.data())
def test_practices_that_stand_alone_are_groups_below_the_minimum(
    inst: Instance, data: st.DataObject
):
    """A practice standing alone (self arc only, its own size as bound, exempt from the
    minimum) is a group of its own: the optimum is brute force's."""
    alone = np.zeros(inst.n, dtype=bool)
    alone[data.draw(st.integers(0, inst.n - 1))] = True
    allowed = inst.allowed.copy()
    allowed[:, alone] = allowed[alone, :] = False
    allowed[alone, alone] = True
    lone = replace(
        inst,
        alone=alone,
        allowed=allowed,
        can_hub=inst.can_hub | alone,
        must_hub=inst.must_hub | alone,
        max_size=np.where(alone, inst.size, inst.max_size),
        count_min=None,
        count_max=None,
    )
    if lone.n > 6:
        return
    optimum = _brute_force(lone)
    ours = branch_price.solve(lone, deadline=_later())
    if math.isinf(optimum):
        assert ours.status == "infeasible"
    else:
        assert ours.status == "optimal"
        assert ours.objective == pytest.approx(optimum, abs=1e-6)


def test_diving_from_the_root_finds_a_grouping_without_any_start(monkeypatch):
    """The dive alone (no start, no greedy, no restricted MIP, no hub-support MIP) turns
    the root's fractional master into a grouping that keeps every rule; the tree then
    proves the published optimum."""
    case = instances.pmedcap(3)
    monkeypatch.setattr(heuristics, "construct", lambda inst: None)
    monkeypatch.setattr(primal, "maybe_mip", lambda search: None)
    monkeypatch.setattr(primal, "support_heuristic", lambda search, y: None)
    dived: list[float] = []
    dive = primal.dive

    def spy(search: Search, r: kn.Restriction, cg: colgen.Generated):
        assert search.best is None or dived  # the first dive starts with no grouping
        dive(search, r, cg)
        dived.append(search.value)

    monkeypatch.setattr(primal, "dive", spy)
    found = branch_price.solve(case.instance, deadline=_later(120))
    assert dived and math.isfinite(dived[0]), "the root's dive found a grouping"
    assert dived[0] >= case.optimum
    assert found.status == "optimal" and found.objective == case.optimum == found.bound
    assert feasible(case.instance, found.hub_of)


def test_a_purged_pool_keeps_the_columns_of_least_reduced_cost():
    """The pool cut down to its cheapest columns at the last duals: exactly those are
    kept (no other, none twice), and the master still solves, no lower than before."""
    from mergeopt.engine.strategies.branch_price import master as _master

    inst = instances.pmedcap(1).instance
    ks = kn.build(inst)
    master = _master.Master(ks, (5, 5), tree.big_price(inst, ks))
    rng = np.random.default_rng(5)
    while master.size < 200:
        h = int(rng.integers(ks.num_hubs))
        items = rng.choice(ks.arc_item[ks.by_hub[h]], size=int(rng.integers(1, 8)), replace=False)
        if master.feasible(h, items):
            master.add(h, items)
    solved, before, dual, *_ = master.solve(60.0)
    assert solved
    every = np.arange(master.size)
    reduced = np.asarray(master.cost) - master._row_sums(every, dual)
    cheapest = np.argsort(reduced, kind="stable")[:50]
    expected = {(master.hub[c], tuple(master.items[c].tolist())) for c in cheapest.tolist()}
    master.purge(50)
    kept = {(h, tuple(items.tolist())) for h, items in zip(master.hub, master.items, strict=True)}
    assert master.size == 50 and kept == expected
    solved, after, *_ = master.solve(60.0)
    assert solved and after >= before - 1e-6


@pytest.mark.parametrize(
    ("bound", "z", "integral", "met"),
    [
        (964.2, 964.9, True, True),  # both round up to 965: more columns cannot help
        (964.2, 964.9, False, False),
        (963.9, 964.1, True, False),  # 964 against 965: the node's bound may still rise
        (964.0, 964.0 + 1e-9, False, True),  # within the LP's tolerance
        (963.0 + 1e-9, 964.0, True, False),
    ],
)
def test_column_generation_stops_once_the_rounded_bound_meets_the_master(
    bound: float, z: float, integral: bool, met: bool
):
    search = Search(
        inst=None,  # type: ignore[arg-type]
        ks=None,  # type: ignore[arg-type]
        master=None,  # type: ignore[arg-type]
        count=(1, 1),
        deadline=_later(),
        integral=integral,
        gap=1e-6,
        on_incumbent=None,
        on_bound=None,
    )
    assert colgen.met(search, bound, z) is met


# ---------------------------------------------------------------------------------------
# The root bound against the master over every column


@st.composite
def capacitated_p_medians(draw: st.DrawFn) -> Instance:
    """Capacitated p-median instances as OR-Library's (a median serves itself, its list
    size counts against its capacity, exactly p medians), with costs that are not whole
    numbers, so the root's column generation runs to the LP's own tolerance."""
    n = draw(st.integers(3, 8))
    coords = st.tuples(st.integers(0, 30), st.integers(0, 30))
    xy = np.array(draw(st.lists(coords, min_size=n, max_size=n, unique=True)), dtype=float)
    size = np.array(draw(st.lists(st.integers(1, 12), min_size=n, max_size=n)), dtype=float)
    capacity = float(draw(st.integers(12, 40)))
    fewest = math.ceil(size.sum() / capacity)
    count = draw(st.integers(min(fewest, n), n))
    return Instance(
        codes=tuple(f"P{k}" for k in range(n)),
        size=size,
        cost=np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)),
        allowed=np.ones((n, n), dtype=bool),
        min_size=0.0,
        max_size=np.full(n, capacity),
        can_hub=np.ones(n, dtype=bool),
        must_hub=np.zeros(n, dtype=bool),
        count_min=count,
        count_max=count,
        weights=(1.0, 0.0, float(draw(st.sampled_from([0, 3.5]))), 0.0),
        travel_by_size=draw(st.booleans()),
    )


def _every_column_lp(inst: Instance) -> float:
    """The master's LP over every feasible column (a hub and any members that fit),
    written out in full; ``inf`` if that LP is infeasible."""
    import highspy

    n = inst.n
    lp = highspy.Highs()
    lp.setOptionValue("output_flag", False)
    empty_i, empty_v = np.zeros(0, dtype=np.int32), np.zeros(0)
    for _ in range(n):
        lp.addRow(1.0, 1.0, 0, empty_i, empty_v)
    lp.addRow(float(inst.count_min), float(inst.count_max), 0, empty_i, empty_v)
    for h in range(n):
        others = [j for j in range(n) if j != h]
        for k in range(len(others) + 1):
            for chosen in itertools.combinations(others, k):
                group = np.array([h, *chosen])
                if inst.size[group].sum() > inst.max_size[h] + 1e-9:
                    continue
                cost = inst.weights[2] + float(
                    inst.arc_objective(group, np.full(len(group), h)).sum()
                )
                rows = np.append(group, n).astype(np.int32)
                lp.addCol(cost, 0.0, highspy.kHighsInf, len(rows), rows, np.ones(len(rows)))
    lp.run()
    if lp.getModelStatus() == highspy.HighsModelStatus.kInfeasible:
        return math.inf
    assert lp.getModelStatus() == highspy.HighsModelStatus.kOptimal
    return float(lp.getInfo().objective_function_value)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(capacitated_p_medians())
def test_the_root_bound_is_the_lp_over_every_column(inst: Instance):
    """Column generation at the root reaches the Dantzig-Wolfe bound, no less (a missing
    row, a pricing that misses columns or a dual of the wrong sign would leave it below)
    and no more (a bound above it would not be proven); so does the bound study's own
    column generation (``benchmarks/bounds.py``)."""
    from benchmarks import bounds

    every = _every_column_lp(inst)
    root = tree.root_bound(inst, deadline=_later())
    if math.isinf(every):
        assert math.isinf(root)
        return
    assert root == pytest.approx(every, rel=1e-6, abs=1e-6)
    assert bounds.dw_bound(inst)["dw"] == pytest.approx(every, rel=1e-6, abs=1e-6)


def test_the_root_bound_is_infinite_where_no_columns_fill_the_count():
    """Three practices, none two of them within a capacity of 12, exactly two groups: the
    LP over every column has no solution, and the root says so rather than reporting the
    artificial columns' price (a draw of the property test above)."""
    xy = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    inst = Instance(
        codes=("P0", "P1", "P2"),
        size=np.array([6.0, 7.0, 7.0]),
        cost=np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)),
        allowed=np.ones((3, 3), dtype=bool),
        min_size=0.0,
        max_size=np.full(3, 12.0),
        can_hub=np.ones(3, dtype=bool),
        must_hub=np.zeros(3, dtype=bool),
        count_min=2,
        count_max=2,
    )
    assert math.isinf(_every_column_lp(inst))
    assert math.isinf(tree.root_bound(inst, deadline=_later()))
