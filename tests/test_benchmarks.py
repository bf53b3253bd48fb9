"""The benchmark loaders read the files right; the plain baseline and the bound study are honest.

No test here asserts a wall time: speed is measured by ``python -m benchmarks.run``."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings

from benchmarks import baseline, instances
from mergeopt.engine.instance import Instance
from mergeopt.engine.options import SolveOptions
from mergeopt.engine.portfolio import solve_instance
from mergeopt.engine.strategies.lagrangian import lagrangian_applies
from tests.engine.cases import cost_instance, random_instances


def test_plain_baseline_is_dense_and_reads_its_status_honestly():
    inst = instances.pmedcap(1).instance
    prob, x = baseline.build_plain(inst)
    assert len(x) == inst.n * inst.n and len(prob.variables()) == inst.n * (inst.n + 1)
    stopped = baseline.solve_plain(instances.pmedcap(20).instance, time_limit=0.5)
    assert stopped.status in ("feasible", "no_solution")  # PuLP itself would say "Optimal"


@pytest.mark.parametrize(("number", "optimum"), [(1, 713.0), (11, 1006.0)])
def test_pmedcap_mapped_onto_the_model(number: int, optimum: float):
    case = instances.pmedcap(number)
    inst = case.instance
    assert case.optimum == optimum
    assert not inst.travel_by_size and inst.count_min == inst.count_max
    report = solve_instance(inst, SolveOptions(time_limit=3))  # proven or not, both sides hold
    assert report.objective is not None and report.objective >= optimum - 1e-6
    assert report.bound is not None and report.bound <= optimum + 1e-6


def test_pmed_optima_and_shortest_paths():
    case = instances.pmed(1)
    assert case.optimum == 5819.0 and case.instance.n == 100
    cost = case.instance.cost
    assert np.allclose(cost, cost.T) and np.isfinite(cost).all()
    # shortest paths obey the triangle inequality through every vertex
    assert (cost[:, None, :] <= cost[:, :, None] + cost[None, :, :] + 1e-9).all()


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(random_instances())
def test_bound_study_figures_are_true_bounds(inst: Instance):
    """benchmarks/bounds.py: LP <= DW <= optimum, and with whole list sizes (exact
    pricing) the converged master LP is the Lagrangian value it reports."""
    from benchmarks import bounds

    plain = baseline.solve_plain(inst, time_limit=30)
    counted = bounds.with_count_bounds(inst)
    assume(plain.status == "optimal" and lagrangian_applies(counted, scaled=True))
    lp = bounds.lp_bound(inst)
    dw = bounds.dw_bound(inst)
    tol = 1e-6 * max(1.0, abs(plain.objective))
    assert lp <= plain.objective + tol
    assert dw["dw"] <= plain.objective + tol
    assert dw["dw_converged"] and dw["dw_unit"] == 1.0
    assert dw["dw"] == pytest.approx(dw["dw_master"], abs=tol)
    # the master sees the whole's count bounds, not family 12's per region of the arcs
    assert dw["dw"] >= bounds.lp_bound(inst, implied=False) - tol


def test_federation_benchmark_reports_time_bound_gap_and_gain(tmp_path):
    from benchmarks import federations
    from tests.runs.test_federations import _config

    row = federations.measure(_config(tmp_path), overrides={}, label="towns")
    assert row["practices"] == 12 and row["status"] in ("optimal", "feasible")
    assert row["bound"] <= row["objective"] + 1e-6 <= row["sequential"] + 2e-6
    assert row["gain"] == pytest.approx(row["sequential"] - row["objective"])
    text = federations.render([row], "python -m benchmarks.federations", "abc1234", "today", "vm")
    assert "- commit: abc1234" in text and "| towns | 12 |" in text and "- machine: vm" in text


def test_the_doni_family_runs_the_files_this_checkout_holds() -> None:
    from benchmarks.run import specs

    keys = [spec.key for spec in specs(["doni"], None)]
    assert keys == ["1", "3", "4", "5"]  # doni2, doni6 and doni7 are not copied
    assert [spec.key for spec in specs(["doni"], ["2"])] == ["2"]  # asked for: tried


def test_the_dw_bound_may_fall_below_the_lp_with_implied_counts() -> None:
    """A draw of the property test above: the model's family 12 (counts implied per
    region of the arcs) lifts its LP to the optimum, 37, while the DW master, which sees
    the whole's count bounds only, reaches 36.375 = the LP without family 12."""
    from benchmarks import bounds

    t, f = True, False
    cost = np.array(
        [
            [0, 13, 13, 13, 13, 1, 13, 13, 14],
            [13, 0, 0, 7, 0, 12, 0, 0, 7],
            [13, 0, 0, 7, 0, 12, 0, 0, 7],
            [13, 7, 7, 0, 7, 13, 7, 7, 1],
            [13, 0, 0, 7, 0, 12, 0, 0, 7],
            [1, 12, 12, 13, 12, 0, 12, 12, 13],
            [13, 0, 0, 7, 0, 12, 0, 0, 7],
            [13, 0, 0, 7, 0, 12, 0, 0, 7],
            [14, 7, 7, 1, 7, 13, 7, 7, 0],
        ],
        dtype=float,
    )
    rest = [f, t, t, t, t, t, t, t, t]
    allowed = np.array(
        [
            [t, f, f, f, f, t, f, f, f],
            rest,
            rest,
            [f, t, t, t, t, f, t, t, t],
            rest,
            [t, t, t, f, t, t, t, t, f],
            rest,
            rest,
            [f, t, t, t, t, f, t, t, t],
        ]
    )
    inst = cost_instance(
        cost,
        [6.0, 1, 1, 1, 1, 5, 1, 3, 5],
        allowed=allowed,
        min_size=8.0,
        max_size=np.full(9, 13.0),
        can_hub=np.array([t, f, f, t, f, f, f, f, t]),
        weights=(1.0, 0.0, 0.0, 0.0),
        travel_by_size=False,
    )
    plain = baseline.solve_plain(inst, time_limit=30)
    assert plain.status == "optimal" and plain.objective == pytest.approx(37.0)
    assert bounds.lp_bound(inst) == pytest.approx(37.0)
    dw = bounds.dw_bound(inst)["dw"]
    assert dw == pytest.approx(36.375)
    assert dw == pytest.approx(bounds.lp_bound(inst, implied=False))


