"""Shared pytest hooks: print the reliability tally at the end of a run; and the
repository root on ``sys.path``, so tests import the ``benchmarks/`` folder (not an
installed package) as ``from benchmarks import instances``, and the engine tests' shared
instance builders as ``from tests.engine.cases import ...``."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    tally: Counter[str] | None = getattr(config, "_mergeopt_tally", None)
    if tally:
        terminalreporter.section("reliability tally")
        for key, count in sorted(tally.items()):
            terminalreporter.write_line(f"{key}: {count}")
