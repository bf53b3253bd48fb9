"""One run, end to end: config -> inputs -> problem -> engine -> result tables.

:func:`solve_config` is what ``mergeopt run`` and the Python API call; it returns a
:class:`~mergeopt.runs.results.RunResult` and writes nothing (see
:mod:`mergeopt.runs.rundir`). :func:`evaluate_config` scores an existing grouping with the
same metrics; :func:`explain_config` says why rules cannot all be met;
:func:`write_travel` writes the travel matrix a run would use, for inspection and reuse.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mergeopt._csv import write_csv
from mergeopt._errors import (
    InfeasibleError,
    InputError,
    InputWarning,
    NoSolutionError,
    SolverError,
)
from mergeopt.config import Config, load_config
from mergeopt.engine.errors import SolverError as EngineSolverError
from mergeopt.engine.federation import TwoLevelOutcome
from mergeopt.engine.options import Progress, SolveOptions
from mergeopt.engine.outcome import Outcome
from mergeopt.engine.portfolio import solve_instance
from mergeopt.engine.processes import usable_cpus
from mergeopt.inputs.matrix import travel_matrix_table
from mergeopt.inputs.practices import read_practices, read_source
from mergeopt.runs.advice import BUDGET_SECONDS, Advice, advise, region_names
from mergeopt.runs.diagnose import Explanation, precheck
from mergeopt.runs.federation_explain import explain_federations
from mergeopt.runs.federations import (
    hubs_for_federations,
    plan_of,
    run_outcome,
    solve_two_levels,
)
from mergeopt.runs.folders import replace_file
from mergeopt.runs.problem import Problem, prepare_problem, travel_costs
from mergeopt.runs.results import RunResult, group_labels, hubs_for_grouping, result_for
from mergeopt.runs.rundir import load_run

log = logging.getLogger(__name__)


def solve(config: Config | Path | str, *, overrides: Mapping[str, Any] | None = None) -> RunResult:
    """Solve a config (or a config file), with dotted keys overridden: the notebook entry.

    >>> result = solve("configs/hull_pcn.yaml", overrides={"travel.max_minutes": 25})
    >>> result.status, result.metrics["groups"]
    ('optimal', 8)
    """
    return solve_config(_configured(config, overrides))


def evaluate(
    config: Config | Path | str,
    grouping: str,
    *,
    federations: str | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> RunResult:
    """Score an existing grouping (a column of the practices table) by a config's rules;
    with ``federations``, a column of existing federations too (by its ``federations``
    block).

    >>> today = evaluate("configs/hull_pcn.yaml", "pcn_code")
    >>> today.metrics["groups"], len(today.violations) > 0
    (9, True)
    """
    return evaluate_config(_configured(config, overrides), grouping, federations=federations)


def _configured(config: Config | Path | str, overrides: Mapping[str, Any] | None) -> Config:
    loaded = config if isinstance(config, Config) else load_config(config)
    return loaded.with_overrides(**overrides) if overrides else loaded


def solve_config(
    config: Config, *, progress: Callable[[Progress], None] | None = None
) -> RunResult:
    """Solve a config and return its grouping with the true solver status.

    ``progress`` is called while the solver runs (see :class:`SolveOptions`); what the
    run does is logged on the ``mergeopt`` logger (``mergeopt.runs.run``).

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
    log.info(
        "solving %s: %d practices, time limit %g s",
        config.name,
        len(problem.codes),
        config.solver.time_limit,
    )
    if config.federations is not None:
        return _solve_two_levels(problem, timings, started, progress=progress)
    if precheck(problem):
        raise _infeasible(problem, progress, started)
    report = solve_problem(problem, progress=progress)
    log.info("%s: %s", config.name, report.status_line())
    if report.status == "infeasible":
        raise _infeasible(problem, progress, started)
    if report.hub_of is None:
        raise NoSolutionError(
            f"no grouping found within the time limit of {config.solver.time_limit:g} s "
            f"({report.stopped_by}): raise solver.time_limit"
        )
    timings |= {"build_seconds": report.build_seconds, "solve_seconds": report.solve_seconds}
    return _result(config, problem, report.hub_of, report, timings, started, grouping=None)


