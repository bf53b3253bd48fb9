"""Reliability: hostile input never crashes or half-writes, killed runs lose nothing.

The module prints a tally at the end: bad inputs tried, faults injected, and how each
ended (a clear one-line error, or a complete/previous run directory).
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import signal
import subprocess
import sys
import time
import warnings
from collections import Counter
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
import shapely.geometry
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mergeopt._errors import InputError
from mergeopt.config import Geography, load_config
from mergeopt.geo.boundaries import study_area
from mergeopt.inputs.matrix import read_travel_matrix
from mergeopt.inputs.nhs.assembly import CANONICAL_COLUMNS, prepare
from mergeopt.inputs.practices import read_practices

ROOT = Path(__file__).resolve().parents[1]
TALLY: Counter[str] = Counter()
HEADER = ["practice_code", "practice_name", "list_size", "easting", "northing", "pcn_code"]
GOOD_ROW = ["A1", "Alpha", "12000", "510000", "430000", "N1"]
NASTY = [
    "",
    "NaN",
    "nan",
    "inf",
    "-1",
    "0",
    "1e308",
    "9" * 40,
    "12,0,00",
    "  ",
    "☃",
    "'",
    '"',
    "NULL",
    "#N/A",
    "=1+1",
    "0x10",
    "1.5",
    "-0",
    "\t",
    "B81008",
]


@pytest.fixture(scope="module", autouse=True)
def tally(request):
    """Hand the tally to conftest.py, which prints it in the terminal summary."""
    request.config._mergeopt_tally = TALLY
    yield


def _check_table(table) -> None:
    assert table.index.is_unique
    assert (table["list_size"] > 0).all()
    assert np.isfinite(table[["easting", "northing"]].to_numpy()).all()
    assert table["hub_eligibility"].isin(["must", "may", "never"]).all()


@st.composite
def corrupted_tables(draw: st.DrawFn) -> tuple[bytes, str]:
    rows = [list(GOOD_ROW)]
    for k in range(draw(st.integers(0, 4))):
        rows.append([f"A{k + 2}", f"P{k}", str(1000 + k), str(510000 + k), str(430000 + k), "N1"])
    header = list(HEADER)
    for _ in range(draw(st.integers(1, 4))):
        r = draw(st.integers(0, len(rows) - 1))
        c = draw(st.integers(0, len(header) - 1))
        rows[r][c] = draw(st.sampled_from(NASTY) | st.text(max_size=8))
    if draw(st.booleans()):
        header[draw(st.integers(0, len(header) - 1))] = draw(st.sampled_from(HEADER))
    if draw(st.booleans()):
        rows[0] = rows[0][: draw(st.integers(0, len(header)))]
    text = "\n".join(",".join(row) for row in [header, *rows]) + "\n"
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "utf-16"]))
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        data = text.encode("utf-8")
        encoding = "utf-8"
    return data, encoding


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(corrupted_tables())
def test_corrupted_practice_tables_fail_clearly_or_read_correctly(tmp_path, case):
    data, _ = case
    folder = tmp_path / f"t{TALLY['bad practice tables tried']}"
    folder.mkdir()
    (folder / "practices.csv").write_bytes(data)
    (folder / "c.yaml").write_text("name: t\ninputs:\n  practices: practices.csv\n")
    TALLY["bad practice tables tried"] += 1
    try:
        table = read_practices(load_config(folder / "c.yaml"))
    except InputError as exc:
        message = str(exc)
        assert "\n" not in message and "practices.csv" in message
        TALLY["bad practice tables: clear one-line error"] += 1
    else:
        _check_table(table)
        TALLY["bad practice tables: read, every invariant held"] += 1


yaml_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.floats()
    | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)


numbers = (
    st.floats() | st.integers(-5, 10**7) | st.sampled_from([0, 1e-9, 1e300, math.inf, math.nan])
)
counts = st.integers(-1, 12) | st.fixed_dictionaries(
    {}, optional={"min": st.integers(-1, 12) | st.none(), "max": st.integers(-1, 12)}
)
codes = st.lists(st.sampled_from(["A1", "a1 ", "ZZ9", ""]), max_size=3)
#: Keys of README.md's config reference that take a value alone (no file), by section,
#: each with values of its own kind (in range or not), so that most fuzzed configs load
#: and what loads is checked.
CONFIG_KEYS = {
    ("groups", "min_list_size"): numbers | st.booleans(),
    ("groups", "max_list_size"): numbers | st.booleans(),
    ("groups", "count"): counts | st.booleans(),
    ("groups", "oversize"): st.sampled_from(["alone", "stop", "ALONE", "drop"]),
    ("travel", "model"): st.sampled_from(["road", "straight_line", "Road", "osrm"]),
    ("travel", "max_minutes"): numbers,
    ("travel", "max_km"): numbers,
    ("premises", "rule"): st.sampled_from(["none", "capacity", "floor_area", "area"]),
    ("premises", "m2_per_patient"): numbers,
    ("rules", "fixed"): st.lists(
        st.fixed_dictionaries({"hub": st.just("A1"), "practices": codes})
    ),
    ("rules", "forced_hubs"): codes,
    ("rules", "forbidden_hubs"): codes,
    ("rules", "must_link"): st.lists(st.tuples(st.just("A1"), st.sampled_from(["A1", "B2"]))),
    ("rules", "cannot_link"): st.lists(st.lists(st.just("A1"), max_size=3)),
    ("rules", "nest_by"): st.sampled_from(["pcn_code", "icb_code", ""]) | st.none(),
    ("objective", "travel"): numbers,
    ("objective", "weight_by_list_size"): st.booleans() | st.sampled_from(["yes", 0, 2]),
    ("objective", "moved_patients"): numbers,
    ("objective", "groups"): numbers,
    ("objective", "max_travel"): numbers,
    ("solver", "name"): st.sampled_from(["highs", "cbc", "gurobi"]),
    ("solver", "time_limit"): numbers,
    ("solver", "gap"): numbers,
    ("solver", "threads"): numbers,
    ("solver", "log"): st.booleans(),
    ("inputs", "location"): st.sampled_from(["auto", "bng", "latlong", "geometry", "utm"]),
    ("inputs", "columns"): st.fixed_dictionaries({}, optional={"name": st.just("pcn_code")}),
    ("inputs", "select"): st.dictionaries(
        st.sampled_from(["pcn_code", "nope"]), codes, max_size=1
    ),
}


@st.composite
def config_entries(draw: st.DrawFn) -> tuple[str, str, object]:
    """A section, a key and a value: mostly a real key with a value of its kind; at
    times an unknown key, or any YAML value."""
    if draw(st.integers(0, 9)) == 0:
        section = draw(st.sampled_from(["groups", "solver", "rules", "zzz"]))
        return section, draw(st.sampled_from(["name", "x", "counts"])), draw(yaml_values)
    section, key = draw(st.sampled_from(sorted(CONFIG_KEYS)))
    values = CONFIG_KEYS[(section, key)]
    return section, key, draw(values if draw(st.integers(0, 4)) else yaml_values)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(entry=config_entries())
def test_fuzzed_configs_fail_clearly_or_load(tmp_path, entry):
    section, key, value = entry
    (tmp_path / "practices.csv").write_text(",".join(HEADER) + "\n" + ",".join(GOOD_ROW) + "\n")
    data = {"name": "t", "inputs": {"practices": "practices.csv"}}
    data.setdefault(section, {})
    if isinstance(data[section], dict):
        data[section][key] = value
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    TALLY["fuzzed configs tried"] += 1
    try:
        config = load_config(path)
        table = read_practices(config)
    except InputError as exc:
        message = str(exc)
        assert "\n" not in message
        assert "c.yaml" in message or "practices.csv" in message
        TALLY["fuzzed configs: clear one-line error"] += 1
    else:
        _loaded_as_given(config, section, key, value, tmp_path)
        _check_table(table)
        TALLY["fuzzed configs: loaded, as given, and read back from run.json's form"] += 1


def _loaded_as_given(config, section: str, key: str, value: object, folder: Path) -> None:
    """A config that loads holds the key it was given, with the value given (a scalar,
    equal as a number where the schema makes it one), and reads back as the same config
    from the strict JSON that run.json and a sweep's workers hold."""
    dumped = config.model_dump(mode="json")
    assert section in dumped and isinstance(dumped[section], dict) and key in dumped[section]
    loaded = getattr(getattr(config, section), key)
    if value is None or isinstance(value, (bool, int, float)) or isinstance(loaded, str):
        assert loaded == value  # "yes" for a yes/no key is read as yes: not compared
    text = json.dumps(dumped, allow_nan=False)  # raises for a value JSON cannot hold
    again = folder / "again.yaml"
    again.write_text(text)
    assert load_config(again).model_dump() == config.model_dump()


