"""The portfolio's channel and its combination: no bound or grouping is lost on the way."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from benchmarks import instances
from mergeopt.engine import portfolio
from mergeopt.engine.instance import objective_value
from mergeopt.engine.options import SolveOptions
from mergeopt.engine.outcome import found, no_grouping
from mergeopt.engine.processes import BESIDE_NICE, Beside, step_back
from mergeopt.engine.shared import Shared
from mergeopt.engine.strategies.large import relaxed_bound
from tests.engine import beside_strategies
from tests.engine.cases import line_instance

LINE = line_instance([0, 1, 2, 10, 11, 12], [1] * 6, max_size=np.full(6, 3.0), count_max=2)
GOOD = np.array([1, 1, 1, 4, 4, 4])
WORSE = np.array([0, 0, 0, 3, 3, 3])


def test_the_channel_keeps_the_best_valid_grouping_and_the_largest_bound() -> None:
    here, there = multiprocessing.Pipe()
    ours, theirs = Shared(LINE, here), Shared(LINE, there)
    assert theirs.offer(WORSE) and theirs.offer(GOOD)
    assert not theirs.offer(WORSE)  # not better
    assert not theirs.offer(np.zeros(6, dtype=np.int64))  # a group above its bound
    assert theirs.prove(3.0) and not theirs.prove(2.0) and not theirs.prove(float("nan"))
    for _ in range(100):
        ours.receive()
        if ours.bound == 3.0 and ours.value == objective_value(LINE, GOOD):
            break
        time.sleep(0.01)
    assert ours.bound == 3.0
    assert ours.best is not None and ours.best.tolist() == GOOD.tolist()
    assert ours.take_fresh() is not None and ours.take_fresh() is None
    assert not ours.proven(1e-6)  # 4 against 3
    ours.prove(objective_value(LINE, GOOD))
    assert ours.proven(1e-6)
    here.close()
    there.close()


def test_a_grouping_of_its_own_is_handed_to_highs_at_its_time_and_once() -> None:
    # the lead's greedy start, kept from HiGHS's first second (portfolio.lead_highs)
    shared = Shared(LINE)
    shared.hand_at(time.perf_counter() + 0.2)
    assert shared.take_fresh() is None  # nothing known yet, and not yet its time
    assert shared.offer(GOOD)
    assert shared.take_fresh() is None  # its own grouping is not fresh before its time
    time.sleep(0.25)
    taken = shared.take_fresh()
    assert taken is not None and taken.tolist() == GOOD.tolist()
    assert shared.take_fresh() is None  # once
    empty = Shared(LINE)
    empty.hand_at(time.perf_counter())
    assert empty.take_fresh() is None and empty.hand_from is None  # nothing to hand


def test_the_report_takes_the_best_bound_of_any_component() -> None:
    value = objective_value(LINE, GOOD)
    ours = found(WORSE, objective_value(LINE, WORSE), 1.0, "Time limit reached")
    theirs = found(GOOD, value, 3.5, "branch-and-price, 3 nodes")
    outcome = portfolio.combine(LINE, ours, theirs, Shared(LINE), "beside")
    assert outcome.hub_of.tolist() == GOOD.tolist()
    assert outcome.bound == 4.0  # 3.5 proven beside, rounded up to the whole objective
    assert outcome.status == "optimal"
    lower = portfolio.combine(LINE, replace(theirs, bound=None), ours, Shared(LINE), "")
    assert lower.bound == 1.0  # the only bound proven, whoever proved it


def test_a_bound_proven_beside_reaches_the_report() -> None:
    """The strategy beside proves its bound only through the channel and returns none."""
    inst = instances.pmedcap(8).instance  # HiGHS alone proves no bound this high in 2 s

    def lead(inst, options, deadline, shared):
        time.sleep(0.5)  # the strategy beside has time to start and prove
        while shared.bound < beside_strategies.CLAIMED and time.perf_counter() < deadline:
            shared.receive()
            time.sleep(0.05)
        start = portfolio.construct(inst)
        return found(start, objective_value(inst, start), None, "lead stopped")

    outcome = portfolio.run_portfolio(  # the strategy beside starts after 1 s of 10
        inst,
        SolveOptions(time_limit=10),
        time.perf_counter() + 10,
        lead,
        beside_strategies.proves_a_bound,
        "test",
    )
    assert outcome.bound == beside_strategies.CLAIMED
    assert not multiprocessing.active_children()


def _highs_on_pmedcap20_beside(strategy, seconds: float, monkeypatch):
    """HiGHS leading on pmedcap #20 (not proven by HiGHS in minutes; pmedcap #8 is proven
    in seconds) for ``seconds``, ``strategy`` beside it from the first second."""
    monkeypatch.setattr(portfolio, "BESIDE_DELAY_MAX", 0.0)
    return portfolio.run_portfolio(
        instances.pmedcap(20).instance,
        SolveOptions(time_limit=seconds),
        time.perf_counter() + seconds,
        portfolio.lead_highs,
        strategy,
        "test",
    )


def test_highs_is_interrupted_once_the_shared_figures_prove_it(monkeypatch) -> None:
    """pmedcap #20 is not proven by HiGHS in minutes (pmedcap #8, used before, is proven
    in seconds); a strategy beside, started at once, that offers a grouping and a bound
    meeting it ends HiGHS's search (given an hour)."""
    outcome = _highs_on_pmedcap20_beside(beside_strategies.proves_the_greedy, 3600, monkeypatch)
    assert outcome.status == "optimal"
    assert "prove the gap tolerance" in outcome.stopped_by
    # HiGHS's own words for the interrupt ("Interrupted by user") are not passed on
    assert outcome.stopped_by.startswith("HiGHS stopped early; ")
    assert "by user" not in outcome.stopped_by
    assert not multiprocessing.active_children()


