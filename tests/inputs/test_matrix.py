"""A travel matrix the user supplies: read as Excel or a script saves it, every problem
named at once with its column and rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mergeopt._errors import InputError
from mergeopt.inputs.matrix import read_travel_matrix
from tests.hostile import EXCEL_STYLES, TALLY, check_error, corrupt, serialise


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


TRAVEL_CODES = ["B81008", "B81011", "B81018"]


@st.composite
def corrupted_travel_matrices(draw: st.DrawFn) -> tuple[bytes, list[str], list[list[str]]]:
    header = ["origin", "destination", "minutes"]
    notes = draw(st.booleans())
    if notes:
        header.append("notes")
    rows = []
    for origin in TRAVEL_CODES:
        for destination in TRAVEL_CODES:
            if origin != destination and draw(st.integers(0, 5)):
                minutes = draw(st.sampled_from(["0", "7", "12.5", "45", "599.9"]))
                rows.append([origin, destination, minutes, *(["x"] if notes else [])])
    if not rows:
        rows.append(["B81008", "B81011", "3"])
    r = draw(st.integers(0, len(rows) - 1))
    extra = draw(st.sampled_from(["none", "unknown", "pair", "case", "spaces", "self"]))
    if extra == "unknown":
        rows[r][draw(st.integers(0, 1))] = "Z99999"
    elif extra == "pair":
        rows.append([rows[r][0], rows[r][1], "99", *rows[r][3:]])
    elif extra == "case":
        rows[r][0] = rows[r][0].lower()
    elif extra == "spaces":
        rows[r][1] = f" {rows[r][1]} "
    elif extra == "self":
        rows.append([rows[r][0], rows[r][0], "0", *rows[r][3:]])
    if draw(st.booleans()):
        corrupt(draw, header, rows, ["origin", "destination", "minutes", "notes"])
    return serialise(header, rows, draw(EXCEL_STYLES)), header, rows


def _expected_travel(header: list[str], rows: list[list[str]]) -> np.ndarray:
    """What a correct reader must return for a file it accepted."""
    names = [name.strip() for name in header]
    position = {name: names.index(name) for name in ("origin", "destination", "minutes")}
    index = {code: k for k, code in enumerate(TRAVEL_CODES)}
    expected = np.full((len(index), len(index)), np.inf)
    for row in rows:
        if all(cell.strip() == "" for cell in row):
            continue
        origin, destination, minutes = (row[position[n]].strip() for n in position)
        if origin != destination:
            expected[index[origin], index[destination]] = float(minutes)
    np.fill_diagonal(expected, 0.0)
    return expected


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(corrupted_travel_matrices())
def test_corrupted_travel_matrices_fail_clearly_or_read_correctly(tmp_path, case):
    data, header, rows = case
    path = tmp_path / "travel.csv"
    path.write_bytes(data)
    TALLY["bad travel matrices tried"] += 1
    try:
        matrix = read_travel_matrix(path, TRAVEL_CODES)
    except InputError as exc:
        check_error(str(exc), "travel.csv", "bad travel matrices")
    else:
        used = np.isfinite(matrix)
        assert (matrix[used] >= 0).all() and (np.diag(matrix) == 0).all()
        assert not np.isnan(matrix).any()
        np.testing.assert_array_equal(matrix, _expected_travel(header, rows))
        TALLY["bad travel matrices: read, every invariant held"] += 1


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        # Excel in a European locale: semicolons, CRLF, quoted cells
        (b'"origin";"destination";"minutes"\r\n"A";"B";"4"\r\n', [[0, 4], [np.inf, 0]]),
        # Excel's "Unicode text" is UTF-16 with a byte-order mark, tab-separated
        ("origin\tdestination\tminutes\nA\tB\t4\n".encode("utf-16"), [[0, 4], [np.inf, 0]]),
        ("origin,destination,minutes\nA,B,4\nB,A,5\n".encode("utf-16"), [[0, 4], [5, 0]]),
        # Latin-1 (a name column with an accent) is read, not refused as undecodable
        ("origin,destination,minutes,note\nA,B,4,Café\n".encode("latin-1"), [[0, 4], [np.inf, 0]]),
    ],
    ids=["semicolons", "utf16-tabs", "utf16-commas", "latin1"],
)
def test_travel_matrix_excel_exports_are_read(tmp_path, data, expected):
    path = tmp_path / "excel.csv"
    path.write_bytes(data)
    TALLY["bad travel matrices tried"] += 1
    np.testing.assert_array_equal(read_travel_matrix(path, ["A", "B"]), expected)
    TALLY["bad travel matrices: read, every invariant held"] += 1


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("origin,destination,minutes,minutes\nA,B,1,2\n", r"column 'minutes' appears 2 times"),
        ("origin,destination,minutes, minutes\nA,B,1,2\n", r"column 'minutes' appears 2 times"),
        ('origin,destination,minutes\n"A\nX",B,1\n', r"\(A\\nX\) in row 2"),
        ("origin,destination,minutes\nA,B,1e308\n", r"'minutes' must be .* not '1e308' in row 2"),
        ("origin,destination,minutes\nA,B,3600\n", r"not '3600' in row 2"),
        ('origin,destination,minutes\nA,B,"1,234"\n', r"not '1,234' in row 2"),
        ("origin;destination;minutes\nA;B;12,5\n", r"not '12,5' in row 2"),
    ],
    ids=[
        "dup-header",
        "dup-header-spaced",
        "newline-in-code",
        "huge",
        "seconds",
        "thousands",
        "decimal-comma",
    ],
)
def test_travel_matrix_regressions(tmp_path, text, match):
    path = tmp_path / "travel.csv"
    path.write_text(text, encoding="utf-8")
    TALLY["bad travel matrices tried"] += 1
    with pytest.raises(InputError, match=match) as info:
        read_travel_matrix(path, ["A", "B"])
    check_error(str(info.value), "travel.csv", "bad travel matrices")
