"""Worker processes for parallel solves: how many, how they are started, and the one
component of a portfolio that runs beside the lead (:class:`Beside`)."""

from __future__ import annotations

import atexit
import contextlib
import multiprocessing
import os
import pickle
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.context import ForkServerContext, SpawnContext

from mergeopt.engine.instance import Instance
from mergeopt.engine.options import SolveOptions
from mergeopt.engine.outcome import Outcome
from mergeopt.engine.shared import Shared

#: A component of the portfolio: an instance, options, a deadline
#: (``time.perf_counter()``) and the shared channel in, the one outcome type out. It
#: offers the groupings it finds and proves its bounds through the channel as it goes,
#: and returns by the deadline. A module-level function (it is sent to a process).
Strategy = Callable[[Instance, SolveOptions, float, Shared], Outcome]

#: How much lower the priority of a strategy beside the lead is (``os.nice``).
BESIDE_NICE = 10
#: Modules the process server imports once, so that each worker starts without
#: importing numpy, SciPy and HiGHS again.
PRELOAD = ["mergeopt.engine.portfolio"]
#: Seconds a process that is exiting waits for a worker's start under way to finish.
EXIT_WAIT = 10.0


def process_context() -> ForkServerContext | SpawnContext:
    """forkserver where there is one (never fork a process that has solver threads)."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(server_preload())
        return context
    return multiprocessing.get_context("spawn")


def server_preload() -> list[str]:
    """The modules the process server imports once, so that no worker imports them
    again: :data:`PRELOAD`, every module of mergeopt this program has imported, and the
    module it runs with ``python -m``.

    Each worker imports the program's main module as it starts (multiprocessing's way to
    find what the main module defines), and with it whatever that imports. The
    ``mergeopt`` command's main module imports the whole CLI (1.8 s): each strategy
    started beside a lead spent 1.0-1.4 s of its CPU importing it again, not 0.2 s.
    A package's ``__main__`` (``python -m mergeopt``) is neither imported by the workers
    nor here: it runs the CLI."""
    loaded = sorted(
        name
        for name in list(sys.modules)
        if name.partition(".")[0] == "mergeopt" and not name.endswith("__main__")
    )
    main = sys.modules.get("__main__")
    name = getattr(getattr(main, "__spec__", None), "name", None)
    run = [name] if name is not None and not name.endswith("__main__") else []
    return list(dict.fromkeys([*PRELOAD, *loaded, *run]))


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity, e.g. a container's share)."""
    affinity = getattr(os, "sched_getaffinity", None)
    if affinity is not None:
        return max(1, len(affinity(0)))
    return max(1, os.cpu_count() or 1)


def spare_cpu(threads: int | None) -> bool:
    """Whether this solve may start a process on a second CPU: not told one thread, and
    allowed to start a process at all (:func:`may_start_process`)."""
    cpus = threads if threads is not None else usable_cpus()
    return cpus >= 2 and may_start_process()


def may_start_process() -> bool:
    """Whether multiprocessing may start a process from this one: not in a daemonic
    worker (a Dask worker, or a strategy beside a lead), where a :class:`Beside` is a new
    interpreter instead (:class:`Interpreter`). A lane's process may: it is not
    daemonic."""
    return not multiprocessing.current_process().daemon


#: What :meth:`Beside.result` says of a strategy that had not ended by the time given.
OVERRAN = "overran and was stopped"


