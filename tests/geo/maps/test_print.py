"""The print maps: map.png at 300 dpi and map.pdf, with the data's credit, whole names,
a legend, scale bar and north arrow; map_compare.png with a legend, the hubs and today's
networks coloured like the proposed group that takes most of their patients."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

import mergeopt
from mergeopt.geo.maps.files import write_maps
from mergeopt.geo.maps.layers import DATA_CREDIT
from mergeopt.geo.maps.static import close, compare_map, static_map
from mergeopt.geo.maps.style import current_colours, group_colours
from mergeopt.runs.maps import result_layers

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def layers():
    return result_layers(mergeopt.solve(ROOT / "configs/hull_pcn.yaml", overrides={"maps": False}))


def _texts(fig) -> list[str]:
    texts = [t.get_text() for t in fig.texts] + [
        a.get_text() for a in fig.artists if hasattr(a, "get_text")
    ]
    for ax in fig.axes:
        texts += [t.get_text() for t in ax.texts]
    if fig._supxlabel is not None:
        texts.append(fig._supxlabel.get_text())
    return texts


def test_the_static_map_has_legend_scale_north_and_credit_with_whole_names(layers):
    fig, ax = static_map(layers)
    try:
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        for hub_name in layers.groups["hub_name"]:
            assert any(str(hub_name).title() in label for label in labels), hub_name
        assert any(len(label.split(":")[0]) > 26 for label in labels)  # no cut at 26
        texts = _texts(fig)
        assert "N" in texts and any(t.endswith(" km") for t in texts)
        assert any(DATA_CREDIT in t for t in texts)
        hubs = set(layers.hubs["group"].astype(str))
        assert hubs <= set(texts)  # every hub labelled
    finally:
        close(fig)


def test_hub_labels_do_not_overlap(layers):
    fig, ax = static_map(layers)
    try:
        fig.canvas.draw()
        hubs = set(layers.hubs["group"].astype(str))
        boxes = [t.get_window_extent() for t in ax.texts if t.get_text() in hubs]
        assert len(boxes) == len(hubs)
        for k, a in enumerate(boxes):
            for b in boxes[k + 1 :]:
                assert not a.overlaps(b)
    finally:
        close(fig)


def test_today_is_coloured_like_the_group_taking_most_of_its_patients(layers):
    colours = current_colours(layers)
    ours = group_colours(list(layers.groups.index))
    p = layers.practices
    shares = p[p["current_group"] != ""].groupby(["current_group", "group"])["list_size"].sum()
    largest = shares.groupby(level=0).sum().sort_values(ascending=False)
    taken: set[str] = set()
    for network in largest.index:
        if network == "U":
            assert colours["U"] == "#9e9e9e"
            continue
        group = str(shares.loc[network].idxmax())
        if group not in taken:  # the largest network going to a group takes its colour
            assert colours[network] == ours[group], network
            taken.add(group)


def test_the_compare_map_has_a_legend_hubs_and_does_not_count_u_as_a_network(layers):
    fig, axes = compare_map(layers)
    try:
        networks = {g for g in layers.practices["current_group"] if g not in ("", "U")}
        assert axes[0].get_title() == f"Today: {len(networks)} networks"
        assert fig.legends and any(t.get_text() == "hub" for t in fig.legends[0].get_texts())
        stars = [c for c in axes[1].collections if len(c.get_offsets()) == len(layers.hubs)]
        assert stars  # the hubs marked on the proposal
        assert any(DATA_CREDIT in t for t in _texts(fig))
    finally:
        close(fig)


def test_print_files_are_300_dpi_png_and_a_pdf(layers, tmp_path):
    write_maps(layers, tmp_path)
    for name in ("map.png", "map_compare.png"):
        dpi = Image.open(tmp_path / name).info["dpi"]
        assert round(dpi[0]) == 300, name
    assert (tmp_path / "map.pdf").read_bytes().startswith(b"%PDF")
    table = pd.DataFrame(layers.groups)
    assert len(table) == 8
