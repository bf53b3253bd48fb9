"""The GeoPackage of a run: its layers read back with the assignments, in the CSVs'
words, with each practice's own catchment and the styles QGIS opens it with."""

from __future__ import annotations

import sqlite3
import xml.etree.ElementTree as ET

import pandas as pd
import pyogrio

from mergeopt.geo.maps.style import group_colours


def test_geopackage_layers_read_back_with_the_assignments(hull_run):
    path = hull_run / "groups.gpkg"
    layers = dict(pyogrio.list_layers(path))
    assert {
        "practices", "hubs", "practice_catchments", "group_catchments", "hub_lines",
        "current_networks",
    } <= set(layers)  # fmt: skip
    assignments = pd.read_csv(hull_run / "assignments.csv")
    practices = pyogrio.read_dataframe(path, layer="practices")
    assert practices.crs.to_epsg() == 27700
    assert {"practice_code", "practice_name", "group", "hub", "hub_name", "moved"} <= set(
        practices.columns
    )
    merged = practices.merge(assignments, on="practice_code", suffixes=("", "_csv"))
    assert len(merged) == len(assignments)
    assert (merged["group"] == merged["group_csv"].astype(str)).all()
    assert (merged["moved"].astype(bool) == merged["moved_csv"].astype(bool)).all()
    assert (merged["practice_name"] == merged["practice_name_csv"]).all()
    groups = pyogrio.read_dataframe(path, layer="group_catchments")
    assert groups.geometry.is_valid.all() and len(groups) == 8
    own = pyogrio.read_dataframe(path, layer="practice_catchments")
    assert sorted(own["practice_code"]) == sorted(assignments["practice_code"])
    assert abs(own.geometry.area.sum() - groups.geometry.area.sum()) < 1.0  # the same area
    table = pd.read_csv(hull_run / "groups.csv")
    assert {"area_km2", "pieces"} <= set(table.columns) and (table["pieces"] >= 1).all()


def test_qgis_opens_it_coloured_from_its_saved_styles(hull_run):
    path = hull_run / "groups.gpkg"
    with sqlite3.connect(path) as db:
        rows = db.execute(
            "SELECT f_table_name, f_geometry_column, styleQML, styleSLD, useAsDefault "
            "FROM layer_styles"
        ).fetchall()
        registered = db.execute(
            "SELECT data_type FROM gpkg_contents WHERE table_name = 'layer_styles'"
        ).fetchone()
    assert registered == ("attributes",)
    styled = {row[0]: row for row in rows}
    assert {"practices", "hubs", "practice_catchments", "group_catchments"} <= set(styled)
    groups = sorted(pd.read_csv(hull_run / "groups.csv")["group"].astype(str))
    colours = group_colours(groups)
    _, column, qml, sld, default = styled["group_catchments"]
    assert column == "geom" and default == 1
    renderer = ET.fromstring(qml.split("\n", 1)[1]).find("renderer-v2")
    assert renderer is not None and renderer.get("attr") == "group"
    values = [c.get("value") for c in renderer.iter("category")]
    assert sorted(values) == groups
    for category in renderer.iter("category"):
        symbol = renderer.find(f"symbols/symbol[@name='{category.get('symbol')}']")
        colour = symbol.find("layer/Option/Option[@name='color']").get("value")
        red, green, blue = (int(v) for v in colour.split(",")[:3])
        assert f"#{red:02x}{green:02x}{blue:02x}" == colours[category.get("value")]
    assert ET.fromstring(sld).tag.endswith("StyledLayerDescriptor")