def _solves(engine: str, seconds: list[float | None], limit: float = 10.0) -> list[dict]:
    return [
        {
            "case": "pmedcap:7",
            "name": "pmedcap1 #7",
            "engine": engine,
            "seed": seed,
            "status": "feasible" if t is None else "optimal",
            "wall_seconds": limit if t is None else t,
            "time_limit": limit,
        }
        for seed, t in enumerate(seconds)
    ]


@pytest.mark.parametrize(
    ("ours", "plain", "ratio", "said"),
    [
        ([2.0, 3.0, 4.0], [3.0, 3.0, 5.0], 1.0, "faster or equal"),
        ([4.0, 4.0, 9.0], [3.0, 3.5, 5.0], 0.875, "within the plain model's spread"),
        ([6.0, 6.0, 6.0], [3.0, 3.5, 5.0], 3.5 / 6.0, "slower than the plain model's spread"),
        ([None, 2.0, 2.0], [3.0, 3.0, 3.0], 1.5, "proven on 2/3 seeds (mergeopt) and 3/3"),
    ],
)
def test_variability_verdicts_weigh_the_plain_models_own_spread(ours, plain, ratio, said):
    from benchmarks.variability import summary, verdict

    figures = verdict(
        summary(_solves("mergeopt", ours), 10.0), summary(_solves("baseline", plain), 10.0)
    )
    assert figures[0] == pytest.approx(ratio)
    assert figures[1].startswith(said)


def test_variability_runs_both_engines_on_every_seed_and_writes_its_page(tmp_path):
    import json

    from benchmarks import variability

    page, raw = tmp_path / "VARIABILITY.md", tmp_path / "variability.json"
    argv = ["--cases", "pmedcap:2", "--seeds", "2", "--out", str(page), "--json", str(raw)]
    assert variability.main(argv) == 0
    rows = json.loads(raw.read_text())["rows"]
    assert sorted((r["engine"], r["seed"]) for r in rows) == [
        ("baseline", 0),
        ("baseline", 1),
        ("mergeopt", 0),
        ("mergeopt", 1),
    ]
    assert {r["status"] for r in rows} == {"optimal"}
    assert {r["objective"] for r in rows} == {740.0}
    text = page.read_text()
    assert "| pmedcap1 #2 | 2/2 |" in text and "random_seed 0 to 1" in text
    assert "machine speed: a fixed solve (" in text
    with pytest.raises(SystemExit):
        variability.main(["--cases", "pmedcap", "--out", str(page), "--json", str(raw)])


def test_the_load_line_gives_figures_and_no_verdict(monkeypatch):
    """A load average counts the benchmark's own processes and lags by a minute: it once
    called a quiet machine shared (BOUNDS.md at 544ea59), so the page gives it as figures
    and leaves the machine's speed to the calibration solve."""
    from benchmarks import machine

    monkeypatch.setattr(machine.os, "cpu_count", lambda: 2)
    said = machine.load([0.47, 3.2])
    assert said.startswith("load average (1 min) 0.5 to 3.2 on 2 CPUs")
    assert "own processes included" in said
    assert "shared" not in said and "quiet" not in said


