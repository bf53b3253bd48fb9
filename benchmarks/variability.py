"""How much of a time ratio is HiGHS's own variability: each case on several seeds.

HiGHS's path through a MIP depends on things that do not change the model: the order of
its columns, its thread count, its random seed. The same plain model of pmedcap1 #1 took
1,214 to 2,409 simplex iterations over HiGHS's seeds 0-3, and mergeopt's model in two
column orders 1,285 and 1,695. A ratio of one run against one run (``benchmarks/run.py``)
mixes that spread with any real difference between the engines. Here every case is
solved by both engines with HiGHS's ``random_seed`` 0, 1, ..., *k* - 1 (mergeopt through
:class:`~mergeopt.engine.options.SolveOptions`, the plain model through ``pulp.HiGHS``),
each solve in a fresh process as in the harness, the two engines in turn seed by seed so
that a change in the machine's load falls on both.

Usage (from the repository root)::

    python -m benchmarks.variability --only pmedcap,ta --seeds 5
    python -m benchmarks.variability --cases pmedcap:1,pmedcap:7,ta:80,icb:QOC --seeds 5

Per case the page gives, for each engine, how many seeds proved optimality and the
median, least and largest time to proof (a seed that did not prove counts as the time
limit, so a median over unproven seeds is a floor), the ratio of the medians (plain over
mergeopt: above 1 mergeopt is faster) and a verdict:

- ``faster or equal``: ratio of medians >= 1.0;
- ``within the plain model's spread``: mergeopt's median is slower than the plain
  model's median but no slower than the plain model's slowest seed;
- ``slower than the plain model's spread``: slower than every seed of the plain model.

Raw rows go to ``benchmarks/variability.json``, the page to ``benchmarks/VARIABILITY.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.machine import calibrate, load
from benchmarks.run import FAMILIES, HERE, LIMITS, Spec, _run_child, machine, run_lines, specs

#: The two engines compared, in the order each seed runs them.
ENGINES = ("baseline", "mergeopt")
#: Relative tolerance on a proof: the harness's gap tolerance.
GAP = 1e-6


def proof_seconds(row: dict[str, Any]) -> float | None:
    """The time to proof of one solve, or None if it did not prove optimality."""
    if row.get("status") != "optimal" or "error" in row:
        return None
    return float(row["wall_seconds"])


def summary(rows: list[dict[str, Any]], limit: float) -> dict[str, Any]:
    """One engine's seeds on one case: proven count, median, least and largest time
    to proof (an unproven seed counted at ``limit``)."""
    times = [proof_seconds(row) for row in rows]
    counted = [limit if t is None else t for t in times]
    return {
        "seeds": len(rows),
        "proven": sum(t is not None for t in times),
        "median": statistics.median(counted) if counted else None,
        "least": min(counted) if counted else None,
        "largest": max(counted) if counted else None,
    }


def verdict(ours: dict[str, Any], plain: dict[str, Any]) -> tuple[float | None, str]:
    """The ratio of medians (plain over mergeopt) and the verdict of the module
    docstring; with a seed unproven by either engine, the figures are floors and the
    verdict says how many seeds each proved."""
    if not ours["seeds"] or not plain["seeds"]:
        return None, "not run"
    ratio = plain["median"] / ours["median"] if ours["median"] else None
    if ours["proven"] < ours["seeds"] or plain["proven"] < plain["seeds"]:
        return ratio, (
            f"proven on {ours['proven']}/{ours['seeds']} seeds (mergeopt) and "
            f"{plain['proven']}/{plain['seeds']} (plain)"
        )
    if ratio is not None and ratio >= 1.0:
        return ratio, "faster or equal"
    if ours["median"] <= plain["largest"]:
        return ratio, "within the plain model's spread"
    return ratio, "slower than the plain model's spread"


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _engine_cell(figures: dict[str, Any]) -> str:
    return (
        f"{figures['proven']}/{figures['seeds']} | {_seconds(figures['median'])} | "
        f"{_seconds(figures['least'])}-{_seconds(figures['largest'])}"
    )


def render(rows: list[dict[str, Any]], info: dict[str, Any]) -> str:
    """VARIABILITY.md from the raw rows and the run's facts."""
    cases = list(dict.fromkeys(row["case"] for row in rows))
    lines: list[str] = []
    verdicts: dict[str, list[str]] = {}
    for case in cases:
        here = [row for row in rows if row["case"] == case]
        limit = float(here[0].get("time_limit") or 0.0)
        figures = {
            engine: summary([r for r in here if r["engine"] == engine], limit)
            for engine in ENGINES
        }
        ratio, said = verdict(figures["mergeopt"], figures["baseline"])
        verdicts.setdefault(said, []).append(case)
        name = next((r["name"] for r in here if "name" in r), case)
        lines.append(
            f"| {name} | {_engine_cell(figures['baseline'])} | "
            f"{_engine_cell(figures['mergeopt'])} | "
            f"{'-' if ratio is None else f'{ratio:.2f}x'} | {said} |"
        )
    count = ", ".join(f"{said}: {len(which)}" for said, which in verdicts.items())
    slower = verdicts.get("slower than the plain model's spread", [])
    head = [
        "# How much of a time ratio is HiGHS's own variability",
        "",
        "Written by `benchmarks/variability.py` from one run; do not edit by hand. Its "
        "docstring says what each column and verdict means.",
        "",
        *run_lines(info, info["command"]),
        f"- {load(info['loads'])}",
        f"- seeds: HiGHS's random_seed 0 to {info['seeds'] - 1} for both engines; time "
        "limits as the harness's (`benchmarks/run.py`), gap tolerance 1e-6",
        "",
        f"Verdicts: {count}."
        + (f" Slower than the plain model's spread: {', '.join(slower)}." if slower else ""),
        "",
        "| case | plain: proven | plain: median s | plain: range s | mergeopt: proven | "
        "mergeopt: median s | mergeopt: range s | ratio of medians | verdict |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    return "\n".join(head + lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.variability", description=__doc__)
    parser.add_argument("--only", default="pmedcap,ta", help="families, comma-separated")
    parser.add_argument(
        "--cases", default="", help="cases as family:key, e.g. pmedcap:7,ta:80,icb:QOC"
    )
    parser.add_argument("--seeds", type=int, default=5, help="HiGHS seeds 0 .. N-1")
    parser.add_argument("--out", type=Path, default=HERE / "VARIABILITY.md")
    parser.add_argument("--json", type=Path, default=HERE / "variability.json")
    parser.add_argument("--render", action="store_true", help="redraw the page from JSON")
    args = parser.parse_args(argv)
    if args.render:
        saved = json.loads(args.json.read_text())
        args.out.write_text(render(saved["rows"], saved["machine"]))
        return 0
    only = [f for f in args.only.split(",") if f]
    unknown = sorted(set(only) - set(FAMILIES))
    if unknown or args.seeds < 1:
        parser.error(f"unknown families {unknown}" if unknown else "--seeds must be 1 or more")
    labels = [c for c in args.cases.split(",") if c]
    bad = [label for label in labels if label.split(":")[0] not in FAMILIES or ":" not in label]
    if bad:
        parser.error(f"cases must be family:key with a family of {FAMILIES}, not {bad}")
    chosen = [Spec.parse(label) for label in labels] if labels else specs(only, None)
    info: dict[str, Any] = machine()
    info["command"] = "python -m benchmarks.variability " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    info["seeds"] = args.seeds
    info["loads"] = [os.getloadavg()[0]]
    info["calibration"] = [calibrate()]
    rows: list[dict[str, Any]] = []
    for spec in chosen:
        if spec.family in ("england", "doni"):
            continue  # no proof to time: the plain model is not built or never proves
        for seed in range(args.seeds):
            for engine in ENGINES:
                row = _run_child(spec, engine, LIMITS[spec.family], seed)
                row.setdefault("seed", seed)
                row.setdefault("time_limit", LIMITS[spec.family])
                rows.append(row)
                print(spec.label, engine, seed, row.get("status"), row.get("wall_seconds"))
                info["loads"].append(os.getloadavg()[0])
                args.json.write_text(json.dumps({"machine": info, "rows": rows}, indent=1))
    info["calibration"].append(calibrate())
    args.json.write_text(json.dumps({"machine": info, "rows": rows}, indent=1))
    info["date"] = info.get("date") or datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    args.out.write_text(render(rows, info))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