def test_yaml_is_loaded_safely(tmp_path):
    path = tmp_path / "evil.yaml"
    path.write_text(
        "name: !!python/object/apply:os.system ['echo pwned']\ninputs: {practices: p.csv}\n"
    )
    TALLY["unsafe YAML tried"] += 1
    with pytest.raises(InputError, match=r"evil\.yaml: line 1 is not valid YAML"):
        load_config(path)
    TALLY["unsafe YAML: refused"] += 1


# --- shared corruption of CSV tables ------------------------------------------------------

#: How Excel and friends write a CSV: separator, line ending, quoting, encoding.
EXCEL_STYLES = st.fixed_dictionaries(
    {
        "sep": st.sampled_from([",", ",", ";"]),
        "crlf": st.booleans(),
        "quote_all": st.booleans(),
        "encoding": st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "cp1252", "utf-16"]),
    }
)
CELL_VALUES = st.sampled_from([*NASTY, "1e309", "-1e308", "12.5", "1,234", "+5", "é"]) | st.text(
    max_size=6
)


def _serialise(header: list[str] | None, rows: list[list[str]], style: dict) -> bytes:
    """Write a table as a spreadsheet program would (falling back to UTF-8 if it must)."""
    buffer = io.StringIO()
    writer = csv.writer(
        buffer,
        delimiter=style["sep"],
        lineterminator="\r\n" if style["crlf"] else "\n",
        quoting=csv.QUOTE_ALL if style["quote_all"] else csv.QUOTE_MINIMAL,
    )
    writer.writerows([header, *rows] if header is not None else rows)
    try:
        return buffer.getvalue().encode(style["encoding"])
    except UnicodeEncodeError:
        return buffer.getvalue().encode("utf-8")


