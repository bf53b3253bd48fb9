"""The joint two-level model at ICB scale: time, bound, gap, and its gain over networks first.

Run from the repository root::

    python -m benchmarks.federations                       # the shipped two-level configs
    python -m benchmarks.federations --configs suffolk_ne_essex_federations --icb QNC,QUE
    python -m benchmarks.federations --time-limit 120 --out /tmp/FED.md --json /tmp/fed.json
    python -m benchmarks.federations --render      # redraw the table from the JSON

Each case is one two-level config solved in mode ``joint`` through :func:`mergeopt.solve`
(the path ``mergeopt run`` takes; no maps drawn): the sequential plan first (networks,
then their federations, with a share of the time), then the joint model from it.
``--icb CODES`` adds whole ICBs of the national table under the rules of
``configs/suffolk_ne_essex_federations.yaml`` (its ``inputs.select`` changed), nested by
sub-ICB. The table goes to ``benchmarks/FEDERATIONS.md`` and the raw figures to
``benchmarks/results_federations.json`` as each case finishes, with the command, date,
commit and machine.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import mergeopt
from benchmarks.machine import describe

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ("somerset_federations", "suffolk_ne_essex_federations")
#: The config whose rules an ``--icb`` case takes.
ICB_RULES = "suffolk_ne_essex_federations"
MARKDOWN = ROOT / "benchmarks" / "FEDERATIONS.md"
JSON = ROOT / "benchmarks" / "results_federations.json"


def measure(config: Path, *, overrides: dict[str, Any], label: str) -> dict[str, Any]:
    """Solve one two-level config in mode joint; the figures of one results row."""
    overrides = {**overrides, "federations.mode": "joint", "maps": False}
    started = time.perf_counter()
    result = mergeopt.solve(config, overrides=overrides)
    wall = time.perf_counter() - started
    plan = result.federations
    assert plan is not None and plan.outcome is not None
    outcome = plan.outcome
    joint = outcome.levels["joint"]
    return {
        "case": label,
        "practices": len(result.assignments),
        "networks": int(result.metrics["groups"]),
        "federations": int(plan.metrics["federations"]),
        "time_limit": result.config.solver.time_limit,
        "status": outcome.status,
        "objective": outcome.objective,
        "bound": outcome.bound,
        "gap": outcome.gap,
        "sequential": outcome.sequential,
        "gain": outcome.gain,
        "gain_percent": plan.metrics.get("joint_gain_percent"),
        "sequential_seconds": round(
            sum(
                level.build_seconds + level.solve_seconds
                for name, level in outcome.levels.items()
                if name != "joint"
            ),
            2,
        ),
        "joint_seconds": round(joint.build_seconds + joint.solve_seconds, 2),
        "wall_seconds": round(wall, 2),
        "solver_says": outcome.stopped_by,
    }


def _number(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _percent(share: float | None) -> str:
    return "-" if share is None else f"{100 * share:.3f}%"


def render(rows: list[dict[str, Any]], command: str, commit: str, date: str, machine: str) -> str:
    """The results file: how it was made, then one row per case."""
    header = (
        "| case | practices | networks | federations | status | objective | bound | gap "
        "| networks first | joint gain | sequential s | joint s | wall s | limit s "
        "| solver says |\n|" + "---|" * 15
    )
    lines = [
        f"| {r['case']} | {r['practices']} | {r['networks']} | {r['federations']} "
        f"| {r['status']} | {_number(r['objective'])} | {_number(r['bound'])} "
        f"| {_percent(r['gap'])} "
        f"| {_number(r['sequential'])} "
        f"| {_number(r['gain'])} ({_number(r['gain_percent'], 2)}%) "
        f"| {r['sequential_seconds']:.1f} | {r['joint_seconds']:.1f} | {r['wall_seconds']:.1f} "
        f"| {r['time_limit']:g} | {r['solver_says']} |"
        for r in rows
    ]
    return (
        "# The joint two-level model (networks and federations)\n\n"
        "Written by `benchmarks/federations.py`; do not edit by hand.\n\n"
        f"- command: `{command}`\n"
        f"- date: {date}\n"
        f"- commit: {commit}\n"
        f"- machine: {machine}\n\n"
        "Each case solved in mode `joint` through `mergeopt.solve` (no maps). `objective` "
        "is the joint plan's (patient-minutes to network hubs, plus each network's "
        "patients times its hub's minutes to the federation hub), `bound` the proven "
        "lower bound on it, `gap` between them; `networks first` is the sequential plan's "
        "objective (networks solved, then their federations), the joint model's start, "
        "and `joint gain` how much lower the joint plan is. `sequential s` is the time "
        "the sequential plan took, `joint s` the whole joint solve within the time limit "
        "(the sequential plan, then the joint model's build and solve), `wall s` the whole "
        "`mergeopt.solve` call (reading inputs and travel too). Timings come "
        "from a shared machine under load from other work: read them as rough.\n\n"
        + header
        + "\n"
        + "\n".join(lines)
        + "\n"
    )


def _commit() -> str:
    found = subprocess.run(
        ["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
    )
    return found.stdout.strip() or "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--configs", default=",".join(CONFIGS), help="config names, commas")
    parser.add_argument("--icb", default="", help="ICB codes to add, commas (national table)")
    parser.add_argument("--time-limit", type=float, default=None, help="seconds per case")
    parser.add_argument("--out", type=Path, default=MARKDOWN)
    parser.add_argument("--json", type=Path, default=JSON)
    parser.add_argument("--render", action="store_true", help="redraw --out from --json")
    args = parser.parse_args(argv)
    if args.render:
        saved = json.loads(args.json.read_text(encoding="utf-8"))
        text = render(
            saved["rows"], saved["command"], saved["commit"], saved["date"], saved["machine"]
        )
        args.out.write_text(text, encoding="utf-8")
        return 0
    command = "python -m benchmarks.federations" + "".join(
        f" {a}" for a in (argv if argv is not None else sys.argv[1:])
    )
    base: dict[str, Any] = {}
    if args.time_limit is not None:
        base["solver.time_limit"] = args.time_limit
    cases = [
        (ROOT / "configs" / f"{name}.yaml", dict(base), name)
        for name in filter(None, args.configs.split(","))
    ]
    cases += [
        (
            ROOT / "configs" / f"{ICB_RULES}.yaml",
            {**base, "inputs.select": {"icb_code": [code]}, "name": f"icb_{code}"},
            f"ICB {code} (rules of {ICB_RULES})",
        )
        for code in filter(None, args.icb.split(","))
    ]
    rows: list[dict[str, Any]] = []
    commit = _commit()
    for config, overrides, label in cases:
        rows.append(measure(config, overrides=overrides, label=label))
        print(json.dumps(rows[-1]), flush=True)
        date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        record = {"command": command, "commit": commit, "date": date, "machine": describe()}
        args.json.write_text(json.dumps(record | {"rows": rows}, indent=1) + "\n", "utf-8")
        args.out.write_text(render(rows, command, commit, date, describe()), encoding="utf-8")
    print(f"written to {args.out} and {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
