"""A two-level plan's maps: federations drawn as outlines over the networks' fills, in the
static map, the interactive map and the GeoPackage."""

from __future__ import annotations

import sqlite3
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pytest
from PIL import Image

from mergeopt.config import Geography
from mergeopt.geo.maps.geopackage import write_geopackage
from mergeopt.geo.maps.layers import MapLayers, map_layers
from mergeopt.geo.maps.static import FEDERATION_COLOUR, close, static_map
from mergeopt.geo.maps.web import interactive_map

TOWNS = {"A": (350_000, 150_000), "B": (365_000, 150_000), "C": (357_500, 163_000)}


def assignments(*, federations: bool = True) -> pd.DataFrame:
    """Three towns of four practices: two networks a town, one federation a town."""
    rows = []
    for town, (x, y) in TOWNS.items():
        for k in range(4):
            hub = f"{town}{2 * (k // 2)}"
            rows.append(
                {
                    "practice_code": f"{town}{k}",
                    "practice_name": f"Practice {town}{k}",
                    "list_size": 10_000 + 1_000 * k,
                    "easting": x + 2_000 * np.cos(k * np.pi / 2),
                    "northing": y + 2_000 * np.sin(k * np.pi / 2),
                    "group": hub,
                    "hub": hub,
                    "travel": 0.0 if hub == f"{town}{k}" else 6.5,
                    "current_group": f"PCN_{town}",
                    "federation": f"{town}0",
                    "federation_hub": f"{town}0",
                }
            )
    table = pd.DataFrame(rows)
    return table if federations else table.drop(columns=["federation", "federation_hub"])


@pytest.fixture(scope="module")
def layers() -> MapLayers:
    return map_layers(assignments(), Geography(), name="towns", unit="minutes")


def test_federations_are_their_networks_catchments_together(layers: MapLayers):
    feds = layers.federations
    assert feds is not None and sorted(feds.index) == ["A0", "B0", "C0"]
    assert (feds["networks"] == 2).all() and (feds["practices"] == 4).all()
    assert (feds["list_size"] == 46_000).all() and (feds["hub"] == feds.index).all()
    for label, row in feds.iterrows():
        networks = layers.groups.loc[layers.groups.index.str.startswith(str(label)[0])]
        assert row.geometry.area == pytest.approx(networks.geometry.area.sum(), rel=1e-6)
    assert "in 3 federations" in layers.title
    assert set(layers.practices["federation"]) == {"A0", "B0", "C0"}


def test_one_level_has_no_federation_layer():
    plain = map_layers(assignments(federations=False), Geography(), name="towns", unit="minutes")
    assert plain.federations is None and "federation" not in plain.practices.columns
    assert "federations" not in plain.title


def _outline_pixels(path: Path) -> int:
    pixels = np.asarray(Image.open(path).convert("RGB")).reshape(-1, 3).astype(int)
    colour = np.array([int(FEDERATION_COLOUR[k : k + 2], 16) for k in (1, 3, 5)])
    return int((np.abs(pixels - colour).max(axis=1) <= 6).sum())


def test_the_print_map_outlines_each_federation_and_lists_it(layers: MapLayers, tmp_path: Path):
    fig, ax = static_map(layers)
    fig.savefig(tmp_path / "two.png", dpi=80)
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    close(fig)
    assert sum(label.startswith("federation ") for label in labels) == 3 + 1  # and its hub
    plain = map_layers(assignments(federations=False), Geography(), name="towns", unit="minutes")
    fig, _ = static_map(plain)
    fig.savefig(tmp_path / "one.png", dpi=80)
    close(fig)
    # the outlines are drawn: many more near-black pixels than the one-level map has
    assert _outline_pixels(tmp_path / "two.png") > 2 * _outline_pixels(tmp_path / "one.png") + 200


def test_the_web_map_draws_outlines_over_the_proposed_groups(layers: MapLayers):
    fig = interactive_map(layers)
    names = [trace.name for trace in fig.data]
    outlines = [t for t in fig.data if str(t.name).startswith("federation ")]
    assert len(outlines) == 3 and all(t.fill in (None, "none") for t in outlines)
    assert all("46,000 patients, 2 networks" in t.text for t in outlines)
    for button in fig.layout.updatemenus[0].buttons:
        visible = button.args[0]["visible"]
        assert len(visible) == len(names)
        shown = {n for n, v in zip(names, visible, strict=True) if v}
        # the outlines go with the proposed groups, not with today's networks
        assert ("federation Practice A0 (A0)" in shown) == (button.label == "Proposed groups")
    hover = next(t for t in fig.data if t.name == "practices").text
    assert all("<br>federation: " in line for line in hover)


def test_the_geopackage_has_a_federations_layer(layers: MapLayers, tmp_path: Path):
    path = tmp_path / "groups.gpkg"
    write_geopackage(layers, path)
    assert "federations" in dict(pyogrio.list_layers(path))
    feds = pyogrio.read_dataframe(path, layer="federations")
    assert feds.crs.to_epsg() == 27700 and len(feds) == 3 and feds.geometry.is_valid.all()
    assert {"federation", "hub", "hub_name", "networks", "list_size"} <= set(feds.columns)
    practices = pyogrio.read_dataframe(path, layer="practices")
    assert {"federation", "federation_hub"} <= set(practices.columns)


def test_the_offline_web_map_outlines_the_federations_too(layers: MapLayers):
    """map.html falls back to the plain figure offline: it keeps the outlines."""
    fig = interactive_map(layers, basemap=False)
    outlines = [t for t in fig.data if str(t.name).startswith("federation ")]
    assert len(outlines) == 3 and all(t.type == "scatter" and t.mode == "lines" for t in outlines)
    proposed = fig.layout.updatemenus[0].buttons[0]
    assert proposed.args[1]["legend.title.text"] == "Networks and federations"


def test_qgis_draws_the_federations_as_black_outlines(layers: MapLayers, tmp_path: Path):
    path = tmp_path / "groups.gpkg"
    write_geopackage(layers, path)
    with sqlite3.connect(path) as db:
        (qml,) = db.execute(
            "SELECT styleQML FROM layer_styles WHERE f_table_name = 'federations'"
        ).fetchone()
    renderer = ET.fromstring(qml.split("\n", 1)[1]).find("renderer-v2")
    assert renderer is not None and renderer.get("attr") == "federation"
    assert sorted(c.get("value") for c in renderer.iter("category")) == ["A0", "B0", "C0"]
    options = [(o.get("name"), o.get("value")) for o in renderer.iter("Option")]
    assert {v for n, v in options if n == "style"} == {"no"}  # no fill: networks show
    assert {v for n, v in options if n == "outline_color"} == {"17,17,17,255"}


def test_the_credit_line_never_runs_into_a_long_legend(monkeypatch: pytest.MonkeyPatch):
    """Eight towns in a row: a wide, short map whose legend (16 networks, 8 federations)
    reaches well below it. The credit went under the map, into the legend."""
    row = {f"T{k}": (350_000 + 15_000 * k, 150_000) for k in range(8)}
    monkeypatch.setitem(globals(), "TOWNS", row)
    wide = map_layers(assignments(), Geography(), name="row", unit="minutes")
    fig, ax = static_map(wide)
    try:
        renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
        fig.draw(renderer)
        legend = ax.get_legend().get_window_extent(renderer)
        assert legend.y0 < ax.get_window_extent(renderer).y0  # the case at issue
        credit = next(a for a in fig.artists if "Open Government" in str(a.get_text()))
        box = credit.get_window_extent(renderer)
        assert not box.overlaps(legend) and box.y1 <= legend.y0
    finally:
        close(fig)
