"""HiGHS through highspy: quiet, and honest about what it proved for the grouping."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from mergeopt.engine.formulation import model_arrays
from mergeopt.engine.instance import Instance
from mergeopt.engine.options import Progress, SolveOptions
from mergeopt.engine.portfolio import solve_instance
from mergeopt.engine.shared import Shared
from mergeopt.engine.solvers.highs import quiet_highs, run_highs
from tests.engine.cases import FAST, line_instance


def test_highs_prints_no_banner(capfd: pytest.CaptureFixture[str]):
    quiet_highs()
    inst = line_instance([0, 1, 3], [1, 1, 1], count_max=1)
    solve_instance(inst, FAST)
    assert "HiGHS" not in capfd.readouterr().out


def test_highs_optimal_on_its_model_claims_no_tolerance_for_the_grouping():
    """HiGHS proves the model it was given; if the grouping's value recomputed from the
    instance is further from that bound, neither the status nor the detail says the gap
    tolerance was reached (it once said "gap tolerance 1e-06 reached" beside a 1.4% gap)."""
    inst = line_instance([0, 1, 3, 7, 8], [3, 1, 2, 2, 1], max_size=np.full(5, 5.0), count_max=2)
    free = replace(inst, cost=np.zeros_like(inst.cost))  # every grouping costs 0 here
    outcome = run_highs(model_arrays(free), inst, SolveOptions(time_limit=30), 30.0)
    assert outcome.status == "feasible" and outcome.objective is not None
    assert outcome.objective > 0 and outcome.bound == 0.0 and outcome.gap == 1.0
    assert "reached" not in outcome.stopped_by
    assert "short of the gap tolerance 1e-06" in outcome.stopped_by
    line = outcome.status_line()
    assert "within 100.000% of the best possible (bound " in line
    assert "tolerance 1e-06 reached" not in line


def test_highs_stopped_by_its_own_tolerance_says_so():
    inst = line_instance(
        [0, 1, 3, 7, 8, 12, 13], [3, 1, 2, 2, 1, 2, 2], max_size=np.full(7, 5.0), count_max=3
    )
    outcome = run_highs(model_arrays(inst), inst, SolveOptions(time_limit=30, gap=0.9), 30.0)
    if outcome.status == "feasible":  # HiGHS may still prove it outright
        assert outcome.gap is not None and outcome.gap <= 0.9
        assert outcome.stopped_by == "gap tolerance 0.9 reached"


@pytest.mark.parametrize(
    ("cost_scale", "bound_gap", "why"),
    [
        (1.0, 0.5, "bound rounded up to the whole-number objective"),  # 9.5 -> 10
        (1.01, 0.0, "its grouping and bound prove the gap tolerance"),  # not whole
    ],
)
def test_a_stopped_highs_says_why_its_grouping_is_optimal(
    monkeypatch: pytest.MonkeyPatch, cost_scale: float, bound_gap: float, why: str
) -> None:
    """HiGHS stopped (by its limit, or interrupted by the portfolio) with a grouping its
    bound proves: the detail names the rounding only where the objective is whole (TA80,
    Euclidean distances, said 'bound rounded up to the whole-number objective')."""
    from mergeopt.engine.solvers import highs as highs_module

    inst = line_instance([0, 1, 3, 7, 8], [3, 1, 2, 2, 1], max_size=np.full(5, 5.0), count_max=2)
    inst = replace(inst, cost=inst.cost * cost_scale)
    arrays = model_arrays(inst)
    truth = run_highs(arrays, inst, SolveOptions(time_limit=30), 30.0)
    assert truth.status == "optimal" and truth.hub_of is not None
    real = highs_module.solve_model

    def stopped(*args: object, **kwargs: object) -> highs_module.Answer:
        answer = real(*args, **kwargs)  # type: ignore[arg-type]
        assert truth.objective is not None
        return replace(
            answer,
            reason=highs_module.STOPPED_EARLY,
            optimal=False,
            bound=truth.objective - bound_gap,
        )

    monkeypatch.setattr(highs_module, "solve_model", stopped)
    outcome = run_highs(arrays, inst, SolveOptions(time_limit=30), 30.0)
    assert outcome.status == "optimal"
    assert outcome.stopped_by == f"HiGHS stopped early; {why}: optimal"


def _capacitated(n: int = 36, seed: int = 5) -> Instance:
    """Practices on a line, each group between 20 and 60 patients: HiGHS branches."""
    rng = np.random.default_rng(seed)
    positions = rng.uniform(0, 100, n).tolist()
    sizes = rng.integers(5, 15, n).astype(float).tolist()
    return line_instance(positions, sizes, min_size=20.0, max_size=np.full(n, 60.0))


def _consistent(seen: list[Progress]) -> bool:
    return all(
        p.objective is None or p.bound is None or p.bound <= p.objective + 1e-6 for p in seen
    )


def test_highs_alone_reports_progress_to_the_hook():
    inst = _capacitated()
    seen: list[Progress] = []
    run = run_highs(model_arrays(inst), inst, replace(FAST, progress=seen.append), 30)
    assert run.objective is not None and seen and _consistent(seen)
    found = [p.objective for p in seen if p.objective is not None]
    assert min(found) == pytest.approx(run.objective, rel=1e-6)


def test_one_callback_both_shares_with_the_portfolio_and_reports():
    """HiGHS has one callback slot: the portfolio's sharing and the progress hook share it."""
    inst = _capacitated()
    shared = Shared(inst)
    seen: list[Progress] = []
    options = replace(FAST, progress=seen.append)
    run = run_highs(model_arrays(inst), inst, options, 30, shared=shared)
    assert run.objective is not None and seen and _consistent(seen)
    assert shared.best is not None and shared.value == pytest.approx(run.objective, rel=1e-6)


