"""What the command line shows: the summary of a run and of a sweep, today's networks
beside a proposal, the live line of a solve, the objective in words, and the messages of
the ``mergeopt`` logger on standard error.

Results go to standard output (:data:`out_console`); the live line, warnings and errors
to standard error (:data:`err_console`). Nothing here reads a file or solves: each
function is handed what a command computed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape
from rich.table import Table

from mergeopt.config import Config, yaml_value
from mergeopt.engine.options import Progress
from mergeopt.runs.diagnose import Explanation
from mergeopt.runs.results import RunResult, side_by_side
from mergeopt.runs.sweep.run import SweepResult
from mergeopt.runs.sweep.table import SOLVED

out_console = Console()
err_console = Console(stderr=True)


def configure(*, live: bool, level: int) -> None:
    """Show the live line of a solve (or not), and the ``mergeopt`` logger's messages
    from ``level`` up."""
    _LIVE["on"] = live
    show_messages(level)


def say(text: str, *, markup: bool = False, soft_wrap: bool = True) -> None:
    """A command's result, as plain text on standard output."""
    out_console.print(text, highlight=False, soft_wrap=soft_wrap, markup=markup)


#: Whether the live line of a solve is shown (not with --quiet).
_LIVE = {"on": True}


#: The handler showing the ``mergeopt`` logger's messages on standard error: warnings
#: by default (so a failure is its one error line), every message with --verbose.
_HANDLER = RichHandler(
    console=err_console, show_time=False, show_path=False, show_level=False, markup=False
)


def show_messages(level: int) -> None:
    """Show the ``mergeopt`` logger's messages from ``level`` up on standard error."""
    logger = logging.getLogger("mergeopt")
    if _HANDLER not in logger.handlers:
        logger.addHandler(_HANDLER)
    logger.setLevel(level)
    _HANDLER.setLevel(level)


def progress_line(name: str, progress: Progress, unit: str) -> str:
    """The words of a solve's live line: what it is doing where it says (its phase), best
    objective (in ``unit``), bound and gap (the time so far is its own column, ticking
    whether or not the solver reports).

    >>> progress_line("hull_pcn", Progress(12.4, 991206.1, 980112.0, 0.0112), "patient-minutes")
    'solving hull_pcn: best 991,206 patient-minutes; bound 980,112; gap 1.12%'
    >>> progress_line("hull_pcn", Progress(3.0, None, None, None), "patient-minutes")
    'solving hull_pcn: no grouping yet'
    >>> progress_line("england", Progress(80.0, None, 1.5e7, None, "7 of 42 regions solved"), "")
    'solving england: 7 of 42 regions solved; no grouping yet; bound 15,000,000'
    >>> progress_line("somerset", Progress(2.0, None, None, None, "networks, level 1 of 2"), "")
    'solving somerset: networks, level 1 of 2'
    """
    parts = [] if progress.phase is None else [progress.phase]
    if progress.objective is not None:
        parts.append(f"best {progress.objective:,.0f} {unit}".rstrip())
    elif progress.phase is None or progress.bound is not None:
        parts.append("no grouping yet")
    if progress.bound is not None:
        parts.append(f"bound {progress.bound:,.0f}")
    if progress.gap is not None and progress.objective is not None:
        parts.append(f"gap {progress.gap:.2%}")
    return f"solving {name}: " + "; ".join(parts)


@contextmanager
def live(name: str, unit: str) -> Iterator[Callable[[Progress], None] | None]:
    """A live line on standard error while a solve runs, on a terminal (none with
    --quiet; it goes when the solve ends): the time so far, ticking for every solve, and
    from the solver's progress reports what it is doing (regions solved in parallel
    processes, the level of a two-level plan) and the best objective, bound and gap,
    taken at most four times a second (a new phase at once)."""
    if not _LIVE["on"]:
        yield None
        return
    from rich.progress import Progress as Line
    from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn

    shown: list[Any] = [0.0, None]  # when the line last changed, and its phase
    columns = (SpinnerColumn(), TimeElapsedColumn(), TextColumn("{task.description}"))
    with Line(*columns, console=err_console, transient=True) as line:
        task = line.add_task(escape(f"solving {name} ..."), total=None)

        def report(progress: Progress) -> None:
            now = time.monotonic()
            if now - shown[0] >= 0.25 or progress.phase != shown[1]:
                shown[:] = [now, progress.phase]
                line.update(task, description=escape(progress_line(name, progress, unit)))

        yield report