def test_a_strategy_that_ignores_its_deadline_is_stopped() -> None:
    shared = Shared(LINE)
    beside = Beside(beside_strategies.never_returns, LINE, SolveOptions(), time.perf_counter())
    shared.connect(beside.conn)
    outcome, why = beside.result(shared, time.perf_counter() + 1.0)
    beside.stop()
    assert outcome is None and why == "overran and was stopped"
    assert not multiprocessing.active_children()


def test_stop_leaves_the_pipe_to_its_reader_which_reads_its_end() -> None:
    # closing the pipe under the thread reading it gave its number to the next pipe
    # opened, and the old thread read a later strategy's outcome from that one
    shared = Shared(LINE)
    beside = Beside(
        beside_strategies.never_returns, LINE, SolveOptions(), time.perf_counter() + 30
    )
    shared.connect(beside.conn)
    time.sleep(0.5)
    beside.stop()
    assert not beside.conn.closed
    until = time.perf_counter() + 10
    while not shared.closed() and time.perf_counter() < until:
        shared.wait(0.05)
    assert shared.closed()  # the reader saw the end of the pipe, and stopped
    assert not multiprocessing.active_children()


@pytest.mark.parametrize("threads", [1, None])
def test_one_cpu_or_two_the_portfolio_proves_a_small_case(threads: int | None) -> None:
    outcome = portfolio.solve_instance(LINE, SolveOptions(time_limit=30, threads=threads))
    assert outcome.status == "optimal" and outcome.objective == objective_value(LINE, GOOD)


def test_highs_runs_beside_on_a_model_too_large_to_stop_in_a_call() -> None:
    n = 400  # 160,000 arcs: above the columns where HiGHS's presolve and root overran
    rng = np.random.default_rng(5)
    cost = rng.uniform(0, 100, size=(n, n))
    inst = line_instance(list(range(n)), [1] * n, cost=cost, max_size=np.full(n, 50.0))
    lead, beside, name = portfolio.plan(inst)
    assert (lead, beside, name) == (portfolio.lead_bound_improve, portfolio.highs_whole, "HiGHS")
    assert portfolio.plan(LINE)[0] is portfolio.lead_highs  # HiGHS leads where it fits


