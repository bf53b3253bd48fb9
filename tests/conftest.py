"""Shared pytest hooks: the repository root on ``sys.path``, the ``--slow`` option,
tallies printed at the end of a run, and the Hull run the map tests read.

The root on ``sys.path`` lets tests import the ``benchmarks/`` folder (not an installed
package) as ``from benchmarks import instances``, and shared test helpers: the engine
tests' instance builders (``from tests.engine.cases import ...``), the small tables and
study areas several modules write (``from tests.builders import ...``), the independent
reference model (``from tests.reference import ...``) and the hostile inputs of the
reliability tests (``from tests.hostile import ...``, whose tally is printed).
``--slow`` runs the property tests against the reference (``tests/test_reference_model.py``)
with ten times as many examples; the hypothesis profile ``mergeopt-reference`` holds
their settings. The user's cache folder (``XDG_CACHE_HOME``, where failure reports and the
road network cache go) is a temporary folder for the whole run, so no test writes to the
real one, and the print maps' basemap is off (``MERGEOPT_BASEMAP``), so no test fetches
tiles even where contextily is installed. Hypothesis keeps its example database and
caches in a folder of the user's own under the temporary folder (kept between runs, so
a failing example is tried first next time), and pytest's cache is off (``-p
no:cacheprovider`` in ``addopts``): the tests write nothing into the repository
(``.ci/run`` checks it). A test module hands a ``Counter`` to ``config._mergeopt_tallies`` (by
title) to have it printed.

The tests run in several processes (pytest-xdist, ``-n auto --dist loadscope`` in
``addopts``: a module's tests stay in one process, so its fixtures are built once): each
process hands its tallies to the one that prints them. ``pytest -n 0`` runs in one.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.configuration import set_hypothesis_home_dir

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

#: At most this many test processes (``-n auto``).
MAX_TEST_PROCESSES = 4
#: The tallies the test processes of ``-n`` handed in, by title.
_RECEIVED = pytest.StashKey[dict[str, Counter[str]]]()
#: Examples of the reference property test: in every run, and with ``--slow``.
REFERENCE_EXAMPLES = {False: 300, True: 3000}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--slow",
        action="store_true",
        default=False,
        help="run the reference property tests with 10 times as many examples",
    )


def hypothesis_home() -> Path:
    """Hypothesis's folder (its example database and caches): under the temporary folder,
    one per user, kept between runs."""
    owner = f"-{os.getuid()}" if hasattr(os, "getuid") else ""  # Windows: a folder per user
    return Path(tempfile.gettempdir()) / f"mergeopt-tests{owner}" / "hypothesis"


def pytest_configure(config: pytest.Config) -> None:
    set_hypothesis_home_dir(hypothesis_home())  # not .hypothesis/ in the repository
    cache = tempfile.mkdtemp(prefix="mergeopt-tests-cache-")
    os.environ["XDG_CACHE_HOME"] = cache
    os.environ["MERGEOPT_BASEMAP"] = "off"  # the print maps never fetch tiles in a test
    config.add_cleanup(lambda: shutil.rmtree(cache, ignore_errors=True))
    settings.register_profile(
        "mergeopt-reference",
        max_examples=REFERENCE_EXAMPLES[bool(config.getoption("--slow"))],
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto`` (in ``addopts``): one test process per CPU this process may use, at
    most :data:`MAX_TEST_PROCESSES` (each solves with every CPU and holds geopandas)."""
    from mergeopt.engine.processes import usable_cpus

    return max(1, min(usable_cpus(), MAX_TEST_PROCESSES))


def _tallies(config: pytest.Config) -> dict[str, Counter[str]]:
    """The tallies this process counted, by title."""
    from tests.hostile import TALLY

    tallies: dict[str, Counter[str]] = dict(getattr(config, "_mergeopt_tallies", {}))
    if TALLY:
        tallies["reliability tally"] = TALLY
    return tallies


def pytest_sessionfinish(session: pytest.Session) -> None:
    """A test process of ``-n`` hands its tallies to the process that prints them."""
    sent = getattr(session.config, "workeroutput", None)
    if sent is not None:
        sent["mergeopt_tallies"] = {k: dict(v) for k, v in _tallies(session.config).items()}


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """The process that prints adds up each test process's tallies as it ends."""
    received = getattr(node, "workeroutput", {}).get("mergeopt_tallies", {})
    added = node.config.stash.setdefault(_RECEIVED, {})
    for title, counts in received.items():
        added.setdefault(title, Counter()).update(counts)


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    tallies = {title: Counter(tally) for title, tally in _tallies(config).items()}
    for title, counts in config.stash.get(_RECEIVED, {}).items():
        tallies.setdefault(title, Counter()).update(counts)
    for title, tally in sorted(tallies.items()):
        if tally:
            terminalreporter.section(title)
            for key, count in sorted(tally.items()):
                terminalreporter.write_line(f"{key}: {count}")


@pytest.fixture(scope="session")
def hull_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """configs/hull_pcn.yaml run through the command line, maps drawn: one run directory
    for the tests that read its maps (``mergeopt map`` redraws them in place)."""
    from typer.testing import CliRunner

    from mergeopt.cli import app

    out = tmp_path_factory.mktemp("maps") / "run"
    result = CliRunner().invoke(
        app, ["run", str(ROOT / "configs/hull_pcn.yaml"), "--out", str(out)]
    )
    assert result.exit_code == 0, result.stderr
    return out
