"""The MIP core on plain arrays: hand-checked optima, brute force, and invariants."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mergeopt._highs import quiet_highs
from mergeopt.config import Solver
from mergeopt.model import Instance, build_model, integral_objective, objective_value, round_bound
from mergeopt.solve import solve_instance

FAST = Solver(time_limit=30)


def line_instance(positions: list[float], sizes: list[float], **changes: object) -> Instance:
    """Practices on a line; travel cost is the distance between them."""
    pos = np.asarray(positions, dtype=float)
    n = len(pos)
    fields: dict[str, object] = {
        "codes": tuple(f"P{k}" for k in range(n)),
        "size": np.asarray(sizes, dtype=float),
        "cost": np.abs(pos[:, None] - pos[None, :]),
        "allowed": np.ones((n, n), dtype=bool),
        "min_size": 0.0,
        "max_size": np.full(n, np.inf),
        "can_hub": np.ones(n, dtype=bool),
        "must_hub": np.zeros(n, dtype=bool),
    }
    fields.update(changes)
    return Instance(**fields)  # type: ignore[arg-type]


def brute_force(inst: Instance) -> float:
    """The optimum by trying every assignment of practices to hubs (tiny n only)."""
    best = np.inf
    for hub_of in itertools.product(range(inst.n), repeat=inst.n):
        h = np.asarray(hub_of)
        if _feasible(inst, h):
            best = min(best, objective_value(inst, h))
    return float(best)


def _feasible(inst: Instance, hub_of: np.ndarray) -> bool:
    hubs = set(hub_of.tolist())
    if any(hub_of[j] != j for j in hubs):
        return False
    i = np.arange(inst.n)
    usable = inst.hubs_usable()
    if not (inst.allowed[i, hub_of] | (i == hub_of)).all() or not usable[list(hubs)].all():
        return False
    load = np.bincount(hub_of, weights=inst.size, minlength=inst.n)
    for j in hubs:
        if load[j] < inst.min_size - 1e-9 or load[j] > inst.max_size[j] + 1e-9:
            return False
    count = len(hubs)
    if inst.count_min is not None and count < inst.count_min:
        return False
    if inst.count_max is not None and count > inst.count_max:
        return False
    if any(hub_of[j] != j for j in np.flatnonzero(inst.must_hub)):
        return False
    if any(hub_of[a] != b for a, b in inst.fixed):
        return False
    if any(hub_of[a] != hub_of[b] for a, b in inst.must_link):
        return False
    return not any(hub_of[a] == hub_of[b] for a, b in inst.cannot_link)


class TestHandChecked:
    def test_two_clusters_of_two(self):
        # 0,1 | 10,11 with capacity 2 and exactly 2 groups: each pair travels 1.
        inst = line_instance(
            [0, 1, 10, 11], [1, 1, 1, 1], max_size=np.full(4, 2.0), count_min=2, count_max=2
        )
        report = solve_instance(inst, FAST)
        assert report.status == "optimal"
        assert report.objective == pytest.approx(2.0)
        assert len(set(report.hub_of.tolist())) == 2

    def test_patient_weighting_puts_hub_at_the_big_practice(self):
        # One group of three: the hub should be the 100-patient practice at 5.
        inst = line_instance([0, 5, 6], [1, 100, 1], count_max=1)
        report = solve_instance(inst, FAST)
        assert report.hub_of.tolist() == [1, 1, 1]
        assert report.objective == pytest.approx(5 * 1 + 1 * 1)

    def test_minimum_size_forces_merging(self):
        # Sizes 10 each, minimum 30: all four must form one group; best hub at 1 or 2.
        inst = line_instance([0, 1, 2, 3], [10, 10, 10, 10], min_size=30.0)
        report = solve_instance(inst, FAST)
        assert len(set(report.hub_of.tolist())) == 1
        assert report.objective == pytest.approx(10 * (1 + 0 + 1 + 2))

    def test_premises_capacity_limits_the_hub(self):
        # The middle practice would be the best hub but its premises serve only 15.
        inst = line_instance(
            [0, 1, 2], [10, 10, 10], count_max=1, max_size=np.array([np.inf, 15.0, np.inf])
        )
        report = solve_instance(inst, FAST)
        assert report.hub_of[0] != 1
        assert report.objective == pytest.approx(10 * 1 + 10 * 2)

    def test_fixed_takeover_overrides_proximity(self):
        # P0 is fixed into P3's group although P1 is next door.
        inst = line_instance([0, 1, 9, 10], [1, 1, 1, 1], fixed=((0, 3),))
        report = solve_instance(inst, FAST)
        assert report.hub_of[0] == 3 and report.hub_of[3] == 3

    def test_must_and_cannot_link(self):
        inst = line_instance([0, 1, 10, 11], [1, 1, 1, 1], count_max=2, must_link=((0, 3),))
        report = solve_instance(inst, FAST)
        assert report.hub_of[0] == report.hub_of[3]
        inst = line_instance([0, 1, 2], [1, 1, 1], count_max=2, cannot_link=((0, 1),))
        report = solve_instance(inst, FAST)
        assert report.hub_of[0] != report.hub_of[1]

    def test_travel_limit_as_disallowed_arcs(self):
        allowed = np.array([[1, 1, 0], [1, 1, 1], [0, 1, 1]], dtype=bool)
        inst = line_instance([0, 1, 2], [1, 1, 1], count_max=1, allowed=allowed)
        assert solve_instance(inst, FAST).hub_of.tolist() == [1, 1, 1]

    def test_infeasible_is_reported_not_hidden(self):
        inst = line_instance([0, 1], [10, 10], min_size=25.0)
        report = solve_instance(inst, FAST)
        assert report.status == "infeasible" and report.hub_of is None

    def test_moved_patients_term_keeps_current_groups(self):
        # Travel alone would pair (0,1) and (2,3); current groups are {0,2} and {1,3}.
        two = {"count_min": 2, "count_max": 2, "max_size": np.full(4, 2.0)}
        base = line_instance([0, 1, 3, 4], [1, 1, 1, 1], **two)
        moved = line_instance(
            [0, 1, 3, 4],
            [1, 1, 1, 1],
            **two,
            group_id=np.array([0, 1, 0, 1]),
            weights=(1.0, 100.0, 0.0, 0.0),
        )
        assert solve_instance(base, FAST).objective == pytest.approx(2.0)
        report = solve_instance(moved, FAST)
        assert report.hub_of[0] == report.hub_of[2] and report.hub_of[1] == report.hub_of[3]

    def test_constraints_are_named_after_the_formulation(self):
        inst = line_instance([0, 1, 2], [1, 1, 1], min_size=1.0, max_size=np.full(3, 2.0))
        names = set(build_model(inst).problem.constraints)
        assert {"c1_assign_P0", "c2_link_P0_P1", "c3_self_P0", "c4_min_P0", "c5_max_P0"} <= names


def test_highs_prints_no_banner(capfd: pytest.CaptureFixture[str]):
    quiet_highs()
    inst = line_instance([0, 1, 3], [1, 1, 1], count_max=1)
    solve_instance(inst, FAST)
    assert "HiGHS" not in capfd.readouterr().out


def test_whole_number_objectives_round_the_bound_up():
    assert round_bound(981.2, True) == 982.0
    assert round_bound(981.0000001, True) == 981.0  # solver noise is not a whole unit
    assert round_bound(981.2, False) == 981.2
    whole = line_instance([0, 1, 3], [1, 2, 1], travel_by_size=False)
    assert integral_objective(whole)
    assert not integral_objective(line_instance([0, 1.5, 3], [1, 2, 1]))


def test_an_infeasible_region_is_named():
    # two regions (far apart); the second cannot reach the minimum list size
    allowed = np.abs(np.subtract.outer([0, 1, 100, 101], [0, 1, 100, 101])) < 5
    inst = line_instance(
        [0, 1, 100, 101],
        [20, 20, 5, 5],
        min_size=25.0,
        allowed=allowed,
        region=("ICB_A", "ICB_A", "ICB_B", "ICB_B"),
    )
    report = solve_instance(inst, FAST)
    assert report.status == "infeasible" and report.hub_of is None
    assert "ICB_B" in report.stopped_by and "ICB_A" not in report.stopped_by


def test_cbc_agrees_with_highs():
    inst = line_instance([0, 1, 3, 7, 8], [3, 1, 2, 2, 1], max_size=np.full(5, 5.0))
    highs = solve_instance(inst, FAST)
    cbc = solve_instance(inst, Solver(name="cbc", time_limit=30))
    assert cbc.status == highs.status == "optimal"
    assert cbc.objective == pytest.approx(highs.objective)


def test_time_limit_is_never_called_optimal():
    """A run stopped by its time limit is 'feasible' or 'no_solution', never 'optimal'."""
    rng = np.random.default_rng(7)
    n = 100  # an OR-Library pmedcap1-sized instance: 10 groups of at most 120
    xy = rng.uniform(0, 100, size=(n, 2))
    cost = np.floor(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)))
    inst = Instance(
        codes=tuple(f"P{k}" for k in range(n)),
        size=rng.integers(1, 20, n).astype(float),
        cost=cost,
        allowed=np.ones((n, n), dtype=bool),
        min_size=0.0,
        max_size=np.full(n, 120.0),
        can_hub=np.ones(n, dtype=bool),
        must_hub=np.zeros(n, dtype=bool),
        count_min=10,
        count_max=10,
        travel_by_size=False,
    )
    assert inst.size.sum() <= 10 * 120  # feasible: only the time limit stops the proof
    report = solve_instance(inst, Solver(time_limit=0.2))
    assert report.status in ("feasible", "no_solution")
    if report.status == "feasible":
        assert report.gap is not None and report.gap > 0


@st.composite
def tiny_instances(draw: st.DrawFn) -> Instance:
    n = draw(st.integers(2, 5))
    xy = np.array(
        draw(st.lists(st.tuples(st.integers(0, 20), st.integers(0, 20)), min_size=n, max_size=n))
    )
    size = np.array(draw(st.lists(st.integers(1, 9), min_size=n, max_size=n)), dtype=float)
    cost = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    limit = draw(st.sampled_from([np.inf, 10.0, 20.0]))
    lower = float(draw(st.integers(0, 10)))
    upper = float(draw(st.integers(9, 30)))
    low_count = draw(st.one_of(st.none(), st.integers(1, n)))
    pairs = st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda p: p[0] != p[1])
    return Instance(
        codes=tuple(f"P{k}" for k in range(n)),
        size=size,
        cost=cost,
        allowed=cost <= limit,
        min_size=lower,
        max_size=np.full(n, upper),
        can_hub=np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
        | (np.arange(n) == 0),
        must_hub=np.zeros(n, dtype=bool),
        count_min=low_count,
        count_max=draw(st.one_of(st.none(), st.integers(low_count or 1, n))),
        must_link=tuple(draw(st.lists(pairs, max_size=1))),
        cannot_link=tuple(draw(st.lists(pairs, max_size=1))),
        weights=(1.0, 0.0, draw(st.sampled_from([0.0, 5.0])), draw(st.sampled_from([0.0, 3.0]))),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_instances())
def test_solver_matches_brute_force_and_holds_every_rule(inst: Instance):
    report = solve_instance(inst, FAST)
    best = brute_force(inst)
    if not np.isfinite(best):
        assert report.status == "infeasible"
        return
    assert report.status == "optimal"
    hub_of = report.hub_of
    assert hub_of is not None and len(hub_of) == inst.n  # every practice in one group
    assert _feasible(inst, hub_of)  # bounds, travel, links, count all hold
    assert report.objective == pytest.approx(objective_value(inst, hub_of), abs=1e-6)
    assert report.objective == pytest.approx(best, abs=1e-6)
