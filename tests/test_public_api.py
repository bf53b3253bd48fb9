"""The public API of ``import mergeopt``, and what importing the engine alone loads."""

from __future__ import annotations

import subprocess
import sys

import pytest

import mergeopt

#: Packages of the run layer (tables, geometry, config, maps, command line) that the
#: engine never needs.
RUN_LAYER_PACKAGES = (
    "pandas",
    "geopandas",
    "shapely",
    "pyogrio",
    "pydantic",
    "yaml",
    "matplotlib",
    "plotly",
    "folium",
    "typer",
    "rich",
    "dask",
)


def _modules_after(statement: str) -> set[str]:
    """The modules a fresh interpreter holds after ``statement``."""
    shown = subprocess.run(
        [sys.executable, "-c", f"{statement}\nimport sys\nprint('\\n'.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(shown.stdout.split())


def test_importing_the_engine_loads_nothing_of_the_run_layer():
    """A worker process of a solve imports the engine while HiGHS runs beside it: with
    the run layer (pandas, geopandas, the maps) it took 1.5-1.9 s to start, not 0.5 s."""
    loaded = _modules_after("import mergeopt.engine.portfolio")
    outside = sorted(
        m
        for m in loaded
        if m.split(".")[0] == "mergeopt"
        and m != "mergeopt"
        and not m.startswith("mergeopt.engine")
    )
    assert outside == []
    assert sorted(p for p in RUN_LAYER_PACKAGES if p in loaded) == []
    assert {"numpy", "highspy"} <= loaded  # the check sees what was imported


def test_every_public_name_is_there_when_used():
    names = [n for n in mergeopt.__all__ if n != "__version__"]
    for name in names:
        assert getattr(mergeopt, name) is not None, name
        assert name in dir(mergeopt)
    from mergeopt import compare, solve
    from mergeopt.runs.results import compare_runs
    from mergeopt.runs.run import solve as run_solve

    assert compare is compare_runs
    assert solve is run_solve


def test_star_import_gives_the_public_api():
    space: dict[str, object] = {}
    exec("from mergeopt import *", space)
    assert set(mergeopt.__all__) <= set(space)


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'not_there'"):
        _ = mergeopt.not_there  # type: ignore[attr-defined]
