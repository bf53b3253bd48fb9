"""One run, end to end: config -> inputs -> travel -> model -> solve -> result tables.

:func:`solve_config` is what ``mergeopt run`` and the Python API call; it returns a
:class:`RunResult` and writes nothing (see :mod:`mergeopt.outputs`).
:func:`evaluate_config` scores an existing grouping with the same metrics.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from mergeopt._errors import InfeasibleError, InputError, NoSolutionError
from mergeopt.config import Config
from mergeopt.diagnose import explain_infeasible, precheck
from mergeopt.inputs import read_practices, read_table
from mergeopt.problem import Problem, build_problem
from mergeopt.results import (
    assignments_table,
    group_labels,
    groups_table,
    hubs_for_grouping,
    metrics,
    violations,
)
from mergeopt.solve import SolveReport, solve_instance


@dataclass(frozen=True)
class RunResult:
    """A solved (or evaluated) grouping with its tables and what was proved.

    ``report`` is None for an evaluated existing grouping.
    """

    config: Config
    problem: Problem
    hub_of: np.ndarray
    assignments: pd.DataFrame
    groups: pd.DataFrame
    metrics: dict[str, float | int]
    violations: list[str]
    report: SolveReport | None
    timings: dict[str, float] = field(default_factory=dict)
    inputs: dict[str, str] = field(default_factory=dict)
    grouping: str | None = None

    @property
    def status(self) -> str:
        return self.report.status if self.report is not None else "evaluated"

    def status_text(self) -> str:
        """One line saying what was proved, for the screen and run.json."""
        report = self.report
        if report is None:
            broken = len(self.violations)
            return f"existing grouping '{self.grouping}': {broken} rule(s) broken"
        if report.status == "optimal":
            return "optimal: the solver proved no better grouping exists"
        gap = f"{report.gap:.3%}" if report.gap is not None else "unknown"
        bound = f"{report.bound:,.1f}" if report.bound is not None else "unknown"
        return (
            f"feasible, not proven optimal: within {gap} of the best possible "
            f"(bound {bound}); stopped by {report.stopped_by}"
        )


def prepare_problem(config: Config) -> tuple[Problem, dict[str, float]]:
    """Read inputs and build the problem; raise if the rules are plainly impossible."""
    started = time.perf_counter()
    practices = read_practices(config)
    read = time.perf_counter()
    problem = build_problem(config, practices)
    built = time.perf_counter()
    return problem, {"read_seconds": read - started, "travel_seconds": built - read}


def solve_config(config: Config) -> RunResult:
    """Solve a config and return its grouping with the true solver status.

    Raises
    ------
    InputError
        The config or an input is wrong.
    InfeasibleError
        The rules cannot all be met; the message says which and what to change.
    NoSolutionError
        The solver found no grouping within its time limit.
    """
    started = time.perf_counter()
    problem, timings = prepare_problem(config)
    findings = precheck(problem)
    if findings:
        raise InfeasibleError("; ".join(findings))
    report = solve_instance(problem.instance, config.solver, name=config.name)
    if report.status == "infeasible":
        raise InfeasibleError(explain_infeasible(problem))
    if report.hub_of is None:
        raise NoSolutionError(
            f"no grouping found within the time limit of {config.solver.time_limit:g} s "
            f"({report.stopped_by}): raise solver.time_limit"
        )
    timings |= {"build_seconds": report.build_seconds, "solve_seconds": report.solve_seconds}
    return _result(config, problem, report.hub_of, report, timings, started, grouping=None)


def evaluate_config(config: Config, grouping: str) -> RunResult:
    """Score an existing grouping (a column of the practices table) by the config's rules."""
    started = time.perf_counter()
    problem, timings = prepare_problem(config)
    path = config.inputs.practices
    raw = read_table(path)
    if grouping not in raw.columns:
        raise InputError(f"{path}: missing column '{grouping}' named by --grouping")
    codes = raw[config.inputs.columns.code].astype("string").str.strip().str.upper()
    labels = pd.Series(raw[grouping].to_numpy(), index=codes.to_numpy())
    names = group_labels(labels.reindex(problem.practices.index).tolist(), problem.codes)
    hub_of = hubs_for_grouping(problem, names)
    return _result(
        config, problem, hub_of, None, timings, started, grouping=grouping, labels=names
    )


def _result(
    config: Config,
    problem: Problem,
    hub_of: np.ndarray,
    report: SolveReport | None,
    timings: dict[str, float],
    started: float,
    *,
    grouping: str | None,
    labels: list[str] | None = None,
) -> RunResult:
    timings["total_seconds"] = time.perf_counter() - started
    return RunResult(
        config=config,
        problem=problem,
        hub_of=hub_of,
        assignments=assignments_table(problem, hub_of, labels=labels),
        groups=groups_table(problem, hub_of, labels=labels),
        metrics=metrics(problem, hub_of),
        violations=violations(problem, hub_of),
        report=report,
        timings={key: round(value, 4) for key, value in timings.items()},
        inputs=input_hashes(config),
        grouping=grouping,
    )


def input_hashes(config: Config) -> dict[str, str]:
    """SHA-256 of every input file the config reads, keyed by path."""
    paths = [config.inputs.practices, config.inputs.premises, config.travel.matrix]
    return {str(path): _sha256(path) for path in paths if path is not None}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
