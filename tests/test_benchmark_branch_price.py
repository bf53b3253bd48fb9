"""The branch-and-price gap table (``python -m benchmarks.branch_price``): which side
leaves the gap of each case the runs did not prove."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from benchmarks import branch_price as bench


def _run(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"command": "test", "machine": {}, "rows": rows}))
    return path


def _row(case: str, engine: str, objective: float | None, bound: float | None, **more: Any):
    status = more.pop("status", "feasible")
    return {"case": case, "engine": engine, "name": case, "objective": objective,
            "bound": bound, "status": status, **more}  # fmt: skip


def test_each_unproven_case_says_which_side_leaves_the_gap(tmp_path: Path):
    bnp = _run(
        tmp_path / "bnp.json",
        [
            _row("p:1", "bnp", 713.0, 713.0, optimum=713.0, status="optimal"),  # proven
            _row("p:8", "bnp", 825.0, 794.0, optimum=820.0, time_limit=30.0),  # bound 26 short
            _row("p:17", "bnp", 1038.0, 1034.0, optimum=1034.0),  # the grouping only
            _row("icb:Q", "bnp", 19.0, 15.0, optimum=None),
            _row("icb:Q", "baseline", 17.0, 15.5, optimum=None),
        ],
    )
    main = _run(tmp_path / "main.json", [_row("icb:Q", "mergeopt", 16.0, 15.6, optimum=None)])
    table = bench.gap_table([bnp], main).splitlines()
    cases = [line.split(" | ")[0].lstrip("| ") for line in table if line.startswith("| ")]
    assert cases == ["case", "p:8", "p:17", "icb:Q"]  # the proven case left out
    p8 = next(line for line in table if line.startswith("| p:8 "))
    assert p8.startswith("| p:8 | 30 | feasible |")  # the run's time limit beside the case
    assert "| 26.0 (3.17%) | 5.0 (0.61%) | bound |" in p8
    p17 = next(line for line in table if line.startswith("| p:17 "))
    assert "| 0.0 (0.00%) | 4.0 (0.39%) | grouping |" in p17
    icb = next(line for line in table if line.startswith("| icb:Q "))
    # best bound known 15.6 (the main run), best grouping known 16.0: at least 0.6 short
    # on the bound side and 3.0 long on the grouping side
    assert "| 15.6 to 16.0 | 0.6 (3.85%) | 3.0 (18.75%) |" in icb


def test_a_missing_run_file_is_one_line_and_exit_2(tmp_path: Path, capsys):
    out = tmp_path / "gaps.md"
    assert bench.main([str(tmp_path / "absent.json"), "--out", str(out)]) == 2
    assert "absent.json" in capsys.readouterr().err
    assert not out.exists()


def test_each_run_is_named_with_the_commit_it_ran_at(tmp_path: Path):
    """A run file records its commit (``benchmarks.run.machine``); the gap table and the
    harness's page name it, and say so where an older file has none."""
    from benchmarks import run

    info = run.machine()
    assert info["commit"] and info["commit"] != "unknown"
    recorded = tmp_path / "recorded.json"
    recorded.write_text(json.dumps({"command": "c", "machine": {"commit": "abc123"}, "rows": []}))
    older = _run(tmp_path / "older.json", [])
    table = bench.gap_table([recorded, older], None)
    assert "`recorded.json`: `c`, ?, commit abc123," in table
    assert "`older.json`: `test`, ?, commit not recorded," in table
    page = run.render([], info, "python -m benchmarks.run --only pmedcap --engines bnp")
    assert f"- commit: {info['commit']}" in page.splitlines()


def test_highs_with_and_without_the_cover_cuts_prove_the_same_optimum():
    """The harness's ``--engines highs,cuts``: HiGHS alone on mergeopt's model, and with
    the lifted cover cuts added, both prove pmedcap1 #2's published optimum."""
    from benchmarks import instances

    case = instances.pmedcap(2)
    plain = bench.solve_highs(case.instance, time_limit=120, cuts=False)
    cut = bench.solve_highs(case.instance, time_limit=120, cuts=True)
    assert plain["status"] == cut["status"] == "optimal"
    assert plain["objective"] == cut["objective"] == case.optimum
    assert "HiGHS with " in cut["detail"] and " cover cuts" in cut["detail"]
    assert cut["detail"].split()[2] != "0", "cuts were added"
