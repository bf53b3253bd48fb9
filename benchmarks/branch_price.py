"""The branch-and-price strategy as an engine of the harness (``--engines bnp``).

:func:`mergeopt.engine.strategies.branch_price.solve` on the whole instance, or, where
the instance splits into independent regions (no group-count rule, e.g. England nested
by ICB), on each region in turn, smallest first, each with its share of the time left by
practices and arcs (as :mod:`mergeopt.solve` shares it); objectives and bounds add up.
One process, one CPU: no region runs in parallel here.

Run as ``python -m benchmarks.branch_price``, it writes ``BNP_GAPS.md``: for each case
the branch-and-price runs did not prove, which side leaves the gap (:func:`gap_table`).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from mergeopt.engine import cuts as cover
from mergeopt.engine.formulation import model_arrays
from mergeopt.engine.instance import Instance, objective_value
from mergeopt.engine.options import SolveOptions
from mergeopt.engine.solvers.highs import run_highs
from mergeopt.engine.strategies import branch_price

HERE = Path(__file__).resolve().parent


def solve_bnp(inst: Instance, *, time_limit: float) -> dict[str, Any]:
    """Solve ``inst`` by branch-and-price within ``time_limit`` seconds; the harness's
    row fields (status, objective, bound, gap, build_seconds, detail)."""
    deadline = time.time() + time_limit
    coupled = inst.count_min is not None or inst.count_max is not None
    regions = [np.arange(inst.n)] if coupled else inst.regions()
    subs = [inst] if len(regions) == 1 else [inst.subset(r) for r in regions]
    if not all(branch_price.applies(sub) for sub in subs):
        return {"error": "branch-and-price does not apply (max travel, contiguity or memory)"}
    weight = np.asarray([len(r) + float(inst.allowed[np.ix_(r, r)].sum()) / 100 for r in regions])
    hub_of = np.full(inst.n, -1, dtype=np.int64)
    bounds: list[float | None] = []
    statuses: set[str] = set()
    left = float(weight.sum())
    for k in np.argsort(weight, kind="stable").tolist():
        region = regions[k]
        share = (deadline - time.time()) * weight[k] / max(left, 1e-12)
        left -= weight[k]
        found = branch_price.solve(subs[k], deadline=time.time() + max(share, 0.0))
        statuses.add(found.status)
        bounds.append(found.bound)
        if found.hub_of is not None:
            hub_of[region] = region[found.hub_of]
        if found.status == "infeasible":
            break
    detail = (
        f"branch-and-price, {len(regions)} independent regions"
        if len(regions) > 1
        else found.stopped_by
    )
    row: dict[str, Any] = {"build_seconds": 0.0, "detail": detail, "gap": None}
    bound = sum(b for b in bounds if b is not None) if None not in bounds else None
    if "infeasible" in statuses:
        return row | {"status": "infeasible", "objective": None, "bound": None}
    if "no_solution" in statuses or (hub_of < 0).any():
        return row | {"status": "no_solution", "objective": None, "bound": bound}
    objective = objective_value(inst, hub_of)
    gap = None if bound is None else abs(objective - bound) / max(abs(objective), 1e-9)
    proven = statuses == {"optimal"}
    return row | {
        "status": "optimal" if proven else "feasible",
        "objective": objective,
        "bound": bound,
        "gap": 0.0 if proven else gap,
    }


#: Most of the time limit the cover cuts' rounds may take (``--engines cuts``).
CUT_SHARE = 0.2


def solve_highs(inst: Instance, *, time_limit: float, cuts: bool) -> dict[str, Any]:
    """HiGHS alone on mergeopt's model (:func:`~mergeopt.engine.formulation.model_arrays`)
    within ``time_limit`` seconds, with the lifted cover cuts of :mod:`mergeopt.engine.cuts`
    added first if ``cuts`` (their rounds take at most :data:`CUT_SHARE` of the time, the
    model build and the cuts inside the limit); the harness's row fields."""
    began = time.time()
    arrays = model_arrays(inst)
    built = time.time() - began
    added = []
    if cuts:
        added = cover.cover_cuts(inst, arrays, deadline=began + CUT_SHARE * time_limit)
        arrays = cover.with_cuts(arrays, added)
    left = max(time_limit - (time.time() - began), 0.01)
    outcome = run_highs(arrays, inst, SolveOptions(time_limit=left), left)
    what = f"HiGHS with {len(added)} cover cuts" if cuts else "HiGHS on mergeopt's model"
    return {
        "status": outcome.status,
        "objective": outcome.objective,
        "bound": outcome.bound,
        "gap": outcome.gap,
        "build_seconds": built,
        "detail": f"{what} ({time.time() - began - left:.1f} s before HiGHS): "
        f"{outcome.stopped_by}",
    }


# ---------------------------------------------------------------------------------------
# Which side leaves the gap: ``python -m benchmarks.branch_price``

