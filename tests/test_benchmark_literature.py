"""The published capacitated p-median sets in the benchmark harness (TA, doni), the
literature's model without the hub-in-own-group rule, and what the report says.

Optima are checked against brute force written here, not against mergeopt's scoring.
"""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import numpy as np
import pytest

from benchmarks import instances, run
from mergeopt.engine.instance import Instance, objective_value
from mergeopt.engine.options import SolveOptions
from mergeopt.engine.portfolio import solve_instance

# (medians, capacity) as each TA file's first line and columns give them
TA_SHAPES = {
    25: (10, 6),
    50: (5, 11),
    60: (5, 13),
    70: (5, 17),
    80: (7, 12),
    90: (4, 23),
    100: (6, 17),
}


@pytest.mark.parametrize("points", instances.TA)
def test_ta_instance_reads_as_published(points: int) -> None:
    case = instances.ta(points)
    inst = case.instance
    p, capacity = TA_SHAPES[points]
    assert inst.n == points and inst.count_min == inst.count_max == p
    assert np.all(inst.size == 1) and np.all(inst.max_size == capacity)
    assert p * capacity >= points  # the published instances are feasible
    assert not inst.travel_by_size and inst.min_size == 0
    assert np.allclose(inst.cost, inst.cost.T) and np.all(np.diag(inst.cost) == 0)
    assert inst.allowed.all() and inst.can_hub.all() and not inst.must_hub.any()
    assert case.name == f"TA{points}" and f"p={p}" in case.note


def test_ta25_distances_are_euclidean_not_rounded() -> None:
    inst = instances.ta(25).instance
    # first two points of TA25.dat: (362, -93) and (590, -335)
    assert inst.cost[0, 1] == pytest.approx(np.hypot(590 - 362, -335 + 93))
    assert inst.cost[0, 1] != np.floor(inst.cost[0, 1])


def test_doni1_reads_as_published() -> None:
    inst = instances.doni(1).instance
    assert inst.n == 1000 and inst.count_max == 6
    assert np.all(inst.max_size == 200) and np.all(inst.size == 1)


# (points, medians, capacity, characters) of each doni file shipped, as
# benchmarks/data/README.md gives them; every point has demand 1
DONI_SHAPES = {
    1: (1000, 6, 200, 39_008),
    3: (3000, 8, 400, 117_008),
    4: (4000, 10, 400, 156_009),
    5: (5000, 12, 450, 195_009),
}


@pytest.mark.parametrize("number", sorted(DONI_SHAPES))
def test_shipped_doni_file_is_the_published_copy(number: int) -> None:
    """Size, line ends, header and columns as documented; parsed here, not solved."""
    n, p, capacity, characters = DONI_SHAPES[number]
    raw = (instances.BENCH / "doni" / f"doni{number}.dat").read_bytes()
    assert len(raw) == characters  # the source's length, Windows line ends kept
    lines = raw.split(b"\r\n")
    assert lines[-1] == b"" and len(lines) == n + 2 and b"\n" not in b"".join(lines)
    assert lines[0].split() == [str(n).encode(), str(p).encode()]
    points = np.array([line.split() for line in lines[1:-1]], dtype=float)
    assert points.shape == (n, 4)
    assert np.all(points[:, 2] == capacity) and np.all(points[:, 3] == 1)
    assert points[:, 3].sum() == n <= p * capacity


def test_a_missing_instance_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"doni9\.dat.*README"):
        instances.lorena_senne(tmp_path / "doni9.dat", "doni9")


def test_a_short_instance_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "TA3.dat"
    path.write_text("3 1\n0 0 5 1\n3 4 5 1\n")
    with pytest.raises(ValueError, match=r"TA3\.dat: expected 3 lines"):
        instances.lorena_senne(path, "TA3")


def test_mixed_capacities_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "TA2.dat"
    path.write_text("2 1\n0 0 5 1\n3 4 6 1\n")
    with pytest.raises(ValueError, match=r"TA2\.dat: capacities differ"):
        instances.lorena_senne(path, "TA2")


def _brute_force(
    cost: np.ndarray, demand: np.ndarray, capacity: float, p: int, *, own_group: bool
) -> float:
    """Cheapest single-source assignment of every point to one of p open medians."""
    n = len(demand)
    best = np.inf
    for medians in itertools.combinations(range(n), p):
        for hub in itertools.product(medians, repeat=n):
            if own_group and any(hub[m] != m for m in medians):
                continue
            load = np.zeros(n)
            np.add.at(load, list(hub), demand)
            if (load > capacity + 1e-9).any():
                continue
            best = min(best, float(sum(cost[i, hub[i]] for i in range(n))))
    return best


def _small(xy: list[list[int]], demand: list[int], capacity: int, p: int) -> Instance:
    points = np.asarray(xy, dtype=float)
    cost = np.floor(np.hypot(*(points[:, None, :] - points[None, :, :]).transpose(2, 0, 1)))
    codes = tuple(f"P{k}" for k in range(len(demand)))
    return instances._plain(codes, np.asarray(demand, float), cost, max_size=capacity, count=p)


