"""The portfolio (`solve_instance`): hand-checked optima, brute force, the plain model."""

from __future__ import annotations

import multiprocessing
import re
import time
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks import baseline
from mergeopt.engine import portfolio
from mergeopt.engine.formulation import model_arrays, plain_order
from mergeopt.engine.instance import Instance, objective_value, simple_bound
from mergeopt.engine.options import Progress, SolveOptions
from mergeopt.engine.outcome import PROVEN_GAP, found
from mergeopt.engine.portfolio import solve_instance
from mergeopt.engine.processes import Beside, may_start_process
from mergeopt.engine.shared import Shared
from mergeopt.engine.strategies.heuristics import construct
from mergeopt.engine.strategies.lagrangian import lagrangian_applies, lagrangian_bound
from tests.engine import beside_strategies
from tests.engine.cases import (
    FAST,
    brute_force,
    cost_instance,
    feasible_by_hand,
    line_instance,
    random_instances,
    tiny_instances,
)

#: Four practices on a line, two groups of at most two.
LINE_OF_FOUR = line_instance(
    [0, 1, 10, 11], [1, 1, 1, 1], max_size=np.full(4, 2.0), count_min=2, count_max=2
)


class TestHandChecked:
    def test_two_clusters_of_two(self):
        # 0,1 | 10,11 with capacity 2 and exactly 2 groups: each pair travels 1.
        inst = line_instance(
            [0, 1, 10, 11], [1, 1, 1, 1], max_size=np.full(4, 2.0), count_min=2, count_max=2
        )
        report = solve_instance(inst, FAST)
        assert report.status == "optimal"
        assert report.objective == pytest.approx(2.0)
        assert len(set(report.hub_of.tolist())) == 2

    def test_patient_weighting_puts_hub_at_the_big_practice(self):
        # One group of three: the hub should be the 100-patient practice at 5.
        inst = line_instance([0, 5, 6], [1, 100, 1], count_max=1)
        report = solve_instance(inst, FAST)
        assert report.hub_of.tolist() == [1, 1, 1]
        assert report.objective == pytest.approx(5 * 1 + 1 * 1)

    def test_minimum_size_forces_merging(self):
        # Sizes 10 each, minimum 30: all four must form one group; best hub at 1 or 2.
        inst = line_instance([0, 1, 2, 3], [10, 10, 10, 10], min_size=30.0)
        report = solve_instance(inst, FAST)
        assert len(set(report.hub_of.tolist())) == 1
        assert report.objective == pytest.approx(10 * (1 + 0 + 1 + 2))

    def test_premises_capacity_limits_the_hub(self):
        # The middle practice would be the best hub but its premises serve only 15.
        inst = line_instance(
            [0, 1, 2], [10, 10, 10], count_max=1, max_size=np.array([np.inf, 15.0, np.inf])
        )
        report = solve_instance(inst, FAST)
        assert report.hub_of[0] != 1
        assert report.objective == pytest.approx(10 * 1 + 10 * 2)

    def test_fixed_takeover_overrides_proximity(self):
        # P0 is fixed into P3's group although P1 is next door.
        inst = line_instance([0, 1, 9, 10], [1, 1, 1, 1], fixed=((0, 3),))
        report = solve_instance(inst, FAST)
        assert report.hub_of[0] == 3 and report.hub_of[3] == 3

    def test_must_and_cannot_link(self):
        inst = line_instance([0, 1, 10, 11], [1, 1, 1, 1], count_max=2, must_link=((0, 3),))
        report = solve_instance(inst, FAST)
        assert report.hub_of[0] == report.hub_of[3]
        inst = line_instance([0, 1, 2], [1, 1, 1], count_max=2, cannot_link=((0, 1),))
        report = solve_instance(inst, FAST)
        assert report.hub_of[0] != report.hub_of[1]

    def test_travel_limit_as_disallowed_arcs(self):
        allowed = np.array([[1, 1, 0], [1, 1, 1], [0, 1, 1]], dtype=bool)
        inst = line_instance([0, 1, 2], [1, 1, 1], count_max=1, allowed=allowed)
        assert solve_instance(inst, FAST).hub_of.tolist() == [1, 1, 1]

    def test_infeasible_is_reported_not_hidden(self):
        inst = line_instance([0, 1], [10, 10], min_size=25.0)
        report = solve_instance(inst, FAST)
        assert report.status == "infeasible" and report.hub_of is None

    def test_moved_patients_term_keeps_current_groups(self):
        # Travel alone would pair (0,1) and (2,3); current groups are {0,2} and {1,3}.
        two = {"count_min": 2, "count_max": 2, "max_size": np.full(4, 2.0)}
        base = line_instance([0, 1, 3, 4], [1, 1, 1, 1], **two)
        moved = line_instance(
            [0, 1, 3, 4],
            [1, 1, 1, 1],
            **two,
            group_id=np.array([0, 1, 0, 1]),
            weights=(1.0, 100.0, 0.0, 0.0),
        )
        assert solve_instance(base, FAST).objective == pytest.approx(2.0)
        report = solve_instance(moved, FAST)
        assert report.hub_of[0] == report.hub_of[2] and report.hub_of[1] == report.hub_of[3]


