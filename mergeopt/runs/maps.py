"""A run's maps: its grouping handed to :mod:`mergeopt.geo.maps` as plain tables."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from mergeopt.geo.catchments import group_catchments, practice_catchments
from mergeopt.geo.maps.layers import MapLayers, map_layers
from mergeopt.geo.maps.static import static_map
from mergeopt.geo.maps.web import interactive_map
from mergeopt.runs.results import RunResult

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from plotly.graph_objects import Figure as PlotlyFigure


def result_layers(result: RunResult) -> MapLayers:
    """The geography of a result's grouping, ready to draw or save (with the road
    network's credit line when travel was routed on one)."""
    travel = result.config.travel
    credits: list[str] = []
    if travel.model == "network" and travel.network is not None:
        from mergeopt.inputs.roads.readers import attribution

        credits.append(attribution(travel.network))
    return map_layers(
        result.assignments,
        result.config.geography,
        name=result.config.name,
        unit=travel.unit,
        grouping=result.grouping,
        attribution=credits,
        network_names=network_names(result),
    )


def group_areas(result: RunResult) -> pd.DataFrame:
    """Each group's catchment area (``area_km2``) and separate pieces (``pieces``),
    indexed by group label, without drawing a map."""
    table = result.assignments
    catchments = practice_catchments(
        result.config.geography,
        table["practice_code"].astype(str).tolist(),
        table["easting"].to_numpy(),
        table["northing"].to_numpy(),
    )
    groups = group_catchments(catchments, table["group"].astype(str))
    return pd.DataFrame(groups[["area_km2", "pieces"]])


def network_names(result: RunResult) -> dict[str, str]:
    """The current networks' names by code, from the practices table (e.g. ``pcn_name``)."""
    practices = result.problem.practices
    if "current_name" not in practices.columns:
        return {}
    known = practices.dropna(subset=["current_group", "current_name"])
    codes, names = known["current_group"].astype(str), known["current_name"].astype(str)
    return dict(zip(codes, names, strict=True))


def explore(result: RunResult, *, basemap: bool = True) -> PlotlyFigure:
    """The interactive map as a plotly figure, shown inline in a notebook (and open to
    adjust: ``fig.update_layout(height=600)``).

    With ``basemap`` (the default) it is drawn on OpenStreetMap tiles, which the notebook
    fetches when it shows the map; ``basemap=False`` draws the study area's outline and
    place names instead, and fetches nothing.
    """
    return interactive_map(result_layers(result), basemap=basemap)


def plot(result: RunResult, *, ax: Axes | None = None) -> tuple[Figure, Axes]:
    """The static map of a result; draws on ``ax`` if given. Returns ``(fig, ax)``.

    >>> import mergeopt
    >>> fig, ax = plot(mergeopt.solve("configs/hull_pcn.yaml"))
    >>> ax.get_title()
    'hull_pcn: proposed groups (8 groups)'
    """
    return static_map(result_layers(result), ax=ax)
