"""One line describing the machine a benchmark ran on, for its results file."""

from __future__ import annotations

import os
import platform
import subprocess
from importlib.metadata import version
from pathlib import Path


def describe() -> str:
    """``uname -a``, the CPU model and count, and the versions that matter to a timing."""
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.exists() else []
    cpu = next(
        (line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")),
        platform.processor(),
    )
    uname = subprocess.run(["uname", "-a"], capture_output=True, text=True).stdout.strip()
    return (
        f"{uname}; {cpu}; {os.cpu_count()} CPUs; Python {platform.python_version()}, "
        f"HiGHS {version('highspy')}, mergeopt {version('mergeopt')}"
    )


def commit() -> str:
    """The git commit measured (short hash), marked when the code differed from it."""
    root = Path(__file__).resolve().parents[1]

    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True)
        return done.stdout.strip()

    head = git("rev-parse", "--short=12", "HEAD") or "unknown (not a git checkout)"
    code = ("mergeopt", "benchmarks/*.py", "configs", "data", "pyproject.toml")
    changed = git("status", "--porcelain", "--untracked-files=no", "--", *code)
    return head + (" with uncommitted changes" if changed else "")


def load(averages: list[float]) -> str:
    """The 1-minute load averages seen during a run, said plainly: above the CPU count, the
    machine had other work on it besides the benchmark's own processes."""
    cpus = os.cpu_count() or 1
    seen = f"load average (1 min) {min(averages):.1f} to {max(averages):.1f} on {cpus} CPUs"
    if max(averages) <= cpus:
        return f"{seen} during the run: no more work than the benchmark's own"
    return (
        f"{seen} during the run: a shared machine with other work on it, "
        "so times are slower and noisier than on an idle one"
    )
