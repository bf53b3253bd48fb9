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
