"""Strategies for the portfolio's tests, at module level so a worker process can run them."""

from __future__ import annotations

import os
import time
from dataclasses import replace

from mergeopt.engine.instance import Instance, objective_value
from mergeopt.engine.options import SolveOptions
from mergeopt.engine.outcome import Outcome, found, no_grouping
from mergeopt.engine.processes import may_start_process, step_back
from mergeopt.engine.shared import Shared
from mergeopt.engine.strategies.heuristics import construct

#: The bound :func:`proves_a_bound` claims, below any grouping of the test instances.
CLAIMED = 1.0


def proves_a_bound(
    inst: Instance, options: SolveOptions, deadline: float, shared: Shared
) -> Outcome:
    """Proves :data:`CLAIMED` through the channel, then returns no grouping and no bound:
    only the channel carries the bound to the report."""
    shared.prove(CLAIMED)
    return no_grouping(None, "proved a bound on the way")


def proves_the_greedy(
    inst: Instance, options: SolveOptions, deadline: float, shared: Shared
) -> Outcome:
    """Offers the greedy grouping and claims its value as a bound (a test of the channel,
    not a real proof), then waits for the deadline."""
    start = construct(inst)
    assert start is not None
    shared.offer(start)
    shared.prove(objective_value(inst, start))
    while time.perf_counter() < deadline:
        time.sleep(0.05)
    return found(start, objective_value(inst, start), None, "waited")


def proves_on_return(
    inst: Instance, options: SolveOptions, deadline: float, shared: Shared
) -> Outcome:
    """Returns the greedy grouping with its value as the bound (a test of the channel, not
    a real proof), having sent nothing on the way: as a search that proves its optimum
    only when its tree is done."""
    start = construct(inst)
    assert start is not None
    value = objective_value(inst, start)
    return found(start, value, value, "proved on return")


def never_returns(
    inst: Instance, options: SolveOptions, deadline: float, shared: Shared
) -> Outcome:
    """Ignores its deadline."""
    while True:
        time.sleep(0.05)


def steps_back(inst: Instance, options: SolveOptions, deadline: float, shared: Shared) -> Outcome:
    """Steps back (:func:`~mergeopt.engine.processes.step_back`) and says its priority
    before and after, as ``"before->after"``, in the outcome's ``stopped_by``."""
    before = os.nice(0)
    step_back()
    after = os.nice(0)
    start = construct(inst)
    assert start is not None
    return found(start, objective_value(inst, start), None, f"{before}->{after}")


def offers_then_overruns(
    inst: Instance, options: SolveOptions, deadline: float, shared: Shared
) -> Outcome:
    """Offers the greedy grouping and claims half its value as a bound (a test of the
    channel, not a real proof), then runs on past its deadline: as HiGHS in a root step
    that does not look at the clock."""
    start = construct(inst)
    assert start is not None
    shared.offer(start)
    shared.prove(objective_value(inst, start) / 2)
    while True:
        time.sleep(0.05)


def says_whether_it_may_start_a_process(
    inst: Instance, options: SolveOptions, deadline: float, shared: Shared
) -> Outcome:
    """Says in its outcome's ``stopped_by`` what
    :func:`~mergeopt.engine.processes.may_start_process` answers in a worker."""
    return no_grouping(None, str(may_start_process()))


def overruns_apart(
    inst: Instance, options: SolveOptions, deadline: float, shared: Shared
) -> Outcome:
    """One CPU's HiGHS run apart (:func:`~mergeopt.engine.portfolio.highs_apart`) from
    where this runs, as :func:`offers_then_overruns`: what it reports."""
    from mergeopt.engine import portfolio  # the portfolio imports nothing of the tests

    return portfolio.highs_apart(
        inst, replace(options, threads=1), deadline, Shared(inst), strategy=offers_then_overruns
    )


def apart_in_this_process(seconds: float) -> tuple[bool, Outcome, float, float]:
    """:func:`overruns_apart` on six practices in two groups, to ``seconds`` from now:
    whether this process is daemonic, the outcome, the greedy grouping's value and how
    many seconds past the deadline it returned. Sent to a Dask worker."""
    import multiprocessing

    import numpy as np

    from tests.engine.cases import line_instance

    inst = line_instance(
        [0, 1, 2, 10, 11, 12], [1] * 6, max_size=np.full(6, 3.0), count_min=2, count_max=2
    )
    start = construct(inst)
    assert start is not None
    deadline = time.perf_counter() + seconds
    outcome = overruns_apart(inst, SolveOptions(), deadline, Shared(inst))
    past = time.perf_counter() - deadline
    return multiprocessing.current_process().daemon, outcome, objective_value(inst, start), past


def says_where_the_cli_came_from(
    inst: Instance, options: SolveOptions, deadline: float, shared: Shared
) -> Outcome:
    """Says in ``stopped_by`` whether the process server this worker was forked from
    imported the CLI before it (``"inherited"``: the server's command line names
    ``mergeopt.cli`` among the modules it imports first) or not (``"imported"``: this
    worker imported it again, with its program's main module)."""
    with open(f"/proc/{os.getppid()}/cmdline", "rb") as server:
        command = server.read().decode(errors="replace")
    return no_grouping(None, "inherited" if "'mergeopt.cli'" in command else "imported")
