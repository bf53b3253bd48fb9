"""Faults found by the independent reference and the fuzzed configs, each as its smallest
example, through the command line (exit code and one-line message) or the public API.

The property tests that found them (``tests/test_reference_model.py``,
``tests/test_config.py``) draw at random; these keep each case checked every run.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import mergeopt
from mergeopt.cli import app

runner = CliRunner()


def invoke(*args: object) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def write(folder: Path, name: str, rows: list[dict[str, object]]) -> None:
    with (folder / name).open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def config(folder: Path, **sections: object) -> Path:
    path = folder / "area.yaml"
    data = {"name": "area", "inputs": {"practices": "practices.csv"}, "maps": False}
    path.write_text(yaml.safe_dump(data | sections, sort_keys=False))
    return path


def practice(code: str, size: int, easting: int, **more: object) -> dict[str, object]:
    where = {"easting": easting, "northing": 430_000}
    return {"practice_code": code, "list_size": size} | where | more


def three_small() -> list[dict[str, object]]:
    """Three practices of 5,000-7,000 patients 1 km apart on a line."""
    return [
        practice(f"A{k}", size, 449_000 + 1_000 * k)
        for k, size in ((1, 5_000), (2, 6_000), (3, 7_000))
    ]


def test_a_floor_area_serving_exactly_a_group_can_host_it(tmp_path):
    """968.8 m2 at 0.025 m2 a patient serves 38,752 patients; in floating point the
    quotient is 38,751.99999999999, which was floored to 38,751: a group of exactly
    38,752 was refused and the rules called impossible."""
    write(
        tmp_path,
        "practices.csv",
        [
            practice("A1", 20_000, 450_000, floor_area_m2="968.8"),
            practice("A2", 18_752, 451_000, floor_area_m2="0"),
        ],
    )
    path = config(
        tmp_path,
        groups={"min_list_size": 38_752},
        premises={"rule": "floor_area", "m2_per_patient": 0.025},
    )
    result = mergeopt.solve(path)
    assert result.status == "optimal"
    groups = result.groups
    assert groups["hub"].tolist() == ["A1"] and groups["list_size"].tolist() == [38_752]
    assert groups["premises_capacity"].tolist() == [38_752]


def test_infeasible_beyond_max_km_with_a_travel_matrix_is_explained(tmp_path):
    """A matrix and a straight-line limit (max_km) but no max_minutes: explaining the
    infeasible rules formatted the missing minutes limit and crashed (TypeError)."""
    write(
        tmp_path, "practices.csv", [practice("A1", 5_000, 450_000), practice("A2", 6_000, 451_000)]
    )
    write(
        tmp_path,
        "matrix.csv",
        [
            {"origin": "A1", "destination": "A2", "minutes": 5},
            {"origin": "A2", "destination": "A1", "minutes": 5},
        ],
    )
    path = config(
        tmp_path,
        groups={"min_list_size": 11_000, "max_list_size": 90_000, "count": 1},
        travel={"model": "matrix", "matrix": "matrix.csv", "max_km": 0.5},
        rules={"must_link": [["A1", "A2"]]},
    )
    code, stdout, stderr = invoke("run", path, "--out", tmp_path / "run")
    assert code == 3, stdout + stderr
    assert "can reach no group" in stderr  # 1 km apart: neither reaches the other, nor has 11,000
    assert "first change that works: travel limit 0.5 -> 1 km (travel.max_km: 1)" in stderr
    assert len(stderr.strip().splitlines()) == 1 and not (tmp_path / "run").exists()


def test_a_pair_missing_from_the_travel_matrix_is_named(tmp_path):
    """Only A1 may host and the matrix has no A2 -> A1: the practice that cannot reach a
    hub is named with the file to complete (it crashed as above)."""
    write(
        tmp_path,
        "practices.csv",
        [
            practice("A1", 5_000, 450_000, hub_eligibility="may"),
            practice("A2", 6_000, 451_000, hub_eligibility="never"),
        ],
    )
    write(tmp_path, "matrix.csv", [{"origin": "A1", "destination": "A2", "minutes": 5}])
    path = config(
        tmp_path,
        groups={"max_list_size": 90_000},
        travel={"model": "matrix", "matrix": "matrix.csv"},
    )
    code, stdout, stderr = invoke("run", path, "--out", tmp_path / "run")
    assert code == 3, stdout + stderr
    assert "A2" in stderr and "no travel time in matrix.csv" in stderr
    assert len(stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("section", "key"),
    [
        ("objective", "groups"),
        ("objective", "travel"),
        ("solver", "time_limit"),
        ("travel", "max_minutes"),
        ("premises", "m2_per_patient"),
    ],
)
def test_an_infinite_number_in_a_config_is_refused(tmp_path, section, key):
    """``.inf`` loaded (a weight of infinity gave a nonsense "no grouping" message; a time
    limit of infinity ran, but run.json held null and the run could not be opened)."""
    write(tmp_path, "practices.csv", [practice("A1", 5_000, 450_000)])
    path = config(tmp_path, **{section: {key: float("inf")}})
    code, stdout, stderr = invoke("run", path, "--out", tmp_path / "run")
    assert code == 2, stdout + stderr
    assert f"key '{section}.{key}'" in stderr and "finite" in stderr
    assert not (tmp_path / "run").exists()


def test_geometry_location_for_a_table_without_geometry_is_one_line(tmp_path):
    """``inputs.location: geometry`` for a CSV raised geopandas' AttributeError."""
    write(tmp_path, "practices.csv", [practice("A1", 5_000, 450_000)])
    path = tmp_path / "area.yaml"
    path.write_text(
        "name: area\ninputs:\n  practices: practices.csv\n  location: geometry\nmaps: false\n"
    )
    code, stdout, stderr = invoke("run", path, "--out", tmp_path / "run")
    assert code == 2, stdout + stderr
    assert "practices.csv" in stderr and "has no geometry" in stderr
    assert len(stderr.strip().splitlines()) == 1


