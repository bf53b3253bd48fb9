"""The engine's plain options: every bad value refused with a message naming the field."""

from __future__ import annotations

import dataclasses

import pytest

from mergeopt.engine.options import SolveOptions


def test_defaults_match_the_config_schema():
    from mergeopt.config import Solver

    schema = Solver()
    options = SolveOptions()
    ours = (options.solver, options.time_limit, options.gap, options.threads, options.log)
    assert (*ours, options.seed) == (
        schema.name,
        schema.time_limit,
        schema.gap,
        schema.threads,
        schema.log,
        schema.seed,
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
        ({"seed": -1}, "seed"),
        ({"seed": 1.5}, "seed"),
        ({"seed": True}, "seed"),
        ({"seed": "3"}, "seed"),
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


def test_the_seed_reaches_highs_and_changes_no_optimum():
    import numpy as np

    from mergeopt.engine.formulation import model_arrays
    from mergeopt.engine.portfolio import solve_instance
    from mergeopt.engine.solvers.highs import highs_model
    from tests.engine.cases import line_instance

    inst = line_instance(
        [0, 1, 2, 10, 11, 12, 30], [3, 2, 4, 1, 5, 2, 3], max_size=np.full(7, 9.0)
    )
    highs = highs_model(model_arrays(inst), SolveOptions(seed=7), 10.0)
    answer = highs.getOptionValue("random_seed")
    assert (answer[1] if isinstance(answer, tuple) else answer) == 7
    values = {
        seed: solve_instance(inst, SolveOptions(time_limit=20, threads=1, seed=seed))
        for seed in (0, 3, 11)
    }
    assert {o.status for o in values.values()} == {"optimal"}
    assert len({round(o.objective, 9) for o in values.values()}) == 1
