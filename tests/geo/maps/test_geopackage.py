"""The GeoPackage of a run: its layers read back with the assignments."""

from __future__ import annotations

import pandas as pd
import pyogrio


def test_geopackage_layers_read_back_with_the_assignments(hull_run):
    path = hull_run / "groups.gpkg"
    layers = dict(pyogrio.list_layers(path))
    assert {"practices", "hubs", "group_catchments", "hub_lines", "current_networks"} <= set(
        layers
    )
    assignments = pd.read_csv(hull_run / "assignments.csv")
    practices = pyogrio.read_dataframe(path, layer="practices")
    assert practices.crs.to_epsg() == 27700
    assert sorted(practices["code"]) == sorted(assignments["practice_code"])
    merged = practices.merge(assignments, left_on="code", right_on="practice_code")
    assert (merged["group_x"] == merged["group_y"].astype(str)).all()
    groups = pyogrio.read_dataframe(path, layer="group_catchments")
    assert groups.geometry.is_valid.all() and len(groups) == 8
    table = pd.read_csv(hull_run / "groups.csv")
    assert {"area_km2", "pieces"} <= set(table.columns) and (table["pieces"] >= 1).all()
