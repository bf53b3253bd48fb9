"""Maps of many groups (an ICB's): more groups than colours, so neighbours get different
colours and the print map numbers its hubs, with the legend, numbered alike, under the
map in columns. ICB QRV's 77 groups, listed beside the map, squeezed it to a quarter of
the page with their labels piled on each other, and saving map.pdf warned that the
layout had collapsed."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import box

import mergeopt
from mergeopt.geo.crs import BNG
from mergeopt.geo.maps.files import write_maps
from mergeopt.geo.maps.static import MANY_GROUPS, close, compare_map, static_map
from mergeopt.geo.maps.style import NEIGHBOUR_METRES, group_colours, palette, proposal_colours
from mergeopt.runs.maps import result_layers

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def many():
    """Hull's practices in groups of 5,000-12,000 patients: more groups than colours."""
    result = mergeopt.solve(
        ROOT / "configs/hull_pcn.yaml",
        overrides={
            "maps": False,
            "groups.min_list_size": 5000,
            "groups.max_list_size": 12000,
            "premises.rule": "none",
        },
    )
    layers = result_layers(result)
    assert len(layers.groups) > MANY_GROUPS
    return layers


def _touching(areas: gpd.GeoSeries) -> list[tuple[int, int]]:
    pairs = []
    for a in range(len(areas)):
        for b in range(a + 1, len(areas)):
            if areas.iloc[a].distance(areas.iloc[b]) <= NEIGHBOUR_METRES:
                pairs.append((a, b))
    return pairs


@settings(max_examples=25, deadline=None)
@given(
    columns=st.integers(3, 9),
    rows=st.integers(3, 9),
    gap=st.sampled_from([0.0, 50.0, 500.0]),
)
def test_neighbours_never_share_a_colour_when_colours_come_round(columns, rows, gap):
    """A grid of square catchments (each touching at most 8 others): with more squares
    than colours, no two within the neighbour distance share one; with as many or fewer,
    each group takes the palette's colours in order, as before."""
    size = 1000.0
    areas = gpd.GeoSeries(
        [
            box(
                c * (size + gap),
                r * (size + gap),
                c * (size + gap) + size,
                r * (size + gap) + size,
            )
            for r in range(rows)
            for c in range(columns)
        ],
        crs=BNG,
    )
    labels = [f"G{k:03d}" for k in range(len(areas))]
    colours = group_colours(labels, areas)
    assert set(colours) == set(labels)
    assert set(colours.values()) <= set(palette())
    if len(labels) <= len(palette()):
        assert colours == group_colours(labels)
        return
    for a, b in _touching(areas):
        assert colours[labels[a]] != colours[labels[b]], (labels[a], labels[b])


def test_the_print_map_numbers_its_hubs_and_lists_them_under_the_map(many):
    fig, ax = static_map(many, basemap=False)
    try:
        fig.canvas.draw()
        numbers = [str(k) for k in range(1, len(many.groups) + 1)]
        labels = sorted((t.get_text() for t in ax.texts if t.get_text().isdigit()), key=int)
        assert labels == numbers  # every hub labelled by its number, once
        legend = fig.legends[0]
        entries = [t.get_text() for t in legend.get_texts()]
        for number, (group, row) in zip(numbers, many.groups.iterrows(), strict=False):
            entry = next(e for e in entries if e.startswith(f"{number}  "))
            assert f"({group})" in entry and str(row["hub_name"]).title() in entry
        map_box, legend_box = ax.get_window_extent(), legend.get_window_extent()
        assert legend_box.y1 <= map_box.y0  # under the map, not beside it
        assert map_box.width > 0.6 * fig.bbox.width  # the map keeps the page's width
        assert legend._ncols > 1
    finally:
        close(fig)


def test_the_print_files_of_many_groups_are_laid_out_without_a_warning(many, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        write_maps(many, tmp_path)
    assert (tmp_path / "map.pdf").read_bytes().startswith(b"%PDF")


def test_the_print_map_on_a_planners_axes_lists_many_groups_under_them(many):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 8))
    try:
        static_map(many, ax=ax, basemap=False)
        fig.canvas.draw()
        legend = ax.get_legend()
        assert legend is not None and legend._ncols > 1
        assert legend.get_window_extent().y1 <= ax.get_window_extent().y0
    finally:
        close(fig)


def test_the_compare_map_of_many_groups_points_to_the_numbered_list(many):
    fig, _ = compare_map(many, basemap=False)
    try:
        assert [t.get_text() for t in fig.legends[0].get_texts()] == ["hub"]
        note = fig._supxlabel.get_text()
        assert f"The {len(many.groups)} proposed groups share" in note and "map.png" in note
        colours = proposal_colours(many)
        for a, b in _touching(many.groups.geometry):
            assert colours[str(many.groups.index[a])] != colours[str(many.groups.index[b])]
    finally:
        close(fig)