def show_sweep(result: SweepResult) -> None:
    table = result.comparison
    units = sorted({str(u) for u in table["travel_unit"].dropna()}) or ["minutes"]
    title = f"{result.title} (travel to hub in {'/'.join(units)})"
    grid = Table(title=title, box=None, pad_edge=False)  # no borders: room for long names
    longest = max((len(str(name)) for name in table["scenario"]), default=8)
    grid.add_column("scenario", overflow="fold", min_width=min(longest, 24))
    grid.add_column("status", min_width=10)
    for column in ("groups", "mean", "max", "smallest", "largest", "moved"):
        grid.add_column(column, justify="right", no_wrap=True, min_width=len(column))
    notes = []
    for row in table.to_dict("records"):
        figures = [""] * 6
        if row["status"] in SOLVED:
            figures = [
                str(row["groups"]),
                f"{row['mean_travel']:.2f}",
                f"{row['max_travel']:.2f}",
                f"{row['smallest_group']:,}",
                f"{row['largest_group']:,}",
                str(row["practices_moved"]),
            ]
        grid.add_row(escape(str(row["scenario"])), str(row["status"]), *figures)
        if row["status"] != "optimal":
            notes.append(f"  {row['scenario']}: {row['status_text']}")
    out_console.print(grid)
    say("\n".join(notes))
    failed = len(result.failed)
    fresh = len(table) - len(result.reused) - failed
    out_console.print(
        f"{len(table)} scenario(s): {fresh} solved now, {len(result.reused)} already finished "
        f"(not solved again), {failed} failed\nwritten to {escape(str(result.folder))}: "
        "comparison.csv, "
        "comparison.png and a run directory per scenario",
        highlight=False,
        soft_wrap=True,
    )


#: The table on screen lists at most this many groups, in groups.csv's order; a line below
#: counts the rest (all of England nested by ICB has about 1,700: every one is in the file).
SHOWN_GROUPS = 40


def show_run(result: RunResult, written: Path) -> None:
    unit = result.config.travel.unit
    title = f"{result.config.name}: {len(result.groups)} groups (travel to hub in {unit})"
    left = len(result.groups) - SHOWN_GROUPS
    caption = f"and {left:,} more groups: every group is in groups.csv" if left > 0 else None
    table = Table(title=title, caption=caption)
    # the group's whole name, as groups.csv and the rules broken give it (none:B81097 was
    # cut to "none:…" on an 80-column terminal); the hub's name gives way first
    group = min(max((len(str(g)) for g in result.groups["group"]), default=5), 16)
    figures = {"practices": 9, "patients": 8, "mean": 5, "max": 5}
    room = out_console.width - group - sum(figures.values()) - 3 * (len(figures) + 2) - 1
    table.add_column("group", no_wrap=True, min_width=group)
    table.add_column("hub", max_width=max(12, min(30, room)), no_wrap=True)
    for column, width in figures.items():
        table.add_column(column, justify="right", no_wrap=True, min_width=width)
    for row in result.groups.head(SHOWN_GROUPS).itertuples():
        table.add_row(
            escape(str(row.group)),
            escape(f"{row.hub} {str(row.hub_name).title()}"),
            str(row.practices),
            f"{row.list_size:,}",
            f"{row.mean_travel:.1f}",
            f"{row.max_travel:.1f}",
        )
    out_console.print(table)
    if result.federations is not None:
        out_console.print(_federations_grid(result))
    m = result.metrics
    out_console.print(
        f"[bold]{result.status_text()}[/]\n"
        f"{objective_words(result.config, m['objective'])}\n"
        f"mean travel {m['mean_travel']:.2f} {unit}, "
        f"max {m['max_travel']:.2f} {unit}\n"
        f"{m['practices_moved']} practices ({m['patients_moved']:,} patients) join a hub "
        f"outside today's network\n"
        f"{m['practices_regrouped']} practices get new group companions\n"
        f"{_alone(result)}{_dates(result)}written to {escape(str(written))}",
        highlight=False,
    )


def _federations_grid(result: RunResult) -> Table:
    """The federations, one row each; the label column only where a federation is not
    named after its hub (existing federations given as a column)."""
    assert result.federations is not None
    unit = result.config.travel.unit
    federations = result.federations.table
    named = (federations["federation"].astype(str) != federations["hub"].astype(str)).any()
    grid = Table(title=f"{len(federations)} federations (travel to the federation hub, {unit})")
    if named:
        grid.add_column("federation", max_width=12, no_wrap=True)
    grid.add_column("hub", max_width=22, no_wrap=True)
    figures = ("nets", "pract", "patients", "mean", "max", "hub max")
    for column in figures:
        grid.add_column(column, justify="right", no_wrap=True, min_width=len(column))
    for row in federations.itertuples():
        cells = [str(row.federation)] if named else []
        grid.add_row(
            *cells,
            f"{row.hub} {str(row.hub_name).title()}",
            str(row.networks),
            str(row.practices),
            f"{row.list_size:,}",
            f"{row.mean_travel:.1f}",
            f"{row.max_travel:.1f}",
            f"{row.max_hub_travel:.1f}",
        )
    return grid