def test_time_limit_is_never_called_optimal():
    """A run stopped by its time limit is 'feasible' or 'no_solution', never 'optimal'."""
    rng = np.random.default_rng(7)
    n = 100  # an OR-Library pmedcap1-sized instance: 10 groups of at most 120
    xy = rng.uniform(0, 100, size=(n, 2))
    cost = np.floor(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)))
    inst = cost_instance(
        cost,
        rng.integers(1, 20, n).astype(float),
        max_size=np.full(n, 120.0),
        count_min=10,
        count_max=10,
        travel_by_size=False,
    )
    assert inst.size.sum() <= 10 * 120  # feasible: only the time limit stops the proof
    report = solve_instance(inst, SolveOptions(time_limit=0.2))
    assert report.status in ("feasible", "no_solution")
    if report.status == "feasible" and report.gap is not None:
        # no bound may be proven yet at 0.2 s (on a loaded machine HiGHS may not finish
        # its root): then there is no gap; a proven one is never 0 for 'feasible'
        assert report.gap > 0


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_instances())
def test_solver_matches_brute_force_and_holds_every_rule(inst: Instance):
    report = solve_instance(inst, FAST)
    best = brute_force(inst)
    if not np.isfinite(best):
        assert report.status == "infeasible"
        return
    assert report.status == "optimal"
    hub_of = report.hub_of
    assert hub_of is not None and len(hub_of) == inst.n  # every practice in one group
    assert feasible_by_hand(inst, hub_of)  # bounds, travel, links, count all hold
    assert report.objective == pytest.approx(objective_value(inst, hub_of), abs=1e-6)
    assert report.objective == pytest.approx(best, abs=1e-6)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_instances())
def test_fast_path_matches_the_plain_model(inst: Instance):
    """Same optimum as the dense baseline wherever both prove optimality; same verdict."""
    ours = solve_instance(inst, FAST)
    plain = baseline.solve_plain(inst, time_limit=30)
    assert (ours.status == "infeasible") == (plain.status == "infeasible")
    if ours.status == "optimal" and plain.status == "optimal":
        assert ours.objective == pytest.approx(plain.objective, abs=1e-6)
        assert ours.objective == pytest.approx(objective_value(inst, ours.hub_of), abs=1e-6)
    if ours.bound is not None and plain.objective is not None:
        assert ours.bound <= plain.objective + 1e-6  # a proven bound never cuts off the optimum
    if plain.status == "optimal" and lagrangian_applies(inst):
        _lagrangian_keeps_the_optimum(inst, plain.hub_of, plain.objective)
    if plain.status == "optimal":  # the same grouping problem in units of 137.3 patients
        factor = 137.3
        scaled = replace(
            inst,
            size=inst.size * factor,
            min_size=inst.min_size * factor,
            max_size=inst.max_size * factor,
        )
        if lagrangian_applies(scaled, scaled=True):
            optimum = plain.objective * (factor if inst.travel_by_size else 1.0)
            _lagrangian_keeps_the_optimum(scaled, plain.hub_of, optimum)


