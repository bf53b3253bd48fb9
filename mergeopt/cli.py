"""The ``mergeopt`` command line.

Exit codes: 0 done; 1 a sweep with failed scenarios, or a failure mergeopt did not foresee
(one line saying what failed and where its full report was saved; ``--debug`` shows the
traceback instead); 2 bad config, input or destination (nothing written); 3 the rules cannot
all be met (the message says which); 4 no grouping found within the time limit; 5 the
solver itself failed; 130 interrupted.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from mergeopt import examples
from mergeopt._errors import InputError
from mergeopt.config import Config, config_key_problem, load_config
from mergeopt.guard import DEBUG, App, Commands, guarded
from mergeopt.inputs.nhs.assembly import prepare as prepare_table
from mergeopt.inputs.nhs.assembly import write_prepared
from mergeopt.runs.advice import BUDGET_SECONDS
from mergeopt.runs.areas import Selection, init_area
from mergeopt.runs.results import RunResult
from mergeopt.runs.run import (
    check_config,
    compare_config,
    evaluate_config,
    explain_config,
    explain_two_levels,
    solve_config,
    write_travel,
)
from mergeopt.runs.rundir import check_run_dir, default_run_dir, load_run, redraw, write_run
from mergeopt.runs.sweep.run import SweepInterrupted, SweepResult, run_sweep
from mergeopt.screen import (
    configure,
    err_console,
    live,
    objective_unit,
    out_console,
    say,
    show_comparison,
    show_run,
    show_sweep,
    show_violations,
    two_levels_text,
)

app = App(
    name="mergeopt",
    cls=Commands,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
_RANGE = re.compile(r"^\s*(-?\d+)\s*\.\.\s*(-?\d+)\s*$")

ConfigArg = Annotated[Path, typer.Argument(help="The YAML config file.", show_default=False)]
OutOption = Annotated[
    Path | None,
    typer.Option("--out", "-o", help="Run directory to write (default: runs/<config name>)."),
]
ForceOption = Annotated[
    bool, typer.Option("--force", help="Replace the run directory if it exists.")
]


def _show_version(value: bool) -> None:
    if value:
        out_console.print(f"mergeopt {version('mergeopt')}", highlight=False)
        raise typer.Exit()


@app.callback()
def main(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_show_version,
            is_eager=True,
            help="Print mergeopt's version and exit.",
        ),
    ] = False,
    debug: Annotated[
        bool,
        typer.Option("--debug", help="On a failure mergeopt did not foresee, show the traceback."),
    ] = False,
    quiet: Annotated[
        bool,
        typer.Option("--quiet", "-q", help="Only results and errors: no live line, no warnings."),
    ] = False,
    verbose: Annotated[
        bool,
        typer.Option("--verbose", "-v", help="Every message (what is solved, what was found)."),
    ] = False,
) -> None:
    """Group GP practices into networks, federations or merged practices, optimally."""
    DEBUG["on"] = debug
    level = logging.ERROR if quiet else logging.DEBUG if verbose else logging.WARNING
    configure(live=not quiet, level=level)


@app.command()
def schema() -> None:
    """Print the config's JSON schema (every key described), for an editor to check and
    complete configs with: see the README's Config reference."""
    import json

    from mergeopt.schema import config_schema

    typer.echo(json.dumps(config_schema(), indent=2, ensure_ascii=False))


@app.command()
def example(
    name: Annotated[
        str | None,
        typer.Argument(help="The example to copy, e.g. hull_pcn.", show_default=False),
    ] = None,
    folder: Annotated[
        Path | None,
        typer.Argument(help="Folder to copy it into (made if missing).", show_default=False),
    ] = None,
    list_: Annotated[bool, typer.Option("--list", help="List the examples and exit.")] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Replace the example's files if they are there.")
    ] = False,
) -> None:
    """Copy a ready-to-run example (a config and the data it reads) into a folder, then
    run it with: mergeopt run FOLDER/NAME.yaml"""

    def action() -> str:
        shipped = examples.names()
        if list_ or name is None:
            width = max(map(len, shipped))
            return "\n".join(f"{key:<{width}}  {text}" for key, text in shipped.items())
        if folder is None:
            raise InputError(f"example {name}: give the folder to copy it into")
        written = examples.copy_example(name, folder, force=force)
        return (
            f"example {name} copied to {folder} ({len(written)} files); run it with:\n"
            f"  mergeopt run {written[0]}"
        )

    say(guarded(action), markup=True)