def _corrupt(
    draw: st.DrawFn, header: list[str] | None, rows: list[list[str]], names: list[str]
) -> list[str]:
    """Spoil a table in place as real files get spoiled; return what was done."""
    done = []
    for _ in range(draw(st.integers(1, 3))):
        op = draw(
            st.sampled_from(
                [
                    "cell",
                    "cell",
                    "thousands",
                    "header",
                    "drop",
                    "dup_row",
                    "short",
                    "long",
                    "blank",
                ]
            )
        )
        r = draw(st.integers(0, len(rows) - 1))
        row = rows[r]
        width = len(header) if header is not None else max(len(x) for x in rows)
        c = draw(st.integers(0, width - 1))
        if op == "cell" and c < len(row):
            row[c] = draw(CELL_VALUES)
        elif op == "thousands" and c < len(row) and row[c].isdigit():
            row[c] = f"{int(row[c]):,}"
        elif op == "header" and header is not None:
            name = draw(st.sampled_from(names))
            header[c] = draw(st.sampled_from([name, name.lower(), f" {name} "]))
        elif op == "drop" and width > 1:
            for line in [header, *rows] if header is not None else rows:
                if line is not None and c < len(line):
                    del line[c]
        elif op == "dup_row":
            rows.append(list(row))
        elif op == "short" and row:
            rows[r] = row[: draw(st.integers(0, len(row) - 1))]
        elif op == "long":
            row.append(draw(st.sampled_from(NASTY)))
        elif op == "blank":
            rows.insert(r, [])
        else:
            continue
        done.append(f"{op} row {r} column {c}")
    return done


def _check_error(message: str, name: str, what: str) -> None:
    """One line, naming the file and where in it (or why the whole file is unusable)."""
    assert "\n" not in message and "\r" not in message, message
    assert name in message, message
    assert re.search(r"column|row|line|empty|encoding|looks like|can be used", message), message
    TALLY[f"{what}: clear one-line error"] += 1


# --- the user-supplied travel matrix --------------------------------------------------------

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
        _corrupt(draw, header, rows, ["origin", "destination", "minutes", "notes"])
    return _serialise(header, rows, draw(EXCEL_STYLES)), header, rows


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
        _check_error(str(exc), "travel.csv", "bad travel matrices")
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
    _check_error(str(info.value), "travel.csv", "bad travel matrices")


# --- NHS Digital's files (prepare) ----------------------------------------------------------

NHS = ROOT / "data" / "nhs"
NHS_CODES = ("B81008", "B81011", "B81018")
NHS_POSTCODES = ("HU9 2LJ", "HU3 5QE", "HU6 9BS")


def _real_table(name: str, *, header: bool, key: int) -> tuple[list[str] | None, list[list[str]]]:
    """The header and the rows of a shipped NHS file for the three Hull practices."""
    with (NHS / name).open(encoding="utf-8", newline="") as file:
        lines = list(csv.reader(file))
    wanted = {*NHS_CODES, *NHS_POSTCODES}
    body = [line for line in lines[1 if header else 0 :] if line[key] in wanted]
    return (lines[0] if header else None), body