def _lagrangian_keeps_the_optimum(inst: Instance, hub_of: np.ndarray, optimum: float) -> None:
    """Below a bound just above the optimum, nothing the optimum uses is fixed away."""
    lag = lagrangian_bound(inst, optimum + 1.0)
    assert lag.bound <= optimum + 1e-6 * max(1.0, optimum)
    assert not lag.closed[np.unique(hub_of)].any()  # the optimum's hubs stay open
    ai, aj = inst.arcs()
    assert not lag.arc_closed[hub_of[ai] == aj].any()  # and so do its arcs


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    random_instances(),
    st.sampled_from([1e-6, 0.01, 0.1, 0.5]),
    st.sampled_from([0.05, 0.5, 30.0]),
)
def test_the_detail_never_claims_a_tolerance_the_gap_does_not_show(
    inst: Instance, tolerance: float, limit: float
):
    outcome = solve_instance(inst, SolveOptions(time_limit=limit, gap=tolerance))
    for claimed in re.findall(r"gap tolerance (\S+) reached", outcome.stopped_by):
        assert outcome.gap is not None and outcome.gap <= float(claimed)
    line = outcome.status_line()
    if outcome.status == "feasible":
        shown = f"{outcome.gap:.3%}" if outcome.gap is not None else "unknown"
        assert f"within {shown} of the best possible" in line
    if outcome.status == "optimal":
        assert outcome.gap is not None and outcome.gap <= PROVEN_GAP
    if outcome.hub_of is not None and outcome.gap is not None and outcome.gap <= PROVEN_GAP:
        assert outcome.status == "optimal"  # a proven gap is never left "feasible"


def test_a_region_whose_improved_grouping_meets_the_bound_is_optimal(
    monkeypatch: pytest.MonkeyPatch,
):
    """HiGHS stops unproven with the optimum's value as its bound and a worse grouping; the
    matheuristic then finds a grouping of that value: proven, so "optimal" (it was left
    "feasible, not proven optimal: within 0.000%")."""
    inst = line_instance(
        [0, 1, 2, 10, 11, 12, 20, 21, 22, 30], [1] * 10, max_size=np.full(10, 3.0)
    )
    best = solve_instance(inst, FAST)
    assert best.status == "optimal" and best.objective is not None
    worse = np.array([2, 2, 2, 3, 3, 3, 6, 6, 6, 9])  # hubs at the ends, not the middles
    stopped = found(worse, objective_value(inst, worse), best.objective, "Time limit reached")
    assert stopped.status == "feasible" and stopped.objective > best.objective
    monkeypatch.setattr(portfolio, "highs_whole", lambda *args: stopped)
    monkeypatch.setattr(portfolio, "hub_search_applies", lambda inst: False)
    one_cpu = replace(FAST, threads=1)  # HiGHS, then the matheuristic, in turn
    region = portfolio.solve_region(inst, one_cpu, time.perf_counter() + 30.0)
    assert region.objective == pytest.approx(best.objective)
    assert region.status == "optimal" and region.gap == 0.0
    assert region.stopped_by == "Time limit reached; grouping meets the proven bound"


def test_a_region_highs_leaves_without_a_bound_gets_the_relaxation_bound(
    monkeypatch: pytest.MonkeyPatch,
):
    """On one CPU (a nested run's regions in lanes), HiGHS may stop at its limit before
    its root gives a bound (all of England at a 38-minute limit in 60 s: 42 of 53
    regions). The bound reported is then the p-median relaxation's, with the group
    count the list sizes allow, not the cheapest-arc bound (0 where each practice may
    be its own hub)."""
    inst = line_instance(
        [0, 1, 2, 10, 11, 12, 20, 21, 22], [1] * 9, min_size=3.0, max_size=np.full(9, 3.0)
    )
    best = solve_instance(inst, FAST)
    assert best.status == "optimal" and best.objective == pytest.approx(6.0)
    assert simple_bound(inst) == 0.0
    worse = np.array([0, 0, 0, 3, 3, 3, 6, 6, 6])  # hubs at the ends
    stopped = found(worse, objective_value(inst, worse), None, "Time limit reached")
    monkeypatch.setattr(portfolio, "highs_whole", lambda *args: stopped)
    monkeypatch.setattr(portfolio, "hub_search_applies", lambda inst: False)
    monkeypatch.setattr(portfolio, "improve", lambda inst, best, *args, **kwargs: best)
    one_cpu = replace(FAST, threads=1)
    region = portfolio.solve_region(inst, one_cpu, time.perf_counter() + 30.0)
    assert region.objective == pytest.approx(9.0)  # HiGHS's grouping, kept
    assert region.bound == pytest.approx(6.0)  # three groups at most: the optimum
    assert region.status == "feasible" and region.gap == pytest.approx(1 / 3)