@app.command()
def run(
    config: ConfigArg,
    out: OutOption = None,
    force: ForceOption = False,
    settings: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            "-s",
            metavar="KEY=VALUE",
            show_default=False,
            help="Change a config key for this run, e.g. --set groups.count=8 (repeatable; "
            "the value is read as YAML; the config is validated again).",
        ),
    ] = None,
) -> None:
    """Solve a config and write a run directory (assignments.csv, groups.csv, run.json,
    and the maps)."""

    def action() -> tuple[RunResult, Path]:
        cfg = _configured(config, settings)

        def solve() -> RunResult:
            with live(cfg.name, objective_unit(cfg)) as report:
                return solve_config(cfg, progress=report)

        return _into_run_dir(cfg, out or default_run_dir(cfg.name), force, solve)

    show_run(*guarded(action))


@app.command()
def evaluate(
    config: ConfigArg,
    grouping: Annotated[
        str, typer.Option("--grouping", "-g", help="Column holding the existing groups.")
    ] = "pcn_code",
    federations: Annotated[
        str | None,
        typer.Option(
            "--federations",
            help="Column holding existing federations (needs a federations block).",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Run directory to write (default: runs/<config name>-<grouping>).",
        ),
    ] = None,
    force: ForceOption = False,
) -> None:
    """Score an existing grouping (e.g. today's networks, --grouping pcn_code), and
    existing federations of it, by the config's rules; list every rule they break, and
    write its run directory and maps (runs/<config name>-<grouping>), as run does for a
    proposal."""

    def action() -> tuple[RunResult, Path]:
        cfg = load_config(config)

        def score() -> RunResult:
            return evaluate_config(cfg, grouping, federations=federations)

        return _into_run_dir(cfg, out or default_run_dir(cfg.name, grouping), force, score)

    result, written = guarded(action)
    show_run(result, written)
    show_violations(result)


@app.command()
def validate(config: ConfigArg) -> None:
    """Check a config and its inputs without solving."""

    def action() -> str:
        problem, findings = check_config(load_config(config))
        total = int(problem.practices["list_size"].sum())
        lines = [f"{config}: valid; {len(problem.codes)} practices, {total:,} patients"]
        lines += [f"  warning: {finding}" for finding in findings]
        return "\n".join(lines)

    say(guarded(action))


@app.command()
def travel(
    config: ConfigArg,
    out: Annotated[
        Path,
        typer.Option("--out", "-o", help="CSV to write: origin,destination,minutes."),
    ],
    force: Annotated[bool, typer.Option("--force", help="Replace the file if it exists.")] = False,
) -> None:
    """Write the drive minutes a run would use (origin, destination, minutes), to inspect
    or reuse with travel.model: matrix; a road network is routed (or read from the cache)."""

    def action() -> str:
        cfg = load_config(config)
        practices, pairs = write_travel(cfg, out, force=force)
        return (
            f"{pairs:,} pairs among {practices} practices ({cfg.travel.model} travel) "
            f"written to {out}"
        )

    say(guarded(action))


@app.command(name="map")
def map_(
    run_dir: Annotated[Path, typer.Argument(help="A run directory written by run or evaluate.")],
) -> None:
    """Re-draw a run directory's maps (groups.gpkg, map.png, map.html) without solving."""

    def action() -> str:
        return f"maps written to {redraw(load_run(run_dir), run_dir)}"

    say(guarded(action), soft_wrap=False)


