"""``mergeopt init``: from an area code to a config that runs, or a one-line refusal."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
import yaml

import mergeopt
from mergeopt import InputError
from mergeopt.config import load_config
from mergeopt.geo.boundaries import EDGE_TOLERANCE
from mergeopt.inputs.tables import read_table
from mergeopt.runs.areas import CCG_LAYER, NATIONAL_TABLE, Selection, init_area


def test_a_sub_icb_config_runs_with_the_national_rule(tmp_path: Path) -> None:
    written = init_area(Selection(sub_icb=("03F",)), out=tmp_path / "hull")
    assert written.count == 25 and written.patients == 313_989
    assert written.dates == ("2026-02",)
    config = load_config(written.config)
    assert config.name == "03F_pcn"
    assert (config.groups.min_list_size, config.groups.max_list_size) == (30_000, 50_000)
    assert config.travel.max_minutes == 20 and config.groups.oversize == "alone"
    assert config.inputs.premises is None and config.premises.rule == "none"
    assert config.geography.boundary_values == ["E38000085"]  # NHS Hull CCG
    text = written.config.read_text()
    assert "mergeopt run" in text and "# premises:" in text and "B81048" in text
    result = mergeopt.solve(config, overrides={"maps": False})
    assert result.status == "optimal" and result.violations == []


def test_a_sub_icb_newer_than_the_layer_is_covered_by_the_areas_holding_it(
    tmp_path: Path,
) -> None:
    # 15M (Derby and Derbyshire, E38000261 since 2022) took in Glossop from Tameside
    written = init_area(Selection(sub_icb=("15M",)), out=tmp_path / "derbyshire")
    assert written.boundary is not None
    assert written.boundary.values == ("E38000182", "E38000229")
    assert "E38000261 newer than the 2021 layer" in written.config.read_text()
    # Derby and Derbyshire, which holds mostly 15M's own practices, comes whole; of
    # Tameside and Glossop, only the part nearest Glossop's practices
    features = written.boundary.features.to_crs("EPSG:27700").set_index("ccg21_code").geometry
    layer = gpd.read_file(CCG_LAYER).to_crs("EPSG:27700").set_index("ccg21_code").geometry
    assert features["E38000229"].area == pytest.approx(layer["E38000229"].area)
    assert features["E38000182"].area < 0.6 * layer["E38000182"].area
    assert "of NHS Tameside and Glossop CCG (E38000182), the part nearest C81081" in (
        written.boundary.note
    )


def test_practices_outside_their_2021_area_bring_in_the_area_holding_them(
    tmp_path: Path,
) -> None:
    written = init_area(Selection(sub_icb=("00X",)), out=tmp_path / "chorley")
    assert written.boundary is not None
    assert written.boundary.values == ("E38000034", "E38000227")
    assert "P81181" in written.boundary.note


def test_a_practice_outside_its_area_brings_in_only_the_part_nearest_it(
    tmp_path: Path,
) -> None:
    """05Q's M83125 lies in Shropshire, Telford and Wrekin (E38000257). The study area
    takes in the part of that CCG nearer M83125 than any other practice in England, not
    all of its 3,484 km2, which the maps coloured as M83125's group's catchment."""
    written = init_area(Selection(sub_icb=("05Q",)), out=tmp_path / "05q")
    boundary = written.boundary
    assert boundary is not None
    assert boundary.values == ("E38000153", "E38000257")
    assert "of NHS Shropshire, Telford and Wrekin CCG (E38000257), the part nearest M83125" in (
        boundary.note
    )
    features = boundary.features.to_crs("EPSG:27700").set_index("ccg21_code").geometry
    layer = gpd.read_file(CCG_LAYER).to_crs("EPSG:27700").set_index("ccg21_code").geometry
    assert features["E38000153"].area == pytest.approx(layer["E38000153"].area)  # whole
    part = features["E38000257"]
    assert 0 < part.area < 0.05 * layer["E38000257"].area
    # within the CCG, but for the rounding of a round trip through EPSG:4326
    assert part.difference(layer["E38000257"]).area < 1e-5 * part.area
    national = read_table(NATIONAL_TABLE)
    sites = gpd.GeoSeries(
        gpd.points_from_xy(national["easting"], national["northing"]),
        index=national["practice_code"],
        crs="EPSG:27700",
    )
    assert part.distance(sites["M83125"]) <= EDGE_TOLERANCE
    inside = sites[sites.within(part)].index.tolist()
    assert inside in ([], ["M83125"])  # no other practice of England lies in it
    config = load_config(written.config)
    result = mergeopt.solve(config, overrides={"maps": False})
    assert result.status == "optimal" and result.violations == []


def test_an_icb_and_a_pcn(tmp_path: Path) -> None:
    icb = init_area(Selection(icb=("QT6",)), out=tmp_path / "cornwall")
    assert icb.count == 56 and icb.boundary is not None
    assert "nest_by: sub_icb_code" in icb.config.read_text()
    pcn = init_area(Selection(pcn=("U82095",)), out=tmp_path / "pcn")
    assert pcn.boundary is None
    assert load_config(pcn.config).geography.boundary is None


def test_the_area_folder_moves_whole(tmp_path: Path) -> None:
    """The config names its boundary beside it (the area's own features, written into the
    folder), so the folder runs after it is moved or sent to another machine."""
    written = init_area(Selection(sub_icb=("03F",)), out=tmp_path / "hull")
    assert str(tmp_path / "hull" / "boundary.geojson") in written.summary()
    raw = yaml.safe_load(written.config.read_text())
    assert raw["geography"]["boundary"] == "boundary.geojson"
    assert raw["inputs"]["practices"] == "practices.csv"
    moved = tmp_path / "elsewhere" / "hull"
    moved.parent.mkdir()
    written.folder.rename(moved)
    config = load_config(moved / "pcn.yaml")
    assert config.geography.boundary == moved / "boundary.geojson"
    layer = gpd.read_file(moved / "boundary.geojson")
    assert list(layer["ccg21_code"]) == ["E38000085"] and layer.crs is not None
    result = mergeopt.solve(config, overrides={"maps": False})
    assert result.status == "optimal"


def test_an_own_boundary_layer_keeps_only_the_area(tmp_path: Path) -> None:
    shipped = gpd.read_file(CCG_LAYER)
    layer = tmp_path / "mine.gpkg"
    shipped.rename(columns={"ccg21_code": "code"})[["code", "geometry"]].to_file(layer)
    written = init_area(
        Selection(sub_icb=("03F",)), out=tmp_path / "hull", boundary=layer, boundary_field="code"
    )
    kept = gpd.read_file(written.folder / "boundary.geojson")
    assert list(kept["code"]) == ["E38000085"]
    assert load_config(written.config).geography.boundary_values == ["E38000085"]


def test_a_boundary_file_in_the_folder_is_kept_unless_forced(tmp_path: Path) -> None:
    folder = tmp_path / "hull"
    folder.mkdir()
    mine = folder / "boundary.geojson"
    mine.write_text("my own layer\n")
    with pytest.raises(InputError, match=r"boundary\.geojson: file exists"):
        init_area(Selection(sub_icb=("03F",)), out=folder)
    assert mine.read_text() == "my own layer\n"
    assert not (folder / "pcn.yaml").exists()


def test_default_folder_is_named_after_the_codes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    written = init_area(Selection(sub_icb=("03F", "11X")))
    assert written.folder == Path("areas/03F-11X") and written.count == 84
    assert load_config(written.config).name == "03F-11X_pcn"


@pytest.mark.parametrize(
    ("selection", "match"),
    [
        (Selection(sub_icb=("03Z",)), "sub-ICB code 03Z matches no practice"),
        (Selection(icb=("QXX",)), "ICB code QXX matches no practice"),
        (Selection(), "init needs an area"),
    ],
)
def test_unknown_area_is_one_line_and_writes_nothing(
    tmp_path: Path, selection: Selection, match: str
) -> None:
    with pytest.raises(InputError, match=match) as caught:
        init_area(selection, out=tmp_path / "area")
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "area").exists()


def test_an_area_with_no_usable_practice(tmp_path: Path) -> None:
    table = tmp_path / "national.csv"
    table.write_text("practice_code,practice_name,list_size,easting,northing,sub_icb_code\n")
    with pytest.raises(InputError, match="sub-ICB code 03F matches no practice"):
        init_area(Selection(sub_icb=("03F",)), table=table, out=tmp_path / "area")
    assert not (tmp_path / "area").exists()


def test_a_boundary_layer_without_the_area(tmp_path: Path) -> None:
    far = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"code": "X1"},
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [[[0, 51], [0.1, 51], [0.1, 51.1], [0, 51]]],
                },
            }
        ],
    }
    layer = tmp_path / "layer.geojson"
    layer.write_text(json.dumps(far))
    with pytest.raises(InputError, match="a boundary layer without the area") as caught:
        init_area(
            Selection(sub_icb=("03F",)),
            out=tmp_path / "area",
            boundary=layer,
            boundary_field="code",
        )
    assert str(layer) in str(caught.value)
    assert not (tmp_path / "area").exists()


def test_existing_files_are_kept_unless_forced(tmp_path: Path) -> None:
    folder = tmp_path / "hull"
    folder.mkdir()
    mine = folder / "pcn.yaml"
    mine.write_text("my own notes\n")
    with pytest.raises(InputError, match="file exists; use --force"):
        init_area(Selection(sub_icb=("03F",)), out=folder)
    assert mine.read_text() == "my own notes\n"
    assert not (folder / "practices.csv").exists()
    init_area(Selection(sub_icb=("03F",)), out=folder, force=True)
    assert yaml.safe_load(mine.read_text())["name"] == "03F_pcn"
    assert not list(folder.glob(".*tmp"))


def test_the_national_tables_are_read_from_data_in_a_clone_else_from_the_wheel(
    tmp_path, monkeypatch
):
    from mergeopt.runs import areas

    monkeypatch.setattr(areas, "DATA", tmp_path)  # no data/ beside the package: a wheel
    assert areas.national("england/practices.csv") == areas.SHIPPED / "practices.csv"
    kept = tmp_path / "england" / "practices.csv"
    kept.parent.mkdir()
    kept.write_text("code\n")
    assert areas.national("england/practices.csv") == kept
