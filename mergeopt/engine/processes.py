"""Worker processes for parallel solves: how many, and how they are started."""

from __future__ import annotations

import multiprocessing
import os
from multiprocessing.context import ForkServerContext, SpawnContext


def process_context() -> ForkServerContext | SpawnContext:
    """forkserver where there is one (never fork a process that has solver threads)."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("forkserver")
    return multiprocessing.get_context("spawn")


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity, e.g. a container's share)."""
    affinity = getattr(os, "sched_getaffinity", None)
    if affinity is not None:
        return max(1, len(affinity(0)))
    return max(1, os.cpu_count() or 1)


def spare_cpu(threads: int | None) -> bool:
    """Whether this solve may start a process on a second CPU: not told one thread, and
    not itself in a daemonic worker (a lane, a sweep's pool, a Dask worker), which may
    start none."""
    cpus = threads if threads is not None else usable_cpus()
    return cpus >= 2 and not multiprocessing.current_process().daemon