def test_one_cpu_highs_whose_root_overruns_is_stopped_with_what_it_shared():
    """On one CPU, HiGHS on a model whose root may overrun runs in a second process
    (:func:`portfolio.highs_apart`), stopped once the deadline and the grace have
    passed; what it shared before (a grouping and a bound) is the outcome. ICB QRV at
    38 minutes ran 11.4 s past a 30 s limit in HiGHS's analytic centre in process."""
    inst = line_instance(
        [0, 1, 2, 10, 11, 12], [1] * 6, max_size=np.full(6, 3.0), count_min=2, count_max=2
    )
    shared = Shared(inst)
    deadline = time.perf_counter() + 1.0
    outcome = portfolio.highs_apart(
        inst,
        replace(FAST, threads=1),
        deadline,
        shared,
        strategy=beside_strategies.offers_then_overruns,
    )
    assert time.perf_counter() < deadline + 30.0  # stopped, not waited for
    start = construct(inst)
    assert start is not None
    value = objective_value(inst, start)
    assert value > 0
    assert outcome.status == "feasible"
    assert outcome.objective == pytest.approx(value)
    assert outcome.bound == pytest.approx(value / 2)
    assert outcome.stopped_by == "HiGHS overran and was stopped"
    assert not multiprocessing.active_children()


def test_one_cpu_highs_apart_reports_where_it_stands_as_it_runs():
    """A run with a progress hook (``solver.threads: 1`` on a large model) hears, while
    HiGHS runs in the second process, the grouping and bound it has shared so far."""
    inst = line_instance(
        [0, 1, 2, 10, 11, 12], [1] * 6, max_size=np.full(6, 3.0), count_min=2, count_max=2
    )
    heard: list[Progress] = []
    options = replace(FAST, threads=1, progress=heard.append)
    outcome = portfolio.highs_apart(
        inst,
        options,
        time.perf_counter() + 2.5,
        Shared(inst),
        strategy=beside_strategies.offers_then_overruns,
    )
    assert outcome.objective is not None and outcome.bound is not None
    told = [p for p in heard if p.objective is not None and p.bound is not None]
    assert told, heard
    assert told[-1].objective == pytest.approx(outcome.objective)
    assert told[-1].bound == pytest.approx(outcome.bound)
    assert told[-1].gap == pytest.approx(0.5)
    assert not multiprocessing.active_children()


def test_one_cpu_highs_on_a_large_model_runs_apart_and_proves_the_same(
    monkeypatch: pytest.MonkeyPatch,
):
    """Where HiGHS's root may overrun (here every model counts as large), one CPU's
    HiGHS runs in a second process, and its outcome is the one HiGHS gives in this
    process; a small model stays in this process."""
    inst = line_instance(
        [0, 1, 2, 10, 11, 12, 20, 21, 22, 30], [1] * 10, max_size=np.full(10, 3.0)
    )
    monkeypatch.setattr(portfolio, "hub_search_applies", lambda inst: False)
    one_cpu = replace(FAST, threads=1)
    here = portfolio.solve_region(inst, one_cpu, time.perf_counter() + 30.0)
    calls: list[str] = []
    apart = portfolio.highs_apart

    def spy(*args, **kwargs):
        calls.append("apart")
        return apart(*args, **kwargs)

    monkeypatch.setattr(portfolio, "highs_apart", spy)
    again = portfolio.solve_region(inst, one_cpu, time.perf_counter() + 30.0)
    assert again.objective == pytest.approx(here.objective)
    assert calls == []  # 10 practices: HiGHS here
    monkeypatch.setattr(portfolio, "PRESOLVE_MAX_COLS", 0)
    there = portfolio.solve_region(inst, one_cpu, time.perf_counter() + 30.0)
    assert calls == ["apart"]
    assert here.status == there.status == "optimal"
    assert there.objective == pytest.approx(here.objective)
    assert there.bound == pytest.approx(here.bound)
    assert not multiprocessing.active_children()


