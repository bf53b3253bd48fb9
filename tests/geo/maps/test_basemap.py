"""The print maps' optional basemap (contextily): drawn under the map with its credit where
contextily is installed and the tiles come, never required, never an error.

No test fetches a tile: contextily is replaced here by a stand-in that records what it
was asked (the suite's ``MERGEOPT_BASEMAP=off`` keeps the real one, if installed, away
from the network everywhere else).
"""

from __future__ import annotations

import os
import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mergeopt.config import Geography
from mergeopt.geo.maps import basemap
from mergeopt.geo.maps.basemap import OSM_CREDIT, SWITCH, add_basemap, tile_cache
from mergeopt.geo.maps.layers import MapLayers, map_layers
from mergeopt.geo.maps.static import close, compare_map, static_map


@pytest.fixture(scope="module")
def layers() -> MapLayers:
    rows = [
        {
            "practice_code": f"P{k}",
            "practice_name": f"Practice {k}",
            "list_size": 8_000 + 500 * k,
            "easting": 450_000 + 3_000 * np.cos(k),
            "northing": 200_000 + 3_000 * np.sin(k),
            "group": "P0" if k < 4 else "P4",
            "hub": "P0" if k < 4 else "P4",
            "travel": 0.0 if k in (0, 4) else 7.5,
            "current_group": "PCN_A" if k % 2 else "PCN_B",
        }
        for k in range(8)
    ]
    return map_layers(pd.DataFrame(rows), Geography(), name="area", unit="minutes")


class Tiles:
    """A stand-in for contextily: records each call; ``fail`` raises as offline would."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.calls: list[dict[str, Any]] = []
        self.cache: list[str] = []
        self.fail = fail
        self.providers = types.SimpleNamespace(
            OpenStreetMap=types.SimpleNamespace(Mapnik="osm-mapnik")
        )

    def set_cache_dir(self, path: str) -> None:
        self.cache.append(path)

    def add_basemap(self, ax: Any, **options: Any) -> None:
        self.calls.append({"limits": (ax.get_xlim(), ax.get_ylim()), **options})
        if self.fail is not None:
            raise self.fail


def _install(monkeypatch: pytest.MonkeyPatch, tiles: Tiles | None) -> None:
    monkeypatch.setitem(sys.modules, "contextily", tiles)  # None: "not installed"
    monkeypatch.setenv(SWITCH, "on")


def _credit(fig: Any) -> str:
    texts = [a.get_text() for a in fig.artists if hasattr(a, "get_text")]
    if fig._supxlabel is not None:
        texts.append(fig._supxlabel.get_text())
    return "\n".join(texts)


def test_the_tiles_go_under_the_map_in_its_own_grid_with_their_credit(layers, monkeypatch):
    tiles = Tiles()
    _install(monkeypatch, tiles)
    fig, _ = static_map(layers)
    try:
        assert len(tiles.calls) == 1
        call = tiles.calls[0]
        assert call["crs"] == "EPSG:27700" and call["source"] == "osm-mapnik"
        assert call["attribution"] is False and call["zorder"] == 0 and call["timeout"]
        # drawn once the map is laid out: its extent holds every practice
        (x0, x1), (y0, y1) = call["limits"]
        x, y = layers.practices.geometry.x, layers.practices.geometry.y
        assert x0 < x.min() and x.max() < x1 and y0 < y.min() and y.max() < y1
        assert OSM_CREDIT in _credit(fig)
        # tiles kept in the user's cache folder (the suite's is a temporary one)
        assert tiles.cache == [str(Path(os.environ["XDG_CACHE_HOME"]) / "mergeopt" / "tiles")]
        assert tile_cache().is_dir()
    finally:
        close(fig)


def test_both_panels_of_the_comparison_get_the_tiles_and_one_credit(layers, monkeypatch):
    tiles = Tiles()
    _install(monkeypatch, tiles)
    fig, _ = compare_map(layers)
    try:
        assert len(tiles.calls) == 2
        assert _credit(fig).count(OSM_CREDIT) == 1
    finally:
        close(fig)


@pytest.mark.parametrize(
    "error",
    [ConnectionError("no route to host"), TimeoutError("read timed out"), OSError("bad tile")],
)
def test_no_tiles_draws_the_map_without_them_and_without_their_credit(
    layers, monkeypatch, error, caplog
):
    tiles = Tiles(fail=error)
    _install(monkeypatch, tiles)
    with caplog.at_level("INFO", logger="mergeopt"):
        fig, ax = static_map(layers)
    try:
        assert len(tiles.calls) == 1 and OSM_CREDIT not in _credit(fig)
        assert ax.get_legend() is not None  # the map itself is whole
        assert any("no basemap" in r.getMessage() for r in caplog.records)
    finally:
        close(fig)


def test_without_contextily_the_map_is_drawn_as_before(layers, monkeypatch):
    _install(monkeypatch, None)
    fig, _ = static_map(layers)
    try:
        assert OSM_CREDIT not in _credit(fig)
    finally:
        close(fig)


@pytest.mark.parametrize("value", ["off", "0", "no", "OFF "])
def test_turned_off_it_is_never_asked_for(layers, monkeypatch, value):
    tiles = Tiles()
    _install(monkeypatch, tiles)
    monkeypatch.setenv(SWITCH, value)
    fig, ax = static_map(layers, basemap=False)
    assert add_basemap(ax) is None
    close(fig)
    fig, _ = static_map(layers)
    close(fig)
    assert tiles.calls == []


def test_the_suite_runs_with_the_basemap_off():
    assert not basemap.basemap_wanted()


def test_the_comparison_asks_once_when_the_tiles_do_not_come(layers, monkeypatch):
    tiles = Tiles(fail=ConnectionError("offline"))
    _install(monkeypatch, tiles)
    fig, _ = compare_map(layers)
    close(fig)
    assert len(tiles.calls) == 1