NHS_FILES = {
    "list sizes 2026": (
        "sizes.csv",
        _real_table("gp-reg-pat-prac-all_2026-02_hull_somerset.csv", header=True, key=5),
    ),
    "list sizes 2021": ("sizes.csv", _real_table("gp-reg-pat-prac-all.csv", header=True, key=5)),
    "mapping": ("map.csv", _real_table("gp-reg-pat-prac-map.csv", header=True, key=2)),
    "epraccur": ("epraccur.csv", _real_table("epraccur.csv", header=False, key=0)),
    "postcodes": (
        "lookup.csv",
        _real_table("practice_postcodes_latlon_nspl_may2025.csv", header=True, key=0),
    ),
}
CLEAN_STYLE = {"sep": ",", "crlf": False, "quote_all": False, "encoding": "utf-8"}


@st.composite
def corrupted_nhs_files(draw: st.DrawFn) -> tuple[str, str, dict[str, bytes], dict]:
    sizes = draw(st.sampled_from(["list sizes 2026", "list sizes 2021"]))
    target = draw(st.sampled_from([sizes, "mapping", "epraccur", "postcodes"]))
    optional = [n for n in ("mapping", "epraccur") if n == target or draw(st.booleans())]
    roles = [sizes, *optional, "postcodes"]
    files, tables = {}, {}
    for role in roles:
        _name, (header, rows) = NHS_FILES[role]
        header = None if header is None else list(header)
        rows = [list(row) for row in rows]
        style = CLEAN_STYLE
        if role == target:
            names = header or ["A"]
            _corrupt(draw, header, rows, [*names, "CODE", "POSTCODE", "LAT"])
            style = draw(EXCEL_STYLES)
        files[role] = _serialise(header, rows, style)
        tables[role] = (header, rows)
    return target, sizes, files, tables


def _cell(header: list[str] | None, row: list[str], name: str | int) -> str:
    """A row's cell under ``name``; empty where the row was cut short before it."""
    if header is None:
        at = int(name)
    else:
        at = [" ".join(h.split()).upper() for h in header].index(str(name))
    return row[at].strip() if at < len(row) else ""


def _check_prepared(prepared, target: str, sizes: str, tables: dict) -> None:
    table = prepared.practices
    assert list(table.columns) == [*CANONICAL_COLUMNS, "list_size_date"]
    codes = table["practice_code"]
    assert codes.is_unique and codes.str.fullmatch(r"[A-Z][A-Z0-9]{5}").all()
    assert table["list_size"].dtype == np.int64 and (table["list_size"] > 0).all()
    numbers = table[["lat", "long", "easting", "northing"]].to_numpy(dtype=float)
    assert np.isfinite(numbers).all()
    assert table["lat"].between(49, 61).all() and table["long"].between(-9, 2).all()
    assert table["easting"].between(0, 700_000).all()
    assert table["northing"].between(0, 1_300_000).all()
    assert set(codes).isdisjoint(prepared.excluded["practice_code"])
    assert (prepared.excluded["reason"] != "").all()
    # no column shifted or misread: each list size is the one written in the file
    header, rows = tables[sizes]
    for code, size in zip(codes, table["list_size"], strict=True):
        mine = [row for row in rows if row and _cell(header, row, "CODE").upper() == code]
        assert len(mine) == 1
        assert float(_cell(header, mine[0], "NUMBER_OF_PATIENTS")) == size
    if target != "postcodes":  # the lookup is untouched: the coordinates are its own
        lookup = {row[0]: (int(row[3]), int(row[4])) for row in NHS_FILES["postcodes"][1][1]}
        for postcode, east, north in table[["postcode", "easting", "northing"]].itertuples(
            index=False
        ):
            assert lookup[postcode] == (east, north)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(corrupted_nhs_files())
def test_corrupted_nhs_files_fail_clearly_or_read_correctly(tmp_path, case):
    target, sizes, files, tables = case
    paths = {}
    for role, data in files.items():
        paths[role] = tmp_path / NHS_FILES[role][0]
        paths[role].write_bytes(data)
    what = f"bad NHS files ({target.removesuffix(' 2026').removesuffix(' 2021')})"
    TALLY[f"{what} tried"] += 1
    try:
        prepared = prepare(
            list_sizes=paths[sizes],
            mapping=paths.get("mapping"),
            epraccur=paths.get("epraccur"),
            postcodes=paths["postcodes"],
        )
    except InputError as exc:
        _check_error(str(exc), NHS_FILES[target][0], what)
    else:
        _check_prepared(prepared, target, sizes, tables)
        TALLY[f"{what}: read, every invariant held"] += 1


