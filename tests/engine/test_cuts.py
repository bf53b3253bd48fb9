"""Lifted cover cuts on the capacity rows (:mod:`mergeopt.engine.cuts`): every cut holds
for every grouping, the lifting is exact, and HiGHS with the cuts finds the plain model's
optimum."""

from __future__ import annotations

import itertools
import math
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks import instances
from mergeopt.engine import cuts
from mergeopt.engine.formulation import model_arrays
from mergeopt.engine.instance import Instance, feasible, objective_value
from mergeopt.engine.options import SolveOptions
from mergeopt.engine.solvers.highs import highs_from_arrays, run_highs
from mergeopt.engine.strategies import branch_price


@st.composite
def tight_instances(draw: st.DrawFn) -> Instance:
    """Few practices (brute force), groups whose upper bound leaves little room, so
    that covers exist (``random_instances`` of ``tests/engine/cases.py`` had a violated
    cover in 3 of 40 draws; these in 30 of 40)."""
    n = draw(st.integers(3, 5))
    coords = st.tuples(st.integers(0, 20), st.integers(0, 20))
    xy = np.array(draw(st.lists(coords, min_size=n, max_size=n)), dtype=float)
    size = np.array(draw(st.lists(st.integers(1, 9), min_size=n, max_size=n)), dtype=float)
    cost = np.floor(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)))
    upper = draw(st.lists(st.integers(9, 20), min_size=n, max_size=n))
    count = draw(st.one_of(st.none(), st.integers(1, 3)))
    return Instance(
        codes=tuple(f"P{k}" for k in range(n)),
        size=size,
        cost=cost,
        allowed=np.ones((n, n), dtype=bool),
        min_size=float(draw(st.sampled_from([0, 0, 6]))),
        max_size=np.asarray(upper, dtype=float),
        can_hub=np.ones(n, dtype=bool),
        must_hub=np.zeros(n, dtype=bool),
        count_min=count,
        count_max=count,
        weights=(1.0, 0.0, float(draw(st.sampled_from([0, 5]))), 0.0),
        travel_by_size=draw(st.booleans()),
    )


def _groupings(inst: Instance) -> list[np.ndarray]:
    every = (np.asarray(h) for h in itertools.product(range(inst.n), repeat=inst.n))
    return [hub_of for hub_of in every if feasible(inst, hub_of)]


def _activity(arrays, values: np.ndarray) -> np.ndarray:
    """Each row's left-hand side at ``values``."""
    rows = np.repeat(np.arange(arrays.num_row), np.diff(arrays.row_start))
    return np.bincount(
        rows, weights=arrays.row_value * values[arrays.row_index], minlength=arrays.num_row
    )


def _fractional_point(inst: Instance, arrays, rng: np.random.Generator) -> np.ndarray:
    """A point every hub's members overfill a little: covers for the separation to find."""
    values = np.zeros(arrays.num_col)
    values[arrays.y_col[arrays.y_col >= 0]] = 1.0
    values[arrays.x_col] = rng.uniform(0.3, 1.0, size=len(arrays.x_col))
    return values


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tight_instances(), st.integers(0, 2**16))
def test_no_cut_cuts_off_a_grouping(inst: Instance, seed: int):
    """Cuts separated at the LP relaxation and at arbitrary fractional points hold for
    every grouping that keeps the rules (brute force over all assignments)."""
    arrays = model_arrays(inst)
    found = cuts.cover_cuts(inst, arrays, deadline=time.time() + 30)
    rng = np.random.default_rng(seed)
    for hub in cuts._hubs(inst, arrays):
        cut = cuts._separate(hub, _fractional_point(inst, arrays, rng), 1.0)
        if cut is not None:
            found.append(cut)
    if not found:
        return
    cut_rows = cuts.with_cuts(arrays, found)
    for hub_of in _groupings(inst):
        values = cut_rows.columns(inst, hub_of)
        assert (_activity(cut_rows, values)[arrays.num_row :] <= 1e-9).all()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(1, 12), min_size=3, max_size=9),
    st.integers(5, 30),
    st.data(),
)
def test_the_lifting_is_valid_and_exact(sizes: list[int], room: int, data: st.DataObject):
    """Every set of members that fits keeps the lifted inequality, and each lifted
    coefficient is as large as it can be (some set that fits, with it, meets the bound)."""
    size = np.asarray(sizes, dtype=float)
    if size.sum() <= room:
        return
    hub = cuts._Hub(0, 0, np.arange(len(size)), size, float(room))
    cost = np.asarray(data.draw(st.lists(st.floats(0, 1), min_size=len(size), max_size=len(size))))
    cover = cuts._cheapest_cover(cost, size, float(room))
    assert cover is not None and size[cover].sum() > room
    cover = cuts._minimal(cover, cost, size, float(room))
    rest = np.setdiff1d(np.arange(len(size)), cover)
    order = np.asarray(data.draw(st.permutations(rest.tolist())), dtype=np.int64)
    coef = cuts._lift(hub, cover, order)
    rhs = len(cover) - 1
    fitting = [
        np.asarray(s, dtype=np.int64)
        for r in range(len(size) + 1)
        for s in itertools.combinations(range(len(size)), r)
        if size[list(s)].sum() <= room
    ]
    assert max(coef[s].sum() for s in fitting) <= rhs + 1e-9
    for position, k in enumerate(order.tolist()):
        if coef[k] == 0 or size[k] > room:
            continue
        before = np.zeros(len(size), dtype=bool)
        before[cover] = True
        before[order[:position]] = True
        best = max(coef[s[before[s]]].sum() + coef[k] for s in fitting if k in s)
        assert best == pytest.approx(rhs), "a lifted coefficient that could be larger"


