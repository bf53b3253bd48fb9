"""Every map file of a grouping, written into a folder."""

from __future__ import annotations

from pathlib import Path

from mergeopt.geo.maps.geopackage import write_geopackage
from mergeopt.geo.maps.layers import MapLayers
from mergeopt.geo.maps.static import close, compare_map, static_map
from mergeopt.geo.maps.web import interactive_map


def write_maps(layers: MapLayers, folder: Path) -> None:
    """groups.gpkg, map.png, map.html, and map_compare.png when there are current networks."""
    write_geopackage(layers, folder / "groups.gpkg")
    fig, _ = static_map(layers)
    fig.savefig(folder / "map.png", dpi=150, bbox_inches="tight", pad_inches=0.3)
    close(fig)
    if layers.current is not None:
        fig, _ = compare_map(layers)
        fig.savefig(folder / "map_compare.png", dpi=150, bbox_inches="tight", pad_inches=0.3)
        close(fig)
    interactive_map(layers).write_html(folder / "map.html", include_plotlyjs=True, full_html=True)
