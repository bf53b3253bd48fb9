"""One run, end to end: config -> inputs -> problem -> engine -> result tables.

:func:`solve_config` is what ``mergeopt run`` and the Python API call; it returns a
:class:`~mergeopt.runs.results.RunResult` and writes nothing (see
:mod:`mergeopt.runs.rundir`). :func:`evaluate_config` scores an existing grouping with the
same metrics; :func:`explain_config` says why rules cannot all be met;
:func:`write_travel` writes the travel matrix a run would use, for inspection and reuse.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mergeopt._errors import InfeasibleError, InputError, NoSolutionError, SolverError
from mergeopt.config import Config, load_config
from mergeopt.engine.errors import SolverError as EngineSolverError
from mergeopt.engine.options import SolveOptions
from mergeopt.engine.outcome import Outcome
from mergeopt.engine.portfolio import solve_instance
from mergeopt.inputs.matrix import travel_matrix_table
from mergeopt.inputs.practices import read_practices, read_source
from mergeopt.runs.diagnose import Explanation, explain, precheck
from mergeopt.runs.folders import replace_file
from mergeopt.runs.problem import Problem, prepare_problem, travel_costs
from mergeopt.runs.results import RunResult, group_labels, hubs_for_grouping, result_for


def solve(config: Config | Path | str, *, overrides: Mapping[str, Any] | None = None) -> RunResult:
    """Solve a config (or a config file), with dotted keys overridden: the notebook entry.

    >>> result = solve("configs/hull_pcn.yaml", overrides={"travel.max_minutes": 25})
    >>> result.status, result.metrics["groups"]
    ('optimal', 8)
    """
    return solve_config(_configured(config, overrides))


def evaluate(
    config: Config | Path | str, grouping: str, *, overrides: Mapping[str, Any] | None = None
) -> RunResult:
    """Score an existing grouping (a column of the practices table) by a config's rules.

    >>> today = evaluate("configs/hull_pcn.yaml", "pcn_code")
    >>> today.metrics["groups"], len(today.violations) > 0
    (9, True)
    """
    return evaluate_config(_configured(config, overrides), grouping)


def _configured(config: Config | Path | str, overrides: Mapping[str, Any] | None) -> Config:
    loaded = config if isinstance(config, Config) else load_config(config)
    return loaded.with_overrides(**overrides) if overrides else loaded


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
    if precheck(problem):
        raise _infeasible(problem)
    report = solve_problem(problem)
    if report.status == "infeasible":
        raise _infeasible(problem)
    if report.hub_of is None:
        raise NoSolutionError(
            f"no grouping found within the time limit of {config.solver.time_limit:g} s "
            f"({report.stopped_by}): raise solver.time_limit"
        )
    timings |= {"build_seconds": report.build_seconds, "solve_seconds": report.solve_seconds}
    return _result(config, problem, report.hub_of, report, timings, started, grouping=None)


def solve_problem(problem: Problem) -> Outcome:
    """The engine on a problem's instance, with the config's ``solver`` block as the
    engine's plain options (converted here, and only here).

    Raises
    ------
    SolverError
        The solver itself failed (not a time limit, not infeasible rules).
    """
    config = problem.config
    solver = config.solver
    options = SolveOptions(
        solver=solver.name,
        time_limit=solver.time_limit,
        gap=solver.gap,
        threads=solver.threads,
        log=solver.log,
    )
    try:
        return solve_instance(problem.instance, options, name=config.name)
    except EngineSolverError as error:
        raise SolverError(str(error)) from error


def _infeasible(problem: Problem) -> InfeasibleError:
    explanation = explain(problem)
    return InfeasibleError(str(explanation), overrides=explanation.overrides)


def evaluate_config(config: Config, grouping: str) -> RunResult:
    """Score an existing grouping (a column of the practices table) by the config's rules."""
    started = time.perf_counter()
    problem, timings = prepare_problem(config)
    path = config.inputs.source
    raw = read_source(config)
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
    report: Outcome | None,
    timings: dict[str, float],
    started: float,
    *,
    grouping: str | None,
    labels: list[str] | None = None,
) -> RunResult:
    timings["total_seconds"] = time.perf_counter() - started
    return result_for(config, problem, hub_of, report, timings, grouping=grouping, labels=labels)


def explain_config(config: Config) -> tuple[str, Explanation | None]:
    """Why a config's rules cannot all be met, and what change would let them.

    Returns the solver's status and, when the rules cannot all be met ("infeasible"),
    the explanation; None when a grouping meets them all.
    """
    problem, _ = prepare_problem(config)
    if not precheck(problem):
        report = solve_problem(problem)
        if report.status != "infeasible":
            return report.status, None
    return "infeasible", explain(problem)


def check_config(config: Config) -> tuple[Problem, list[str]]:
    """Read a config's inputs and build its problem without solving; what looks impossible."""
    problem, _ = prepare_problem(config)
    return problem, precheck(problem)


def write_travel(config: Config, out: Path, *, force: bool = False) -> tuple[int, int]:
    """Write the minutes a run of ``config`` would use to ``out``, as the CSV
    ``travel.model: matrix`` reads (``origin,destination,minutes``; unreachable pairs,
    such as those beyond a road network's search limit, left out).

    Returns
    -------
    tuple of int
        Practices and pairs written.

    Raises
    ------
    InputError
        ``out`` exists (without ``force``) or its folder does not; the travel model is
        in km; or an input cannot be used. Nothing is written then.
    """
    if config.travel.unit != "minutes":
        raise InputError(
            f"{config.source}: key 'travel.model': {config.travel.model} travel is in "
            f"{config.travel.unit}, and a travel matrix holds minutes"
        )
    if out.exists() and not force:
        raise InputError(f"{out}: file exists; use --force to replace it")
    if out.is_dir() or not out.parent.is_dir():
        raise InputError(f"{out}: not a file in an existing folder")
    practices = read_practices(config)
    codes = [str(code) for code in practices.index]
    table = travel_matrix_table(codes, travel_costs(config, practices))
    replace_file(out, lambda path: table.to_csv(path, index=False))
    return len(codes), len(table)
