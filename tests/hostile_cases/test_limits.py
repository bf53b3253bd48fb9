"""Hostile numbers and broken run directories: more solver threads than CPUs, more
groups than practices, ``mergeopt map`` on a run whose run.json is cut short or whose
input is gone.

Each case asserts the exit code and one line naming the culprit; a refused command writes
nothing, and a run directory that cannot be redrawn is left as it was.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from mergeopt.engine.processes import usable_cpus
from tests.hostile_cases.helpers import invoke, one_line, snapshot, tally, write_area

KIND = "numbers and run directories"


@pytest.fixture
def area(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return write_area(tmp_path / "area")


def _set(config: Path, section: str, key: str, value: object) -> None:
    data = yaml.safe_load(config.read_text())
    data.setdefault(section, {})[key] = value
    config.write_text(yaml.safe_dump(data))


def test_threads_beyond_the_cpus_are_cut_with_a_warning(area, tmp_path):
    """``solver.threads: 1000000`` made the solver hang."""
    _set(area, "solver", "threads", 10**6)
    code, _, stderr = invoke("run", area)
    assert code == 0, stderr
    warning = [line for line in stderr.splitlines() if line.startswith("warning:")]
    assert len(warning) == 1, stderr
    assert "solver.threads" in warning[0] and f"using {usable_cpus()}" in warning[0]
    assert str(area) in warning[0]
    tally(KIND, "threads cut to the CPUs, with a warning")


@pytest.mark.parametrize("count", [7, 10**25])
def test_more_groups_than_practices_is_refused(area, tmp_path, count):
    """A group count of 10^25 gave a traceback."""
    _set(area, "groups", "count", count)
    code, _, stderr = invoke("run", area)
    assert code == 2
    one_line(stderr, str(area), "groups.count", "more than the 6 practices")
    assert not (tmp_path / "runs").exists()
    tally(KIND, "refused: more groups than practices")


def test_a_count_range_reaching_past_the_practices_is_cut(area):
    _set(area, "groups", "count", {"min": 2, "max": 10**25})
    code, _, stderr = invoke("run", area)
    assert code == 0, stderr
    tally(KIND, "count range cut to the practices")


@pytest.fixture
def run_dir(area: Path, tmp_path: Path) -> Path:
    code, _, stderr = invoke("run", area)
    assert code == 0, stderr
    return tmp_path / "runs" / "area"


def _redraw_refused(run_dir: Path, *culprits: str) -> None:
    before = snapshot(run_dir)
    code, _, stderr = invoke("map", run_dir)
    assert code == 2, stderr
    one_line(stderr, *culprits)
    assert snapshot(run_dir) == before
    tally(KIND, "map refused: broken run directory")


def test_map_of_a_run_whose_record_is_cut_short(run_dir):
    text = (run_dir / "run.json").read_text()
    (run_dir / "run.json").write_text(text[: len(text) // 2])
    _redraw_refused(run_dir, "run.json", "cannot be read")


def test_map_of_a_run_whose_record_lacks_its_config(run_dir):
    record = json.loads((run_dir / "run.json").read_text())
    del record["config"]
    (run_dir / "run.json").write_text(json.dumps(record))
    _redraw_refused(run_dir, "run.json", "no config")


def test_map_of_a_run_whose_record_holds_a_broken_config(run_dir):
    record = json.loads((run_dir / "run.json").read_text())
    record["config"]["groups"] = {"count": "many"}
    (run_dir / "run.json").write_text(json.dumps(record))
    _redraw_refused(run_dir, "run.json", "its config cannot be read")


def test_map_of_a_run_whose_input_is_gone(run_dir, area):
    (area.parent / "practices.csv").rename(area.parent / "moved.csv")
    _redraw_refused(run_dir, "run.json", "practices.csv", "no longer there")