@app.command()
def explain(
    config: ConfigArg,
    budget: Annotated[
        float,
        typer.Option(min=1, help="Seconds of search for each region whose rules fail."),
    ] = BUDGET_SECONDS,
) -> None:
    """Say why a config's rules cannot all be met, and rank the changes that would let
    them, each checked by solving with it. Exit code 3 when the rules cannot all be met."""

    def action() -> tuple[str, int]:
        loaded = load_config(config)
        if loaded.federations is not None:
            return two_levels_text(config, *explain_two_levels(loaded))
        advice = explain_config(loaded, budget=budget)
        headline, *lines = advice.lines()
        code = 0 if advice.feasible else 3 if advice.failing else 4
        return "\n".join([f"{config}: {headline}", *lines]), code

    text, code = guarded(action)
    say(text)
    if code:
        raise typer.Exit(code)


def _into_run_dir(
    config: Config, target: Path, force: bool, compute: Callable[[], RunResult]
) -> tuple[RunResult, Path]:
    """A run directory's command: the destination checked before anything is computed
    (--force replaces only a folder mergeopt wrote), the result computed, then written
    whole; the result and where it went."""
    check_run_dir(target, force=force)
    result = compute()
    return result, write_run(result, target, force=force, maps=config.maps)


@app.command()
def compare(
    config: ConfigArg,
    grouping: Annotated[
        str, typer.Option("--grouping", "-g", help="Column holding today's groups.")
    ] = "pcn_code",
    run_dir: Annotated[
        Path | None,
        typer.Option("--run", help="A run directory holding the proposal (default: solve)."),
    ] = None,
) -> None:
    """Put today's networks and the proposal side by side: rules broken, travel, the
    groups' sizes, and the practices and patients that move. Writes nothing."""

    def action() -> tuple[RunResult, RunResult]:
        return compare_config(load_config(config), grouping=grouping, run_dir=run_dir)

    today, proposal = guarded(action)
    show_comparison(today, proposal, grouping)


@app.command()
def init(
    sub_icb: Annotated[list[str] | None, typer.Option(help="Sub-ICB code(s), e.g. 02Y.")] = None,
    icb: Annotated[list[str] | None, typer.Option(help="ICB code(s), e.g. QOQ.")] = None,
    pcn: Annotated[list[str] | None, typer.Option(help="PCN code(s), e.g. U82095.")] = None,
    practice: Annotated[list[str] | None, typer.Option(help="Practice code(s).")] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Folder to write (default: areas/<codes>)."),
    ] = None,
    practices: Annotated[
        Path | None,
        typer.Option(help="A national practices table (default: data/england/practices.csv)."),
    ] = None,
    list_sizes: Annotated[
        Path | None, typer.Option(help="gp-reg-pat-prac-all.csv, to build the table (prepare).")
    ] = None,
    mapping: Annotated[Path | None, typer.Option(help="gp-reg-pat-prac-map.csv.")] = None,
    epraccur: Annotated[Path | None, typer.Option(help="ODS epraccur.csv (no header).")] = None,
    postcodes: Annotated[
        Path | None, typer.Option(help="Postcode lookup (NSPL/ONSPD-style) with coordinates.")
    ] = None,
    boundary: Annotated[
        Path | None, typer.Option(help="A boundary layer instead of the shipped CCG 2021 one.")
    ] = None,
    boundary_field: Annotated[
        str | None, typer.Option(help="The field of --boundary that names its areas.")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace the files if they exist.")
    ] = False,
) -> None:
    """Write an area's practices table and a commented config with the national network
    rule (30,000-50,000 patients, 20 minutes to the hub); then `mergeopt run` it."""
    files = {"list_sizes": list_sizes, "mapping": mapping, "epraccur": epraccur}
    nhs = {key: path for key, path in (files | {"postcodes": postcodes}).items() if path}

    def action() -> str:
        selection = Selection(
            sub_icb=tuple(sub_icb or ()),
            icb=tuple(icb or ()),
            pcn=tuple(pcn or ()),
            practice=tuple(practice or ()),
        )
        written = init_area(
            selection,
            out=out,
            table=practices,
            nhs=nhs or None,
            boundary=boundary,
            boundary_field=boundary_field,
            force=force,
        )
        return written.summary()

    say(guarded(action))


