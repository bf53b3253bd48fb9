"""A run's maps: its grouping handed to :mod:`mergeopt.geo.maps` as plain tables."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from mergeopt.geo.catchments import group_catchments, practice_catchments
from mergeopt.geo.maps.layers import MapLayers, map_layers
from mergeopt.geo.maps.static import static_map
from mergeopt.geo.maps.web import interactive_map
from mergeopt.runs.results import RunResult

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def result_layers(result: RunResult) -> MapLayers:
    """The geography of a result's grouping, ready to draw or save (with the road
    network's credit line when travel was routed on one)."""
    travel = result.config.travel
    credit = None
    if travel.model == "network" and travel.network is not None:
        from mergeopt.inputs.roads.readers import attribution

        credit = attribution(travel.network)
    return map_layers(
        result.assignments,
        result.config.geography,
        name=result.config.name,
        unit=travel.unit,
        grouping=result.grouping,
        attribution=credit,
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


def explore(result: RunResult) -> Any:
    """The interactive map, to show inline in a notebook (works with no internet).

    Returns an ``IPython.display.HTML`` object holding the map with plotly's JavaScript
    embedded, so nothing is fetched when the notebook is opened.
    """
    from IPython.display import HTML

    figure = interactive_map(result_layers(result))
    return HTML(figure.to_html(include_plotlyjs=True, full_html=False))  # type: ignore[no-untyped-call]


def plot(result: RunResult, *, ax: Axes | None = None) -> tuple[Figure, Axes]:
    """The static map of a result; draws on ``ax`` if given. Returns ``(fig, ax)``.

    >>> import mergeopt
    >>> fig, ax = plot(mergeopt.solve("configs/hull_pcn.yaml"))
    >>> ax.get_title()
    'hull_pcn: proposed groups (8 groups)'
    """
    return static_map(result_layers(result), ax=ax)
