"""Tests for the road model, straight-line matrix, supplied matrices, and the fit (tools/)."""

from __future__ import annotations

import importlib.util
import runpy
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mergeopt._errors import InputError
from mergeopt.inputs.matrix import read_travel_matrix
from mergeopt.inputs.travel import ROAD_MODEL, RoadModel, road_minutes, straight_line_km

ROOT = Path(__file__).resolve().parents[1]
TRAVEL_DIR = ROOT / "data" / "travel"
TOOL = ROOT / "tools" / "fit_road_model.py"
DOC = ROOT / "docs" / "travel_model.md"
# What tools/fit_road_model.py measured for ROAD_MODEL on trips under 25 km (docs/travel_model.md).
MEASURED_MAE = 2.44
MEASURED_MAE_UNDER_5_KM = 0.95

# Four points in EPSG:27700 metres: a 3-4-5 triangle plus a point 10 km north of the first.
EASTING = np.array([500_000.0, 503_000.0, 500_000.0, 500_000.0])
NORTHING = np.array([400_000.0, 404_000.0, 404_000.0, 410_000.0])


# --- straight-line distances and the road model ---------------------------------------


def test_straight_line_km_known_triangle():
    km = straight_line_km(EASTING, NORTHING)
    assert km[0, 1] == pytest.approx(5.0)
    assert km[0, 2] == pytest.approx(4.0)
    assert km[1, 2] == pytest.approx(3.0)
    assert km[0, 3] == pytest.approx(10.0)


def test_straight_line_km_symmetric_zero_diagonal():
    km = straight_line_km(EASTING, NORTHING)
    assert km.shape == (4, 4)
    np.testing.assert_array_equal(km, km.T)
    np.testing.assert_array_equal(np.diag(km), 0.0)


def test_straight_line_km_empty():
    assert straight_line_km([], []).shape == (0, 0)


@pytest.mark.parametrize(
    ("easting", "northing"),
    [([0.0, 1.0], [0.0]), ([[0.0, 1.0]], [[0.0, 1.0]]), ([0.0, np.nan], [0.0, 1.0])],
    ids=["unequal-length", "2-d", "nan"],
)
def test_straight_line_km_rejects_bad_coordinates(easting, northing):
    with pytest.raises(ValueError, match="easting and northing"):
        straight_line_km(easting, northing)


def test_road_minutes_symmetric_zero_diagonal_and_linear():
    model = RoadModel(intercept_minutes=8.0, minutes_per_km=1.5)
    minutes = road_minutes(EASTING, NORTHING, model=model)
    np.testing.assert_array_equal(minutes, minutes.T)
    np.testing.assert_array_equal(np.diag(minutes), 0.0)
    assert minutes[0, 1] == pytest.approx(8.0 + 1.5 * 5.0)
    assert minutes[0, 3] == pytest.approx(8.0 + 1.5 * 10.0)


def test_road_minutes_uses_road_model_by_default():
    minutes = road_minutes(EASTING, NORTHING)
    assert minutes[0, 1] == pytest.approx(
        ROAD_MODEL.intercept_minutes + 5 * ROAD_MODEL.minutes_per_km
    )


def test_two_practices_on_one_site_are_zero_minutes_apart():
    minutes = road_minutes([450_000.0, 450_000.0], [120_000.0, 120_000.0])
    np.testing.assert_array_equal(minutes, 0.0)


def test_road_model_minutes_keeps_shape_and_inf():
    minutes = ROAD_MODEL.minutes(np.array([[0.0, np.inf]]))
    assert minutes.shape == (1, 2)
    assert minutes[0, 0] == 0.0
    assert minutes[0, 1] == np.inf


@given(
    st.floats(min_value=0.0, max_value=1_000.0),
    st.floats(min_value=0.001, max_value=1_000.0),
)
def test_road_minutes_increase_with_distance(km, extra):
    shorter, longer = ROAD_MODEL.minutes([km, km + extra])
    assert longer > shorter


@pytest.mark.parametrize(
    ("intercept", "slope", "match"),
    [(-1.0, 1.0, "intercept_minutes"), (5.0, 0.0, "minutes_per_km"), (np.nan, 1.0, "intercept")],
)
def test_road_model_rejects_bad_constants(intercept, slope, match):
    with pytest.raises(ValueError, match=match):
        RoadModel(intercept_minutes=intercept, minutes_per_km=slope)