def test_a_proof_the_strategy_beside_returns_interrupts_highs(monkeypatch) -> None:
    """A strategy whose proof is only in the outcome it returns (branch-and-price proves
    its optimum when its tree is done) still ends HiGHS's search: its grouping and bound
    go out on the channel before the outcome, and HiGHS reads the channel at its next
    look. Otherwise HiGHS (pmedcap #20: unproven in minutes) ran to its time limit."""
    outcome = _highs_on_pmedcap20_beside(beside_strategies.proves_on_return, 120, monkeypatch)
    assert outcome.status == "optimal"
    assert "HiGHS stopped early" in outcome.stopped_by, outcome.stopped_by
    assert not multiprocessing.active_children()


def test_the_lead_proves_a_bound_when_highs_beside_never_reports() -> None:
    """A model too large for HiGHS to be stopped in a call: HiGHS beside may be stopped
    before its root ends, and the run still reports a bound (doni1 reported none)."""
    n = 60
    rng = np.random.default_rng(11)
    cost = rng.uniform(1, 100, size=(n, n))
    np.fill_diagonal(cost, 0.0)
    inst = line_instance(
        list(range(n)), [1] * n, cost=cost, min_size=8.0, max_size=np.full(n, 12.0), count_max=6
    )
    shared = Shared(inst)
    deadline = time.perf_counter() + 5.0
    outcome = portfolio.lead_bound_improve(inst, SolveOptions(threads=1), deadline, shared)
    assert outcome.hub_of is not None and outcome.bound is not None
    relaxed = relaxed_bound(inst, deadline=deadline)
    assert outcome.bound >= 0.99 * relaxed.bound  # the relaxation's, proven
    assert outcome.bound <= outcome.objective
    reference = portfolio.solve_instance(inst, SolveOptions(time_limit=10, threads=1))
    if reference.status == "optimal":
        assert outcome.bound <= reference.objective + 1e-6


def test_a_strategy_beside_waits_its_delay_and_never_starts_if_stopped_first() -> None:
    beside = Beside(
        beside_strategies.never_returns, LINE, SolveOptions(), time.perf_counter() + 60, delay=30
    )
    time.sleep(0.3)
    beside.stop()
    beside._starter.join(timeout=5)
    assert not beside._starter.is_alive() and beside.process.pid is None
    assert not multiprocessing.active_children()


def test_a_lead_that_proves_within_the_delay_runs_alone(monkeypatch) -> None:
    made: list[Beside] = []

    class Recorded(Beside):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(portfolio, "Beside", Recorded)
    outcome = portfolio.solve_instance(LINE, SolveOptions(time_limit=60, threads=2))
    assert outcome.status == "optimal"
    assert len(made) == 1 and made[0].process.pid is None  # HiGHS proved it in the 6 s alone
    assert portfolio.beside_delay(60.0) == pytest.approx(6.0)
    assert portfolio.beside_delay(600.0) == portfolio.BESIDE_DELAY_MAX
    assert portfolio.beside_delay(-1.0) == 0.0


def test_highs_leads_on_every_cpu_and_another_lead_leaves_one(monkeypatch) -> None:
    """HiGHS as the lead takes both CPUs of two (the strategy beside it starts late, at
    a lower priority); the hub search leaves one to HiGHS beside it."""
    threads: dict[str, int | None] = {}
    highs, hubs = portfolio.lead_highs, portfolio.lead_hub_search

    def highs_lead(inst, options, deadline, shared):
        threads["highs"] = options.threads
        return highs(inst, options, deadline, shared)

    def hub_lead(inst, options, deadline, shared):
        threads["hub search"] = options.threads
        return hubs(inst, options, deadline, shared)

    monkeypatch.setattr(portfolio, "lead_highs", highs_lead)
    monkeypatch.setattr(portfolio, "lead_hub_search", hub_lead)
    assert portfolio.solve_instance(LINE, SolveOptions(time_limit=30, threads=2)).status == (
        "optimal"
    )
    uncapacitated = line_instance([0, 1, 2, 10, 11, 12], [1] * 6, count_min=2, count_max=2)
    assert portfolio.solve_instance(
        uncapacitated, SolveOptions(time_limit=30, threads=2)
    ).status == ("optimal")
    assert threads == {"highs": 2, "hub search": 1}


