"""The process server imports, once, what each worker would otherwise import as it
starts: the mergeopt modules loaded here and the module run with ``python -m``."""

from __future__ import annotations

import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

from mergeopt.engine import processes

ROOT = Path(__file__).resolve().parents[2]


def _with_main(monkeypatch: pytest.MonkeyPatch, **attributes: object) -> None:
    monkeypatch.setitem(sys.modules, "__main__", types.SimpleNamespace(**attributes))


def test_the_server_imports_the_mergeopt_modules_loaded_here(monkeypatch):
    _with_main(monkeypatch, __spec__=None, __file__="/venv/bin/mergeopt")
    preload = processes.server_preload()
    assert preload[: len(processes.PRELOAD)] == processes.PRELOAD
    assert "mergeopt.engine.processes" in preload  # loaded by this test
    assert all(name.partition(".")[0] == "mergeopt" for name in preload)
    assert len(preload) == len(set(preload))


def test_the_server_imports_the_module_run_with_python_m(monkeypatch):
    _with_main(monkeypatch, __spec__=types.SimpleNamespace(name="benchmarks.run"))
    assert processes.server_preload()[-1] == "benchmarks.run"


def test_a_packages_main_is_not_imported_by_the_server(monkeypatch):
    """``python -m mergeopt`` runs the CLI in its ``__main__``: importing it would run
    it; workers do not import it either."""
    _with_main(monkeypatch, __spec__=types.SimpleNamespace(name="mergeopt.__main__"))
    assert not any(name.endswith("__main__") for name in processes.server_preload())


SCRIPT = """
import sys, time
import mergeopt.cli  # as the mergeopt command's main module does
import numpy as np
from mergeopt.engine.options import SolveOptions
from mergeopt.engine.processes import Beside
from mergeopt.engine.shared import Shared
from tests.engine import beside_strategies
from tests.engine.cases import line_instance


def main():
    inst = line_instance([0, 1, 2, 10, 11, 12], [1] * 6, max_size=np.full(6, 3.0))
    for _ in range(3):
        shared = Shared(inst)
        beside = Beside(beside_strategies.says_where_the_cli_came_from, inst,
                        SolveOptions(time_limit=30), time.perf_counter() + 30, nice=0)
        shared.connect(beside.conn)
        outcome, why = beside.result(shared, time.perf_counter() + 60)
        beside.stop()
        print(outcome.stopped_by if outcome else why)


if __name__ == "__main__":
    main()
"""


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="reads /proc")
def test_a_worker_beside_the_cli_does_not_import_the_cli_again(tmp_path):
    """In a program whose main module imports the CLI (the ``mergeopt`` command), each
    worker finds the CLI imported by the process server it was forked from; before, each
    imported it again as it started (1.0-1.4 s of CPU)."""
    script = tmp_path / "main_like_the_cli.py"
    script.write_text(SCRIPT)
    done = subprocess.run(
        [sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["inherited"] * 3, done.stdout + done.stderr