def test_the_calibration_solve_does_the_same_work_each_time():
    """The machine's speed on a page is the seconds of one fixed solve: the same HiGHS
    iterations on every run, so only the machine can change its time."""
    from benchmarks import machine

    first, second = machine.calibrate(), machine.calibrate()
    assert first is not None and second is not None
    assert first["iterations"] == second["iterations"] > 0
    assert first["seconds"] > 0 and second["seconds"] > 0
    said = machine.speed([first, second])
    assert said.startswith(f"machine speed: a fixed solve ({machine.CALIBRATION}, ")
    assert (
        f"{first['seconds']:.2f} s and {second['seconds']:.2f} s at the start and the end" in said
    )
    assert "once" in machine.speed([None, second])
    assert "not measured" in machine.speed([None, None])


def test_a_page_says_the_machines_speed_only_where_its_run_measured_it():
    """RESULTS.md redrawn from an older results.json (no calibration) has no speed line;
    from a run that measured it, the line gives both figures."""
    from benchmarks import run

    info = run.machine()
    assert not any("machine speed" in line for line in run.run_lines(info, "c"))
    info["calibration"] = [{"seconds": 1.5, "iterations": 2904}, None]
    lines = run.run_lines(info, "c")
    assert "- machine speed: a fixed solve (" in "\n".join(lines)
    assert any("took 1.50 s once" in line for line in lines)


def test_pmedcap_runs_at_its_targets_limit_and_every_engine_reports_it() -> None:
    """Issue 20's target is every pmedcap1 case proven within 30 s: the harness runs the
    family at 30 s, and mergeopt's page says how many were proven within it (it used to
    run at 10 s, which counted a case proven at 12 s as missed, and showed the row for
    the branch-and-price only)."""
    from benchmarks import run

    assert run.LIMITS["pmedcap"] == 30.0
    rows = [
        {
            "engine": "mergeopt",
            "family": "pmedcap",
            "case": f"pmedcap:{k}",
            "status": "optimal" if k != 20 else "feasible",
            "objective": 100.0 + k,
            "optimum": 100.0 + k,
            "wall_seconds": {8: 13.1, 14: 15.1, 20: 30.1}.get(k, 2.0),
            "gap": 0.0 if k != 20 else 0.03,
        }
        for k in range(1, 21)
    ]
    lines = run._targets(rows)
    within_30 = next(line for line in lines if "each within 30 s" in line)
    within_5 = next(line for line in lines if "each within 5 s" in line)
    assert "**missed**" in within_30 and "19/20 proven within 30 s" in within_30
    assert "19/20 proven at the published optimum, 17 of them within 5 s" in within_5


def test_the_bound_study_splits_a_gap_between_the_grouping_and_the_bound() -> None:
    """The figures of BOUNDS.md: ICB QT1, whose longer run proved the optimum (an exact
    split), and ICB QOP, whose longer run did not (the grouping leaves at least its share,
    the bound at most its own); the two shares add up to the gap at the limit."""
    from benchmarks import bounds

    grouping, bound, exact = bounds.sides(6_362_373.2, 6_288_674.0, 6_316_628.7, True)
    assert (round(grouping, 4), round(bound, 4), exact) == (0.0072, 0.0044, True)
    grouping, bound, exact = bounds.sides(15_985_646.7, 15_626_787.0, 15_928_992.1, False)
    assert (round(grouping, 4), round(bound, 4), exact) == (0.0035, 0.0189, False)
    assert grouping + bound == pytest.approx((15_985_646.7 - 15_626_787.0) / 15_985_646.7)
    # a longer run that found no better grouping: the whole gap may be the bound's
    assert bounds.sides(100.0, 90.0, 101.0, False)[:2] == (0.0, pytest.approx(0.1))
    figures = {
        "objective_at_limit": 15_985_646.7,
        "bound_at_limit": 15_626_787.0,
        "reference": {"objective": 15_928_992.1, "bound": 15_636_992.9, "status": "feasible"},
    }
    assert bounds._sides_text(figures) == "at least 0.35% / at most 1.89%"


