"""The engine's plain options: every bad value refused with a message naming the field."""

from __future__ import annotations

import dataclasses

import pytest

from mergeopt.engine.options import SolveOptions


def test_defaults_match_the_config_schema():
    from mergeopt.config import Solver

    schema = Solver()
    options = SolveOptions()
    assert (options.solver, options.time_limit, options.gap, options.threads, options.log) == (
        schema.name,
        schema.time_limit,
        schema.gap,
        schema.threads,
        schema.log,
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"solver": "gurobi"}, "solver"),
        ({"time_limit": 0}, "time_limit"),
        ({"time_limit": -5.0}, "time_limit"),
        ({"time_limit": float("nan")}, "time_limit"),
        ({"time_limit": "60"}, "time_limit"),
        ({"gap": 1.0}, "gap"),
        ({"gap": -1e-6}, "gap"),
        ({"gap": True}, "gap"),
        ({"threads": 0}, "threads"),
        ({"threads": 2.0}, "threads"),
        ({"threads": True}, "threads"),
    ],
)
def test_bad_options_are_refused(changes: dict[str, object], field: str):
    with pytest.raises(ValueError, match=rf"SolveOptions\.{field} must"):
        SolveOptions(**changes)  # type: ignore[arg-type]


def test_options_are_frozen():
    options = SolveOptions(time_limit=10)
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.time_limit = 20  # type: ignore[misc]
    assert dataclasses.replace(options, log=True).time_limit == 10