# --- boundary files for catchments --------------------------------------------------------

SITES_EAST = np.array([502_000.0, 505_000.0, 508_000.0])
SITES_NORTH = np.array([402_000.0, 405_000.0, 408_000.0])
SQUARE = shapely.box(500_000, 400_000, 510_000, 410_000)
JUNK_PROPERTIES = st.dictionaries(
    st.sampled_from(["code", "name", "", "geometry", "type", "id", "ümlaut", "a b", "x" * 80]),
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers(-(2**70), 2**70)
        | st.floats()
        | st.text(max_size=6),
        lambda children: (
            st.lists(children, max_size=2)
            | st.dictionaries(st.text(max_size=3), children, max_size=2)
        ),
        max_leaves=4,
    ),
    max_size=4,
)


def _to_degrees(shape):
    from pyproj import Transformer

    to_wgs84 = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
    return shapely.transform(shape, lambda xy: np.column_stack(to_wgs84.transform(*xy.T)))


def _boundary_shapes(kind: str) -> tuple[list, bool]:
    """Geometries in EPSG:27700 and whether they hold the practices."""
    bowtie = shapely.Polygon(
        [(500_000, 400_000), (510_000, 410_000), (510_000, 400_000), (500_000, 410_000)]
    )
    hole = shapely.box(509_000, 409_000, 509_500, 409_500)
    far = shapely.box(600_000, 500_000, 601_000, 501_000)
    return {
        "square": ([SQUARE], True),
        "bowtie-and-square": ([bowtie, SQUARE], True),
        "holed": ([SQUARE.difference(hole)], True),
        "multi": ([shapely.MultiPolygon([SQUARE, far])], True),
        "mixed": ([SQUARE, shapely.Point(505_000, 405_000), None, shapely.Polygon()], True),
        "empty": ([shapely.Polygon()], False),
        "null": ([None], False),
        "point": ([shapely.Point(505_000, 405_000)], False),
        "line": ([shapely.LineString([(500_000, 400_000), (510_000, 410_000)])], False),
        "far": ([far], False),
    }[kind]


@st.composite
def boundary_files(draw: st.DrawFn) -> tuple[str, str, bytes, bool, bool]:
    kind = draw(
        st.sampled_from(
            [
                "square",
                "square",
                "bowtie-and-square",
                "holed",
                "multi",
                "mixed",
                "empty",
                "null",
                "point",
                "line",
                "far",
            ]
        )
    )
    crs = draw(
        st.sampled_from(["27700", "4326", "3857", "metres-as-4326", "degrees-as-27700", "none"])
    )
    fmt = draw(st.sampled_from(["geojson", "gpkg"]))
    shapes, holds = _boundary_shapes(kind)
    if crs in {"4326", "degrees-as-27700"}:
        shapes = [None if g is None else _to_degrees(g) for g in shapes]
    elif crs == "3857":
        shapes = list(gpd.GeoSeries(shapes, crs=27700).to_crs(3857))
    label = {"4326": 4326, "3857": 3857, "metres-as-4326": 4326, "degrees-as-27700": 27700}
    epsg = label.get(crs, 27700 if crs == "27700" else None)
    works = holds and crs in {"27700", "4326", "3857"}
    # the features that hold the practices are coded "A"; the others carry junk codes
    holding = 2 if kind == "bowtie-and-square" else 1
    properties = [
        {
            **draw(JUNK_PROPERTIES),
            "code": "A" if k < holding else draw(st.sampled_from(["B", 1, None, ["A"], {}])),
        }
        for k in range(len(shapes))
    ]
    field = draw(st.booleans())
    if fmt == "gpkg":
        frame = gpd.GeoDataFrame(
            {"code": [str(p.get("code")) for p in properties]},
            geometry=gpd.GeoSeries(shapes),
            crs=None if epsg is None else f"EPSG:{epsg}",
        )
        buffer = io.BytesIO()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # writing with no CRS on purpose
            frame.to_file(buffer, driver="GPKG", layer="boundary")
        return kind, fmt, buffer.getvalue(), works, field
    features = [
        {
            "type": "Feature",
            "properties": p,
            "geometry": None if g is None else shapely.geometry.mapping(g),
        }
        for p, g in zip(properties, shapes, strict=True)
    ]
    collection: dict = {"type": "FeatureCollection", "features": features}
    if epsg not in {4326, None}:
        collection["crs"] = {"type": "name", "properties": {"name": f"EPSG:{epsg}"}}
    if crs == "none":  # GeoJSON has no "no CRS": metres with no crs member read as degrees
        works = False
    return kind, fmt, json.dumps(collection, allow_nan=True).encode(), works, field


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(boundary_files())
@pytest.mark.filterwarnings("ignore:Could not parse column:UserWarning")  # junk on purpose
def test_boundary_files_in_any_crs_work_or_fail_clearly(tmp_path, case):
    kind, fmt, data, works, field = case
    path = tmp_path / f"boundary.{fmt}"
    path.write_bytes(data)
    TALLY["boundary files tried"] += 1
    geography = Geography(
        boundary=path, boundary_field="code" if field else None, boundary_values=["A"] * field
    )
    try:
        area, _ = study_area(geography, SITES_EAST, SITES_NORTH)
    except InputError as exc:
        message = str(exc)
        assert not works, message
        assert "\n" not in message and f"boundary.{fmt}" in message, message
        TALLY["boundary files: clear one-line error"] += 1
    else:
        assert works, kind
        assert area.is_valid and area.geom_type in {"Polygon", "MultiPolygon"}
        assert shapely.distance(area, shapely.points(SITES_EAST, SITES_NORTH)).max() < 1.0
        assert abs(area.intersection(SQUARE).area - SQUARE.area) / SQUARE.area < 0.05
        TALLY["boundary files: read, area holds every practice"] += 1