def test_road_model_rejects_negative_distance():
    with pytest.raises(ValueError, match=">= 0 km"):
        ROAD_MODEL.minutes([-0.1])


# --- user-supplied matrices -----------------------------------------------------------


def write(tmp_path: Path, text: str, name: str = "travel.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_read_travel_matrix_happy_path(tmp_path):
    path = write(
        tmp_path,
        "origin,destination,minutes,source\n"
        "B81001,B81002,12.5,osrm\n"
        "B81002,B81001,14,osrm\n"
        " B81003 , B81001 ,7 ,osrm\n"
        "B81001,B81001,3,osrm\n"
        "\n",
    )
    minutes = read_travel_matrix(path, ["B81001", "B81002", "B81003"])
    expected = np.array(
        [
            [0.0, 12.5, np.inf],  # B81001 -> B81003 not listed: unreachable
            [14.0, 0.0, np.inf],  # asymmetric times stay asymmetric
            [7.0, np.inf, 0.0],  # codes and minutes stripped; self-pair ignored
        ]
    )
    np.testing.assert_array_equal(minutes, expected)


def test_read_travel_matrix_follows_the_order_of_codes(tmp_path):
    path = write(tmp_path, "origin,destination,minutes\nA,B,1\nB,A,2\n")
    np.testing.assert_array_equal(read_travel_matrix(path, ["B", "A"]), [[0, 2], [1, 0]])


def test_read_travel_matrix_accepts_excel_byte_order_mark(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbforigin,destination,minutes\r\nA,B,4\r\n")
    np.testing.assert_array_equal(read_travel_matrix(path, ["A", "B"]), [[0, 4], [np.inf, 0]])


@pytest.mark.parametrize(
    ("rows", "column", "where"),
    [
        ("A,B,abc\n", "'minutes'", "row 2"),
        ("A,B,1\nB,A,-2\n", "'minutes'", "row 3"),
        ("A,B,NaN\n", "'minutes'", "row 2"),
        ("A,B,\n", "'minutes'", "row 2"),
        ("A,B,inf\n", "'minutes'", "row 2"),
        ("A,B,1\n,B,2\n", "'origin' is empty", "row 3"),
        ("A,B,1\nA,,2\n", "'destination' is empty", "row 3"),
        ("A,B,1\nB,A,2\nA,B,3\n", "'origin', 'destination'", "rows 2, 4"),
        ("A,B,1\nX9,B,1\n", "'origin' has codes that are not practices .* \\(X9\\)", "row 3"),
        ("A,Q1,1\nB,Q2,1\n", "'destination' has codes .* \\(Q1, Q2\\)", "rows 2, 3"),
    ],
    ids=[
        "text",
        "negative",
        "nan",
        "empty",
        "inf",
        "empty-origin",
        "empty-destination",
        "duplicate-pair",
        "unknown-origin",
        "unknown-destinations",
    ],
)
def test_read_travel_matrix_names_file_column_and_rows(tmp_path, rows, column, where):
    path = write(tmp_path, "origin,destination,minutes\n" + rows, name="drive_times.csv")
    with pytest.raises(
        InputError, match=rf"drive_times\.csv: .*column.* {column}.* {where}"
    ) as info:
        read_travel_matrix(path, ["A", "B"])
    assert "\n" not in str(info.value)


def test_read_travel_matrix_quotes_bad_minutes(tmp_path):
    path = write(tmp_path, "origin,destination,minutes\nA,B,12 mins\nB,A,-2\n")
    with pytest.raises(InputError, match=r"not '12 mins', '-2' in rows 2, 3"):
        read_travel_matrix(path, ["A", "B"])


def test_read_travel_matrix_reports_every_problem_at_once(tmp_path):
    path = write(tmp_path, "origin,destination,minutes\nA,B,x\nZ,B,1\nB,A,1\nB,A,2\n")
    with pytest.raises(InputError) as info:
        read_travel_matrix(path, ["A", "B"])
    message = str(info.value)
    assert "'origin' has codes that are not practices of this run (Z) in row 3" in message
    assert "'minutes' must be a number >= 0" in message
    assert "not 'x' in row 2" in message
    assert "(B -> A) in rows 4, 5" in message


def test_read_travel_matrix_row_numbers_count_blank_lines(tmp_path):
    path = write(tmp_path, "origin,destination,minutes\nA,B,1\n\nB,A,oops\n")
    with pytest.raises(InputError, match="row 4"):
        read_travel_matrix(path, ["A", "B"])


def test_read_travel_matrix_many_bad_rows_are_summarised(tmp_path):
    body = "".join(f"A,B{i},1\n" for i in range(8))
    path = write(tmp_path, "origin,destination,minutes\n" + body)
    with pytest.raises(InputError, match=r"rows 2, 3, 4, 5, 6 \(\+3 more\)"):
        read_travel_matrix(path, ["A"])


def test_read_travel_matrix_missing_columns(tmp_path):
    path = write(tmp_path, "from,to,minutes\nA,B,1\n", name="od.csv")
    with pytest.raises(InputError, match=r"od\.csv: missing column\(s\) origin, destination;"):
        read_travel_matrix(path, ["A", "B"])


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "file is empty"),
        ("origin,destination,minutes\n\n", "no rows"),
        ("origin,destination,minutes\nA,B,1,9\n", "more fields than the header"),
        ("origin,destination,minutes\nA,B,1\nB,A,1,9\n", "Expected 3 fields in line 3"),
    ],
    ids=["empty", "header-only", "long-first-row", "long-row"],
)
def test_read_travel_matrix_unreadable_files(tmp_path, text, match):
    path = write(tmp_path, text, name="bad.csv")
    with pytest.raises(InputError, match=rf"bad\.csv: .*{match}"):
        read_travel_matrix(path, ["A", "B"])


