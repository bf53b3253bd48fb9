"""What a second local worker buys a sweep: the same sweep on 1 and on 2 processes.

Run from the repository root::

    python -m benchmarks.sweep_workers [--repeats 3]

It runs ``mergeopt sweep configs/somerset_yeovil_takeover.yaml --vary
travel.max_minutes=35,40,45,50`` with contiguous groups (maps off, ``force``, a fresh
temporary folder each time: four scenarios of a few seconds each, so the figure is about
solving, not about starting processes) with ``workers=1`` and ``workers=2``, alternating the
two so both see the same machine load, and writes ``benchmarks/SWEEP_RESULTS.md``: the
median wall time of each (from the call to the finished comparison.csv, worker start-up
included), their ratio, the solver work the scenarios report, and the machine. The
sweep goes through :func:`mergeopt.runs.sweep.run.run_sweep`, the path ``mergeopt sweep`` takes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.machine import commit, describe, load
from mergeopt.config import load_config
from mergeopt.runs.sweep.run import SweepResult, run_sweep

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "configs" / "somerset_yeovil_takeover.yaml"
VARY = {"travel.max_minutes": [35, 40, 45, 50]}
RESULTS = ROOT / "benchmarks" / "SWEEP_RESULTS.md"
COMMAND = (
    "mergeopt sweep configs/somerset_yeovil_takeover.yaml "
    "--vary travel.max_minutes=35,40,45,50 --force (maps off, geography.contiguous on)"
)


def _measure(workers: int) -> tuple[float, SweepResult]:
    config = load_config(CONFIG).with_overrides(**{"maps": False, "geography.contiguous": True})
    with tempfile.TemporaryDirectory(prefix="mergeopt-sweep-bench-") as folder:
        started = time.perf_counter()
        result = run_sweep(
            config,
            out=Path(folder) / "sweep",
            vary=VARY,
            workers=workers,
            force=True,
            progress=False,
        )
        return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    walls: dict[int, list[float]] = {1: [], 2: []}
    work: dict[int, list[float]] = {1: [], 2: []}
    longest: list[float] = []
    loads = [os.getloadavg()[0]]
    statuses: list[str] = []
    for repeat in range(args.repeats):
        for workers in (1, 2) if repeat % 2 == 0 else (2, 1):
            seconds, result = _measure(workers)
            walls[workers].append(seconds)
            work[workers].append(float(result.comparison["total_seconds"].sum()))
            if workers == 1:
                longest.append(float(result.comparison["total_seconds"].max()))
            statuses = [
                f"{name} {status}"
                for name, status in zip(result.scenarios, result.comparison["status"], strict=True)
            ]
            loads.append(os.getloadavg()[0])
            print(f"workers={workers}: {seconds:.2f} s", flush=True)
    one, two = statistics.median(walls[1]), statistics.median(walls[2])
    lines = [
        "# Sweep: 1 local worker against 2",
        "",
        "The same sweep run with `workers=1` and `workers=2` (alternating, "
        f"{args.repeats} runs each): wall seconds from the call of `run_sweep` to the "
        "written comparison.csv, worker start-up included, each into a fresh folder.",
        "",
        f"Command: `python -m benchmarks.sweep_workers --repeats {args.repeats}`, which runs "
        f"`{COMMAND}`  ",
        f"Scenarios: {'; '.join(statuses)}  ",
        f"Run: {datetime.now(UTC).isoformat(timespec='minutes')}, commit {commit()}  ",
        f"Machine: {describe()}; {load(loads)}",
        "",
        "| workers | wall s (median) | wall s (best) | wall s (all runs) "
        "| scenario time, sum (median) |",
        "|---|---|---|---|---|",
        *(
            f"| {w} | {statistics.median(walls[w]):.2f} | {min(walls[w]):.2f} | "
            f"{', '.join(f'{s:.2f}' for s in walls[w])} | {statistics.median(work[w]):.2f} |"
            for w in (1, 2)
        ),
        "",
        f"**Ratio (1 worker / 2 workers): {one / two:.2f}x** (medians; "
        f"{min(walls[1]) / min(walls[2]):.2f}x between the best runs).",
        "",
        "'Scenario time' is what the scenarios themselves report (`total_seconds`: "
        "reading, model, solve, and the explanation of each infeasible count), added up. "
        f"With one worker it is {statistics.median(work[1]):.2f} s and the longest scenario "
        f"{statistics.median(longest):.2f} s, so two workers on two free cores could finish "
        f"the solving in {max(statistics.median(longest), statistics.median(work[1]) / 2):.2f} s "
        "at best; the rest of the wall time is starting the worker processes (each imports "
        "mergeopt) and writing. If the scenario time with two workers is well above the one "
        "with one, the two processes were sharing a core: the machine was busy with other work "
        "(see the load average), and the ratio says more about that than about the sweep.",
    ]
    RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"1 worker {one:.2f} s, 2 workers {two:.2f} s: ratio {one / two:.2f}x -> {RESULTS}")


if __name__ == "__main__":
    main()
