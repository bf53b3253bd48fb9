"""Config loading and the practices table: the contract and every bad-input message."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

from mergeopt._errors import InputError
from mergeopt.config import Config, load_config
from mergeopt.inputs.practices import read_practices

ROOT = Path(__file__).resolve().parents[1]

PRACTICES = """practice_code,practice_name,list_size,easting,northing,pcn_code,hub_eligibility
A1,Alpha,12000,510000,430000,N1,may
A2,Beta,9000,511000,430500,N1,may
A3,Gamma,15000,512000,429000,N2,must
A4,Delta,7000,509000,431000,N2,never
"""


def write_config(folder: Path, text: str, practices: str = PRACTICES) -> Path:
    (folder / "practices.csv").write_text(practices)
    path = folder / "config.yaml"
    path.write_text("name: t\ninputs:\n  practices: practices.csv\n" + text)
    return path


def test_reads_the_contract(tmp_path):
    config = load_config(write_config(tmp_path, ""))
    table = read_practices(config)
    assert list(table.index) == ["A1", "A2", "A3", "A4"]
    assert table["list_size"].dtype == "int64"
    assert table.loc["A3", "hub_eligibility"] == "must"
    assert table.loc["A1", "current_group"] == "N1"
    assert table["capacity"].isna().all()


def test_paths_resolve_relative_to_the_config(tmp_path, monkeypatch):
    path = write_config(tmp_path, "")
    monkeypatch.chdir("/")
    assert load_config(path).inputs.practices == tmp_path / "practices.csv"


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


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("colour: blue\n", r"config.yaml: key 'colour': unknown key"),
        (
            "groups:\n  min_list_size: 50000\n  max_list_size: 30000\n",
            r"key 'groups': min_list_size \(50,000\) is above max_list_size \(30,000\)",
        ),
        (
            "groups:\n  count: {min: 9, max: 6}\n",
            r"key 'groups.count.*min \(9\) is above max \(6\)",
        ),
        ("travel:\n  max_minutes: -5\n", r"key 'travel.max_minutes'"),
        ("solver:\n  name: gurobi\n", r"key 'solver.name'"),
        ("groups: [1, 2\n", r"config.yaml: line \d+ is not valid YAML"),
    ],
)
def test_bad_config_names_file_and_key(tmp_path, text, match):
    with pytest.raises(InputError, match=match):
        load_config(write_config(tmp_path, text))


def test_missing_config_file(tmp_path):
    with pytest.raises(InputError, match=r"nope.yaml: cannot read config"):
        load_config(tmp_path / "nope.yaml")


def test_overrides_are_validated():
    config = Config.model_validate({"name": "t", "inputs": {"practices": "p.csv"}})
    with pytest.raises(InputError, match=r"key 'groups.colour': no such key"):
        config.with_overrides(**{"groups.colour": 1})
    with pytest.raises(InputError, match=r"key 'groups.count'"):
        config.with_overrides(**{"groups.count": "many"})


def test_config_paths_are_checked_and_named_by_key(tmp_path):
    path = write_config(tmp_path, "")
    path.write_text(path.read_text().replace("practices.csv", "missing.csv"))
    with pytest.raises(
        InputError, match=r"config.yaml: key 'inputs.practices': no such file .*missing.csv"
    ):
        load_config(path)


def test_nhs_files_are_handed_on_typed_not_as_text():
    """A table built from NHS Digital's files reaches validation with its own types (no
    text round trip): whole numbers stay integers, and it reads as the prepared CSV does."""
    import warnings

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