def test_a_failing_hook_stops_neither_the_solve_nor_the_sharing():
    inst = _capacitated()
    shared = Shared(inst)
    calls: list[int] = []

    def broken(_progress: Progress) -> None:
        calls.append(1)
        raise RuntimeError("a display that fails")

    run = run_highs(model_arrays(inst), inst, replace(FAST, progress=broken), 30, shared=shared)
    assert run.status == "optimal" and len(calls) == 1  # reporting stopped after the failure
    assert shared.best is not None and shared.value == pytest.approx(run.objective, rel=1e-6)


def test_the_portfolio_reports_progress_from_the_lead_process():
    """HiGHS leads here with a strategy beside it in a second process (the hook stays
    behind: options reach that process pickled, without it)."""
    inst = _capacitated()
    seen: list[Progress] = []
    outcome = solve_instance(inst, SolveOptions(time_limit=30, threads=2, progress=seen.append))
    assert outcome.objective is not None and seen and _consistent(seen)
    assert min(p.objective for p in seen if p.objective is not None) >= outcome.objective - 1e-6


def test_presolve_is_off_for_a_large_model_given_little_time(monkeypatch: pytest.MonkeyPatch):
    """HiGHS's presolve does not look at the clock: a model of more than
    PRESOLVE_SHORT_COLS columns given less than PRESOLVE_SHORT_SECONDS goes without it
    (England's largest ICBs ran 5-19 s past 30 s with it); with more time, or a smaller
    model, HiGHS chooses."""
    from mergeopt.engine.solvers import highs as highs_module

    arrays = model_arrays(line_instance([0, 1, 2, 3], [1, 1, 1, 1]))
    monkeypatch.setattr(highs_module, "PRESOLVE_SHORT_COLS", arrays.num_col - 1)

    def presolve(seconds: float) -> str:
        model = highs_module.highs_model(arrays, SolveOptions(), seconds)
        value = model.getOptionValue("presolve")  # type: ignore[attr-defined]
        return str(value[1] if isinstance(value, tuple) else value)  # (status, value)

    assert presolve(highs_module.PRESOLVE_SHORT_SECONDS - 1) == "off"
    assert presolve(highs_module.PRESOLVE_SHORT_SECONDS + 1) == "choose"
    monkeypatch.setattr(highs_module, "PRESOLVE_SHORT_COLS", arrays.num_col)
    assert presolve(1.0) == "choose"