def test_infeasible_rules_without_a_maximum_list_size_are_explained(tmp_path):
    """With no maximum list size and no premises rule, the elastic model that explains
    infeasible rules held an infinite coefficient; HiGHS dropped those rows and PuLP
    failed reading the solution (IndexError: a traceback and exit 1, not exit 3)."""
    write(tmp_path, "practices.csv", three_small())
    path = config(tmp_path, groups={"min_list_size": 20_000})
    code, stdout, stderr = invoke("run", path, "--out", tmp_path / "run")
    assert code == 3, stdout + stderr
    assert "minimum list size 20,000 -> 18,000" in stderr
    assert len(stderr.strip().splitlines()) == 1 and not (tmp_path / "run").exists()


#: Nine practices (an oversize one, alone in the area it was drawn in, taken out):
#: HiGHS 1.16, given mergeopt's greedy start, answered "Optimal" returning the start
#: (314,381.63) with an objective and "bound" of 254,375.67; the optimum is 308,796.70.
SELF_CONTRADICTING_HIGHS = [
    ("A81001", 1_500, 446_108, 421_598),
    ("A81002", 11_404, 447_031, 420_989),
    ("A81003", 1_500, 441_527, 421_192),
    ("A81004", 1_500, 445_982, 421_598),
    ("A81005", 2_737, 439_396, 418_829),
    ("A81006", 1_500, 440_823, 419_588),
    ("A81007", 6_442, 446_192, 421_098),
    ("A81008", 1_500, 440_057, 420_040),
    ("A81009", 1_500, 441_644, 444_257),
]


def test_a_highs_answer_that_contradicts_itself_is_not_trusted(tmp_path):
    """mergeopt reported this area 'feasible' with a 19% gap and a grouping 1.8% worse
    than the optimum; the independent reference (CBC and HiGHS on the plain model) proves
    308,796.70. HiGHS's objective is now checked against its own solution."""
    rows = [
        {"practice_code": code, "list_size": size, "easting": x, "northing": y}
        for code, size, x, y in SELF_CONTRADICTING_HIGHS
    ]
    write(tmp_path, "practices.csv", rows)
    path = config(
        tmp_path,
        groups={"min_list_size": 1_501, "max_list_size": 20_846},
        objective={"groups": 60_000.0},
    )
    result = mergeopt.solve(path)
    assert result.status == "optimal", result.status_text()
    assert result.metrics["objective"] == pytest.approx(308_796.703118, abs=1e-3)


def test_cbc_proving_the_rules_cannot_be_met_is_infeasible_not_a_time_limit(tmp_path):
    """CBC's "Integer infeasible" reaches PuLP as status Infeasible with no solution
    status, and was reported as 'no grouping found within the time limit of 300 s'
    (exit 4); the rules cannot be met (exit 3, explained)."""
    write(tmp_path, "practices.csv", three_small())
    path = config(
        tmp_path, groups={"min_list_size": 9_000, "max_list_size": 11_000}, solver={"name": "cbc"}
    )
    code, stdout, stderr = invoke("run", path, "--out", tmp_path / "run")
    assert code == 3, stdout + stderr
    error = next(line for line in stderr.splitlines() if line.startswith("error:"))
    assert "time limit" not in error and "proven by the solver" in error
    assert "minimum list size 9,000 -> " in error


def test_cbc_does_not_call_a_worse_grouping_optimal(tmp_path):
    """Seven practices, two of which may host, a travel matrix: with solver.name: cbc
    mergeopt reported 283,823.38 as optimal (found by the independent reference, whose
    CBC made the same claim on its own model and whose HiGHS refuted it). CBC 2.10.3's
    preprocessing reduced the model to nothing and returned the worse grouping; mergeopt
    runs CBC without it."""
    sizes = {"A81000": 13_614, "B81001": 2_621, "A81002": 4_780, "A81003": 9_074}
    sizes |= {"A81004": 1_674, "A81005": 2_113, "A81006": 9_507}
    capacity = {"B81001": 30_309, "A81006": 18_074}
    write(
        tmp_path,
        "practices.csv",
        [
            practice(code, size, 440_000 + 100 * k, premises_capacity=capacity.get(code, 0))
            for k, (code, size) in enumerate(sizes.items())
        ],
    )
    minutes = {
        "A81000": (8.93, 8.67),
        "B81001": (None, 8.59),
        "A81002": (0.0, 8.59),
        "A81003": (9.62, 9.39),
        "A81004": (8.41, 9.37),
        "A81005": (9.38, 9.38),
        "A81006": (8.59, None),
    }
    write(
        tmp_path,
        "matrix.csv",
        [
            {"origin": origin, "destination": hub, "minutes": value}
            for origin, pair in minutes.items()
            for hub, value in zip(("B81001", "A81006"), pair, strict=True)
            if value is not None
        ],
    )
    path = config(
        tmp_path,
        travel={"model": "matrix", "matrix": "matrix.csv"},
        premises={"rule": "capacity"},
        solver={"name": "cbc"},
    )
    highs = mergeopt.solve(path, overrides={"solver.name": "highs"})
    assert highs.status == "optimal"
    assert highs.metrics["objective"] == pytest.approx(244_370.22)
    cbc = mergeopt.solve(path)
    assert cbc.status == "optimal", cbc.status_text()
    assert cbc.metrics["objective"] == pytest.approx(244_370.22)