@pytest.mark.parametrize("nice", [0, BESIDE_NICE])
def test_a_worker_steps_back_to_the_lower_priority_and_the_lead_never_does(nice: int) -> None:
    """A worker started at full priority lowers it to BESIDE_NICE when it steps back (the
    matheuristic, once it has its start); one started there stays; the lead's process,
    where a strategy may also run, keeps its own."""
    own = os.nice(0)
    step_back()
    assert os.nice(0) == own
    shared = Shared(LINE)
    beside = Beside(
        beside_strategies.steps_back, LINE, SolveOptions(), time.perf_counter() + 30, nice=nice
    )
    shared.connect(beside.conn)
    outcome, why = beside.result(shared, time.perf_counter() + 30)
    beside.stop()
    assert outcome is not None, why
    started, lowered = min(own + nice, 19), min(own + BESIDE_NICE, 19)
    assert outcome.stopped_by == f"{started}->{lowered}"
    assert not multiprocessing.active_children()


def test_the_matheuristic_steps_back_once_it_has_its_start(monkeypatch) -> None:
    shared = Shared(LINE)
    seen: list[bool] = []
    monkeypatch.setattr(portfolio, "step_back", lambda: seen.append(shared.best is not None))
    outcome = portfolio.matheuristic(LINE, SolveOptions(), time.perf_counter() + 5, shared)
    assert seen == [True] and outcome.hub_of is not None


@pytest.mark.parametrize(("root", "steps_back"), [(790.0, True), (800.0, False)])
def test_branch_and_price_steps_back_after_a_root_far_from_proving(
    monkeypatch: pytest.MonkeyPatch, root: float, steps_back: bool
) -> None:
    """Beside HiGHS, branch-and-price keeps full priority after its root only if the root's
    bound lies within BNP_STEP_BACK_GAP (5%) of the best grouping (here 840: 790 is 5.95%
    below, 800 is 4.8%)."""
    shared = Shared(LINE)
    shared.value = 840.0
    seen: list[str] = []
    monkeypatch.setattr(portfolio, "step_back", lambda: seen.append("stepped back"))

    def fake_solve(inst, *, deadline, start, on_incumbent, on_bound, on_root, gap):  # type: ignore[no-untyped-def]
        on_root(root)
        return no_grouping(None, "recorded")

    monkeypatch.setattr(portfolio.branch_price, "solve", fake_solve)
    portfolio.branch_and_price(LINE, SolveOptions(), time.perf_counter() + 5, shared)
    assert seen == (["stepped back"] if steps_back else [])


EXIT_DURING_START = """
import threading, time
from multiprocessing import forkserver, popen_forkserver
from mergeopt.engine.options import SolveOptions
from mergeopt.engine.processes import Beside
from tests.engine import beside_strategies
from tests.engine.cases import line_instance

if __name__ == "__main__":
    n = 1500  # an instance that takes a while to send to the worker
    inst = line_instance(list(range(n)), [10] * n, min_size=30.0)
    sending = threading.Event()
    connect = popen_forkserver.forkserver.connect_to_new_process

    def connect_and_tell(fds):
        ends = connect(fds)
        sending.set()  # the instance is pickled, and about to be written to the worker
        return ends

    popen_forkserver.forkserver.connect_to_new_process = connect_and_tell
    forkserver.ensure_running()  # the process server is up: what is left is sending
    beside = Beside(
        beside_strategies.never_returns, inst, SolveOptions(), time.perf_counter() + 30
    )
    sending.wait(30)
    beside.stop()  # the lead ends while the worker is being sent, and so does Python
"""


def test_a_process_that_exits_while_a_worker_starts_prints_nothing(tmp_path) -> None:
    """The worker's start is let finish, and the worker ended, before Python exits: cut
    off, it left the worker half its instance, and a traceback on the user's terminal."""
    script = tmp_path / "short_solve.py"
    script.write_text(EXIT_DURING_START)
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