@app.command()
def sweep(
    config: ConfigArg,
    groups: Annotated[
        str | None,
        typer.Option("--groups", help="Group counts to compare: 6..10 or 6,8,10 (groups.count)."),
    ] = None,
    vary: Annotated[
        list[str] | None,
        typer.Option(
            "--vary",
            help="KEY=V1,V2,... or KEY=A..B: a config key and its values, e.g. "
            "travel.max_minutes=15,20. Repeat for more keys: every combination is solved.",
        ),
    ] = None,
    split_by: Annotated[
        str | None,
        typer.Option(help="A column of the practices table: one problem per value (icb_code)."),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(help="A Dask scheduler, tcp://HOST:PORT (default: local processes)."),
    ] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Local worker processes (default: one per CPU).")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Sweep folder (default: runs/<config name>-sweep)."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Solve every scenario again, even finished ones.")
    ] = False,
) -> None:
    """Solve a config over several values or regions; write a run directory per scenario,
    comparison.csv and comparison.png. Scenarios already finished are not solved again."""

    def action() -> SweepResult:
        varied = dict(parse_vary(text) for text in vary or ())
        if groups is not None:
            if "groups.count" in varied:
                raise InputError("groups.count given twice: use --groups or --vary, not both")
            varied["groups.count"] = parse_groups(groups)
        try:
            return run_sweep(
                config,
                out=out,
                vary=varied,
                split_by=split_by,
                scheduler=scheduler,
                workers=workers,
                force=force,
            )
        except SweepInterrupted as stop:
            show_sweep(stop.result)
            err_console.print(
                f"interrupted: the {len(stop.result.comparison)} scenario(s) above are kept; "
                "run the same command again to solve the rest",
                highlight=False,
            )
            raise typer.Exit(130) from None

    result = guarded(action)
    show_sweep(result)
    if result.failed:
        raise typer.Exit(1)


@app.command()
def prepare(
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Table to write (.csv, .parquet, .gpkg).")
    ],
    list_sizes: Annotated[
        Path | None,
        typer.Option(help="gp-reg-pat-prac-all.csv (2021 CCG or 2026 sub-ICB layout)."),
    ] = None,
    mapping: Annotated[Path | None, typer.Option(help="gp-reg-pat-prac-map.csv.")] = None,
    epraccur: Annotated[Path | None, typer.Option(help="ODS epraccur.csv (no header).")] = None,
    epcn_partners: Annotated[
        Path | None, typer.Option(help="ePCN practice-to-network sheet as CSV.")
    ] = None,
    epcn_details: Annotated[Path | None, typer.Option(help="ePCN network details sheet.")] = None,
    postcodes: Annotated[
        Path | None, typer.Option(help="Postcode lookup (NSPL/ONSPD-style) with coordinates.")
    ] = None,
    premises: Annotated[Path | None, typer.Option(help="Premises table joined on code.")] = None,
    icb: Annotated[
        list[str] | None, typer.Option(help="ICB code(s), e.g. QOQ or E54000051.")
    ] = None,
    sub_icb: Annotated[list[str] | None, typer.Option(help="Sub-ICB code(s), e.g. 03F.")] = None,
    pcn: Annotated[list[str] | None, typer.Option(help="PCN code(s), e.g. U82095.")] = None,
    practice: Annotated[list[str] | None, typer.Option(help="Practice code(s).")] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Replace the table (and its _excluded.csv report) if they exist."
        ),
    ] = False,
) -> None:
    """Build a practices table from NHS Digital's files as downloaded, and beside it
    <name>_excluded.csv: the practices left out and why. Nothing is solved."""

    def action() -> str:
        if out.exists() and not force:
            raise InputError(f"{out}: file exists; use --force to replace it")
        prepared = prepare_table(
            list_sizes=list_sizes,
            mapping=mapping,
            epraccur=epraccur,
            epcn_partners=epcn_partners,
            epcn_details=epcn_details,
            postcodes=postcodes,
            premises=premises,
            icb=icb or (),
            sub_icb=sub_icb or (),
            pcn=pcn or (),
            practices=practice or (),
        )
        table, excluded = write_prepared(prepared, out)
        return f"{prepared.summary()}\nwritten to {table}; practices left out, and why: {excluded}"

    say(guarded(action))


