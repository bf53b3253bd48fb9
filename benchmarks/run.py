"""The benchmark harness: mergeopt against a plain dense model, in one run, on one machine.

Usage (from the repository root)::

    python -m benchmarks.run                      # everything, writes benchmarks/RESULTS.md
    python -m benchmarks.run --only pmedcap       # one family (see FAMILIES)
    python -m benchmarks.run --only pmedcap --cases 8,20 --engines mergeopt
    python -m benchmarks.run --only ta,doni --literature-model   # the literature's rule

Every case is solved in a fresh Python process (``--child``), one per engine, so that its
peak memory does not leak between cases: the larger of that process's ``ru_maxrss``
(interpreter, data, model and solver) and the peak, sampled every 0.1 s, of the resident
memory summed over it and the worker processes it starts (a nested run solves regions in
parallel); shared pages count once per process, so the sum errs high. mergeopt is
solved through :func:`mergeopt.engine.solve_instance`, the path ``mergeopt run`` takes;
the baseline is :mod:`benchmarks.baseline`. Both get the same time limit per family
(:data:`LIMITS`) and the same relative gap tolerance (1e-6). Raw figures go to
``benchmarks/results.json`` as each case finishes, and the table to
``benchmarks/RESULTS.md`` at the end (``--render`` redraws it from the JSON).

mergeopt puts a hub in its own group; the published capacitated p-median optima do
not always respect that rule. ``--literature-model`` solves the capacitated p-median
families (pmedcap, ta, doni) without it
(:func:`benchmarks.instances.literature_model`), so their objectives compare with the
published ones; without the option, a row whose proven bound lies above the
published optimum says so in its note.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.machine import calibrate, cpu_model, speed, uname
from benchmarks.machine import commit as measured_commit

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
FAMILIES = ("pmedcap", "pmed", "ta", "doni", "icb", "england")
#: Time limit in seconds per family, the same for mergeopt and the baseline.
LIMITS = {
    "pmedcap": 30.0,
    "pmed": 60.0,
    "ta": 60.0,
    "doni": 300.0,
    "icb": 60.0,
    "england": 600.0,
}
#: The capacitated p-median families, which ``--literature-model`` changes.
CAPACITATED = ("pmedcap", "ta", "doni")
#: The uncapacitated sample: sizes 100 to 600, few and many medians.
PMED_SAMPLE = (1, 5, 6, 11, 16, 21, 26)
#: Extra relative tolerance when comparing an objective with a published optimum.
MATCH = 1e-9
ENGINES = ("mergeopt", "baseline")
#: Engines ``--engines`` may name: ``bnp`` is the branch-and-price strategy alone,
#: ``highs`` HiGHS alone on mergeopt's model and ``cuts`` the same with the lifted cover
#: cuts of :mod:`mergeopt.engine.cuts` added (:mod:`benchmarks.branch_price`).
KNOWN_ENGINES = ("mergeopt", "bnp", "highs", "cuts", "baseline")
#: Families without a baseline, and why.
NO_BASELINE = {
    "england": "dense model of 6,000+ practices has 38 million x_ij: not built (memory)"
}
#: doni instances past doni1 have 2,000+ points: the dense baseline is not built.
DONI_BASELINE = ("1",)


@dataclass(frozen=True)
class Spec:
    family: str
    key: str  # pmedcap/pmed/doni number, TA size, ICB code, or "all"
    literature: bool = False  # the capacitated p-median without the hub-in-own-group rule

    @property
    def label(self) -> str:
        return f"{self.family}:{self.key}" + (":literature" if self.literature else "")

    @classmethod
    def parse(cls, label: str) -> Spec:
        family, key, *model = label.split(":")
        return cls(family, key, literature=model == ["literature"])


def baseline_skipped(spec: Spec) -> str | None:
    """Why the baseline is not run on this case, or None if it is."""
    if spec.family == "doni" and spec.key not in DONI_BASELINE:
        return "dense model of 2,000+ points has 4 million+ x_ij: not built (memory)"
    return NO_BASELINE.get(spec.family)


def load_case(spec: Spec) -> tuple[Any, dict[str, Any]]:
    """The case's Instance, and what the table says about it."""
    from benchmarks import instances

    if spec.family == "pmedcap":
        case = instances.pmedcap(int(spec.key))
    elif spec.family == "pmed":
        case = instances.pmed(int(spec.key))
    elif spec.family == "ta":
        case = instances.ta(int(spec.key))
    elif spec.family == "doni":
        case = instances.doni(int(spec.key))
    elif spec.family == "icb":
        limit = 20.0 if spec.key == instances.largest_icb() else None
        case = instances.icb(spec.key, limit)
    else:
        case, _ = instances.england()
    inst = case.instance
    model = "hub in own group"
    if spec.literature and spec.family in CAPACITATED:
        inst = instances.literature_model(inst)
        model = "literature (a median's own demand may go to another median)"
    groups = inst.count_max if inst.count_max is not None else None
    about = {
        "name": case.name,
        "n": case.instance.n,
        "groups": groups,
        "note": case.note,
        "optimum": case.optimum,
        "model": model,
    }
    return inst, about


