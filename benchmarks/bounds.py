"""How strong each lower bound is on the cases mergeopt does not prove: a bound study.

Run from the repository root, after ``python -m benchmarks.run`` (it reads that run's
``benchmarks/results.json``)::

    python -m benchmarks.bounds [--cases pmedcap:8,icb:QT1]

For every case of the harness that neither engine proved, it measures two relaxations
of the same instance and writes ``benchmarks/BOUNDS.md`` beside what the harness run
reached at its time limit:

- **LP**: the linear relaxation of mergeopt's model
  (:func:`mergeopt.engine.formulation.model_arrays`, valid inequalities included), the
  bound HiGHS's branch-and-cut starts from;
- **DW**: the Dantzig-Wolfe bound, the one a branch-and-price over groups would start
  from: each column is one hub with members whose list sizes fit its window, found by
  column generation (a master LP over the columns so far, begun from the greedy
  grouping's groups; per hub, a knapsack over its arcs at the master's duals *u*). The
  figure reported is the Lagrangian value :math:`L(u)` at the last duals (the sum of
  *u*, plus the cheapest hubs within the group count, each hub at its knapsack's value;
  see :mod:`mergeopt.engine.strategies.lagrangian`), a proven bound for any *u*. Where
  list sizes are not whole numbers or the windows are wide, the knapsack counts units of patients
  (``pricing unit``), each member its size rounded down or up as suits it, which
  relaxes the window: the figure is still a proven bound, a little under the true DW
  bound. The last master LP is shown beside it: it equals the DW bound when the
  pricing is exact (whole list sizes in one unit) and column generation converged; with
  units of patients it is an estimate, not a proof.

Both relaxations see the group-count bounds every grouping meets (total list size over
the largest and the smallest group); the LP also has the model's family 12, those bounds
per region of the arcs, which the DW master does not, so the DW bound can be below the
LP's (a 9-practice draw: 36.4 against 37.0); it is never below the LP without family 12.
Where no optimum is published, mergeopt is also run
with a longer limit (``--reference``, 10 minutes), to tell a gap the grouping leaves from
one the bound leaves (:func:`sides`). Gaps are measured against the best grouping known:
the published optimum, or else the best objective of the harness run and the longer run.

A run keeps its figures beside its page (``bounds.json`` for ``BOUNDS.md``); ``--render``
writes the page again from them, measuring nothing.

England nested by ICB is measured only when asked, with the longer run alone (its parts
are ICBs, whose relaxations the ICB rows show; its longer run takes half an hour)::

    python -m benchmarks.bounds --cases england:all --reference 1800 \
        --out benchmarks/BOUNDS_ENGLAND.md
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.machine import calibrate, commit, describe, load, speed
from mergeopt.engine.formulation import model_arrays
from mergeopt.engine.instance import Instance
from mergeopt.engine.solvers.highs import highs_from_arrays, quiet_highs
from mergeopt.engine.strategies.heuristics import construct
from mergeopt.engine.strategies.lagrangian import choice_value, lagrangian_applies

HERE = Path(__file__).resolve().parent
#: Widest knapsack (units + 1) the pricing uses; larger windows count units of patients.
PRICING_WIDTH = 1001
#: Seconds of column generation per case before the last duals are taken.
CG_SECONDS = 300.0
#: Seconds of the longer mergeopt run where no optimum is published (``--reference``).
REFERENCE_SECONDS = 600.0
#: Families whose LP and DW bounds are not measured, and why (the longer run still is).
RELAXATIONS_LEFT_OUT = {
    "england": "6,176 practices in 58 regions: its parts are ICBs, and the ICB rows show "
    "their relaxations",
}


def lp_bound(inst: Instance, *, implied: bool = True) -> float:
    """The optimum of the linear relaxation of mergeopt's model; without ``implied``, with
    its family 12 (group counts implied by list sizes per region of the arcs) left out,
    the model the Dantzig-Wolfe master relaxes (which sees the whole's count bounds only)."""
    import highspy

    arrays = model_arrays(inst)
    if not implied:
        dropped = np.array([name.startswith("c12_") for name in arrays.row_names], dtype=bool)
        arrays = replace(
            arrays,
            row_lower=np.where(dropped, -np.inf, arrays.row_lower),
            row_upper=np.where(dropped, np.inf, arrays.row_upper),
        )
    highs = highs_from_arrays(arrays)
    highs.setOptionValue("solve_relaxation", True)
    highs.run()
    if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        status = highs.modelStatusToString(highs.getModelStatus())
        raise RuntimeError(f"LP relaxation not solved: {status}")
    return float(highs.getInfo().objective_function_value)


def with_count_bounds(inst: Instance) -> Instance:
    """The instance with the group-count bounds every grouping meets (total list size
    over the largest and the smallest group), where it has none of its own."""
    usable = inst.hubs_usable()
    if not usable.any():  # no grouping at all: nothing to count
        return inst
    total = float(inst.size.sum())
    low = inst.count_min
    if low is None:
        low = max(1, math.ceil(total / float(inst.max_size[usable].max()) - 1e-9))
    high = inst.count_max
    if high is None and inst.min_size > 0:
        high = math.floor(total / inst.min_size + 1e-9)
    return replace(inst, count_min=low, count_max=high)


def _cheapest_load(
    cost: np.ndarray, down: np.ndarray, up: np.ndarray, low: int, high: int
) -> tuple[float, np.ndarray]:
    """The subset of least total cost whose units sum within [low, high], each member
    counting ``down`` or ``up`` units (its list size rounded either way: a relaxation
    of the real window, exact where the two agree), by dynamic programming over the
    sums; (inf, empty) if none."""
    width = high + 1
    chosen = np.zeros(len(cost), dtype=bool)
    if width <= 0 or low > high:
        return math.inf, chosen
    table = np.full(width, np.inf)
    table[0] = 0.0
    taken = np.zeros((len(cost), width), dtype=np.int8)  # 0 out, 1 down, 2 up
    for k, c in enumerate(cost.tolist()):
        if low <= 0 and c >= 0:  # without a minimum a costly member waits
            continue
        best = table
        for kind, q in ((1, int(down[k])), (2, int(up[k]))):
            if q >= width or (kind == 2 and q == down[k]):
                continue
            shifted = np.full(width, np.inf)
            shifted[q:] = table[: width - q] + c
            better = shifted < best
            best = np.where(better, shifted, best)
            taken[k][better] = kind
        table = best
    low = max(low, 0)
    at = low + int(table[low:].argmin())
    value = float(table[at])
    if not math.isfinite(value):
        return math.inf, chosen
    for k in range(len(cost) - 1, -1, -1):
        if taken[k, at]:
            chosen[k] = True
            at -= int(down[k] if taken[k, at] == 1 else up[k])
    return value, chosen


def dw_bound(inst: Instance, seconds: float = CG_SECONDS) -> dict[str, Any]:
    """Column generation for the Dantzig-Wolfe bound; the proven figure is L(u) at the
    master's last duals (see the module docstring)."""
    import highspy

    inst = with_count_bounds(inst)
    ai, aj = inst.arcs()
    coef = inst.arc_objective(ai, aj)
    hubs = np.unique(aj)
    total = float(inst.size.sum())
    room = np.minimum(inst.max_size, total) - inst.size
    whole = bool(np.all(inst.size == np.round(inst.size)))
    scale = (
        1.0
        if whole and room[hubs].max() <= PRICING_WIDTH - 1
        else room[hubs].max() / (PRICING_WIDTH - 1)
    )
    down = np.floor(inst.size / scale + 1e-9).astype(np.int64)
    up = np.ceil(inst.size / scale - 1e-9).astype(np.int64)
    members = {j: np.flatnonzero((aj == j) & (ai != j)) for j in hubs.tolist()}
    per_group = inst.weights[2]  # the objective's cost of each group, on its hub's column
    self_cost = {j: per_group + float(coef[(aj == j) & (ai == j)][0]) for j in hubs.tolist()}
    n = inst.n
    master = quiet_highs()
    inf = highspy.kHighsInf
    empty_i, empty_v = np.zeros(0, dtype=np.int32), np.zeros(0)
    for _ in range(n):
        master.addRow(1.0, 1.0, 0, empty_i, empty_v)
    count_high = inst.count_max if inst.count_max is not None else n
    master.addRow(float(inst.count_min or 0), float(count_high), 0, empty_i, empty_v)
    start = construct(inst)
    if start is not None:  # the greedy grouping's groups: a master that is feasible
        for j in np.unique(start).tolist():
            group = np.flatnonzero(start == j)
            rows = np.append(group, n).astype(np.int32)
            cost = per_group + float(inst.arc_objective(group, np.full(len(group), j)).sum())
            master.addCol(cost, 0.0, inf, len(rows), rows, np.ones(len(rows)))
    else:  # columns that cover one practice, or fill the count, dearer than any grouping
        dearest = np.zeros(n)
        np.maximum.at(dearest, ai, coef)
        artificial = 10.0 * (float(dearest.sum()) + n * abs(per_group) + 1.0)
        for i in range(n):
            master.addCol(artificial, 0.0, inf, 1, np.array([i], dtype=np.int32), np.ones(1))
        master.addCol(artificial, 0.0, inf, 1, np.array([n], dtype=np.int32), np.ones(1))
    began, rounds, added = time.perf_counter(), 0, 1
    u = np.zeros(n)
    while added and time.perf_counter() - began < seconds:
        master.run()
        rounds += 1
        if master.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            master.clearSolver()  # a simplex that lost its way: once more from scratch
            master.run()
        if master.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            status = master.modelStatusToString(master.getModelStatus())
            raise RuntimeError(f"master LP not solved in round {rounds}: {status}")
        solution = master.getSolution()
        u = np.asarray(solution.row_dual)[:n]
        sigma = float(solution.row_dual[n])
        scale_tol = 1e-9 * max(1.0, abs(master.getInfo().objective_function_value))
        added = 0
        hub_value = np.full(len(hubs), np.inf)
        for h, j in enumerate(hubs.tolist()):
            arcs = members[j]
            high = math.floor(room[j] / scale + 1e-9)
            low = min(math.ceil((inst.min_size - inst.size[j]) / scale - 1e-9), high)
            reduced = coef[arcs] - u[ai[arcs]]
            value, chosen = _cheapest_load(reduced, down[ai[arcs]], up[ai[arcs]], low, high)
            hub_value[h] = self_cost[j] - u[j] + value
            if hub_value[h] - sigma < -scale_tol:
                rows = np.concatenate([[j], ai[arcs][chosen], [n]]).astype(np.int32)
                cost = self_cost[j] + float(coef[arcs][chosen].sum())
                master.addCol(cost, 0.0, inf, len(rows), rows, np.ones(len(rows)))
                added += 1
    # L(u) at the last duals: every hub's relaxed knapsack, the cheapest hubs in count
    proven = float(u.sum()) + choice_value(inst, hubs, hub_value)
    return {
        "dw": float(proven),
        "dw_master": float(master.getInfo().objective_function_value),
        "dw_rounds": rounds,
        "dw_seconds": time.perf_counter() - began,
        "dw_converged": added == 0,
        "dw_unit": scale,
    }


def sides(
    objective: float, bound: float, longer_objective: float | None, proven: bool
) -> tuple[float, float, bool]:
    """How the gap at the limit, ``objective`` against ``bound``, splits between the
    grouping and the bound, as shares of ``objective``: (grouping, bound, exact).

    The best grouping known is the better of the two runs' (``longer_objective`` from
    the longer run). Where the longer run ``proven`` its grouping optimal the split is
    exact: the grouping leaves what lies above the optimum, the bound what lies below.
    Otherwise the optimum may lie below the best grouping known, so the grouping leaves
    at least its share and the bound at most its own.
    """
    best = objective if longer_objective is None else min(objective, longer_objective)
    scale = abs(objective) or 1.0
    return (objective - best) / scale, (best - bound) / scale, proven


def _sides_text(f: dict[str, Any]) -> str:
    ref = f["reference"]
    if f["objective_at_limit"] is None or f["bound_at_limit"] is None:
        return ""
    grouping, bound, exact = sides(
        f["objective_at_limit"], f["bound_at_limit"], ref["objective"], ref["status"] == "optimal"
    )
    if exact:
        return f"{grouping:.2%} / {bound:.2%}"
    return f"at least {grouping:.2%} / at most {bound:.2%}"


def unproven(rows: list[dict[str, Any]]) -> list[str]:
    """Cases of the harness run that neither engine proved optimal, in run order.

    Left out: England nested (asked for by ``--cases england:all``: module docstring), the
    doni set (1,000-5,000 points, 1-25 million arcs: the dense LP and master of this study
    do not fit; mergeopt's bound there is the p-median relaxation's, the harness says so),
    and a case the harness could not load (a row with no status).
    """
    cases: dict[str, bool] = {}
    for row in rows:
        if row.get("family") in ("england", "doni") or "status" not in row:
            continue
        cases[row["case"]] = cases.get(row["case"], False) or row.get("status") == "optimal"
    return [case for case, proved in cases.items() if not proved]


def _instance(label: str) -> Instance:
    from benchmarks.run import Spec, load_case

    loaded: Instance = load_case(Spec.parse(label))[0]
    return loaded


def _pct(value: float | None, best: float) -> str:
    return "" if value is None else f"{(best - value) / abs(best):.2%}"


def _reference(inst: Instance, seconds: float) -> dict[str, Any]:
    """mergeopt's own run with a longer time limit: where its objective and bound go."""
    from mergeopt.engine.options import SolveOptions
    from mergeopt.engine.portfolio import solve_instance

    report = solve_instance(inst, SolveOptions(time_limit=seconds))
    return {"status": report.status, "objective": report.objective, "bound": report.bound}


def _measure(label: str, rows: list[dict[str, Any]], reference: float) -> dict[str, Any] | None:
    inst = _instance(label)
    left_out = RELAXATIONS_LEFT_OUT.get(label.split(":")[0])
    if left_out is None and not lagrangian_applies(with_count_bounds(inst), scaled=True):
        print(f"{label}: no Lagrangian value for this instance; skipped", flush=True)
        return None
    ran = {r["engine"]: r for r in rows if r["case"] == label and "error" not in r}
    ours = ran.get("mergeopt", {})
    found = [r["objective"] for r in ran.values() if r.get("objective") is not None]
    figures: dict[str, Any] = {
        "label": label,
        "n": inst.n,
        "arcs": len(inst.arcs()[0]),
        "optimum": ours.get("optimum"),
        "bound_at_limit": ours.get("bound"),
        "objective_at_limit": ours.get("objective"),
        "limit": ours.get("time_limit"),
    }
    if figures["optimum"] is None and reference > 0:
        figures["reference"] = _reference(inst, reference)
        if figures["reference"]["objective"] is not None:
            found.append(figures["reference"]["objective"])
    figures["best"] = figures["optimum"] if figures["optimum"] is not None else min(found)
    if left_out is not None:
        figures["left_out"] = left_out
        return figures
    started = time.perf_counter()
    figures["lp"] = lp_bound(inst)
    figures["lp_seconds"] = time.perf_counter() - started
    figures |= dw_bound(inst)
    return figures


def _bound_row(f: dict[str, Any]) -> str:
    best = f["best"]
    if "left_out" in f:
        return (
            f"| {f['label']} | {f['n']} | {f['arcs']:,} | {best:,.1f} "
            f"| not measured: {f['left_out']} |  |  |  |  |  |  "
            f"| {f['bound_at_limit'] or math.nan:,.1f} ({_pct(f['bound_at_limit'], best)}) "
            f"| {f['limit'] or math.nan:g} |"
        )
    return (
        f"| {f['label']} | {f['n']} | {f['arcs']:,} | {best:,.1f}"
        f"{' (optimum)' if f['optimum'] is not None else ''} "
        f"| {f['lp']:,.1f} ({_pct(f['lp'], best)}) | {f['lp_seconds']:.1f} "
        f"| {f['dw']:,.1f} ({_pct(f['dw'], best)}) "
        f"| {f['dw_master']:,.1f} ({_pct(f['dw_master'], best)}) | {f['dw_rounds']} "
        f"| {f['dw_seconds']:.1f}{'' if f['dw_converged'] else ' (cut short)'} "
        f"| {f['dw_unit']:g} "
        f"| {f['bound_at_limit'] or math.nan:,.1f} ({_pct(f['bound_at_limit'], best)}) "
        f"| {f['limit'] or math.nan:g} |"
    )


def _reference_row(f: dict[str, Any], seconds: float) -> str:
    ref = f["reference"]

    def num(value: float | None) -> str:
        return "" if value is None else f"{value:,.1f}"

    def gap(objective: float | None, bound: float | None) -> str:
        if objective is None or bound is None:
            return ""
        return f"{(objective - bound) / abs(objective):.2%}"

    return (
        f"| {f['label']} | {f['limit'] or math.nan:g} | {num(f['objective_at_limit'])} "
        f"| {num(f['bound_at_limit'])} | {gap(f['objective_at_limit'], f['bound_at_limit'])} "
        f"| {seconds:g} | {num(ref['objective'])} | {num(ref['bound'])} "
        f"| {gap(ref['objective'], ref['bound'])} | {ref['status']} | {_sides_text(f)} |"
    )


#: How the DW column was checked, written under the table.
CHECKED = """
## Is the DW bound right?

It is the LP over every column of mergeopt's model, no less and no more:
`test_the_root_bound_is_the_lp_over_every_column` (tests/engine/strategies/test_branch_price.py)
holds this column generation, and the branch-and-price root's, to the master written out
with every feasible column on small capacitated p-median draws (a median serves itself, its
list size counts against its capacity, exactly p medians). On pmedcap1 #8 and #20 a column
generation written apart from mergeopt (an exact 0-1 knapsack per median) gives 771.667 and
973.667, the figures above. The Lagrangian and column-generation bounds published for these
instances (Lorena and Senne 2004, Ceselli and Righini 2005, the dual heuristics of Baldacci
et al. 2002, the Fenchel cuts on each capacity row of Boccia et al. 2008) relax the same
rows and keep a knapsack per median, so on the same model (OR-Library's coordinates,
distances rounded down, which give the published optima) none can exceed it; their
per-instance figures could not be read from a source available here. A floor on each group's
list size implied by the count (the total less p - 1 capacities: 72 on #8, 44 on #20)
raises the root of #8 to 772.1 and leaves #20's unchanged, so it is not used.
"""


def record_path(out: Path) -> Path:
    """Where a run keeps its figures beside its page (BOUNDS.md: bounds.json), for
    ``--render``."""
    return out.with_name(f"{out.stem.lower()}.json")


def command(
    cases: str | None, reference: float, out: Path, harness: Path = HERE / "results.json"
) -> str:
    """The command that writes the page again: every option that differs from its
    default (paths from the repository root)."""
    words = ["python -m benchmarks.bounds"]
    if cases:
        words.append(f"--cases {cases}")
    if reference != REFERENCE_SECONDS:
        words.append(f"--reference {reference:g}")
    for option, path, default in (
        ("--json", harness, HERE / "results.json"),
        ("--out", out, HERE / "BOUNDS.md"),
    ):
        where = path.resolve()
        if where != default.resolve():
            shown = where.relative_to(HERE.parent) if where.is_relative_to(HERE.parent) else where
            words.append(f"{option} {shown}")
    return " ".join(words)


def page(
    measured: list[dict[str, Any]],
    *,
    harness: dict[str, Any],
    source: str,
    command: str,
    run: str,
    machine: str,
    reference: float,
) -> str:
    """The page: the bounds table, how the DW column was checked (where a row has one),
    and the longer runs with the split of each gap."""
    header = (
        "| case | n | arcs | best known | LP bound (gap) | LP s | DW bound (gap) "
        "| last master LP (gap) | CG rounds | CG s | pricing unit "
        "| mergeopt bound at limit (gap) | limit s |\n|" + "---|" * 13
    )
    text = (
        "# How strong each lower bound is\n\n"
        "Written by `benchmarks/bounds.py`; see its docstring for what each column is. "
        "The mergeopt bound at the limit comes from the harness run in "
        f"`{source}` (`{harness.get('command', '')}`, run "
        f"{harness.get('machine', {}).get('date', 'at an unrecorded date')}); a gap is the "
        "share of the "
        "best grouping known (the published optimum, else the best objective of the "
        "harness run and the longer run below) that the bound leaves open.\n\n"
        f"Command: `{command}`  \n"
        f"Run: {run}  \n"
        f"Machine: {machine}\n\n"
        + header
        + "\n"
        + "\n".join(_bound_row(f) for f in measured)
        + "\n"
    )
    if any("dw" in f for f in measured):
        text += CHECKED
    longer = [f for f in measured if "reference" in f]
    if longer:
        text += (
            "\n## A longer run where no optimum is published\n\n"
            "mergeopt on the same instance (`mergeopt.engine.solve_instance`, the path of "
            "`mergeopt run`) at the harness limit and with the longer limit, to tell a gap "
            "the grouping leaves from one the bound leaves: of the gap at the limit, the "
            "share above the best grouping known and the share below it (exact where the "
            "longer run proved its grouping optimal; otherwise the optimum may lie lower, "
            "so the grouping leaves at least its share and the bound at most its own).\n\n"
            "| case | limit s | objective | bound | gap | longer limit s | objective "
            "| bound | gap | status | of the gap at the limit: grouping / bound |\n|"
            + "---|" * 11
            + "\n"
            + "\n".join(_reference_row(f, reference) for f in longer)
            + "\n"
        )
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cases", help="case labels, comma-separated (default: unproven)")
    parser.add_argument(
        "--reference",
        type=float,
        default=REFERENCE_SECONDS,
        help="seconds of a longer mergeopt run for cases without a published optimum (0: none)",
    )
    parser.add_argument("--json", type=Path, default=HERE / "results.json")
    parser.add_argument("--out", type=Path, default=HERE / "BOUNDS.md")
    parser.add_argument(
        "--render",
        action="store_true",
        help="write the page again from the figures its run kept (record_path), measure nothing",
    )
    args = parser.parse_args()
    record = record_path(args.out)
    if args.render:
        if not record.is_file():
            parser.error(
                f"--render: no figures kept beside {args.out} (looked for {record}); the "
                "run that wrote the page kept none: run it without --render"
            )
        kept = json.loads(record.read_text(encoding="utf-8"))
        args.out.write_text(page(kept.pop("measured"), **kept), encoding="utf-8")
        return
    harness = json.loads(args.json.read_text(encoding="utf-8"))
    rows: list[dict[str, Any]] = harness["rows"]
    labels = args.cases.split(",") if args.cases else unproven(rows)
    measured = []
    loads = [os.getloadavg()[0]]
    calibrations = [calibrate()]
    for label in labels:
        figures = _measure(label, rows, args.reference)
        if figures is not None:
            measured.append(figures)
            print(_bound_row(figures), flush=True)
        loads.append(os.getloadavg()[0])
    calibrations.append(calibrate())
    about: dict[str, Any] = {
        "harness": {"command": harness.get("command"), "machine": harness.get("machine", {})},
        "source": args.json.name,
        "command": command(args.cases, args.reference, args.out, args.json),
        "run": f"{datetime.now(UTC).isoformat(timespec='minutes')}, commit {commit()}",
        "machine": f"{describe()}; {load(loads)}; {speed(calibrations)}",
        "reference": args.reference,
    }
    record.write_text(json.dumps({"measured": measured, **about}, indent=1), encoding="utf-8")
    args.out.write_text(page(measured, **about), encoding="utf-8")


if __name__ == "__main__":
    main()