class Beside:
    """A strategy in a second process, beside the lead in this one, to the same deadline.

    The process is started from a background thread, so the lead never waits for it
    (the first start also starts the process server), after ``delay`` seconds: a lead
    that ends sooner runs alone. Messages come back on :attr:`conn` (groupings and
    bounds as they are found, read by :meth:`Shared.receive`; then ``("done",
    Outcome)`` or ``("failed", words)``). :meth:`stop` ends it at once, whether or not
    it has started yet (and then it never starts). From a daemonic process (a Dask
    worker) the process is a new interpreter (:class:`Interpreter`).
    """

    def __init__(
        self,
        strategy: Strategy,
        inst: Instance,
        options: SolveOptions,
        deadline: float,
        *,
        nice: int = BESIDE_NICE,
        delay: float = 0.0,
    ) -> None:
        context = process_context()
        self.conn, child = context.Pipe(duplex=True)
        wall_deadline = time.time() + (deadline - time.perf_counter())
        args = (child, strategy, inst, options, wall_deadline, nice)
        self.process: multiprocessing.process.BaseProcess | Interpreter
        if may_start_process():
            self.process = context.Process(target=run_beside, args=args, daemon=True)
        else:
            self.process = Interpreter(child, args[1:])
        self.error = ""
        self._child: Connection | None = child
        self._lock = threading.Lock()
        self._stopped = False
        self._delay = max(float(delay), 0.0)
        self._stopping = threading.Event()
        self._starter = threading.Thread(target=self._start, daemon=True)
        self._starter.start()
        _STARTED.add(self)

    def _start(self) -> None:
        if self._delay and self._stopping.wait(self._delay):
            self._close_child()
            return
        with self._lock:
            if self._stopped:
                self._close_child()
                return
        try:
            self.process.start()
        except (OSError, RuntimeError, pickle.PicklingError) as error:
            # e.g. a script without a __main__ guard
            self.error = f"could not start ({type(error).__name__})"
        finally:
            self._close_child()
        with self._lock:
            if self._stopped:
                self._end()

    def result(self, shared: Shared, until: float) -> tuple[Outcome | None, str]:
        """Wait until ``until`` (``time.perf_counter()``) for the strategy's outcome,
        taking in its groupings and bounds meanwhile; the outcome (or None) and, if
        none, why."""
        while True:
            shared.receive()
            while shared.other:
                kind, payload = shared.other.pop(0)
                if kind == "done":
                    return payload, ""
                if kind == "failed":
                    return None, f"failed ({payload})"
            if self.error:
                return None, self.error
            left = until - time.perf_counter()
            if left <= 0:
                return None, OVERRAN
            if shared.closed() and not self._starter.is_alive():
                return None, "ended without a result"
            shared.wait(left)

    def _close_child(self) -> None:
        if self._child is not None:
            self._child.close()
            self._child = None

    def stop(self) -> None:
        """End the process (now, or as soon as it has started; never, if it has not yet
        been started). The pipe is left to the thread reading it (:class:`Shared`), which
        then reads its end, and is closed once nothing holds it: closed here, under that
        thread, the pipe's number went to the next pipe opened, and the old thread read
        a later strategy's outcome from it (in the suite, "ended without a result")."""
        self._stopping.set()
        with self._lock:
            self._stopped = True
            if not self._starter.is_alive():
                self._end()

    def _end(self) -> None:
        if self.process.pid is None:
            return
        if self.process.is_alive():
            self.process.terminate()
        self.process.join(timeout=5)


class Interpreter:
    """A :class:`Beside`'s worker as a new Python interpreter, for a daemonic process
    (a Dask worker), from which multiprocessing may start no process: the same
    :func:`run_beside`, sharing through the same pipe, whose worker's end it is handed by
    number. What it runs, and this process's ``sys.path`` (a test's strategies are
    imported from it), go to it on its standard input.

    The worker is started with the methods of a multiprocessing process that
    :class:`Beside` uses: :meth:`start`, :attr:`pid`, :meth:`is_alive`,
    :meth:`terminate` and :meth:`join`."""

    def __init__(self, child: Connection, args: tuple[object, ...]) -> None:
        self._fd = child.fileno()
        self._args = args
        self._popen: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return None if self._popen is None else self._popen.pid

    def start(self) -> None:
        payload = pickle.dumps(self._args)  # a strategy that cannot be sent fails here
        code = (
            "import pickle, sys; sys.path[:] = pickle.load(sys.stdin.buffer); "
            f"from mergeopt.engine.processes import serve; serve({self._fd})"
        )
        self._popen = subprocess.Popen(
            [sys.executable, "-c", code], stdin=subprocess.PIPE, pass_fds=(self._fd,)
        )
        assert self._popen.stdin is not None
        with self._popen.stdin as stdin:
            pickle.dump(sys.path, stdin)
            stdin.write(payload)

    def is_alive(self) -> bool:
        return self._popen is not None and self._popen.poll() is None

    def terminate(self) -> None:
        if self._popen is not None:
            self._popen.terminate()

    def join(self, timeout: float | None = None) -> None:
        if self._popen is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._popen.wait(timeout)


