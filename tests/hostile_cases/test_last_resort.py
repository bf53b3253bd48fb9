"""A failure mergeopt did not foresee: one line saying what failed and where the full
report is (exit code 1), never a traceback unless ``--debug`` asks for it; the report goes
to the user's cache folder, never beside the user's data."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.hostile_cases.helpers import invoke, one_line, snapshot, tally

KIND = "unforeseen failure"

_BROKEN = """
import sys
import mergeopt.cli as cli

def broken(*args, **kwargs):
    raise ZeroDivisionError("a fault inside mergeopt")

cli.solve_config = broken
sys.argv[0] = "mergeopt"
cli.app(prog_name="mergeopt")
"""


@pytest.fixture
def area(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from tests.hostile_cases.helpers import write_area

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    return write_area(tmp_path / "area")


def _broken(*args: object, **kwargs: object) -> None:
    raise ZeroDivisionError("a fault inside mergeopt")


def _report(line: str) -> Path:
    saved = line.split("the full report is saved in ", 1)[1].split(": please attach", 1)[0]
    return Path(saved)


def test_an_unforeseen_failure_is_one_line_and_a_report(area, tmp_path, monkeypatch):
    monkeypatch.setattr("mergeopt.cli.solve_config", _broken)
    before = snapshot(area.parent)
    code, _, stderr = invoke("run", area)
    assert code == 1
    line = one_line(stderr, "mergeopt run failed unexpectedly", "ZeroDivisionError")
    assert "Traceback" not in stderr and "--debug" in line
    report = _report(line)
    assert report.is_relative_to(tmp_path / "cache" / "mergeopt")
    text = report.read_text()
    assert "Traceback" in text and "a fault inside mergeopt" in text
    assert "mergeopt:" in text and "highspy:" in text and "command:" in text
    assert snapshot(area.parent) == before  # nothing beside the user's data, no run
    tally(KIND, "one line and a report")


def test_debug_shows_the_traceback(area, monkeypatch):
    monkeypatch.setattr("mergeopt.cli.solve_config", _broken)
    from typer.testing import CliRunner

    from mergeopt.cli import app

    result = CliRunner().invoke(app, ["--debug", "run", str(area)])
    assert result.exit_code == 1
    assert isinstance(result.exception, ZeroDivisionError)
    tally(KIND, "--debug: the traceback")


def test_a_real_process_ends_in_one_line_not_a_traceback(area, tmp_path):
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    done = subprocess.run(
        [sys.executable, "-c", _BROKEN, "run", str(area)],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        cwd=tmp_path,
        timeout=300,
    )
    assert done.returncode == 1, done.stderr
    line = one_line(done.stderr, "failed unexpectedly", "ZeroDivisionError")
    assert _report(line).is_file()
    debug = subprocess.run(
        [sys.executable, "-c", _BROKEN, "--debug", "run", str(area)],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        cwd=tmp_path,
        timeout=300,
    )
    assert debug.returncode == 1
    assert "Traceback" in debug.stderr and "ZeroDivisionError" in debug.stderr
    tally(KIND, "real process: one line; --debug: traceback")


def test_no_report_folder_is_still_one_line(area, tmp_path, monkeypatch):
    """With no cache or temporary folder writable, the line says no report was saved."""
    monkeypatch.setattr("mergeopt.cli.solve_config", _broken)
    monkeypatch.setattr("mergeopt._report.report_folders", lambda: [Path("/proc/none")])
    code, _, stderr = invoke("run", area)
    assert code == 1
    one_line(stderr, "failed unexpectedly", "no report could be saved")
    tally(KIND, "no report folder: still one line")
