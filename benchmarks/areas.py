"""Every sub-ICB of England, first time: ``mergeopt init`` then ``mergeopt run``.

Run from the repository root (about an hour; ``--only 03F,11X`` for a few areas)::

    python -m benchmarks.areas [--only CODES] [--time-limit 60] [--budget 120]

For each sub-ICB of the shipped national table (``data/england/practices.csv``) it does
what a new user would: ``init_area`` writes the area's practices and a config with the
national network rule (30,000-50,000 patients, 20 drive minutes to the hub, a practice
above 50,000 a network of its own) into a temporary folder, and the config is solved as
``mergeopt run`` solves it (maps off, one thread, ``--time-limit`` seconds). When the
rules cannot all be met, ``explain``'s advice is searched (``--budget`` seconds) and its
first change recorded: whether it is degenerate, and the plan it gives. For every area
the smallest travel limit in whole minutes that works is searched as well (the limit of
a plan meeting every other rule; for an area that solves, it may be below 20).

Writes ``benchmarks/areas.csv`` (one row per area) and ``benchmarks/AREAS_RESULTS.md``
(the command, the date, the commit, the machine, the totals and the table), both
rewritten after every area: a batch stopped early (``--stop-after`` minutes, or
interrupted) leaves a table of the areas it finished, marked as partial with how many of
England's sub-ICBs it covers. ``--only`` writes nothing (a quick look at a few areas).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from benchmarks.machine import describe
from mergeopt._errors import InfeasibleError, NoSolutionError
from mergeopt.config import Config, load_config
from mergeopt.inputs.practices import read_practices
from mergeopt.runs.advice import advise, smallest_travel
from mergeopt.runs.areas import NATIONAL_TABLE, Selection, init_area
from mergeopt.runs.run import solve_config

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT / "benchmarks" / "areas.csv"
RESULTS = ROOT / "benchmarks" / "AREAS_RESULTS.md"


@dataclass(frozen=True)
class Row:
    """One area's outcome."""

    area: str
    name: str
    practices: int
    patients: int
    status: str
    groups: int | None
    mean_travel: float | None
    gap: float | None
    smallest_travel_limit: int | None
    first_change: str
    first_degenerate: bool | None
    seconds: float


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated sub-ICB codes")
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--budget", type=float, default=120.0)
    parser.add_argument(
        "--stop-after", type=float, default=None, help="minutes; start no area after this"
    )
    args = parser.parse_args()
    table = pd.read_csv(NATIONAL_TABLE, dtype=str)
    codes = sorted(set(table["sub_icb_code"]))
    if args.only:
        codes = [code.strip().upper() for code in args.only.split(",")]
    names = _names()
    rows: list[Row] = []
    started = datetime.now(UTC)
    args.commit = _commit()  # the code as the batch started
    clock = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="mergeopt-areas-") as folder:
        for k, code in enumerate(codes, start=1):
            if args.stop_after is not None and time.perf_counter() - clock > 60 * args.stop_after:
                print(f"stopped after {args.stop_after:g} minutes: {len(rows)} areas done")
                break
            row = _area(code, names.get(code, ""), Path(folder), args.time_limit, args.budget)
            rows.append(row)
            print(
                f"[{k}/{len(codes)}] {code} {row.status} groups={row.groups} "
                f"limit={row.smallest_travel_limit} {row.seconds:.0f}s {row.first_change}",
                flush=True,
            )
            if not args.only:
                _write(rows, len(codes), args, started)
    if not args.only:
        print(f"wrote {TABLE} and {RESULTS}")


def _write(rows: list[Row], total: int, args: argparse.Namespace, started: datetime) -> None:
    """The table and its report so far (each replaced whole, never half-written)."""
    frame = pd.DataFrame([asdict(row) for row in rows])
    for path, text in (
        (TABLE, frame.to_csv(index=False)),
        (RESULTS, _report(frame, total, args, started)),
    ):
        temporary = path.with_suffix(path.suffix + ".tmp")
        temporary.write_text(text)
        temporary.replace(path)


def _area(code: str, name: str, folder: Path, time_limit: float, budget: float) -> Row:
    started = time.perf_counter()
    written = init_area(Selection(sub_icb=(code,)), out=folder / code)
    config = load_config(written.config).with_overrides(
        **{"maps": False, "solver.time_limit": time_limit, "solver.threads": 1}
    )
    practices = read_practices(config)
    status, groups, mean, gap, first, degenerate = _solve(config, practices, budget)
    limit, _ = smallest_travel(config, practices, budget=budget)
    return Row(
        area=code,
        name=name,
        practices=written.count,
        patients=written.patients,
        status=status,
        groups=groups,
        mean_travel=None if mean is None else round(mean, 2),
        gap=gap,
        smallest_travel_limit=limit,
        first_change=first,
        first_degenerate=degenerate,
        seconds=round(time.perf_counter() - started, 1),
    )