def _nhs_case(tmp_path: Path, role: str, header, rows, style=CLEAN_STYLE) -> dict[str, Path]:
    """The three Hull practices' files, one of them replaced."""
    paths = {}
    for name in ("list sizes 2026", "mapping", "postcodes"):
        file_name, (clean_header, clean_rows) = NHS_FILES[name]
        paths[name] = tmp_path / file_name
        if name == role:
            paths[name].write_bytes(_serialise(header, rows, style))
        else:
            paths[name].write_bytes(_serialise(clean_header, clean_rows, CLEAN_STYLE))
    return paths


def _edited(role: str, edit) -> tuple[list[str], list[list[str]]]:
    _name, (header, rows) = NHS_FILES[role]
    header, rows = list(header), [list(row) for row in rows]
    edit(header, rows)
    return header, rows


@pytest.mark.parametrize(
    ("role", "edit", "match"),
    [
        # a first row longer than the header shifted every value one column left
        ("list sizes 2026", lambda h, r: r[0].append("x"), r"sizes\.csv: .*line 2 has more"),
        ("mapping", lambda h, r: r[1].append("x"), r"map\.csv: .*Expected 17 fields in line 3"),
        ("list sizes 2026", lambda h, r: h.__setitem__(0, "code"), r"column CODE appears 2"),
        ("postcodes", lambda h, r: h.__setitem__(5, "LAT "), r"lookup\.csv: column LAT appears"),
        ("list sizes 2026", lambda h, r: r[0].__setitem__(9, "1e308"), r"more patients than"),
        ("list sizes 2026", lambda h, r: r[0].__setitem__(9, "9" * 40), r"row 2 \(9999"),
        ("mapping", lambda h, r: r[0].__setitem__(2, "=1+1"), r"PRACTICE_CODE: not a practice"),
        ("list sizes 2026", lambda h, r: r[2].__setitem__(5, "B8\n1"), r"at row 4 \(B8\\n1\)"),
        ("postcodes", lambda h, r: r[0].__setitem__(3, "inf"), r"EASTING_OSGB: not a number"),
        ("postcodes", lambda h, r: r[0].__setitem__(1, "0"), r"LAT: lat outside the UK"),
        ("postcodes", lambda h, r: r[1].__setitem__(4, "-5"), r"NORTHING_OSGB: northing outs"),
        ("list sizes 2026", lambda h, r: [x.pop(5) for x in [h, *r]], r"no column CODE$"),
        ("postcodes", lambda h, r: [x.pop(0) for x in [h, *r]], r"no column PCDS or PCD$"),
    ],
    ids=[
        "long-first-row",
        "long-later-row",
        "dup-header",
        "dup-header-spaced",
        "huge-size",
        "40-digit-size",
        "excel-formula-code",
        "newline-in-code",
        "inf-easting",
        "zero-lat",
        "negative-northing",
        "no-code-column",
        "no-postcode-column",
    ],
)
def test_nhs_regressions(tmp_path, role, edit, match):
    paths = _nhs_case(tmp_path, role, *_edited(role, edit))
    what = f"bad NHS files ({role.removesuffix(' 2026')})"
    TALLY[f"{what} tried"] += 1
    with pytest.raises(InputError, match=match) as info:
        prepare(
            list_sizes=paths["list sizes 2026"],
            mapping=paths["mapping"],
            postcodes=paths["postcodes"],
        )
    _check_error(str(info.value), NHS_FILES[role][0], what)


