"""Progress and messages: the solver's callbacks feed a progress hook, messages go through
the ``mergeopt`` logger, and the command line shows them unless --quiet."""

from __future__ import annotations

import logging
import pickle
from pathlib import Path

import pytest
from typer.testing import CliRunner

import mergeopt
from mergeopt._errors import InfeasibleError
from mergeopt.cli import app
from mergeopt.config import load_config
from mergeopt.engine.options import Progress, SolveOptions
from mergeopt.runs.run import solve_config

ROOT = Path(__file__).resolve().parents[2]
HULL = ROOT / "configs" / "hull_pcn.yaml"


def test_the_solver_reports_progress_ending_at_the_grouping_it_returns():
    seen: list[Progress] = []
    result = solve_config(load_config(HULL), progress=seen.append)
    assert seen, "no progress reported"
    assert all(p.elapsed >= 0 for p in seen)
    found = [p.objective for p in seen if p.objective is not None]
    assert found and abs(found[-1] - result.metrics["objective"]) < 1e-3 * found[-1]


def test_options_travel_to_other_processes_without_the_hook():
    options = SolveOptions(
        solver="cbc", time_limit=5, gap=0.01, threads=2, log=True, progress=print
    )
    copied = pickle.loads(pickle.dumps(options))
    assert copied.progress is None and copied == options  # the hook is not compared


def test_messages_go_through_the_mergeopt_logger(caplog):
    with caplog.at_level(logging.INFO, logger="mergeopt"):
        mergeopt.solve(HULL, overrides={"maps": False})
    names = {record.name for record in caplog.records}
    assert "mergeopt.runs.run" in names
    assert any("solving hull_pcn: 25 practices" in r.getMessage() for r in caplog.records)


def test_quiet_shows_only_results_and_verbose_more(tmp_path):
    runner = CliRunner()
    plain = runner.invoke(app, ["run", str(HULL), "--out", str(tmp_path / "a")])
    assert plain.exit_code == 0, plain.stderr
    assert plain.stderr.strip() == ""  # the live line is on a terminal only; no chatter
    assert "patient-minutes" in plain.stdout
    loud = runner.invoke(app, ["--verbose", "run", str(HULL), "--out", str(tmp_path / "b")])
    assert loud.exit_code == 0, loud.stderr
    assert "solving hull_pcn: 25 practices" in loud.stderr
    quiet = runner.invoke(app, ["--quiet", "run", str(HULL), "--out", str(tmp_path / "c")])
    assert quiet.exit_code == 0, quiet.stderr
    assert quiet.stderr.strip() == ""
    assert "optimal" in quiet.stdout
    help_text = runner.invoke(app, ["--help"]).stdout
    assert "--quiet" in help_text and "--verbose" in help_text


def test_a_failed_run_is_one_error_line_even_with_messages_on(tmp_path):
    """The messages of a run (with --verbose) never hide its error: the default shows
    only the error line."""
    runner = CliRunner()
    args = ["run", str(HULL), "--set", "groups.count=1", "--out", str(tmp_path / "a")]
    plain = runner.invoke(app, args)
    assert plain.exit_code == 3, plain.stderr
    lines = [line for line in plain.stderr.splitlines() if line.strip()]
    assert lines and lines[0].startswith("error:") and not any("solving" in x for x in lines)


def test_a_run_whose_rules_fail_says_it_is_searching_for_a_change():
    """The search for the first change that works may take longer than the solve that
    proved the rules fail: the live line says so, not "no grouping yet"."""
    from mergeopt.runs.run import ADVISING
    from mergeopt.screen import progress_line

    seen: list[Progress] = []
    config = load_config(HULL).with_overrides(**{"groups.count": 1})
    with pytest.raises(InfeasibleError):
        solve_config(config, progress=seen.append)
    assert seen and seen[-1].phase == ADVISING
    shown = progress_line("hull_pcn", seen[-1], "patient-minutes")
    assert shown == f"solving hull_pcn: {ADVISING}"


def test_independent_regions_report_the_whole_never_a_part():
    """Regions solved in turn: the last region's progress comes with the finished ones'
    objectives and bounds added (a region's own figures are not the whole's)."""
    from dataclasses import replace

    import numpy as np

    from mergeopt.engine.portfolio import solve_instance
    from tests.engine.cases import line_instance

    rng = np.random.default_rng(7)
    positions = [*rng.uniform(0, 50, 18), *rng.uniform(1000, 1050, 30)]
    sizes = rng.integers(5, 15, 48).astype(float).tolist()
    region = np.asarray(["A"] * 18 + ["B"] * 30, dtype=object)
    inst = line_instance(positions, sizes, min_size=20.0, max_size=np.full(48, 60.0))
    inst = replace(inst, allowed=region[:, None] == region[None, :])
    seen: list[Progress] = []
    options = SolveOptions(time_limit=30, threads=1, progress=seen.append)
    outcome = solve_instance(inst, options)
    assert outcome.objective is not None and seen
    found = [p.objective for p in seen if p.objective is not None]
    assert min(found) == pytest.approx(outcome.objective, rel=1e-6)  # the whole's, not B's
    assert all(p.bound is None or p.objective is None or p.bound <= p.objective for p in seen)
