"""The geography of a grouping, in EPSG:27700, ready to draw or save.

Built from plain tables: the assignments table of a run (one row per practice, as
``assignments.csv``) and the config's geography section.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from mergeopt.config import Geography
from mergeopt.geo.catchments import Catchments, group_catchments, practice_catchments
from mergeopt.geo.crs import BNG

#: The credit the NHS Digital, ONS and OS data behind every map require (OGL v3.0).
DATA_CREDIT = (
    "Contains public sector information licensed under the Open Government Licence v3.0; "
    "contains OS data © Crown copyright and database right; source: ONS, NHS England"
)
#: Columns of :attr:`MapLayers.places`.
PLACE_COLUMNS = ["name", "easting", "northing"]
#: England's local authorities of 2024 (ONS, generalised; OGL v3.0), names only: the
#: place names of a map whose config names no LSOA file (``data/derive_tables.py``).
LOCAL_AUTHORITIES = Path(__file__).with_name("local_authorities.geojson")
#: Smallest share of a local authority (or of the study area) to name it on the map.
PLACE_SHARE = 0.05


@dataclass(frozen=True)
class MapLayers:
    """The geography of a grouping, in EPSG:27700, ready to draw or save.

    ``practices`` (index code: name, list_size, group, hub, travel, current_group, is_hub,
    point geometry), ``hubs`` (the hub practices), ``groups`` (group catchments with
    list_size, practices, area_km2, pieces), ``current`` (current networks' catchments,
    or None; with each network's ``name`` where known), ``lines`` (hub-practice lines),
    ``catchments`` (per practice).
    ``federations`` (a two-level plan's federations, drawn as outlines over the groups'
    fills: index federation, with hub, hub_name, networks, practices, list_size,
    area_km2, pieces; None for one level); ``practices`` then has federation and
    federation_hub too.
    ``attribution`` is the credit lines the data behind the map require, shown on every
    map: the NHS, ONS and OS data's always, and any a run adds (e.g. a road network's
    licence; a web map on OpenStreetMap tiles adds theirs).
    ``places`` are place names to orient by (name, easting, northing) when no basemap is
    drawn.
    """

    practices: gpd.GeoDataFrame
    hubs: gpd.GeoDataFrame
    groups: gpd.GeoDataFrame
    current: gpd.GeoDataFrame | None
    lines: gpd.GeoDataFrame
    catchments: Catchments
    title: str
    unit: str
    attribution: tuple[str, ...] = (DATA_CREDIT,)
    places: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=PLACE_COLUMNS))
    federations: gpd.GeoDataFrame | None = None

    @property
    def credit_line(self) -> str:
        """Every credit line, as one line."""
        return "; ".join(self.attribution)


def map_layers(
    assignments: pd.DataFrame,
    geography: Geography,
    *,
    name: str,
    unit: str,
    grouping: str | None = None,
    attribution: str | Sequence[str] | None = None,
    network_names: Mapping[str, str] | None = None,
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
        Credit lines the maps must carry besides the data's own (e.g. "© OpenStreetMap
        contributors").
    network_names
        The current networks' names by code (e.g. from the ePCN table), for legends and
        hover text; a network without one is shown by its code.
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
            "moved": (
                table["moved"].fillna(False).astype(bool).to_numpy()
                if "moved" in table.columns
                else np.zeros(len(table), dtype=bool)
            ),
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
        names = dict(network_names or {})
        current["name"] = [
            names.get(str(code), "") if not str(code).startswith("none:") else ""
            for code in current.index
        ]
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
        attribution=(DATA_CREDIT, *_lines(attribution)),
        places=place_names(geography, catchments),
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


def _lines(credit: str | Sequence[str] | None) -> tuple[str, ...]:
    if credit is None:
        return ()
    return (credit,) if isinstance(credit, str) else tuple(credit)


def place_names(geography: Geography, catchments: Catchments) -> pd.DataFrame:
    """Places to orient by on a map with no basemap: the local authorities the study
    area covers, each named at the middle of its part of the area.

    From the config's LSOA file where it names one (``geography.lsoa``: the LSOAs'
    names, less the LSOA number, are their local authorities'), else from England's
    local authorities of 2024 shipped with mergeopt (:data:`LOCAL_AUTHORITIES`). A
    local authority is named where the area holds at least :data:`PLACE_SHARE` of it or
    it makes up that share of the area, not for a sliver along the edge. Empty where
    the area lies outside England.
    """
    import pyogrio

    if geography.lsoa is not None:
        lsoas = pyogrio.read_dataframe(geography.lsoa).to_crs(BNG)
        column = next((c for c in lsoas.columns if str(c).lower().endswith("_name")), None)
        if column is None:
            return pd.DataFrame(columns=PLACE_COLUMNS)
        lsoas = lsoas[lsoas.intersects(catchments.area)]
        names = lsoas[column].astype(str).str.replace(r"\s+\d+[A-Z]?$", "", regex=True)
        layer = gpd.GeoDataFrame({"name": names}, geometry=lsoas.geometry.to_numpy(), crs=BNG)
        layer = layer.dissolve("name").reset_index()
    else:
        layer = pyogrio.read_dataframe(LOCAL_AUTHORITIES).to_crs(BNG)
    area = catchments.area
    layer = layer[layer.intersects(area)]
    rows = []
    for name, whole in zip(layer["name"], layer.geometry, strict=True):
        part = shapely.intersection(whole, area)
        if part.area < PLACE_SHARE * min(whole.area, area.area):
            continue
        spot = part.point_on_surface()
        rows.append({"name": _place(str(name)), "easting": spot.x, "northing": spot.y})
    return pd.DataFrame(rows, columns=PLACE_COLUMNS)


def _place(name: str) -> str:
    """A local authority's name as a map shows it: 'Bristol, City of' is 'Bristol'."""
    return re.sub(r",\s*(City|County) of$", "", name)
