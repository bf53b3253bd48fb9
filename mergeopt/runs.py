"""One run, end to end: config -> inputs -> travel -> model -> solve -> result tables.

:func:`solve_config` is what ``mergeopt run`` and the Python API call; it returns a
:class:`RunResult` and writes nothing (see :mod:`mergeopt.outputs`).
:func:`evaluate_config` scores an existing grouping with the same metrics.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mergeopt._errors import InfeasibleError, InputError, NoSolutionError, SolverError
from mergeopt.config import Config, load_config
from mergeopt.diagnose import explain, precheck
from mergeopt.engine.errors import SolverError as EngineSolverError
from mergeopt.engine.options import SolveOptions
from mergeopt.engine.outcome import Outcome
from mergeopt.engine.portfolio import solve_instance
from mergeopt.geo.maps.layers import MapLayers, map_layers
from mergeopt.geo.maps.static import static_map
from mergeopt.geo.maps.web import interactive_map
from mergeopt.inputs.hashes import input_hashes
from mergeopt.inputs.practices import read_practices, read_source
from mergeopt.problem import Problem, build_problem
from mergeopt.results import (
    assignments_table,
    group_labels,
    groups_table,
    hubs_for_grouping,
    metrics,
    violations,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


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
    report: Outcome | None
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
        return report.status_line()


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


def result_for(
    config: Config,
    problem: Problem,
    hub_of: np.ndarray,
    report: Outcome | None,
    timings: dict[str, float],
    *,
    grouping: str | None = None,
    labels: list[str] | None = None,
) -> RunResult:
    """Assemble the tables and figures of a grouping into a :class:`RunResult`."""
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


def compare_runs(first: RunResult, second: RunResult) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two groupings of the same practices side by side.

    Returns ``(figures, practices)``: the metrics of each with the difference, and one
    row per practice whose group companions differ between the two (its group and
    hub in each).
    """
    figures = pd.DataFrame({"first": first.metrics, "second": second.metrics})
    figures["difference"] = figures["second"] - figures["first"]
    left = first.assignments.set_index("practice_code")
    right = second.assignments.set_index("practice_code")
    shared = left.index.intersection(right.index)
    if len(shared) != len(left) or len(shared) != len(right):
        raise InputError("the two results do not group the same practices")

    def companions(table: pd.DataFrame) -> pd.Series:
        members = {hub: frozenset(group.index) for hub, group in table.groupby("hub")}
        return table["hub"].map(members)

    changed = companions(left).loc[shared] != companions(right).loc[shared]
    practices = pd.DataFrame(
        {
            "practice_name": left.loc[shared, "practice_name"],
            "list_size": left.loc[shared, "list_size"],
            "first_group": left.loc[shared, "group"],
            "first_hub": left.loc[shared, "hub"],
            "second_group": right.loc[shared, "group"],
            "second_hub": right.loc[shared, "hub"],
        }
    )[changed.to_numpy()]
    return figures, practices.reset_index()


def result_layers(result: RunResult) -> MapLayers:
    """The geography of a result's grouping, ready to draw or save."""
    return map_layers(
        result.assignments,
        result.config.geography,
        name=result.config.name,
        unit=result.config.travel.unit,
        grouping=result.grouping,
    )


def explore(result: RunResult) -> Any:
    """The interactive map, to show inline in a notebook (works with no internet).

    Returns an ``IPython.display.HTML`` object holding the map with plotly's JavaScript
    embedded, so nothing is fetched when the notebook is opened.
    """
    from IPython.display import HTML

    figure = interactive_map(result_layers(result))
    return HTML(figure.to_html(include_plotlyjs=True, full_html=False))  # type: ignore[no-untyped-call]


def plot(result: RunResult, *, ax: Axes | None = None) -> tuple[Figure, Axes]:
    """The static map of a result; draws on ``ax`` if given. Returns ``(fig, ax)``.

    >>> import mergeopt
    >>> fig, ax = plot(mergeopt.solve("configs/hull_pcn.yaml"))
    >>> ax.get_title()
    'hull_pcn: proposed groups (8 groups)'
    """
    return static_map(result_layers(result), ax=ax)