def _solve(
    config: Config, practices: pd.DataFrame, budget: float
) -> tuple[str, int | None, float | None, float | None, str, bool | None]:
    """status, groups, mean travel, gap, the first change offered and whether it is degenerate."""
    try:
        result = solve_config(config)
    except NoSolutionError:
        return "no_solution", None, None, None, "", None
    except InfeasibleError:
        advice = advise(config, practices, budget=budget, infeasible=True)
        best = next(
            (region.alternatives[0] for region in advice.failing if region.alternatives), None
        )
        best = best or next((r.combined for r in advice.failing if r.combined), None)
        if best is None:
            return "infeasible", None, None, None, "none found", None
        change = f"{best.text} ({', '.join(f'{k}: {v}' for k, v in best.overrides.items())})"
        return (
            "infeasible",
            best.plan.groups,
            best.plan.mean_travel,
            None,
            change,
            bool(best.degenerate),
        )
    gap = result.report.gap if result.report is not None else None
    return (
        result.status,
        int(result.metrics["groups"]),
        float(result.metrics["mean_travel"]),
        gap,
        "",
        None,
    )


def _names() -> dict[str, str]:
    mapping = pd.read_csv(
        ROOT / "data" / "nhs" / "gp-reg-pat-prac-map.csv",
        dtype=str,
        usecols=["SUB_ICB_LOCATION_CODE", "SUB_ICB_LOCATION_NAME"],
    )
    return dict(zip(mapping.iloc[:, 0], mapping.iloc[:, 1], strict=True))


def _commit() -> str:
    """The commit the batch ran, with ``+changes`` when the working tree differed."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", "mergeopt", "benchmarks")
    return head + (" +changes" if dirty else "")


def _report(frame: pd.DataFrame, total: int, args: argparse.Namespace, started: datetime) -> str:
    solved = frame["status"].isin(["optimal", "feasible"])
    infeasible = frame["status"] == "infeasible"
    sound = infeasible & (frame["first_degenerate"] == False)  # noqa: E712
    load = os.getloadavg()[0]
    stop = f" --stop-after {args.stop_after:g}" if args.stop_after is not None else ""
    covered = (
        f"**Complete: all {total} sub-ICBs.**"
        if len(frame) == total
        else f"**PARTIAL: {len(frame)} of England's {total} sub-ICBs (in code order, "
        f"{frame['area'].iloc[0]} to {frame['area'].iloc[-1]}); the batch was stopped "
        "before the rest. The totals below are for these areas only.**"
    )
    lines = [
        "# Every sub-ICB of England, first time",
        "",
        covered,
        "",
        "Each sub-ICB of `data/england/practices.csv`: `mergeopt init --sub-icb CODE`, then the "
        "config solved as `mergeopt run` solves it (maps off, one thread), with the national "
        "network rule (30,000-50,000 patients, 20 drive minutes to the hub, a practice above "
        "50,000 a network of its own); when the rules cannot all be met, `mergeopt explain`'s "
        "first change. `smallest_travel_limit` is the smallest whole-minute travel limit with "
        "which every other rule of the config holds (searched for every area).",
        "",
        f"Command: `python -m benchmarks.areas --time-limit {args.time_limit:g} "
        f"--budget {args.budget:g}{stop}`  ",
        f"Run: {started:%Y-%m-%dT%H:%M}+00:00, {frame['seconds'].sum() / 60:.0f} minutes  ",
        f"Commit: {args.commit}  ",
        f"Machine: {describe()}  ",
        f"Load average (1 min) at the end: {load:.1f} (the machine was shared with other work: "
        "times are indicative)",
        "",
        f"**{len(frame)} areas: {int(solved.sum())} solved first time "
        f"({int((frame['status'] == 'optimal').sum())} proven optimal), "
        f"{int(infeasible.sum())} cannot meet the national rule and get advice whose first "
        f"change is sound (not degenerate) in {int(sound.sum())}, "
        f"{int((frame['status'] == 'no_solution').sum())} found no grouping in the time.**",
        "",
        *_markdown(frame),
        "",
    ]
    return "\n".join(lines)


def _markdown(frame: pd.DataFrame) -> list[str]:
    """The table as Markdown: blanks for missing values, numbers as printed."""
    text = frame.astype(object).where(frame.notna(), "")
    lines = ["| " + " | ".join(frame.columns) + " |", "|" + "---|" * len(frame.columns)]
    lines += [
        "| " + " | ".join(str(v) for v in row) + " |" for row in text.itertuples(index=False)
    ]
    return lines


if __name__ == "__main__":
    main()