def solve_problem(
    problem: Problem, *, progress: Callable[[Progress], None] | None = None
) -> Outcome:
    """The engine on a problem's instance, with the config's ``solver`` block as the
    engine's plain options (converted here, and only here).

    Raises
    ------
    SolverError
        The solver itself failed (not a time limit, not infeasible rules).
    """
    config = problem.config
    with _solver_failure():
        options = solve_options(config, progress=progress)
        return solve_instance(problem.instance, options, name=config.name)


@contextmanager
def _solver_failure() -> Iterator[None]:
    """The engine's SolverError (the solver itself failed) as the run's (exit code 5)."""
    try:
        yield
    except EngineSolverError as error:
        raise SolverError(str(error)) from error


def solve_options(
    config: Config, *, progress: Callable[[Progress], None] | None = None
) -> SolveOptions:
    """The config's ``solver`` block as the engine's plain options (with ``progress``, the
    hook the solver reports to while it runs)."""
    solver = config.solver
    return SolveOptions(
        solver=solver.name,
        time_limit=solver.time_limit,
        gap=solver.gap,
        threads=solver_threads(config),
        log=solver.log,
        seed=solver.seed,
        progress=progress,
    )


def _today(problem: Problem) -> tuple[list[str] | None, np.ndarray | None]:
    """Today's networks (labels and hubs) when the federations are of them (mode
    ``today``); else (None, None)."""
    federations = problem.config.federations
    if federations is None or federations.mode != "today":
        return None, None
    labels = group_labels(problem.practices["current_group"].tolist(), problem.codes)
    return labels, hubs_for_grouping(problem, labels)


def _both_levels(
    problem: Problem, *, progress: Callable[[Progress], None] | None = None
) -> tuple[list[str] | None, TwoLevelOutcome]:
    """Networks and federations solved in the config's mode (``today``: federations of
    today's networks, whose labels come first; else None); ``progress`` hears each
    level's solve, its phase named."""
    labels, networks = _today(problem)
    with _solver_failure():
        options = solve_options(problem.config, progress=progress)
        return labels, solve_two_levels(problem, options, networks=networks)


def _solve_two_levels(
    problem: Problem,
    timings: dict[str, float],
    started: float,
    *,
    progress: Callable[[Progress], None] | None = None,
) -> RunResult:
    """Networks and federations (config ``federations``), in the config's mode."""
    config = problem.config
    labels, outcome = _both_levels(problem, progress=progress)
    if outcome.hub_of is None or outcome.federation_of is None:
        if outcome.status == "infeasible":
            _advising(progress, started)
            explanation = explain_federations(problem, solve_options(config))
            raise InfeasibleError(str(explanation), overrides=explanation.overrides)
        raise NoSolutionError(
            f"no plan found within the time limit of {config.solver.time_limit:g} s "
            f"({outcome.stopped_by}): raise solver.time_limit"
        )
    plan = plan_of(problem, outcome.hub_of, outcome.federation_of, outcome=outcome)
    report = run_outcome(problem, plan, outcome.hub_of)
    timings |= {"solve_seconds": outcome.seconds}
    timings["total_seconds"] = time.perf_counter() - started
    return result_for(
        config, problem, outcome.hub_of, report, timings, labels=labels, federations=plan
    )


def solver_threads(config: Config) -> int | None:
    """``solver.threads``, at most the CPUs this process may use, with a warning when
    cut (a million threads hung the solver; more threads than CPUs only slow it)."""
    asked = config.solver.threads
    cpus = usable_cpus()
    if asked is None or asked <= cpus:
        return asked
    warnings.warn(
        f"{config.source}: key 'solver.threads': {asked:,} is more than the {cpus} CPU(s) "
        f"this process may use; using {cpus}",
        InputWarning,
        stacklevel=2,
    )
    return cpus


#: What the live line says while a run whose rules cannot all be met searches for the
#: changes that would let them (it may take longer than the solve that proved it).
ADVISING = "no grouping meets every rule; searching for the first change that works"