def test_england_is_in_the_bound_study_only_when_asked_and_without_relaxations() -> None:
    """Its longer run takes half an hour: the default run leaves England out; asked for,
    its row says why its LP and DW bounds are not measured."""
    from benchmarks import bounds

    rows = [
        {"case": "england:all", "family": "england", "engine": "mergeopt", "status": "feasible"},
        {"case": "icb:QOP", "family": "icb", "engine": "mergeopt", "status": "feasible"},
        {"case": "icb:QOP", "family": "icb", "engine": "baseline", "status": "feasible"},
        {"case": "icb:QOC", "family": "icb", "engine": "mergeopt", "status": "optimal"},
    ]
    assert bounds.unproven(rows) == ["icb:QOP"]
    row = bounds._bound_row(
        {
            "label": "england:all",
            "n": 6176,
            "arcs": 212_345,
            "best": 341_334_019.8,
            "left_out": bounds.RELAXATIONS_LEFT_OUT["england"],
            "bound_at_limit": 336_423_527.7,
            "limit": 600.0,
        }
    )
    assert row.count("|") == 14, "the table's 13 columns"
    assert "| not measured: 6,176 practices in 58 regions" in row
    assert row.endswith("| 336,423,527.7 (1.44%) | 600 |")


def test_the_bound_study_page_says_its_command_and_checks_only_what_it_measured(
    tmp_path, monkeypatch
) -> None:
    """The command on the page writes that page again (its --out too); the note on how
    the DW column was checked appears only where a row has one; --render writes the same
    page from the figures the run kept."""
    from benchmarks import bounds

    assert bounds.command(None, bounds.REFERENCE_SECONDS, bounds.HERE / "BOUNDS.md") == (
        "python -m benchmarks.bounds"
    )
    assert bounds.command("england:all", 1800.0, bounds.HERE / "BOUNDS_ENGLAND.md") == (
        "python -m benchmarks.bounds --cases england:all --reference 1800 "
        "--out benchmarks/BOUNDS_ENGLAND.md"
    )
    other = bounds.HERE / "results_portfolio.json"
    assert bounds.command(None, 0.0, bounds.HERE / "BOUNDS.md", other) == (
        "python -m benchmarks.bounds --reference 0 --json benchmarks/results_portfolio.json"
    )
    england = {
        "label": "england:all",
        "n": 6176,
        "arcs": 519_788,
        "optimum": None,
        "best": 340_781_830.6,
        "left_out": bounds.RELAXATIONS_LEFT_OUT["england"],
        "objective_at_limit": 341_334_019.8,
        "bound_at_limit": 336_423_527.7,
        "limit": 600.0,
        "reference": {"status": "feasible", "objective": 340_781_830.6, "bound": 336.0e6},
    }
    about = {
        "harness": {"command": "python -m benchmarks.run", "machine": {"date": "d"}},
        "source": "results.json",
        "command": "python -m benchmarks.bounds --cases england:all",
        "run": "r",
        "machine": "m",
        "reference": 1800.0,
    }
    text = bounds.page([england], **about)
    assert "Is the DW bound right?" not in text
    assert "| at least 0.16% / at most 1.28% |" in text
    with_dw = {
        **england,
        "label": "icb:QT1",
        "lp": 1.0,
        "lp_seconds": 0.1,
        "dw": 2.0,
        "dw_master": 2.0,
        "dw_rounds": 3,
        "dw_seconds": 0.2,
        "dw_converged": True,
        "dw_unit": 1.0,
    }
    del with_dw["left_out"]
    assert "Is the DW bound right?" in bounds.page([with_dw], **about)
    out = tmp_path / "BOUNDS_ENGLAND.md"
    record = bounds.record_path(out)
    assert record.name == "bounds_england.json"
    record.write_text(json.dumps({"measured": [england], **about}), encoding="utf-8")
    monkeypatch.setattr("sys.argv", ["bounds", "--render", "--out", str(out)])
    bounds.main()
    assert out.read_text(encoding="utf-8") == text


def test_rendering_a_bound_page_whose_run_kept_no_figures_says_so_in_one_line(
    tmp_path, monkeypatch, capsys
) -> None:
    """BOUNDS.md of a run before the figures were kept: --render stops with the usage
    error (exit 2), names the file it looked for, and leaves the page as it was."""
    from benchmarks import bounds

    out = tmp_path / "BOUNDS.md"
    out.write_text("the page of an older run", encoding="utf-8")
    monkeypatch.setattr("sys.argv", ["bounds", "--render", "--out", str(out)])
    with pytest.raises(SystemExit) as stopped:
        bounds.main()
    assert stopped.value.code == 2
    said = capsys.readouterr().err.strip().splitlines()[-1]
    assert said.startswith("bounds: error: --render: no figures kept beside")
    assert str(tmp_path / "bounds.json") in said
    assert out.read_text(encoding="utf-8") == "the page of an older run"