#: The branch-and-price runs the gap table reads (see the README for their commands).
RUNS = tuple(
    HERE / f"results_bnp_{name}.json"
    for name in ("pmedcap", "pmedcap_long", "ta", "icb", "england")
)
#: The harness's main run: best groupings and bounds known where no optimum is published.
MAIN_RUN = HERE / "results.json"


def _rows(path: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(path.read_text())["rows"]
    return rows


def _best_known(rows: list[dict[str, Any]]) -> dict[str, tuple[float | None, float | None]]:
    """Per case, the best grouping and the best proven bound any engine reached."""
    best: dict[str, tuple[float | None, float | None]] = {}
    for row in rows:
        objective, bound = row.get("objective"), row.get("bound")
        old_objective, old_bound = best.get(row["case"], (None, None))
        if objective is not None and (old_objective is None or objective < old_objective):
            old_objective = objective
        if bound is not None and (old_bound is None or bound > old_bound):
            old_bound = bound
        best[row["case"]] = (old_objective, old_bound)
    return best


def _share(amount: float, of: float) -> str:
    return f"{amount:,.1f} ({100 * amount / max(abs(of), 1e-9):.2f}%)"


def _side(row: dict[str, Any], known: tuple[float | None, float | None]) -> list[str]:
    """The cells of one unproven case: what the bound and the grouping leave."""
    objective, bound, optimum = row.get("objective"), row.get("bound"), row.get("optimum")
    if optimum is not None:
        below = "-" if bound is None else _share(optimum - bound, optimum)
        above = "no grouping" if objective is None else _share(objective - optimum, optimum)
        if bound is None or objective is None:
            side = "bound" if objective is not None else "grouping"
        else:
            side = "bound" if optimum - bound >= objective - optimum else "grouping"
        return ["published optimum", f"{optimum:,.1f}", below, above, side]
    best_objective, best_bound = known
    below = (
        "-"
        if bound is None or best_bound is None
        else _share(max(best_bound - bound, 0.0), best_bound)
    )
    above = (
        "no grouping"
        if objective is None or best_objective is None
        else _share(max(objective - best_objective, 0.0), best_objective)
    )
    reference = f"{best_bound or 0:,.1f} to {best_objective or 0:,.1f}"
    what = "no optimum published: best bound to best grouping known"
    return [what, reference, below, above, "-"]


def _run_line(path: Path) -> str:
    saved = json.loads(path.read_text())
    info = saved.get("machine", {})
    return (
        f"- `{path.name}`: `{saved.get('command', '?')}`, {info.get('date', '?')}, "
        f"commit {info.get('commit', 'not recorded')}, "
        f"{info.get('cpu', '?')}, {info.get('cores', '?')} cores"
    )


def gap_table(runs: list[Path], main_run: Path | None) -> str:
    """Markdown: for each branch-and-price case not proven, by how much its bound falls
    below the optimum and its grouping lies above it (where no optimum is published: below
    the best proven bound and above the best grouping any run reached, both at least that
    much on that side, the optimum unknown between them)."""
    rows = [row for path in runs for row in _rows(path)]
    reference = rows + (_rows(main_run) if main_run is not None and main_run.exists() else [])
    known = _best_known(reference)
    lines = [
        "# Branch-and-price: which side leaves the gap",
        "",
        "Written by `python -m benchmarks.branch_price` from the runs named below; do not "
        "edit by hand. For each case the branch-and-price did not prove: `bound side` is "
        "the published optimum less its bound, `grouping side` its grouping less the "
        "optimum. Where no optimum is published the references are the best proven bound "
        "and the best grouping any engine reached in these runs and in the harness's main "
        "run (`results.json`): the bound is at least `bound side` short on the bound side "
        "and the grouping at least `grouping side` long on the grouping side; the unknown "
        "optimum lies between the two references.",
        "",
        "Runs:",
        "",
        *[_run_line(path) for path in runs],
        "",
        "| case | limit s | status | objective | bound | reference | value | bound side | "
        "grouping side | larger side |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        if row.get("engine") != "bnp" or "error" in row:
            continue
        proven = row.get("status") == "optimal" and (
            row.get("optimum") is None or abs(row["objective"] - row["optimum"]) < 1e-6
        )
        if proven:
            continue
        objective, bound = row.get("objective"), row.get("bound")
        limit = row.get("time_limit")
        cells = [
            row.get("name", row["case"]),
            "-" if limit is None else f"{limit:g}",
            str(row.get("status")),
            "-" if objective is None else f"{objective:,.1f}",
            "-" if bound is None else f"{bound:,.1f}",
            *_side(row, known.get(row["case"], (None, None))),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.branch_price")
    parser.add_argument("runs", nargs="*", type=Path, default=list(RUNS))
    parser.add_argument("--main-run", type=Path, default=MAIN_RUN)
    parser.add_argument("--out", type=Path, default=HERE / "BNP_GAPS.md")
    args = parser.parse_args(argv)
    missing = [str(path) for path in args.runs if not path.exists()]
    if missing:
        print(f"error: no such run file: {', '.join(missing)}", file=sys.stderr)
        return 2
    args.out.write_text(gap_table(args.runs, args.main_run))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