def test_a_worker_beside_a_lead_may_start_no_process():
    """A strategy beside a lead runs in a daemonic process, from which multiprocessing
    may start none (:func:`processes.may_start_process`)."""
    shared = Shared(LINE_OF_FOUR)
    beside = Beside(
        beside_strategies.says_whether_it_may_start_a_process,
        LINE_OF_FOUR,
        FAST,
        time.perf_counter() + 30.0,
    )
    shared.connect(beside.conn)
    outcome, why = beside.result(shared, time.perf_counter() + 30.0)
    beside.stop()
    assert outcome is not None, why
    assert outcome.stopped_by == "False"
    assert may_start_process()  # this process (a test process) may


def test_one_cpu_highs_apart_from_a_daemonic_process_is_stopped_too():
    """From a daemonic process (as a Dask worker is), one CPU's HiGHS on a large model
    runs apart in a new interpreter and is stopped at the deadline as from any other:
    multiprocessing may start no process there, so HiGHS ran in the worker itself and
    overran the limit as in ICB QRV's root."""
    inst = line_instance(
        [0, 1, 2, 10, 11, 12], [1] * 6, max_size=np.full(6, 3.0), count_min=2, count_max=2
    )
    shared = Shared(inst)
    beside = Beside(
        beside_strategies.overruns_apart, inst, FAST, time.perf_counter() + 2.0, nice=0
    )
    shared.connect(beside.conn)
    outcome, why = beside.result(shared, time.perf_counter() + 60.0)
    beside.stop()
    assert outcome is not None, why
    start = construct(inst)
    assert start is not None
    assert outcome.stopped_by == "HiGHS overran and was stopped"
    assert outcome.objective == pytest.approx(objective_value(inst, start))
    assert outcome.bound == pytest.approx(objective_value(inst, start) / 2)


def test_one_cpu_highs_apart_that_cannot_start_a_process_runs_here(
    monkeypatch: pytest.MonkeyPatch,
):
    """Where no second process can be started (here every start fails), one CPU's HiGHS
    on a large model runs in this process, as on a small one: the solve still has a
    grouping, not "could not start"."""
    from multiprocessing.context import ForkServerProcess, SpawnProcess

    def fails(self):
        raise OSError("no process for this test")

    monkeypatch.setattr(ForkServerProcess, "start", fails)
    monkeypatch.setattr(SpawnProcess, "start", fails)
    inst = line_instance(
        [0, 1, 2, 10, 11, 12], [1] * 6, max_size=np.full(6, 3.0), count_min=2, count_max=2
    )
    outcome = portfolio.highs_apart(
        inst,
        replace(FAST, threads=1),
        time.perf_counter() + 1.0,
        Shared(inst),
        strategy=beside_strategies.proves_on_return,
    )
    assert outcome.stopped_by == "proved on return"
    assert outcome.objective is not None


def test_highs_returning_its_start_as_optimal_is_not_believed():
    """A 5-practice draw on which HiGHS 1.16 (presolve, a start) answered 'Optimal' with
    the start unchanged (9) and a bound of 6: the portfolio reported 'feasible' at 9.

    Solved again without presolve, the true optimum 6 is proven.
    """
    inst = Instance(
        codes=("P0", "P1", "P2", "P3", "P4"),
        size=np.array([1.0, 3.0, 1.0, 3.0, 3.0]),
        cost=np.array(
            [
                [0.0, 1, 2, 2, 1],
                [1, 0, 3, 3, 2],
                [2, 3, 0, 0, 1],
                [2, 3, 0, 0, 1],
                [1, 2, 1, 1, 0],
            ]
        ),
        allowed=np.ones((5, 5), dtype=bool),
        min_size=2.0,
        max_size=np.full(5, 9.0),
        can_hub=np.array([True, False, True, False, True]),
        must_hub=np.zeros(5, dtype=bool),
        must_link=((0, 1),),
        weights=(1.0, 0.0, 0.0, 3.0),
        travel_by_size=True,
    )
    report = solve_instance(inst, FAST)
    assert report.status == "optimal"
    assert report.objective == pytest.approx(brute_force(inst)) == pytest.approx(6.0)