@pytest.mark.parametrize(
    "style",
    [
        {"sep": ";", "crlf": True, "quote_all": True, "encoding": "utf-8-sig"},
        {"sep": ",", "crlf": True, "quote_all": False, "encoding": "utf-16"},
        {"sep": ";", "crlf": False, "quote_all": False, "encoding": "cp1252"},
    ],
    ids=["excel-semicolons", "utf16", "cp1252-semicolons"],
)
@pytest.mark.parametrize("role", ["list sizes 2026", "mapping", "postcodes"])
def test_nhs_excel_exports_are_read(tmp_path, role, style):
    _name, (header, rows) = NHS_FILES[role]
    paths = _nhs_case(tmp_path, role, header, rows, style)
    what = f"bad NHS files ({role.removesuffix(' 2026')})"
    TALLY[f"{what} tried"] += 1
    prepared = prepare(
        list_sizes=paths["list sizes 2026"], mapping=paths["mapping"], postcodes=paths["postcodes"]
    )
    tables = {"list sizes 2026": NHS_FILES["list sizes 2026"][1]}
    _check_prepared(prepared, "", "list sizes 2026", tables)
    assert list(prepared.practices["practice_code"]) == list(NHS_CODES)
    assert prepared.practices["practice_name"].str.len().gt(0).all()
    TALLY[f"{what}: read, every invariant held"] += 1


def _square_file(tmp_path: Path, geometries, crs: str | None, properties=None) -> Path:
    frame = gpd.GeoDataFrame(properties or {"code": ["A"] * len(geometries)}, geometry=geometries)
    path = tmp_path / "boundary.gpkg"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # writing with no CRS on purpose
        frame.set_crs(crs, allow_override=True).to_file(path) if crs else frame.to_file(path)
    return path


def test_boundary_in_degrees_with_practices_in_metres_works(tmp_path):
    degrees = gpd.GeoSeries([SQUARE], crs=27700).to_crs(4326)
    path = _square_file(tmp_path, list(degrees), "EPSG:4326")
    TALLY["boundary files tried"] += 1
    area, _ = study_area(Geography(boundary=path), SITES_EAST, SITES_NORTH)
    assert area.symmetric_difference(SQUARE).area / SQUARE.area < 1e-3
    TALLY["boundary files: read, area holds every practice"] += 1


@pytest.mark.parametrize(
    ("geometries", "crs", "match"),
    [
        # GEOS could not union a self-crossing polygon with its neighbour
        (
            [
                shapely.Polygon(
                    [
                        (500_000, 400_000),
                        (510_000, 410_000),
                        (510_000, 400_000),
                        (500_000, 410_000),
                    ]
                ),
                SQUARE,
            ],
            "EPSG:27700",
            None,
        ),
        ([SQUARE], None, r"boundary\.gpkg: the boundary file has no CRS"),
        ([shapely.LineString([(500_000, 400_000), (510_000, 410_000)])], "EPSG:27700", "no poly"),
        ([SQUARE], "EPSG:4326", r"boundary\.gpkg: the boundary has no area .*is its CRS right"),
    ],
    ids=["bowtie-beside-square", "no-crs", "only-lines", "metres-as-degrees"],
)
def test_boundary_regressions(tmp_path, geometries, crs, match):
    path = _square_file(tmp_path, geometries, crs)
    TALLY["boundary files tried"] += 1
    if match is None:
        area, _ = study_area(Geography(boundary=path), SITES_EAST, SITES_NORTH)
        assert area.is_valid and area.area == pytest.approx(SQUARE.area)
        TALLY["boundary files: read, area holds every practice"] += 1
        return
    with pytest.raises(InputError, match=match) as info:
        study_area(Geography(boundary=path), SITES_EAST, SITES_NORTH)
    assert "\n" not in str(info.value)
    TALLY["boundary files: clear one-line error"] += 1


