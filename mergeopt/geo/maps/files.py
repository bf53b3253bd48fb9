"""Every map file of a grouping, written into a folder."""

from __future__ import annotations

from pathlib import Path

from mergeopt.geo.maps.geopackage import write_geopackage
from mergeopt.geo.maps.layers import MapLayers
from mergeopt.geo.maps.static import close, compare_map, static_map
from mergeopt.geo.maps.web import PLOTLY_JS, write_page, write_plotly_js

#: Dots per inch of the PNG maps: print quality.
PRINT_DPI = 300


def write_maps(layers: MapLayers, folder: Path, *, shared_plotly: bool = False) -> None:
    """groups.gpkg, map.png (300 dpi) and map.pdf, map.html (and the plotly.js it loads),
    and map_compare.png when there are current networks.

    With ``shared_plotly`` (a sweep's scenario), map.html loads the plotly.js of the
    folder above, written once for every scenario (:func:`write_plotly_js`); otherwise
    plotly.js is written beside it, so the run directory opens on its own.
    """
    write_geopackage(layers, folder / "groups.gpkg")
    fig, _ = static_map(layers)
    fig.savefig(folder / "map.png", dpi=PRINT_DPI, bbox_inches="tight", pad_inches=0.3)
    fig.savefig(folder / "map.pdf", bbox_inches="tight", pad_inches=0.3)
    close(fig)
    if layers.current is not None:
        fig, _ = compare_map(layers)
        fig.savefig(folder / "map_compare.png", dpi=PRINT_DPI, bbox_inches="tight", pad_inches=0.3)
        close(fig)
    if shared_plotly:
        write_page(layers, folder / "map.html", plotly_js=f"../{PLOTLY_JS}")
    else:
        write_plotly_js(folder)
        write_page(layers, folder / "map.html")