@pytest.mark.parametrize(
    ("lead", "strategy", "nice"),
    [
        (portfolio.lead_highs, portfolio.matheuristic, 0),  # the source of the grouping
        (portfolio.lead_bound_improve, portfolio.highs_whole, 0),  # the source of the bound
        (portfolio.lead_highs, portfolio.branch_and_price, 0),  # it steps back itself
        (portfolio.lead_highs, portfolio.fixing, portfolio.BESIDE_NICE),
    ],
)
def test_what_runs_beside_at_full_priority(
    monkeypatch: pytest.MonkeyPatch, lead: object, strategy: object, nice: int
) -> None:
    """The matheuristic beside HiGHS is where an ICB's grouping comes from: at a lower
    priority on a busy machine its LP-guided start never ended (ICB QOP kept the greedy
    grouping, 19% worse), so it starts at full priority, as HiGHS beside does (it steps
    back once it has its start: test_shared.py), and branch-and-price, which steps back
    after a root far from proving."""
    seen: list[int] = []
    delays: list[float] = []

    class Recorder:
        def __init__(self, *args: object, nice: int, delay: float) -> None:
            seen.append(nice)
            delays.append(delay)
            raise RuntimeError("recorded")

    monkeypatch.setattr(portfolio, "Beside", Recorder)
    inst = line_instance([0, 1, 2], [1, 1, 1])
    with pytest.raises(RuntimeError, match="recorded"):
        portfolio.run_portfolio(inst, SolveOptions(), time.perf_counter() + 1, lead, strategy, "x")  # type: ignore[arg-type]
    assert seen == [nice]
    # HiGHS beside a lead that proves nothing starts at once; a strategy beside HiGHS
    # once HiGHS has had a tenth of the time alone
    assert (delays[0] == 0.0) == (lead is portfolio.lead_bound_improve)
    assert 0.0 <= delays[0] <= 0.1


@pytest.mark.parametrize(
    ("strategy", "delay"),
    [(portfolio.branch_and_price, portfolio.BNP_DELAY_MAX), (portfolio.fixing, 6.0)],
)
def test_branch_and_price_starts_beside_highs_within_a_second(
    monkeypatch: pytest.MonkeyPatch, strategy: object, delay: float
) -> None:
    """On a 60 s solve a strategy beside HiGHS starts after 6 s, branch-and-price (which
    proves OR-Library's kind sooner than HiGHS) after BNP_DELAY_MAX."""
    delays: list[float] = []

    class Recorder:
        def __init__(self, *args: object, nice: int, delay: float) -> None:
            delays.append(delay)
            raise RuntimeError("recorded")

    monkeypatch.setattr(portfolio, "Beside", Recorder)
    inst = line_instance([0, 1, 2], [1, 1, 1])
    with pytest.raises(RuntimeError, match="recorded"):
        portfolio.run_portfolio(
            inst,
            SolveOptions(),
            time.perf_counter() + 60,
            portfolio.lead_highs,
            strategy,
            "x",  # type: ignore[arg-type]
        )
    assert delays[0] == pytest.approx(delay, abs=0.05)


def test_highs_leads_on_its_own_path_and_is_handed_the_start_later(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """HiGHS leading takes the path it takes alone: the model in the plain order, no start
    at its first second; the greedy start is kept (reported if HiGHS finds nothing better)
    and handed to HiGHS once the strategy beside starts."""
    seen: dict[str, object] = {}

    def recorder(arrays, inst, options, left, start, *, shared):  # type: ignore[no-untyped-def]
        seen.update(arrays=arrays, start=start, hand_from=shared.hand_from, best=shared.best)
        return found(shared.best, shared.value, None, "Time limit reached")

    monkeypatch.setattr(portfolio, "run_highs", recorder)
    inst = line_instance([0, 1, 2, 10, 11, 12], [1] * 6, max_size=np.full(6, 3.0))
    began = time.perf_counter()
    outcome = portfolio.run_portfolio(
        inst, SolveOptions(), began + 20.0, portfolio.lead_highs, portfolio.matheuristic, "x"
    )
    assert seen["start"] is None and seen["best"] is not None
    assert outcome.hub_of is not None and outcome.hub_of.tolist() == seen["best"].tolist()  # type: ignore[attr-defined]
    delay = portfolio.beside_delay(20.0)
    assert began + 0.9 * delay <= seen["hand_from"] <= time.perf_counter() + delay  # type: ignore[operator]
    plain = plain_order(model_arrays(inst))
    assert seen["arrays"].col_names == plain.col_names  # type: ignore[attr-defined]
    assert seen["arrays"].row_names == plain.row_names  # type: ignore[attr-defined]
    assert portfolio.plan(inst)[0] is portfolio.lead_highs
