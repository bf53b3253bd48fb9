"""The hostile-input suite's tally, printed at the end of a run (``hostile-input tally``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.hostile_cases.helpers import TALLY


@pytest.fixture(scope="session", autouse=True)
def _hostile_tally(request: pytest.FixtureRequest) -> Iterator[None]:
    """Hand the tally to the root conftest.py, which prints it in the terminal summary."""
    tallies = getattr(request.config, "_mergeopt_tallies", None)
    if tallies is None:
        tallies = {}
        request.config._mergeopt_tallies = tallies
    tallies["hostile-input tally"] = TALLY
    yield
