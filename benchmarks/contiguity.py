"""What the contiguity constraint costs: each shipped config solved with and without it.

Run from the repository root::

    python -m benchmarks.contiguity [--repeats 3]

For every config it solves the same problem with ``geography.contiguous`` off and on,
alternating the two so both see the same machine load, and writes
``benchmarks/CONTIGUITY_RESULTS.md``: status, objective, groups in more than one piece,
and the median solve time of each, with the ratio. The solve goes through
:func:`mergeopt.solve`, the path ``mergeopt run`` takes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

import mergeopt
from benchmarks.machine import commit, describe, load
from mergeopt.runs.maps import result_layers

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ("hull_pcn", "hull_eight_groups", "somerset_yeovil_takeover")
RESULTS = ROOT / "benchmarks" / "CONTIGUITY_RESULTS.md"


def _measure(config: Path, contiguous: bool) -> tuple[mergeopt.RunResult, float, int]:
    started = time.perf_counter()
    result = mergeopt.solve(config, overrides={"geography.contiguous": contiguous, "maps": False})
    seconds = time.perf_counter() - started
    pieces = result_layers(result).groups["pieces"]
    return result, seconds, int((pieces > 1).sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="solves of each (median kept)")
    args = parser.parse_args()
    rows = []
    loads = [os.getloadavg()[0]]
    for name in CONFIGS:
        config = ROOT / "configs" / f"{name}.yaml"
        times: dict[bool, list[float]] = {False: [], True: []}
        found: dict[bool, tuple[mergeopt.RunResult, int]] = {}
        for _ in range(args.repeats):
            for contiguous in (False, True):
                result, seconds, split = _measure(config, contiguous)
                times[contiguous].append(seconds)
                found[contiguous] = (result, split)
        plain, joined = found[False], found[True]
        plain_time, joined_time = statistics.median(times[False]), statistics.median(times[True])
        rows.append(
            f"| {name} | {len(plain[0].assignments)} "
            f"| {plain[0].status} | {plain[0].metrics['objective']:,.1f} | {plain[1]} "
            f"| {plain_time:.2f} "
            f"| {joined[0].status} | {joined[0].metrics['objective']:,.1f} | {joined[1]} "
            f"| {joined_time:.2f} | {joined_time / plain_time:.1f}x "
            f"| {joined[0].metrics['objective'] / plain[0].metrics['objective'] - 1:+.2%} |"
        )
        print(rows[-1], flush=True)
        loads.append(os.getloadavg()[0])
    header = (
        "| config | practices | status (off) | objective (off) | split groups (off) "
        "| solve s (off) | status (on) | objective (on) | split groups (on) | solve s (on) "
        "| time ratio | objective change |\n|" + "---|" * 12
    )
    RESULTS.write_text(
        "# The cost of contiguous groups\n\n"
        "Each config solved with `geography.contiguous` off and on (alternating), "
        f"median of {args.repeats} solves each, wall seconds of `mergeopt.solve` "
        "(reading inputs, catchments, model, solve; no maps written). 'split groups' "
        "counts groups whose catchment is in more than one piece.\n\n"
        f"Command: `python -m benchmarks.contiguity --repeats {args.repeats}`  \n"
        f"Run: {datetime.now(UTC).isoformat(timespec='minutes')}, commit {commit()}  \n"
        f"Machine: {describe()}; {load(loads)}\n\n" + header + "\n" + "\n".join(rows) + "\n",
        encoding="utf-8",
    )
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