def test_the_cheapest_cover_is_the_least_cost_one():
    size = np.asarray([5.0, 4.0, 3.0, 3.0, 2.0])
    cost = np.asarray([0.1, 0.5, 0.2, 0.2, 0.9])
    cover = cuts._cheapest_cover(cost, size, 9.0)  # a cover exceeds 9 patients
    brute = min(
        (
            s
            for r in range(6)
            for s in itertools.combinations(range(5), r)
            if size[list(s)].sum() > 9
        ),
        key=lambda s: cost[list(s)].sum(),
    )
    assert cover is not None and cost[cover].sum() == pytest.approx(cost[list(brute)].sum())
    assert cuts._cheapest_cover(cost, size, 17.0) is None  # all of them fit


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tight_instances())
def test_highs_with_the_cuts_finds_the_plain_optimum(inst: Instance):
    arrays = model_arrays(inst)
    plain = run_highs(arrays, inst, SolveOptions(time_limit=30), 30)
    with_cuts = cuts.with_cuts(arrays, cuts.cover_cuts(inst, arrays, deadline=time.time() + 30))
    ours = run_highs(with_cuts, inst, SolveOptions(time_limit=30), 30)
    assert ours.status == plain.status
    if plain.status == "optimal":
        assert ours.objective == pytest.approx(plain.objective, abs=1e-6)


def _lp_bound(arrays) -> float:
    lp = highs_from_arrays(arrays)
    lp.setOptionValue("solve_relaxation", True)
    lp.run()
    return float(lp.getInfo().objective_function_value)


def test_on_pmedcap_the_cuts_raise_the_lp_bound_and_keep_the_optimum():
    """pmedcap1 #1: the cuts raise the LP bound, which stays below the optimum, and the
    optimal grouping (proven by the branch-and-price) keeps every cut."""
    case = instances.pmedcap(1)
    inst = case.instance
    arrays = model_arrays(inst)
    found = cuts.cover_cuts(inst, arrays, deadline=time.time() + 60)
    assert found
    cut_rows = cuts.with_cuts(arrays, found)
    assert _lp_bound(arrays) + 1.0 < _lp_bound(cut_rows) <= case.optimum
    best = branch_price.solve(inst, deadline=time.time() + 120)
    assert best.status == "optimal" and best.objective == case.optimum
    values = cut_rows.columns(inst, best.hub_of)
    assert (_activity(cut_rows, values)[arrays.num_row :] <= 1e-9).all()
    assert objective_value(inst, best.hub_of) == case.optimum


def test_a_deadline_already_past_adds_no_cut():
    inst = instances.pmedcap(1).instance
    assert cuts.cover_cuts(inst, model_arrays(inst), deadline=time.time() - 1.0) == []
    assert math.isfinite(_lp_bound(model_arrays(inst)))
