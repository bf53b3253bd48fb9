"""One line describing the machine a benchmark ran on, for its results file."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

#: The fixed solve that measures the machine's speed (:func:`calibrate`): the plain
#: model of OR-Library's pmedcap1 #9 on HiGHS, one thread, seed 0. The same work on any
#: run with the same HiGHS (2,904 simplex iterations, one node, in HiGHS 1.16.0), so its
#: seconds compare the machine of one page with another's. Alone on the machine it
#: took 2.11-2.34 s on 2026-12-06 at 22:45 UTC, when the plain model of pmedcap1 #8
#: took 23.6-25.5 s against 13.4 s in the harness run of 19:36 UTC (RESULTS.md): the
#: same kind of machine, half as fast, with no other work on it.
CALIBRATION = "pmedcap1 #9, plain model, HiGHS one thread, seed 0"
_CALIBRATE = """
import time, pulp
from benchmarks.baseline import build_plain
from benchmarks.instances import pmedcap
prob, _ = build_plain(pmedcap(9).instance)
began = time.perf_counter()
prob.solve(pulp.HiGHS(msg=False, threads=1, random_seed=0))
seconds = time.perf_counter() - began
info = prob.solverModel.getInfo()
print(f"calibration {seconds:.6f} {info.simplex_iteration_count}")
"""


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``; elsewhere what ``platform`` says)."""
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.exists() else []
    return next(
        (line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")),
        platform.processor() or "unknown",
    )


def uname() -> str:
    """``uname -a``: the kernel build, which tells two machines of one CPU kind apart."""
    return subprocess.run(["uname", "-a"], capture_output=True, text=True).stdout.strip()


def describe() -> str:
    """``uname -a``, the CPU model and count, and the versions that matter to a timing."""
    return (
        f"{uname()}; {cpu_model()}; {os.cpu_count()} CPUs; Python {platform.python_version()}, "
        f"HiGHS {version('highspy')}, mergeopt {version('mergeopt')}"
    )


def calibrate() -> dict[str, Any] | None:
    """Time the fixed solve (:data:`CALIBRATION`) in a fresh process: its seconds and
    HiGHS's simplex iterations (the work, to check it was the same), or None where it
    could not run (no benchmark data)."""
    done = subprocess.run(
        [sys.executable, "-c", _CALIBRATE], capture_output=True, text=True, cwd=ROOT
    )
    said = [line.split() for line in done.stdout.splitlines() if line.startswith("calibration ")]
    if done.returncode != 0 or not said:
        return None
    return {"seconds": float(said[-1][1]), "iterations": int(said[-1][2])}


def speed(calibrations: list[dict[str, Any] | None]) -> str:
    """The machine's speed during a run, said plainly: the fixed solve's seconds
    (:func:`calibrate`) at its start and its end. A load average counts the benchmark's
    own processes and lags by a minute; this measures how fast the machine did the same
    work."""
    figures = [f for f in calibrations if f is not None]
    if not figures:
        return "machine speed not measured (the calibration solve could not run)"
    times = " and ".join(f"{f['seconds']:.2f} s" for f in figures)
    when = "at the start and the end of the run" if len(figures) == 2 else "once"
    return (
        f"machine speed: a fixed solve ({CALIBRATION}, {figures[0]['iterations']:,} "
        f"simplex iterations) took {times} {when}; the lower, the faster the machine"
    )


def commit() -> str:
    """The git commit measured (short hash), marked when the code differed from it."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True)
        return done.stdout.strip()

    head = git("rev-parse", "--short=12", "HEAD") or "unknown (not a git checkout)"
    code = ("mergeopt", "benchmarks/*.py", "configs", "data", "pyproject.toml")
    changed = git("status", "--porcelain", "--untracked-files=no", "--", *code)
    return head + (" with uncommitted changes" if changed else "")


def load(averages: list[float]) -> str:
    """The 1-minute load averages seen during a run, as figures: they count the
    benchmark's own processes (HiGHS's threads and a strategy beside it may load every
    CPU) and lag by a minute, so they judge nothing alone; :func:`speed` says how fast
    the machine was."""
    cpus = os.cpu_count() or 1
    return (
        f"load average (1 min) {min(averages):.1f} to {max(averages):.1f} on {cpus} CPUs "
        "during the run, the benchmark's own processes included"
    )