class _TreeMemory:
    """The peak resident memory of this process and its children, sampled in a thread."""

    def __init__(self, every: float = 0.1) -> None:
        import psutil

        self._me = psutil.Process()
        self._every = every
        self._stop = threading.Event()
        self.peak = 0
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        import psutil

        while not self._stop.wait(self._every):
            total = 0
            for proc in [self._me, *self._me.children(recursive=True)]:
                try:
                    total += proc.memory_info().rss
                except psutil.Error:  # a worker that ended meanwhile
                    continue
            self.peak = max(self.peak, total)

    def stop_mb(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak / 2**20


def _child(spec: Spec, engine: str, limit: float, seed: int = 0) -> dict[str, Any]:
    """Solve one case with one engine in this process (mergeopt and the baseline with
    HiGHS's random seed ``seed``); return its figures."""
    memory = _TreeMemory()
    started = time.perf_counter()
    inst, about = load_case(spec)
    loaded = time.perf_counter()
    row: dict[str, Any] = {"case": spec.label, "family": spec.family, "engine": engine, **about}
    row["load_seconds"] = loaded - started
    if engine == "mergeopt":
        from mergeopt.engine.options import SolveOptions
        from mergeopt.engine.portfolio import solve_instance

        report = solve_instance(inst, SolveOptions(time_limit=limit, seed=seed))
        wall = time.perf_counter() - loaded
        row |= {
            "status": report.status,
            "objective": report.objective,
            "bound": report.bound,
            "gap": report.gap,
            "build_seconds": report.build_seconds,
            "detail": report.stopped_by,
        }
    elif engine == "bnp":
        from benchmarks.branch_price import solve_bnp

        row |= solve_bnp(inst, time_limit=limit)
        wall = time.perf_counter() - loaded
    elif engine in ("highs", "cuts"):
        from benchmarks.branch_price import solve_highs

        row |= solve_highs(inst, time_limit=limit, cuts=engine == "cuts")
        wall = time.perf_counter() - loaded
    else:
        from benchmarks.baseline import solve_plain

        plain = solve_plain(inst, time_limit=limit, seed=seed)
        wall = time.perf_counter() - loaded
        row |= {
            "status": plain.status,
            "objective": plain.objective,
            "bound": plain.bound,
            "gap": plain.gap,
            "build_seconds": plain.build_seconds,
            "detail": f"HiGHS: {plain.highs_status}",
        }
    row["wall_seconds"] = wall
    row["time_limit"] = limit
    row["seed"] = seed
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    row["peak_mb"] = max(own, memory.stop_mb())
    return row


def specs(only: list[str], cases: list[str] | None, *, literature: bool = False) -> list[Spec]:
    """The cases of the chosen families (``cases`` narrows the keys: numbers, TA sizes,
    ICB codes); ``literature`` drops the hub-in-own-group rule on capacitated ones."""
    from benchmarks import instances

    found: list[Spec] = []
    for family in only:
        if family == "pmedcap":
            keys = [str(k) for k in range(1, 21)]
        elif family == "pmed":
            keys = [str(k) for k in PMED_SAMPLE]
        elif family == "ta":
            keys = [str(k) for k in instances.TA]
        elif family == "doni":
            # the files this checkout holds (benchmarks/data/README.md: doni2, doni6 and
            # doni7 are not copied); one named by --cases is tried and its absence reported
            keys = [str(k) for k in instances.DONI if instances.doni_path(k).is_file()]
        elif family == "icb":
            counts = instances.england_practices()["region"].value_counts()
            # the largest, the median and the smallest ICB by practices
            keys = list(dict.fromkeys([counts.index[0], counts.index[len(counts) // 2]]))
            keys.append(str(counts.index[-1]))
        else:
            keys = ["all"]
        if cases and family != "england":
            keys = [k for k in keys if k in cases] or cases
        model = literature and family in CAPACITATED
        found += [Spec(family, str(k), literature=model) for k in keys]
    return found


def _run_child(spec: Spec, engine: str, limit: float, seed: int = 0) -> dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks.run", "--child", spec.label, engine, str(limit)]
    command += ["--seed", str(seed)]
    try:
        done = subprocess.run(
            command, cwd=ROOT, capture_output=True, text=True, timeout=2 * limit + 600
        )
    except subprocess.TimeoutExpired:
        return {"case": spec.label, "family": spec.family, "engine": engine, "error": "timeout"}
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        return {
            "case": spec.label,
            "family": spec.family,
            "engine": engine,
            "error": " | ".join(tail) or f"exit {done.returncode}",
        }
    row: dict[str, Any] = json.loads(lines[-1])
    return row


def machine() -> dict[str, Any]:
    """The machine and versions a run's page names (:mod:`benchmarks.machine`)."""
    import os

    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "uname": uname(),
        "cpu": cpu_model(),
        "cores": str(os.cpu_count()),
        "python": platform.python_version(),
        "highs": version("highspy"),
        "pulp": version("pulp"),
        "numpy": np.__version__,
        "commit": measured_commit(),
    }


# ---------------------------------------------------------------------------------------
# RESULTS.md


def _num(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.{digits}f}"
    return f"{value:.{digits}f}"


def _gap(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.3f}%"


def _pair(
    rows: list[dict[str, Any]], engine: str = "mergeopt"
) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
    """Each case's row of ``engine`` with the baseline's row beside it (or None)."""
    by_case: dict[str, dict[str, dict[str, Any]]] = {}
    for row in rows:
        by_case.setdefault(row["case"], {})[row["engine"]] = row
    return [(e[engine], e.get("baseline")) for e in by_case.values() if engine in e]


def speedup(ours: dict[str, Any], plain: dict[str, Any] | None) -> float | None:
    """Baseline wall time over mergeopt's, where both proved optimality (else None)."""
    if plain is None or plain.get("status") != "optimal" or ours.get("status") != "optimal":
        return None
    return float(plain["wall_seconds"]) / max(float(ours["wall_seconds"]), 1e-9)


def _speedup_text(ours: dict[str, Any], plain: dict[str, Any] | None) -> str:
    ratio = speedup(ours, plain)
    if ratio is not None:
        return f"{ratio:.1f}x"
    if plain is not None and ours.get("status") == "optimal" and "error" not in plain:
        # the baseline did not finish: the ratio is at least its time over ours
        low = float(plain["wall_seconds"]) / max(float(ours["wall_seconds"]), 1e-9)
        return f">{low:.1f}x (baseline unproven)"
    return "-"


def _relative(ours: float | None, theirs: float | None, *, higher_is_better: bool) -> str:
    """'equal', or how far ``ours`` lies from ``theirs`` and which is better."""
    if ours is None and theirs is None:
        return "neither has one"
    if ours is None or theirs is None:
        return "mergeopt has none" if ours is None else "baseline has none"
    if abs(ours - theirs) <= MATCH * max(1.0, abs(theirs)) + 1e-6:
        return "equal"
    better = (ours > theirs) == higher_is_better
    word = "better" if better else "worse"
    if abs(theirs) <= 1e-9:  # a share of nothing is no figure (doni1's plain bound is 0)
        return f"{ours:,.1f} against the baseline's 0: {word}"
    share = abs(ours - theirs) / abs(theirs)
    return f"{100 * share:.2f}% {word}"


def versus(ours: dict[str, Any], plain: dict[str, Any] | None) -> str:
    """mergeopt against the baseline on one case: the time ratio where both proved
    optimality; otherwise mergeopt's bound and objective against the baseline's."""
    if plain is None or "error" in plain or "error" in ours:
        return "-"
    text = _speedup_text(ours, plain)
    if text.endswith("x"):
        return text
    bound = _relative(ours.get("bound"), plain.get("bound"), higher_is_better=True)
    objective = _relative(ours.get("objective"), plain.get("objective"), higher_is_better=False)
    parts = [] if text == "-" else [text]
    if plain.get("status") == "optimal" and ours.get("status") != "optimal":
        parts.append("baseline proved, mergeopt did not")
    return "; ".join([*parts, f"bound {bound}", f"objective {objective}"])


def hub_rule_note(row: dict[str, Any]) -> str:
    """Says where a published optimum lies below what this row's model can reach: its
    proven bound (a lower bound on every grouping that keeps each hub in its own group)
    is above it, so the published value comes from the literature's looser model."""
    optimum, bound = row.get("optimum"), row.get("bound")
    if "literature" in str(row.get("model", "")):
        return "literature model: a median's own demand may go to another median"
    if optimum is None or bound is None:
        return ""
    if bound <= optimum + MATCH * max(1.0, abs(optimum)) + 1e-6:
        return ""
    return (
        f"published optimum {_num(optimum)} is below this model's proven bound "
        f"{_num(bound)}: the published model lets a median's own demand go to another "
        "median (compare with --literature-model)"
    )


def _time_to_proof(row: dict[str, Any]) -> str:
    return f"{row['wall_seconds']:.2f}" if row.get("status") == "optimal" else "not proven"


COLUMNS = 15


def _row(
    row: dict[str, Any] | None, engine: str, name: str, about: dict[str, Any], extra: str
) -> str:
    if row is None:
        reason = about.get("skipped") or "not run"
        filler = " |" * (COLUMNS - 4)
        return f"| {name} | {engine} | {about.get('n', '-')} | skipped: {reason} |" + filler
    if "error" in row:
        error = str(row["error"]).replace("|", "/")  # a pipe would split the table's row
        return f"| {name} | {engine} | - | error: {error} |" + " |" * (COLUMNS - 4)
    optimum = row.get("optimum")
    match = ""
    if optimum is not None and row.get("objective") is not None:
        same = abs(row["objective"] - optimum) <= MATCH * max(1.0, abs(optimum)) + 1e-6
        match = " =" if same else " ≠"
    build_share = row["build_seconds"] / max(row["wall_seconds"], 1e-9)
    return (
        f"| {name} | {engine} | {row['n']} | {row['status']} | {_num(row['objective'])}{match} "
        f"| {_num(row['bound'])} | {_gap(row['gap'])} | {_num(optimum)} "
        f"| {_time_to_proof(row)} | {row['wall_seconds']:.2f} "
        f"| {row['build_seconds']:.3f} ({100 * build_share:.1f}%) "
        f"| {row['peak_mb']:.0f} | {extra} | {row.get('detail', '')} | {hub_rule_note(row)} |"
    )


NOTES = [
    "## How the instances are set",
    "",
    "- pmedcap is run with a 30 s limit, the limit of its target (issue 20: every case "
    "proven within 30 s); the 5 s stretch is read from the time to proof. Earlier pages "
    "ran it at 10 s (each page's header gives its limits).",
    "- Travel limit of an ICB (`benchmarks.instances.icb_limit`): the tightest of 20, "
    "25, 30, 40 and 60 minutes at which the ICB is *shown* feasible: every practice can "
    "reach a hub whose reach holds 30,000 patients, and the greedy heuristic "
    "(`mergeopt.engine.strategies.heuristics.construct`) finds a grouping, or failing it "
    "a 5 s solve finds one. The largest ICB is run at 20 minutes regardless (the target's "
    "setting).",
    "- England: each ICB at its own limit as above. A practice that reaches no network "
    "even at 60 minutes (an island practice) is left out and named in the instance's "
    "note; without that, its ICB, and so England, is infeasible at every limit.",
]


HEADER = (
    "| instance | engine | n | status | objective | bound | gap | known optimum "
    "| time to proof s | wall s | build s (share) | peak MB | vs baseline | solver says "
    "| note |\n" + "|---" * COLUMNS + "|"
)


def _limits_used(rows: list[dict[str, Any]]) -> str:
    """The time limit of each family in this run (the rows say it; else LIMITS)."""
    used = {r["family"]: r["time_limit"] for r in rows if "time_limit" in r}
    shown = {family: used.get(family, LIMITS[family]) for family in LIMITS}
    if used:
        shown = {family: limit for family, limit in shown.items() if family in used}
    return ", ".join(f"{family} {limit:g} s" for family, limit in shown.items())


def run_lines(info: dict[str, Any], command: str) -> list[str]:
    """A results page's lines on the run: its command, date, commit and machine
    (:func:`machine`'s record)."""
    return [
        f"- command: `{command}`",
        f"- date: {info['date']}",
        f"- commit: {info.get('commit', 'not recorded')}",
        f"- machine: `{info['uname']}`",
        f"- CPU: {info['cpu']}, {info['cores']} cores",
        f"- Python {info['python']}, HiGHS (highspy) {info['highs']}, PuLP {info['pulp']}, "
        f"numpy {info['numpy']}",
        *([f"- {speed(info['calibration'])}"] if "calibration" in info else []),
    ]


def render(rows: list[dict[str, Any]], info: dict[str, str], command: str) -> str:
    """RESULTS.md from the raw rows of one run."""
    lines = [
        "# Benchmark results",
        "",
        "Written by `benchmarks/run.py` from one run; do not edit by hand.",
        "",
        *run_lines(info, command),
        f"- time limits (every engine): {_limits_used(rows)}"
        "; relative gap tolerance 1e-6 for both",
        "- processes: the baseline is HiGHS in one process; mergeopt may use more (the "
        "matheuristic beside HiGHS in a second process on a large region, independent "
        "regions in parallel), as on the ICB and England rows: the same limits, not the "
        "same solver work",
        "",
        "Columns: `wall s` is the solve call (model build + solve, after loading the data); "
        "`build s` the model build inside it (mergeopt: arrays; baseline: PuLP objects); "
        "`peak MB` the peak resident memory of the fresh process that loaded and solved the "
        "case, with the worker processes it started (sampled every 0.1 s; shared pages "
        "counted once per process); `=` marks an objective equal to the published optimum; "
        "`time to proof s` is the wall time where the engine proved optimality; "
        "`vs baseline` is the baseline's wall time over mergeopt's where both proved "
        "optimality, and otherwise how mergeopt's bound and objective at the limit compare "
        "with the baseline's; `note` says where a published optimum lies below what "
        "mergeopt's model (a hub in its own group) can reach.",
        "",
        *[line for engine in _engines_ran(rows) for line in [*_targets(rows, engine), ""]],
        *NOTES,
        "",
    ]
    titles = {
        "pmedcap": "OR-Library pmedcap1 (capacitated p-median, Osman & Christofides)",
        "pmed": "OR-Library pmed (uncapacitated p-median, Beasley), a sample",
        "ta": "TA set (capacitated p-median, 25-100 points), Euclidean distances",
        "doni": "doni set (capacitated p-median, 1,000+ points), Euclidean distances",
        "icb": "English ICBs: networks of 30,000-50,000 patients, travel limit",
        "england": "All of England, nested by ICB",
    }
    for family in FAMILIES:
        cases: dict[str, list[tuple[str, dict[str, Any], dict[str, Any] | None]]] = {}
        for engine in _engines_ran(rows):
            for ours, plain in _pair(rows, engine):
                if ours["family"] == family:
                    cases.setdefault(ours["case"], []).append((engine, ours, plain))
        if not cases:
            continue
        lines += [f"## {titles[family]}", "", HEADER]
        for entries in cases.values():
            for engine, ours, plain in entries:
                name = ours.get("name", ours["case"])
                if ours.get("note"):
                    name = f"{name} ({ours['note']})"
                if "literature" in str(ours.get("model", "")):
                    name = f"{name} [literature model]"
                skipped = baseline_skipped(Spec.parse(ours["case"]))
                about = {"family": family, "n": ours.get("n", "-"), "skipped": skipped}
                lines.append(_row(ours, engine, name, about, versus(ours, plain)))
            if skipped and plain is None:
                lines.append(_row(None, "baseline", name, about, ""))
            elif plain is not None:
                lines.append(_row(plain, "baseline", name, about, ""))
        lines.append("")
    return "\n".join(lines) + "\n"


def _ok(row: dict[str, Any]) -> bool:
    return "error" not in row


def _engines_ran(rows: list[dict[str, Any]]) -> list[str]:
    """The engines other than the baseline that have rows, in :data:`KNOWN_ENGINES` order."""
    return [e for e in KNOWN_ENGINES if e != "baseline" and any(r["engine"] == e for r in rows)]


def _targets(rows: list[dict[str, Any]], engine: str = "mergeopt") -> list[str]:
    """Met / missed for each target of the performance issue, with ``engine``'s figures."""
    rows = [r for r in rows if not str(r.get("case", "")).endswith(":literature")]
    ours = [r for r in rows if r["engine"] == engine and _ok(r)]
    title = "## Targets" if engine == "mergeopt" else f"## Targets ({engine})"
    lines = [title, "", "| target | result | figures |", "|---|---|---|"]

    def add(target: str, met: bool | None, figures: str) -> None:
        verdict = "not measured" if met is None else ("met" if met else "**missed**")
        lines.append(f"| {target} | {verdict} | {figures} |")

    cap = [r for r in ours if r["family"] == "pmedcap"]
    at_opt = [
        r
        for r in cap
        if r["status"] == "optimal"
        and r["objective"] is not None
        and abs(r["objective"] - r["optimum"]) <= 1e-6
    ]
    fast = [r for r in at_opt if r["wall_seconds"] <= 5.0]
    slowest = max((r["wall_seconds"] for r in cap), default=0.0)
    add(
        "all 20 pmedcap1 at the proven optimum, each within 5 s",
        None if len(cap) < 20 else len(fast) == 20,
        f"{len(at_opt)}/{len(cap)} proven at the published optimum, {len(fast)} of them "
        f"within 5 s; slowest {slowest:.1f} s",
    )
    within = [r for r in at_opt if r["wall_seconds"] <= 31.0]
    add(
        "all 20 pmedcap1 at the proven optimum, each within 30 s",
        None if len(cap) < 20 else len(within) == 20,
        f"{len(within)}/{len(cap)} proven within 30 s",
    )
    icbs = [r for r in ours if r["family"] == "icb"]
    largest = max(icbs, key=lambda r: r["n"], default=None)
    if largest is None:
        add("largest ICB within 0.5% proven gap in 60 s", None, "")
    else:
        gap = largest["gap"]
        met = gap is not None and gap <= 0.005 and largest["wall_seconds"] <= 61.0
        add(
            "largest ICB (30,000-50,000, 20 min) within 0.5% proven gap in 60 s",
            met,
            f"{largest['name']}, n={largest['n']}: gap {_gap(gap)} in "
            f"{largest['wall_seconds']:.1f} s",
        )
    eng = next((r for r in ours if r["family"] == "england"), None)
    if eng is None:
        add("every ICB in England, nested, in 10 min and 4 GB", None, "")
    else:
        gap = eng["gap"]
        met = (
            eng["status"] in ("optimal", "feasible")
            and eng["wall_seconds"] <= 600.0 + 5.0
            and eng["peak_mb"] <= 4096
            and gap is not None
            and gap <= 0.005
        )
        add(
            "every ICB in England, nested, within 10 min and 4 GB (gap 0.5% or better)",
            met,
            f"{eng['status']}, gap {_gap(gap)}, {eng['wall_seconds']:.0f} s, "
            f"{eng['peak_mb']:.0f} MB peak",
        )
    shares = [r["build_seconds"] / max(r["wall_seconds"], 1e-9) for r in icbs]
    add(
        "model building under 10% of wall time at ICB size",
        None if not shares else max(shares) < 0.10,
        "largest share " + (f"{100 * max(shares):.2f}%" if shares else "-"),
    )
    ratios = [(p[0]["case"], speedup(*p)) for p in _pair([r for r in rows if _ok(r)], engine)]
    finished = [(case, r) for case, r in ratios if r is not None]
    worst = min(finished, key=lambda c: c[1], default=None)
    plain_done = sum(
        1 for r in rows if r["engine"] == "baseline" and _ok(r) and r["status"] == "optimal"
    )
    add(
        "at least 10x faster than the baseline wherever the baseline finishes",
        None if worst is None else worst[1] >= 10.0 and len(finished) == plain_done,
        (
            f"{len(finished)} cases both proved optimal (baseline proved {plain_done}); "
            f"smallest ratio {worst[1]:.1f}x on {worst[0]}"
            if worst
            else "no case where both finished"
        ),
    )
    slower = [(case, r) for case, r in finished if r < 1.0]
    add(
        "never slower than the plain model where both prove (ratio >= 1.0)",
        None if not finished else not slower,
        f"{len(slower)} of {len(finished)} below 1.0"
        + (": " + ", ".join(f"{case} {r:.2f}x" for case, r in slower) if slower else ""),
    )
    behind = _behind_at_the_limit(rows, engine)
    open_cases = [
        (ours, plain)
        for ours, plain in _pair([r for r in rows if _ok(r)], engine)
        if plain is not None and "error" not in plain and speedup(ours, plain) is None
    ]
    add(
        "bound and objective at the limit no worse than the plain model's",
        None if not open_cases else not behind,
        f"{len(behind)} of {len(open_cases)} cases not both proven fall behind"
        + (": " + ", ".join(behind) if behind else ""),
    )
    return lines


def _behind_at_the_limit(rows: list[dict[str, Any]], engine: str = "mergeopt") -> list[str]:
    """Cases (not both proven) where ``engine``'s bound or objective is worse than the
    baseline's, each with what is behind."""
    behind = []
    for ours, plain in _pair([r for r in rows if _ok(r)], engine):
        if plain is None or "error" in plain or speedup(ours, plain) is not None:
            continue
        bound = _relative(ours.get("bound"), plain.get("bound"), higher_is_better=True)
        objective = _relative(
            ours.get("objective"), plain.get("objective"), higher_is_better=False
        )
        worse = [
            f"{what} {text}"
            for what, text in (("bound", bound), ("objective", objective))
            if text.endswith("worse") or text == "mergeopt has none"
        ]
        if worse:
            behind.append(f"{ours['case']} ({', '.join(worse)})")
    return behind


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--only", default=",".join(FAMILIES), help="families, comma-separated")
    parser.add_argument("--cases", default="", help="case keys, e.g. 8,20 or QOP")
    parser.add_argument(
        "--engines", default=",".join(ENGINES), help=f"comma-separated, of {KNOWN_ENGINES}"
    )
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--json", type=Path, default=HERE / "results.json")
    parser.add_argument("--render", action="store_true", help="redraw RESULTS.md from JSON")
    parser.add_argument(
        "--literature-model",
        action="store_true",
        help="capacitated p-median families without the hub-in-own-group rule",
    )
    parser.add_argument(
        "--time-limit",
        type=float,
        default=None,
        help="seconds for every case instead of the family's limit (short trial runs)",
    )
    parser.add_argument("--child", nargs=3, metavar=("CASE", "ENGINE", "LIMIT"))
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        label, engine, limit = args.child
        print(json.dumps(_child(Spec.parse(label), engine, float(limit), args.seed)), flush=True)
        return 0
    command = "python -m benchmarks.run " + " ".join(argv if argv is not None else sys.argv[1:])
    if args.render:
        saved = json.loads(args.json.read_text())
        args.out.write_text(render(saved["rows"], saved["machine"], saved["command"]))
        return 0
    only = [f for f in args.only.split(",") if f]
    unknown = sorted(set(only) - set(FAMILIES))
    if unknown:
        parser.error(f"unknown families {unknown}; choose from {FAMILIES}")
    engines = [e for e in args.engines.split(",") if e]
    if set(engines) - set(KNOWN_ENGINES):
        parser.error(f"unknown engines {sorted(set(engines) - set(KNOWN_ENGINES))}")
    info = machine()
    info["calibration"] = [calibrate()]
    rows: list[dict[str, Any]] = []
    chosen = [c for c in args.cases.split(",") if c] or None
    for spec in specs(only, chosen, literature=args.literature_model):
        for engine in engines:
            if engine == "baseline" and baseline_skipped(spec):
                continue
            limit = args.time_limit or LIMITS[spec.family]
            row = _run_child(spec, engine, limit)
            rows.append(row)
            shown = {k: row.get(k) for k in ("status", "objective", "bound", "wall_seconds")}
            print(spec.label, engine, row.get("error", shown), flush=True)
            payload = {"command": command.strip(), "machine": info, "rows": rows}
            args.json.write_text(json.dumps(payload, indent=1))
    info["calibration"].append(calibrate())
    payload = {"command": command.strip(), "machine": info, "rows": rows}
    args.json.write_text(json.dumps(payload, indent=1))
    args.out.write_text(render(rows, info, command.strip()))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
