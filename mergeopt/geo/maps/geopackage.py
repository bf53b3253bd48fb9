"""The layers of a grouping as a GeoPackage, to open in QGIS."""

from __future__ import annotations

from pathlib import Path

from mergeopt.geo.maps.layers import MapLayers


def write_geopackage(layers: MapLayers, path: Path) -> None:
    """practices, hubs, group_catchments, hub_lines (and current_networks; federations,
    the outlines of a two-level plan's federations) in EPSG:27700."""
    path.unlink(missing_ok=True)
    practices = layers.practices.reset_index()
    practices.to_file(path, layer="practices", driver="GPKG")
    practices[practices["is_hub"]].to_file(path, layer="hubs", driver="GPKG")
    layers.groups.reset_index().to_file(path, layer="group_catchments", driver="GPKG")
    layers.lines.to_file(path, layer="hub_lines", driver="GPKG")
    if layers.current is not None:
        layers.current.reset_index().to_file(path, layer="current_networks", driver="GPKG")
    if layers.federations is not None:
        layers.federations.reset_index().to_file(path, layer="federations", driver="GPKG")