def serve(fd: int) -> None:
    """In an :class:`Interpreter`'s worker: what to run, from standard input, run by
    :func:`run_beside` on the pipe ``fd``."""
    strategy, inst, options, wall_deadline, nice = pickle.load(sys.stdin.buffer)
    run_beside(Connection(fd), strategy, inst, options, wall_deadline, nice)


#: Every :class:`Beside` whose starting thread may still run (a running thread keeps
#: its Beside alive).
_STARTED: weakref.WeakSet[Beside] = weakref.WeakSet()


@atexit.register
def _finish_starts() -> None:
    """At exit, each worker is stopped, and a start under way is let finish first (the
    starting thread then ends the worker at once): the starting thread is a daemon, and
    one cut off while it sends the instance left the worker a truncated pickle, whose
    traceback the user saw after a short solve. Registered after multiprocessing's own
    exit handler, so it runs before it."""
    for beside in list(_STARTED):
        beside.stop()
        beside._starter.join(timeout=EXIT_WAIT)


#: How much lower than its parent's this process's priority is, if :func:`run_beside`
#: started it; None in any other process.
_WORKER_NICE: int | None = None


def step_back() -> None:
    """In a worker beside the lead started at a priority above :data:`BESIDE_NICE`,
    lower it to that: the part of its work that had to be done soon is done, and from
    now on the lead should have the CPU whenever it wants it. Nothing in any other
    process (the lead's own, where a strategy may also run) or in a worker already that
    low."""
    global _WORKER_NICE
    if _WORKER_NICE is None or _WORKER_NICE >= BESIDE_NICE:
        return
    with contextlib.suppress(OSError, AttributeError):
        os.nice(BESIDE_NICE - _WORKER_NICE)
    _WORKER_NICE = BESIDE_NICE


def run_beside(
    conn: Connection,
    strategy: Strategy,
    inst: Instance,
    options: SolveOptions,
    wall_deadline: float,
    nice: int = BESIDE_NICE,
) -> None:
    """In the worker: the strategy to a wall-clock deadline, sharing through ``conn``,
    then its outcome (or its error) sent back. A helper runs at a lower priority
    (``nice``, :data:`BESIDE_NICE`), so that on a busy machine it takes CPU time from no
    one's lead, its own included; on an idle one it has its CPU to itself."""
    global _WORKER_NICE
    deadline = time.perf_counter() + (wall_deadline - time.time())
    with contextlib.suppress(OSError, AttributeError):  # e.g. a system without nice
        if nice:
            os.nice(nice)
    _WORKER_NICE = nice
    shared = Shared(inst, exit_when_ended=True)  # a killed run leaves no worker behind
    shared.connect(conn)
    try:
        outcome = strategy(inst, options, deadline, shared)
        # its last grouping and bound go out as every other did: the lead reads the
        # channel at its next look (HiGHS, in its callbacks), the outcome only once it
        # has ended (branch-and-price proves its optimum as its tree ends, and HiGHS beside
        # it ran on to its own proof or time limit)
        shared.offer(outcome.hub_of)
        shared.prove(outcome.bound)
        conn.send(("done", outcome))
    except Exception as error:  # reported beside the lead's result, which still stands
        conn.send(("failed", f"{type(error).__name__}: {error}"))
    finally:
        conn.close()