@pytest.mark.filterwarnings("ignore:Could not parse column:UserWarning")
def test_boundary_field_with_a_list_in_one_feature_still_matches(tmp_path):
    """GDAL reads every feature's property as a list once one feature has a list."""
    far = shapely.box(600_000, 500_000, 601_000, 501_000)
    features = [
        {"type": "Feature", "properties": {"code": code, "junk": junk}, "geometry": shape}
        for code, junk, shape in [
            ("A", {"x": [1, None]}, shapely.geometry.mapping(_to_degrees(SQUARE))),
            (["B"], None, shapely.geometry.mapping(_to_degrees(far))),
        ]
    ]
    path = tmp_path / "boundary.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    geography = Geography(boundary=path, boundary_field="code", boundary_values=["A"])
    TALLY["boundary files tried"] += 1
    area, _ = study_area(geography, SITES_EAST, SITES_NORTH)
    assert area.symmetric_difference(SQUARE).area / SQUARE.area < 1e-3
    TALLY["boundary files: read, area holds every practice"] += 1


def test_unreadable_lsoa_file_is_a_clear_error(tmp_path):
    from mergeopt.geo.catchments import practice_catchments

    boundary = _square_file(tmp_path, [SQUARE], "EPSG:27700")
    lsoa = tmp_path / "lsoa.geojson"
    lsoa.write_text('{"type": "FeatureCollection", "features": [')
    geography = Geography(boundary=boundary, catchments="lsoa", lsoa=lsoa)
    TALLY["boundary files tried"] += 1
    with pytest.raises(InputError, match=r"lsoa\.geojson: cannot read LSOA") as info:
        practice_catchments(geography, ["A", "B", "C"], SITES_EAST, SITES_NORTH)
    assert "\n" not in str(info.value)
    TALLY["boundary files: clear one-line error"] += 1


def _complete(run_dir: Path) -> bool:
    names = {p.name for p in run_dir.iterdir()}
    if not {"assignments.csv", "groups.csv", "run.json"} <= names:
        return False
    json.loads((run_dir / "run.json").read_text())
    return True


@pytest.mark.parametrize("delay", [0.3, 0.8, 1.2, 1.6, 2.0, 2.6])
def test_killing_a_run_leaves_the_previous_or_the_complete_new_directory(tmp_path, delay):
    """SIGKILL at a moment in reading, solving or writing: never a half-written run."""
    out = tmp_path / "run"
    config = ROOT / "configs" / "hull_pcn.yaml"
    base = [sys.executable, "-m", "mergeopt", "run", str(config), "--out", str(out)]
    subprocess.run(base, check=True, capture_output=True)
    before = (out / "run.json").read_text()
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    process = subprocess.Popen([*base, "--force"], **quiet)
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    process.wait()
    TALLY["faults injected (SIGKILL during a run)"] += 1
    assert _complete(out)
    after = (out / "run.json").read_text()
    TALLY[
        "killed runs: previous run intact" if after == before else "killed runs: new run complete"
    ] += 1
    # the next run sweeps away whatever staging folder the killed one left behind
    subprocess.run([*base, "--force"], check=True, capture_output=True)
    assert _complete(out)
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_same_config_and_inputs_give_identical_tables(tmp_path):
    config = ROOT / "configs" / "somerset_yeovil_takeover.yaml"
    for name in ("a", "b"):
        command = [
            sys.executable,
            "-m",
            "mergeopt",
            "run",
            str(config),
            "--out",
            str(tmp_path / name),
        ]
        subprocess.run(command, check=True, capture_output=True)
    TALLY["repeat runs compared"] += 1
    for table in ("assignments.csv", "groups.csv"):
        assert (tmp_path / "a" / table).read_bytes() == (tmp_path / "b" / table).read_bytes()
    first, second = (json.loads((tmp_path / n / "run.json").read_text()) for n in ("a", "b"))
    for key in ("status", "objective", "bound", "metrics", "config_hash", "inputs"):
        assert first[key] == second[key]


def test_a_sweep_scenario_gives_the_tables_of_the_same_run(tmp_path):
    """The same config through `mergeopt run` and through a sweep's process pool gives
    byte-identical tables: the executor does not change the answer."""
    import mergeopt
    from mergeopt.runs.rundir import write_run

    config = mergeopt.load_config(ROOT / "configs" / "somerset_yeovil_takeover.yaml")
    config = config.with_overrides(**{"maps": False, "solver.threads": 1})
    sweep = mergeopt.run_sweep(
        config, out=tmp_path / "sweep", vary={"groups.count": [18]}, workers=1, progress=False
    )
    alone = write_run(mergeopt.solve(config, overrides={"groups.count": 18}), tmp_path / "run")
    TALLY["repeat runs compared"] += 1
    scenario = sweep.folders[sweep.scenarios[0]]
    for table in ("assignments.csv", "groups.csv"):
        assert (scenario / table).read_bytes() == (alone / table).read_bytes()