def test_read_travel_matrix_missing_file(tmp_path):
    with pytest.raises(InputError, match=r"nowhere\.csv: travel matrix file not found"):
        read_travel_matrix(tmp_path / "nowhere.csv", ["A"])


def test_read_travel_matrix_rejects_duplicate_codes_from_caller(tmp_path):
    path = write(tmp_path, "origin,destination,minutes\nA,B,1\n")
    with pytest.raises(ValueError, match="codes must be unique"):
        read_travel_matrix(path, ["A", " A"])


# --- the fit on the shipped drive times -----------------------------------------------


@pytest.fixture(scope="module")
def report():
    """The fit of tools/fit_road_model.py (a script, loaded as a module)."""
    spec = importlib.util.spec_from_file_location("fit_road_model", TOOL)
    assert spec is not None and spec.loader is not None
    tool = importlib.util.module_from_spec(spec)
    sys.modules["fit_road_model"] = tool  # its dataclass looks itself up there
    try:
        spec.loader.exec_module(tool)
    finally:
        del sys.modules["fit_road_model"]
    return tool.fit_road_model(TRAVEL_DIR)


def test_fit_reproduces_road_model(report):
    assert report.max_km == 25.0
    assert report.n == 776
    assert report.model.intercept_minutes == pytest.approx(ROAD_MODEL.intercept_minutes, abs=0.005)
    assert report.model.minutes_per_km == pytest.approx(ROAD_MODEL.minutes_per_km, abs=0.0005)


def test_road_model_error_under_cutoff_is_as_documented(report):
    trips = report.trips
    short = trips[trips["km"] < report.max_km]
    error = ROAD_MODEL.minutes(short["km"].to_numpy()) - short["minutes"].to_numpy()
    assert np.mean(np.abs(error)) < MEASURED_MAE + 0.02
    very_short = trips[trips["km"] < 5]
    error = ROAD_MODEL.minutes(very_short["km"].to_numpy()) - very_short["minutes"].to_numpy()
    assert np.mean(np.abs(error)) < MEASURED_MAE_UNDER_5_KM + 0.02


def test_fit_report_tables(report):
    assert report.by_area.index.tolist() == ["Hull + East Riding", "Somerset"]
    assert report.by_area["trips"].sum() == report.n
    assert report.by_band.loc["0-5", "fitted"]
    assert not report.by_band.loc["60+", "fitted"]
    assert report.by_band["trips"].sum() == len(report.trips) == 4120


def test_docs_hold_the_current_tool_output(capsys):
    tool = runpy.run_path(str(TOOL), run_name="fit_road_model")
    assert tool["main"](["--travel-dir", str(TRAVEL_DIR)]) == 0
    printed = capsys.readouterr().out
    assert "matches `mergeopt.inputs.travel.ROAD_MODEL`: yes" in printed
    doc = DOC.read_text(encoding="utf-8")
    start = doc.index("<!-- fit_road_model output: start -->\n") + len(
        "<!-- fit_road_model output: start -->\n"
    )
    end = doc.index("<!-- fit_road_model output: end -->")
    assert doc[start:end].strip() == printed.strip(), "re-run tools/fit_road_model.py into the doc"
