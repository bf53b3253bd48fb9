"""Reliability: hostile input never crashes or half-writes, killed runs lose nothing.

The module prints a tally at the end: bad inputs tried, faults injected, and how each
ended (a clear one-line error, or a complete/previous run directory).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mergeopt._errors import InputError
from mergeopt.config import load_config
from mergeopt.inputs import read_practices

ROOT = Path(__file__).resolve().parents[1]
TALLY: Counter[str] = Counter()
HEADER = ["practice_code", "practice_name", "list_size", "easting", "northing", "pcn_code"]
GOOD_ROW = ["A1", "Alpha", "12000", "510000", "430000", "N1"]
NASTY = [
    "",
    "NaN",
    "nan",
    "inf",
    "-1",
    "0",
    "1e308",
    "9" * 40,
    "12,0,00",
    "  ",
    "☃",
    "'",
    '"',
    "NULL",
    "#N/A",
    "=1+1",
    "0x10",
    "1.5",
    "-0",
    "\t",
    "B81008",
]


@pytest.fixture(scope="module", autouse=True)
def tally(request):
    """Hand the tally to conftest.py, which prints it in the terminal summary."""
    request.config._mergeopt_tally = TALLY
    yield


def _check_table(table) -> None:
    assert table.index.is_unique
    assert (table["list_size"] > 0).all()
    assert np.isfinite(table[["easting", "northing"]].to_numpy()).all()
    assert table["hub_eligibility"].isin(["must", "may", "never"]).all()


@st.composite
def corrupted_tables(draw: st.DrawFn) -> tuple[bytes, str]:
    rows = [list(GOOD_ROW)]
    for k in range(draw(st.integers(0, 4))):
        rows.append([f"A{k + 2}", f"P{k}", str(1000 + k), str(510000 + k), str(430000 + k), "N1"])
    header = list(HEADER)
    for _ in range(draw(st.integers(1, 4))):
        r = draw(st.integers(0, len(rows) - 1))
        c = draw(st.integers(0, len(header) - 1))
        rows[r][c] = draw(st.sampled_from(NASTY) | st.text(max_size=8))
    if draw(st.booleans()):
        header[draw(st.integers(0, len(header) - 1))] = draw(st.sampled_from(HEADER))
    if draw(st.booleans()):
        rows[0] = rows[0][: draw(st.integers(0, len(header)))]
    text = "\n".join(",".join(row) for row in [header, *rows]) + "\n"
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "utf-16"]))
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        data = text.encode("utf-8")
        encoding = "utf-8"
    return data, encoding


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(corrupted_tables())
def test_corrupted_practice_tables_fail_clearly_or_read_correctly(tmp_path, case):
    data, _ = case
    folder = tmp_path / f"t{TALLY['bad practice tables tried']}"
    folder.mkdir()
    (folder / "practices.csv").write_bytes(data)
    (folder / "c.yaml").write_text("name: t\ninputs:\n  practices: practices.csv\n")
    TALLY["bad practice tables tried"] += 1
    try:
        table = read_practices(load_config(folder / "c.yaml"))
    except InputError as exc:
        message = str(exc)
        assert "\n" not in message and "practices.csv" in message
        TALLY["bad practice tables: clear one-line error"] += 1
    else:
        _check_table(table)
        TALLY["bad practice tables: read, every invariant held"] += 1


yaml_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.floats()
    | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    section=st.sampled_from(
        ["groups", "travel", "premises", "rules", "objective", "solver", "inputs", "zzz"]
    ),
    key=st.sampled_from(
        [
            "count",
            "min_list_size",
            "max_minutes",
            "rule",
            "fixed",
            "name",
            "time_limit",
            "practices",
            "columns",
            "x",
        ]
    ),
    value=yaml_values,
)
def test_fuzzed_configs_fail_clearly_or_load(tmp_path, section, key, value):
    (tmp_path / "practices.csv").write_text(",".join(HEADER) + "\n" + ",".join(GOOD_ROW) + "\n")
    data = {"name": "t", "inputs": {"practices": "practices.csv"}}
    data.setdefault(section, {})
    if isinstance(data[section], dict):
        data[section][key] = value
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    TALLY["fuzzed configs tried"] += 1
    try:
        config = load_config(path)
        read_practices(config)
    except InputError as exc:
        message = str(exc)
        assert "\n" not in message
        assert "c.yaml" in message or "practices.csv" in message
        TALLY["fuzzed configs: clear one-line error"] += 1
    else:
        TALLY["fuzzed configs: loaded"] += 1


def test_yaml_is_loaded_safely(tmp_path):
    path = tmp_path / "evil.yaml"
    path.write_text(
        "name: !!python/object/apply:os.system ['echo pwned']\ninputs: {practices: p.csv}\n"
    )
    TALLY["unsafe YAML tried"] += 1
    with pytest.raises(InputError, match=r"evil\.yaml: line 1 is not valid YAML"):
        load_config(path)
    TALLY["unsafe YAML: refused"] += 1


def _complete(run_dir: Path) -> bool:
    names = {p.name for p in run_dir.iterdir()}
    if not {"assignments.csv", "groups.csv", "run.json"} <= names:
        return False
    json.loads((run_dir / "run.json").read_text())
    return True


@pytest.mark.parametrize("delay", [0.3, 0.8, 1.2, 1.6, 2.0, 2.6])
def test_killing_a_run_leaves_the_previous_or_the_complete_new_directory(tmp_path, delay):
    """SIGKILL at a moment in reading, solving or writing: never a half-written run."""
    out = tmp_path / "run"
    config = ROOT / "configs" / "hull_pcn.yaml"
    base = [sys.executable, "-m", "mergeopt", "run", str(config), "--out", str(out)]
    subprocess.run(base, check=True, capture_output=True)
    before = (out / "run.json").read_text()
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    process = subprocess.Popen([*base, "--force"], **quiet)
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    process.wait()
    TALLY["faults injected (SIGKILL during a run)"] += 1
    assert _complete(out)
    after = (out / "run.json").read_text()
    TALLY[
        "killed runs: previous run intact" if after == before else "killed runs: new run complete"
    ] += 1
    # the next run sweeps away whatever staging folder the killed one left behind
    subprocess.run([*base, "--force"], check=True, capture_output=True)
    assert _complete(out)
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_same_config_and_inputs_give_identical_tables(tmp_path):
    config = ROOT / "configs" / "somerset_yeovil_takeover.yaml"
    for name in ("a", "b"):
        command = [
            sys.executable,
            "-m",
            "mergeopt",
            "run",
            str(config),
            "--out",
            str(tmp_path / name),
        ]
        subprocess.run(command, check=True, capture_output=True)
    TALLY["repeat runs compared"] += 1
    for table in ("assignments.csv", "groups.csv"):
        assert (tmp_path / "a" / table).read_bytes() == (tmp_path / "b" / table).read_bytes()
    first, second = (json.loads((tmp_path / n / "run.json").read_text()) for n in ("a", "b"))
    for key in ("status", "objective", "bound", "metrics", "config_hash", "inputs"):
        assert first[key] == second[key]