# Six points where a median gains by sending its own demand elsewhere: the model with a
# hub in its own group costs 14, the literature's 13 (both by brute force).
BINDING = ([[6, 1], [5, 1], [8, 9], [9, 3], [6, 3], [8, 5]], [2, 5, 3, 3, 5, 4], 11, 2)


def test_literature_model_drops_only_the_hub_rule() -> None:
    inst = _small(*BINDING)
    own = _brute_force(inst.cost, inst.size, 11, 2, own_group=True)
    free = _brute_force(inst.cost, inst.size, 11, 2, own_group=False)
    assert (own, free) == (14.0, 13.0)
    solved = solve_instance(inst, SolveOptions(time_limit=60))
    assert solved.status == "optimal" and solved.objective == pytest.approx(own)
    loose = instances.literature_model(inst)
    assert loose.n == 2 * inst.n
    report = solve_instance(loose, SolveOptions(time_limit=60))
    assert report.status == "optimal" and report.objective == pytest.approx(free)
    assert report.hub_of is not None
    assert objective_value(loose, report.hub_of) == pytest.approx(free)
    hubs = set(report.hub_of.tolist())
    assert len(hubs) == 2 and all(h >= inst.n for h in hubs)  # medians are site copies


def test_literature_model_refuses_rules_it_does_not_carry_over() -> None:
    inst = _small(*BINDING)
    for changed in (
        dataclasses.replace(inst, fixed=((0, 1),)),
        dataclasses.replace(inst, min_size=3.0),
        dataclasses.replace(inst, weights=(1.0, 0.0, 5.0, 0.0)),
    ):
        with pytest.raises(ValueError, match="plain capacitated p-median only"):
            instances.literature_model(changed)


@pytest.mark.parametrize("seed", [3, 11, 29])
def test_literature_model_matches_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    demand = rng.integers(1, 5, size=6).tolist()
    capacity = int(np.ceil(sum(demand) / 2)) + int(rng.integers(0, 3))
    inst = _small(rng.integers(0, 12, size=(6, 2)).tolist(), demand, capacity, 2)
    free = _brute_force(inst.cost, inst.size, capacity, 2, own_group=False)
    report = solve_instance(instances.literature_model(inst), SolveOptions(time_limit=60))
    assert report.status == "optimal" and report.objective == pytest.approx(free)


def _row(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {"status": "optimal", "wall_seconds": 2.0}
    return base | fields


def test_note_says_when_the_published_optimum_is_below_the_models_bound() -> None:
    assert "published optimum 358.0 is below" in run.hub_rule_note(
        _row(optimum=358.0, bound=359.0, model="hub in own group")
    )
    assert run.hub_rule_note(_row(optimum=358.0, bound=358.0)) == ""
    assert run.hub_rule_note(_row(optimum=358.0, bound=350.0)) == ""
    assert run.hub_rule_note(_row(optimum=None, bound=359.0)) == ""
    assert "literature model" in run.hub_rule_note(_row(model="literature (...)"))


def test_versus_gives_the_time_ratio_or_the_bound_and_objective() -> None:
    ours = _row(wall_seconds=2.0, bound=10.0, objective=10.0)
    assert run.versus(ours, _row(wall_seconds=5.0, bound=10.0, objective=10.0)) == "2.5x"
    open_ours = _row(status="feasible", bound=9.0, objective=11.0)
    open_plain = _row(status="optimal", bound=10.0, objective=10.0)
    text = run.versus(open_ours, open_plain)
    assert "baseline proved, mergeopt did not" in text
    assert "bound 10.00% worse" in text and "objective 10.00% worse" in text
    assert run.versus(ours, None) == "-"
    lost = run.versus(
        _row(status="feasible", bound=0.0, objective=9.0),
        _row(status="no_solution", bound=None, objective=None),
    )
    assert lost == "bound baseline has none; objective baseline has none"
    # a baseline bound of 0 (the plain model's root had not ended): no percentage of it
    nothing = run.versus(
        _row(status="feasible", bound=2934.77, objective=2999.3),
        _row(status="feasible", bound=0.0, objective=3169.6),
    )
    assert nothing == "bound 2,934.8 against the baseline's 0: better; objective 5.37% better"


def test_literature_specs_only_touch_capacitated_families() -> None:
    found = run.specs(["ta", "pmed"], ["25", "1"], literature=True)
    assert [spec.label for spec in found] == ["ta:25:literature", "pmed:1"]
    assert run.Spec.parse("ta:25:literature") == run.Spec("ta", "25", literature=True)
    assert run.baseline_skipped(run.Spec("doni", "3")) is not None
    assert run.baseline_skipped(run.Spec("doni", "1")) is None


def test_an_error_row_keeps_the_table_whole() -> None:
    """A child's traceback lines are joined with pipes; the row must keep 15 cells."""
    error = "File x.py, line 1 | FileNotFoundError: doni2.dat: benchmark file not found"
    line = run._row({"error": error}, "mergeopt", "doni:2", {}, "")
    assert line.count("|") == run.COLUMNS + 1
    assert "doni2.dat: benchmark file not found" in line
