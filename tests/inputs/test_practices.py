"""The practices table a config names: read, joined with premises, selected and validated
as a whole (one error naming the file, the columns and the rows)."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import Point

from mergeopt._errors import InputError
from mergeopt.config import load_config
from mergeopt.inputs.practices import read_practices
from tests.builders import PRACTICES, write_config
from tests.hostile import GOOD_ROW, HEADER, NASTY, TALLY, check_table

ROOT = Path(__file__).resolve().parents[2]


def test_reads_the_contract(tmp_path):
    config = load_config(write_config(tmp_path, ""))
    table = read_practices(config)
    assert list(table.index) == ["A1", "A2", "A3", "A4"]
    assert table["list_size"].dtype == "int64"
    assert table.loc["A3", "hub_eligibility"] == "must"
    assert table.loc["A1", "current_group"] == "N1"
    assert table["capacity"].isna().all()


def test_latlong_and_geometry_locations_agree(tmp_path):
    latlong = PRACTICES.replace("easting,northing", "lat,long")
    latlong = latlong.replace("510000,430000", "53.75,-0.33").replace(
        "511000,430500", "53.76,-0.31"
    )
    latlong = latlong.replace("512000,429000", "53.74,-0.30").replace(
        "509000,431000", "53.77,-0.34"
    )
    table = read_practices(load_config(write_config(tmp_path, "", latlong)))
    assert 505_000 < table.loc["A1", "easting"] < 515_000
    frame = pd.read_csv(tmp_path / "practices.csv")
    points = gpd.GeoDataFrame(
        frame.drop(columns=["lat", "long"]),
        geometry=[Point(x, y) for x, y in zip(table["easting"], table["northing"], strict=True)],
        crs="EPSG:27700",
    ).to_crs("EPSG:4326")
    points.to_file(tmp_path / "practices.gpkg")
    config = load_config(tmp_path / "config.yaml").with_overrides(
        **{"inputs.practices": tmp_path / "practices.gpkg"}
    )
    again = read_practices(config)
    assert again["easting"].to_numpy() == pytest.approx(table["easting"].to_numpy(), abs=0.01)


def test_floor_area_rule_gives_capacity(tmp_path):
    premises = "practice_code,floor_area_m2\nA1,500\nA2,300\nA3,1000\nA4,100\n"
    (tmp_path / "premises.csv").write_text(premises)
    text = "  premises: premises.csv\npremises:\n  rule: floor_area\n  m2_per_patient: 0.025\n"
    path = write_config(tmp_path, "")
    path.write_text(
        path.read_text().replace(
            "  practices: practices.csv\n", "  practices: practices.csv\n" + text, 1
        )
    )
    table = read_practices(load_config(path))
    assert table.loc["A1", "capacity"] == 20_000


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (
            lambda t: t.replace("list_size", "patients"),
            r"practices.csv: missing column 'list_size'",
        ),
        (
            lambda t: t.replace("A2,Beta", "A1,Beta"),
            r"column 'practice_code' has duplicated codes in rows 2, 3",
        ),
        (lambda t: t.replace("9000", "-9000"), r"column 'list_size' must be above 0 in row 3"),
        (lambda t: t.replace("9000", "lots"), r"column 'list_size' is not a number in row 3"),
        (
            lambda t: t.replace("9000", "90.5"),
            r"column 'list_size' is not a whole number in row 3",
        ),
        (
            lambda t: t.replace(",509000,", ",,"),
            r"column 'easting' is missing or not a number in row 5",
        ),
        (
            lambda t: t.replace("510000,430000", "5100000,430000"),
            r"column 'easting' is outside Great Britain .* row 2",
        ),
        (
            lambda t: t.replace(",never", ",sometimes"),
            r"column 'hub_eligibility' must be must, may or never in row 5",
        ),
    ],
)
def test_bad_practices_give_one_line_naming_file_column_rows(tmp_path, edit, match):
    config = load_config(write_config(tmp_path, "", edit(PRACTICES)))
    with pytest.raises(InputError, match=match) as caught:
        read_practices(config)
    assert "\n" not in str(caught.value)


def test_all_problems_are_reported_at_once(tmp_path):
    bad = PRACTICES.replace("9000", "-9000").replace(",509000,", ",,")
    with pytest.raises(InputError, match=r"list_size.*; column 'easting'"):
        read_practices(load_config(write_config(tmp_path, "", bad)))


def test_excel_export_latin1_with_bom_and_thousands(tmp_path):
    text = PRACTICES.replace("Alpha,12000", 'Café,"12,000"')
    config_path = write_config(tmp_path, "")
    (tmp_path / "practices.csv").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert read_practices(load_config(config_path)).loc["A1", "list_size"] == 12_000
    (tmp_path / "practices.csv").write_bytes(text.encode("latin-1"))
    assert read_practices(load_config(config_path)).loc["A1", "name"] == "Café"


@pytest.mark.parametrize(
    ("separator", "encoding"),
    [(";", "utf-8-sig"), (";", "cp1252"), (",", "utf-16"), ("\t", "utf-16"), (";", "utf-16")],
    ids=["semicolons", "semicolons-cp1252", "utf16", "utf16-tabs", "utf16-semicolons"],
)
def test_practices_saved_by_excel_in_any_form_are_read(tmp_path, separator, encoding):
    """As Excel saves a table in much of Europe (semicolons) or as "Unicode text"
    (UTF-16): the practices table is read as the NHS files are, by the same reader."""
    expected = read_practices(load_config(write_config(tmp_path, "")))
    text = PRACTICES.replace("Alpha", "Alpha, Café").replace(",", separator)
    if separator != ",":
        text = text.replace(f"Alpha{separator} Café", '"Alpha, Café"')
    else:
        text = text.replace("Alpha, Café", '"Alpha, Café"')
    (tmp_path / "practices.csv").write_bytes(text.replace("\n", "\r\n").encode(encoding))
    table = read_practices(load_config(tmp_path / "config.yaml"))
    assert table.loc["A1", "name"] == "Alpha, Café"
    pd.testing.assert_frame_equal(table.drop(columns="name"), expected.drop(columns="name"))


def test_rows_are_numbered_as_the_spreadsheet_shows_them(tmp_path):
    """Blank rows count (as a spreadsheet shows them) and are not practices."""
    bad = PRACTICES.replace("A2,", "\nA2,").replace(",9000,", ",-9000,")
    with pytest.raises(InputError, match=r"column 'list_size' must be above 0 in row 4$"):
        read_practices(load_config(write_config(tmp_path, "", bad)))
    bad = PRACTICES.replace("A3,", "\n,,,,,,\nA3,").replace(",7000,", ",x,")
    with pytest.raises(InputError, match=r"column 'list_size' is not a number in row 7$"):
        read_practices(load_config(write_config(tmp_path, "", bad)))


def test_nhs_files_are_handed_on_typed_not_as_text():
    """A table built from NHS Digital's files reaches validation with its own types (no
    text round trip): whole numbers stay integers, and it reads as the prepared CSV does."""

    from mergeopt.inputs.practices import read_source

    direct = load_config(ROOT / "configs" / "hull_pcn_from_nhs_files.yaml")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the practice it cannot use: tested in test_nhs
        raw = read_source(direct)
        table = read_practices(direct)
    assert raw["list_size"].dtype == "int64"
    assert raw["lat"].dtype == "float64"
    assert raw["pcn_code"].map(type).eq(str).all()
    prepared = read_practices(load_config(ROOT / "configs" / "hull_pcn.yaml"))
    shared = ["name", "list_size", "easting", "northing", "current_group", "region"]
    pd.testing.assert_frame_equal(table[shared], prepared.loc[table.index, shared])


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
        check_table(table)
        TALLY["bad practice tables: read, every invariant held"] += 1