def _alone(result: RunResult) -> str:
    """A line naming the remote practices that stand alone, if any."""
    groups = result.groups
    if "remote_alone" not in groups.columns or not groups["remote_alone"].any():
        return ""
    lone = groups.loc[groups["remote_alone"].astype(bool)]
    named = ", ".join(
        f"{row.hub} {str(row.hub_name).title()} ({row.list_size:,})" for row in lone.itertuples()
    )
    return f"standing alone as remote practices (groups.remote): {escape(named)}\n"


def _dates(result: RunResult) -> str:
    dates = result.assignments.get("list_size_date")
    if dates is None or dates.dropna().empty:
        return ""
    return f"list sizes of {', '.join(sorted(set(dates.dropna().astype(str))))}\n"


def objective_words(config: Config, value: float) -> str:
    """The objective with its unit and what it means, as the config weighs it.

    >>> from mergeopt.config import load_config
    >>> print(objective_words(load_config("configs/hull_pcn.yaml"), 991206.1))
    objective 991,206 patient-minutes (each practice's list size x its minutes to the hub, summed)
    """
    weights = config.objective
    unit = config.travel.unit
    terms = _weighted_terms(config)
    if terms:
        return f"objective {value:,.1f} (weighted: {terms}; see objective in the config)"
    if not weights.weight_by_list_size:
        return f"objective {value:,.1f} {unit} (each practice's {unit} to the hub, summed)"
    return (
        f"objective {value:,.0f} patient-{unit} (each practice's list size x its {unit} "
        "to the hub, summed)"
    )


def objective_unit(config: Config) -> str:
    """The objective's unit (patient-minutes, minutes, km...), or "" where the config
    weighs several terms together.

    >>> from mergeopt.config import load_config
    >>> objective_unit(load_config("configs/hull_pcn.yaml"))
    'patient-minutes'
    """
    if _weighted_terms(config):
        return ""
    unit = config.travel.unit
    return f"patient-{unit}" if config.objective.weight_by_list_size else unit


def _weighted_terms(config: Config) -> str:
    """The objective's terms with their weights, or "" for travel alone at weight 1."""
    weights = config.objective
    names = ["moved_patients", "groups", "max_travel"]
    if config.federations is not None:
        names += ["federation_travel", "federations"]
    others = [name.replace("_", " ") for name in names if getattr(weights, name)]
    if weights.travel != 1 or others:
        return ", ".join([f"travel x {weights.travel:g}", *others])
    return ""


def _figure(value: float) -> str:
    return f"{value:,.2f}" if not float(value).is_integer() else f"{int(value):,}"


def show_comparison(today: RunResult, proposal: RunResult, grouping: str) -> None:
    """Today's networks and the proposal side by side, and the rules today's break."""
    figures = side_by_side(today, proposal)
    table = Table(title=f"{proposal.config.name}: today's networks ({grouping}) and the proposal")
    table.add_column("")
    for column in figures.columns:
        table.add_column(column, justify="right")
    for name, row in figures.iterrows():
        table.add_row(str(name), *(_figure(value) for value in row))
    out_console.print(table)
    say(f"proposal: {proposal.status_text()}")
    if today.violations:
        out_console.print(f"today's networks break {len(today.violations)} rule(s):")
        for line in today.violations:
            say(f"  - {line}")


def show_violations(result: RunResult) -> None:
    """The rules an evaluated grouping breaks, one a line, on standard error."""
    if result.violations:
        err_console.print(f"[bold]{len(result.violations)} rule(s) broken:[/]")
        for line in result.violations:
            err_console.print(f"  - {escape(line)}", highlight=False, soft_wrap=True)


def two_levels_text(path: Path, status: str, found: Explanation | None) -> tuple[str, int]:
    """explain's text for a config with federations, and its exit code: the network
    advice's ranked changes where the networks cannot be formed (``found.detail``),
    else the federation level's findings and the changes that together let the rules
    be met."""
    if found is None:
        return f"{path}: the rules can all be met ({status}); nothing to explain", 0
    if found.detail:
        head, *rest = found.detail
        return "\n".join([f"{path}: {head}", *rest]), 3
    lines = [f"{path}: the rules cannot all be met:"]
    lines += [f"  - {finding}" for finding in found.findings]
    if found.overrides:
        lines.append("these config changes together would let them be met:")
        lines += [f"  {key}: {yaml_value(value)}" for key, value in found.overrides.items()]
    return "\n".join(lines), 3
