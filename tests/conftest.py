"""Shared pytest hooks: print the reliability tally at the end of a run."""

from __future__ import annotations

from collections import Counter

import pytest


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    tally: Counter[str] | None = getattr(config, "_mergeopt_tally", None)
    if tally:
        terminalreporter.section("reliability tally")
        for key, count in sorted(tally.items()):
            terminalreporter.write_line(f"{key}: {count}")
