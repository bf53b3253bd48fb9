"""The geography of a grouping, in EPSG:27700, ready to draw or save.

Built from plain tables: the assignments table of a run (one row per practice, as
``assignments.csv``) and the config's geography section.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import pandas as pd
import shapely

from mergeopt.config import Geography
from mergeopt.geo.catchments import Catchments, group_catchments, practice_catchments
from mergeopt.geo.crs import BNG


@dataclass(frozen=True)
class MapLayers:
    """The geography of a grouping, in EPSG:27700, ready to draw or save.

    ``practices`` (index code: name, list_size, group, hub, travel, current_group, is_hub,
    point geometry), ``hubs`` (the hub practices), ``groups`` (group catchments with
    list_size, practices, area_km2, pieces), ``current`` (current networks' catchments,
    or None), ``lines`` (hub-practice lines), ``catchments`` (per practice).
    ``federations`` (a two-level plan's federations, drawn as outlines over the groups'
    fills: index federation, with hub, hub_name, networks, practices, list_size,
    area_km2, pieces; None for one level); ``practices`` then has federation and
    federation_hub too.
    ``attribution`` is the credit the data behind the map require, if any (e.g. a road
    network's licence), shown on every map.
    """

    practices: gpd.GeoDataFrame
    hubs: gpd.GeoDataFrame
    groups: gpd.GeoDataFrame
    current: gpd.GeoDataFrame | None
    lines: gpd.GeoDataFrame
    catchments: Catchments
    title: str
    unit: str
    attribution: str | None = None
    federations: gpd.GeoDataFrame | None = None


def map_layers(
    assignments: pd.DataFrame,
    geography: Geography,
    *,
    name: str,
    unit: str,
    grouping: str | None = None,
    attribution: str | None = None,
) -> MapLayers:
    """Build every layer of a grouping's maps.

    Parameters
    ----------
    assignments
        One row per practice, with the columns of ``assignments.csv``.
    geography
        Where the study area and catchments come from.
    name
        The config's name, for the title.
    unit
        The unit of the ``travel`` column (minutes, or km for straight lines).
    grouping
        The column an existing grouping came from (``evaluate``), or None for a proposal:
        then the practices' current networks are a layer too.
    attribution
        A credit line the maps must carry (e.g. "© OpenStreetMap contributors").
    """
    table = assignments
    codes = table["practice_code"].astype(str).tolist()
    catchments = practice_catchments(
        geography, codes, table["easting"].to_numpy(), table["northing"].to_numpy()
    )
    points = catchments.frame["point"]
    practices = gpd.GeoDataFrame(
        {
            "name": table["practice_name"].to_numpy(),
            "list_size": table["list_size"].to_numpy(),
            "group": table["group"].astype(str).to_numpy(),
            "hub": table["hub"].astype(str).to_numpy(),
            "travel": table["travel"].to_numpy(),
            "current_group": table["current_group"].fillna("").astype(str).to_numpy(),
            "is_hub": (table["hub"].astype(str) == table["practice_code"].astype(str)).to_numpy(),
        },
        geometry=points.to_numpy(),
        index=pd.Index(codes, name="code"),
        crs=BNG,
    )
    if "federation" in table.columns:
        practices["federation"] = table["federation"].astype(str).to_numpy()
        practices["federation_hub"] = table["federation_hub"].astype(str).to_numpy()
    groups = group_catchments(catchments, practices["group"])
    sizes = practices.groupby("group").agg(
        list_size=("list_size", "sum"), practices=("name", "size")
    )
    groups = groups.join(sizes)
    hubs_of_group = practices.loc[practices["is_hub"]].set_index("group")["name"]
    groups["hub_name"] = hubs_of_group.reindex(groups.index).fillna("")
    current = None
    known = practices["current_group"] != ""
    if known.any() and grouping is None:
        labels = practices["current_group"].where(known, "none:" + practices.index.to_series())
        current = group_catchments(catchments, labels)
        current = current.join(
            practices.assign(cg=labels.to_numpy())
            .groupby("cg")
            .agg(list_size=("list_size", "sum"), practices=("name", "size"))
        )
    hub_points = practices.loc[practices["hub"], "geometry"].to_numpy()
    lines = gpd.GeoDataFrame(
        {
            "practice": practices.index,
            "hub": practices["hub"].to_numpy(),
            "travel": practices["travel"].to_numpy(),
        },
        geometry=shapely.linestrings(
            [[(a.x, a.y), (b.x, b.y)] for a, b in zip(practices.geometry, hub_points, strict=True)]
        ),
        crs=BNG,
    )
    kind = f"existing grouping '{grouping}'" if grouping else "proposed groups"
    title = f"{name}: {kind} ({len(groups)} groups)"
    federations = federation_areas(practices, catchments)
    if federations is not None:
        title = f"{title[:-1]} in {len(federations)} federations)"
    return MapLayers(
        practices=practices,
        hubs=practices.loc[practices["is_hub"]],
        groups=groups,
        current=current,
        lines=lines[lines.geometry.length > 0],
        catchments=catchments,
        title=title,
        unit=unit,
        attribution=attribution,
        federations=federations,
    )


def federation_areas(
    practices: gpd.GeoDataFrame, catchments: Catchments
) -> gpd.GeoDataFrame | None:
    """Each federation's catchment (its networks' catchments together), with its figures;
    None when the practices have no federation (a plan of one level)."""
    if "federation" not in practices.columns:
        return None
    areas = group_catchments(catchments, practices["federation"].rename("federation"))
    areas.index.name = "federation"
    figures = practices.groupby("federation").agg(
        hub=("federation_hub", "first"),
        networks=("group", "nunique"),
        practices=("name", "size"),
        list_size=("list_size", "sum"),
    )
    names = practices["name"].reindex(figures["hub"]).fillna("").to_numpy()
    figures["hub_name"] = names
    return areas.join(figures)