def _advising(progress: Callable[[Progress], None] | None, started: float) -> None:
    """Tell ``progress`` that the solve is over and the search for advice has begun."""
    if progress is not None:
        progress(Progress(time.perf_counter() - started, None, None, None, ADVISING))


def _infeasible(
    problem: Problem, progress: Callable[[Progress], None] | None, started: float
) -> InfeasibleError:
    """The rules cannot all be met: why, and the first change that works (searched and
    checked by :func:`~mergeopt.runs.advice.advise`), with its config overrides."""
    _advising(progress, started)
    config = problem.config
    advice = advise(config, problem.practices, names=region_names(config), infeasible=True)
    return InfeasibleError(advice.summary(), overrides=advice.overrides)


def evaluate_config(config: Config, grouping: str, *, federations: str | None = None) -> RunResult:
    """Score an existing grouping (a column of the practices table) by the config's rules;
    with ``federations``, the existing federations in that column too (each practice's
    federation label), by the config's ``federations`` block."""
    started = time.perf_counter()
    problem, timings = prepare_problem(config)
    if federations is not None and config.federations is None:
        raise InputError(
            f"{config.source}: --federations {federations} needs a federations block in the "
            "config (its rules score them)"
        )
    names = _column_labels(config, problem, grouping, "--grouping")
    hub_of = hubs_for_grouping(problem, names)
    plan = None
    if federations is not None:
        fed_names = _column_labels(config, problem, federations, "--federations")
        federation_of = hubs_for_federations(problem, hub_of, fed_names)
        plan = plan_of(problem, hub_of, federation_of, labels=fed_names, column=federations)
    timings["total_seconds"] = time.perf_counter() - started
    return result_for(
        config, problem, hub_of, None, timings, grouping=grouping, labels=names, federations=plan
    )


def _column_labels(config: Config, problem: Problem, column: str, option: str) -> list[str]:
    """Each practice's label in a column of the practices table (empty or ``U``: alone)."""
    path = config.inputs.source
    raw = read_source(config)
    if column not in raw.columns:
        raise InputError(f"{path}: missing column '{column}' named by {option}")
    codes = raw[config.inputs.columns.code].astype("string").str.strip().str.upper()
    labels = pd.Series(raw[column].to_numpy(), index=codes.to_numpy())
    return group_labels(labels.reindex(problem.practices.index).tolist(), problem.codes)


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


def explain_config(config: Config, *, budget: float = BUDGET_SECONDS) -> Advice:
    """Why a config's rules cannot all be met, and the changes that would let them:
    ranked, each checked by solving with it (:func:`~mergeopt.runs.advice.advise`).
    ``budget`` is the seconds of search for each region that fails."""
    problem, _ = prepare_problem(config)
    return advise(config, problem.practices, budget=budget, names=region_names(config))


def explain_two_levels(config: Config) -> tuple[str, Explanation | None]:
    """Why a config with ``federations`` cannot meet its rules, at either level: the
    solver's status and, when infeasible, the elastic explanation
    (:func:`~mergeopt.runs.federation_explain.explain_federations`); None when a plan
    meets them all."""
    problem, _ = prepare_problem(config)
    return _explain_two_levels(problem)


def compare_config(
    config: Config, *, grouping: str = "pcn_code", run_dir: Path | None = None
) -> tuple[RunResult, RunResult]:
    """Today's networks (the ``grouping`` column, evaluated) and the proposal: the run
    directory ``run_dir`` if given, else the config solved."""
    today = evaluate_config(config, grouping)
    proposal = load_run(run_dir) if run_dir is not None else solve_config(config)
    return today, proposal


def _explain_two_levels(problem: Problem) -> tuple[str, Explanation | None]:
    """explain_config for a config with ``federations``: both levels, in its mode."""
    _, outcome = _both_levels(problem)
    if outcome.status != "infeasible":
        return outcome.status, None
    return "infeasible", explain_federations(problem, solve_options(problem.config))


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
    replace_file(out, lambda path: write_csv(table, path))
    return len(codes), len(table)