# ---------------------------------------------------------------------------------------
# Values of options


def parse_groups(text: str) -> list[int]:
    """``--groups``: a range ``6..10`` (both ends included) or a list ``6,8,10``.

    >>> parse_groups("6..10")
    [6, 7, 8, 9, 10]
    >>> parse_groups("8,6")
    [8, 6]
    """
    values = _parse_values(text)
    if not values or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise InputError(f"--groups '{text}': give a range like 6..10 or a list like 6,8,10")
    return [int(v) for v in values]


def parse_vary(text: str) -> tuple[str, list[Any]]:
    """``--vary KEY=V1,V2,...``: a dotted config key and its values.

    Values are read as YAML (numbers, ``true``, ``null``, ``{min: 6, max: 9}``); a
    range ``A..B`` gives the whole numbers from A to B.

    >>> parse_vary("travel.max_minutes=15,20")
    ('travel.max_minutes', [15, 20])
    >>> parse_vary("groups.count={min: 6, max: 9},8")
    ('groups.count', [{'min': 6, 'max': 9}, 8])
    """
    key, sep, values = text.partition("=")
    key = key.strip()
    if not sep or not key or not values.strip():
        raise InputError(f"--vary '{text}': give KEY=V1,V2,... (e.g. travel.max_minutes=15,20,25)")
    problem = config_key_problem(key)
    if problem:
        raise InputError(f"--vary: config key '{key}': {problem}")
    return key, _parse_values(values, flag=f"--vary {key}")


def parse_set(text: str) -> tuple[str, Any]:
    """``--set KEY=VALUE``: a dotted config key and its value, read as YAML.

    >>> parse_set("groups.count=8")
    ('groups.count', 8)
    >>> parse_set("groups.count={min: 6, max: 9}")
    ('groups.count', {'min': 6, 'max': 9})
    """
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key or not value.strip():
        raise InputError(f"--set '{text}': give KEY=VALUE (e.g. groups.count=8)")
    problem = config_key_problem(key)
    if problem:
        raise InputError(f"--set: config key '{key}': {problem}")
    try:
        parsed = yaml.safe_load(value)
    except yaml.YAMLError:
        raise InputError(f"--set {key}: '{value}' is not a YAML value") from None
    return key, _number(parsed)


def _configured(config: Path, settings: list[str] | None) -> Config:
    """The config file with each ``--set KEY=VALUE`` applied, validated again as a whole."""
    loaded = load_config(config)
    if not settings:
        return loaded
    return loaded.with_overrides(**dict(parse_set(text) for text in settings))


def _parse_values(text: str, *, flag: str = "--groups") -> list[Any]:
    """A range ``A..B`` or a comma-separated list of YAML values."""
    matched = _RANGE.match(text)
    if matched:
        low, high = int(matched[1]), int(matched[2])
        if low > high:
            raise InputError(f"{flag} '{text}': the range runs from {low} down to {high}")
        return list(range(low, high + 1))
    try:
        values = yaml.safe_load(f"[{text}]")
    except yaml.YAMLError:
        raise InputError(f"{flag} '{text}': not a list of values (V1,V2,... or A..B)") from None
    return [_number(value) for value in values]


def _number(value: Any) -> Any:
    """YAML reads ``1e-6`` as text: take it as the number it looks like."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value
