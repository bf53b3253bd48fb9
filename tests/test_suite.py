"""The test suite itself: it writes only under temporary folders, never the repository."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.configuration import storage_directory

ROOT = Path(__file__).resolve().parents[1]


@given(st.integers())
def test_hypothesis_keeps_its_examples_under_the_temporary_folder(number: int):
    """A property test has just run: its example database is a temporary folder's."""
    examples = storage_directory("examples", intent_to_write=False).path.resolve()
    assert examples.is_relative_to(Path(tempfile.gettempdir()).resolve())
    assert not examples.is_relative_to(ROOT)


def test_pytest_keeps_no_cache_in_the_repository(pytestconfig: pytest.Config):
    """pytest's cache plugin is off unless asked for (``-p cacheprovider``)."""
    assert "no:cacheprovider" in pytestconfig.getini("addopts")
    asked = "cacheprovider" in pytestconfig.invocation_params.args
    assert asked or not pytestconfig.pluginmanager.has_plugin("cacheprovider")
