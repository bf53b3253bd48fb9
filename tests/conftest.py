"""Shared pytest hooks: the repository root on ``sys.path``, the ``--slow`` option, and
tallies printed at the end of a run.

The root on ``sys.path`` lets tests import the ``benchmarks/`` folder (not an installed
package) as ``from benchmarks import instances``, the engine tests' shared instance
builders as ``from tests.engine.cases import ...`` and the independent reference model
as ``from tests.reference import ...``. ``--slow`` runs the property tests against the
reference (``tests/test_reference_model.py``) with ten times as many examples; the
hypothesis profile ``mergeopt-reference`` holds their settings. A test module hands a
``Counter`` to ``config._mergeopt_tallies`` (by title) to have it printed.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

#: Examples of the reference property test: in every run, and with ``--slow``.
REFERENCE_EXAMPLES = {False: 300, True: 3000}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--slow",
        action="store_true",
        default=False,
        help="run the reference property tests with 10 times as many examples",
    )


def pytest_configure(config: pytest.Config) -> None:
    settings.register_profile(
        "mergeopt-reference",
        max_examples=REFERENCE_EXAMPLES[bool(config.getoption("--slow"))],
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    tallies: dict[str, Counter[str]] = dict(getattr(config, "_mergeopt_tallies", {}))
    reliability: Counter[str] | None = getattr(config, "_mergeopt_tally", None)
    if reliability:
        tallies["reliability tally"] = reliability
    for title, tally in sorted(tallies.items()):
        if tally:
            terminalreporter.section(title)
            for key, count in sorted(tally.items()):
                terminalreporter.write_line(f"{key}: {count}")
