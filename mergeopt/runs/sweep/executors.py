"""Where a sweep's scenarios run: local worker processes or a Dask cluster, behind one
interface (:class:`Executor`).

Each scenario's solver runs on one thread unless the config sets ``solver.threads``:
scenarios, not threads, are the parallelism, and the results do not depend on how many
run at once. Either executor runs a scenario lost with its worker again, or reports it
failed; none is lost or written twice.
"""

from __future__ import annotations

import signal
import uuid
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from mergeopt._errors import InputError
from mergeopt._extras import require
from mergeopt.engine.processes import process_context
from mergeopt.runs.sweep.progress import Tracker
from mergeopt.runs.sweep.scenario import Task, solve_scenario
from mergeopt.runs.sweep.table import Row, died_row, failed_row

if TYPE_CHECKING:
    from multiprocessing.context import BaseContext
    from multiprocessing.queues import SimpleQueue


class Executor(Protocol):
    """Runs every task with :func:`~.scenario.solve_scenario`, telling the tracker of each
    row as it finishes and how many are running."""

    def run(self, tasks: list[Task], tracker: Tracker) -> None:
        """Run the tasks; return when every one has a row (Ctrl-C propagates)."""
        ...


def executor_for(*, scheduler: str | None, workers: int) -> Executor:
    """A Dask cluster's executor if a scheduler is named, else ``workers`` local processes."""
    if scheduler:
        return DaskCluster(scheduler)
    return LocalProcesses(workers)


@dataclass(frozen=True)
class LocalProcesses:
    """Scenarios in a pool of ``workers`` local processes.

    If a worker process dies (a crash in native code, the out-of-memory killer), the pool
    breaks: the scenarios that had not started are run again, and those that were running
    are then re-run one at a time, so the one that kills its process is found and marked
    failed while the others finish.
    """

    workers: int

    def run(self, tasks: list[Task], tracker: Tracker) -> None:
        _run_local(tasks, self.workers, tracker)


@dataclass(frozen=True)
class DaskCluster:
    """Scenarios submitted to an existing Dask distributed cluster (``tcp://host:8786``),
    whose workers need mergeopt installed and the same paths (inputs and the sweep
    folder) on a shared file system. A lost worker's task is run again there."""

    scheduler: str

    def run(self, tasks: list[Task], tracker: Tracker) -> None:
        _run_dask(tasks, self.scheduler, tracker)


def _run_local(tasks: list[Task], workers: int, tracker: Tracker) -> None:
    """Solve tasks in local worker processes, re-running what a dead worker took along."""
    context = process_context()
    waiting, suspects = list(tasks), list[Task]()
    idle_breaks = 0
    while waiting or suspects:
        alone = not waiting
        batch = [suspects.pop(0)] if alone else waiting
        waiting = [] if not alone else waiting
        width = 1 if alone else max(1, min(workers, len(batch)))
        broken = _run_pool(batch, width, context, tracker)
        if broken is None:
            continue
        running, not_started = broken
        if alone:
            tracker.finished(
                running[0]["scenario"] if running else batch[0]["scenario"], died_row()
            )
            continue
        idle_breaks = 0 if running else idle_breaks + 1
        if idle_breaks >= 2:  # processes die before running anything: give up on the rest
            for task in not_started + suspects:
                tracker.finished(
                    task["scenario"],
                    died_row(
                        "the worker processes failed to start (their error is printed above)"
                    ),
                )
            return
        suspects += running
        waiting = not_started


def _run_pool(
    batch: list[Task], width: int, context: BaseContext, tracker: Tracker
) -> tuple[list[Task], list[Task]] | None:
    """Run a batch in one process pool; if the pool broke, the (running, not started)."""
    started_queue: SimpleQueue[str] = context.SimpleQueue()
    pool = ProcessPoolExecutor(
        max_workers=width, mp_context=context, initializer=_init_worker, initargs=(started_queue,)
    )
    futures: dict[Future[Row], Task] = {}
    started: set[str] = set()
    finished: set[str] = set()
    broken: list[Task] = []
    try:
        futures = {pool.submit(_local_task, task): task for task in batch}
        pending = set(futures)
        while pending:
            done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            while not started_queue.empty():
                started.add(started_queue.get())
            for future in done:
                task = futures[future]
                error = future.exception()
                if isinstance(error, BrokenProcessPool):
                    broken.append(task)
                    continue
                finished.add(task["scenario"])
                tracker.finished(task["scenario"], failed_row(error) if error else future.result())
            tracker.running(len(started - finished))
    except BaseException:
        _stop(pool)
        raise
    pool.shutdown(wait=True)
    if not broken:
        return None
    while not started_queue.empty():
        started.add(started_queue.get())
    running = [task for task in broken if task["scenario"] in started]
    return running, [task for task in broken if task["scenario"] not in started]


_started_queue: SimpleQueue[str] | None = None


def _init_worker(started_queue: SimpleQueue[str]) -> None:
    """In each local worker: leave Ctrl-C to the sweep, and report scenarios started."""
    global _started_queue
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _started_queue = started_queue


def _local_task(task: Task) -> Row:
    if _started_queue is not None:
        _started_queue.put(task["scenario"])
    return solve_scenario(task)


def _stop(pool: ProcessPoolExecutor) -> None:
    """Stop a pool now: cancel what has not started and end the running workers."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for process in processes:
        process.terminate()
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.join(10)


def _run_dask(tasks: list[Task], scheduler: str, tracker: Tracker) -> None:
    """Submit each scenario to a Dask cluster; a lost worker's task is run again there."""
    dask: Any = require("distributed", purpose=f"a sweep on the Dask cluster {scheduler}")
    try:
        client = dask.Client(scheduler, set_as_default=False)  # distributed.comm.timeouts
    except (OSError, TimeoutError) as exc:
        raise InputError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
    with client:
        token = uuid.uuid4().hex[:8]
        futures = {
            client.submit(solve_scenario, task, key=f"mergeopt-{task['scenario']}-{token}"): task
            for task in tasks
        }
        slots = max(1, sum(client.nthreads().values()))
        outstanding = len(futures)
        tracker.running(min(slots, outstanding))
        try:
            for future in dask.as_completed(futures, loop=client.loop):
                task = futures[future]
                try:
                    row = future.result()
                except Exception as exc:  # KilledWorker, or an error outside the scenario
                    row = failed_row(exc)
                outstanding -= 1
                tracker.finished(task["scenario"], row)
                tracker.running(min(slots, outstanding))
        except BaseException:
            client.cancel(list(futures))
            raise
