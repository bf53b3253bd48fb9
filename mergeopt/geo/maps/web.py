"""The interactive map: one self-contained HTML page (plotly, its JavaScript embedded).

It fetches nothing, so it works with no internet access. Its layers (proposed groups,
current networks) are switched with the buttons above the map; hovering a practice or a
group shows its details. Every name and code in it (hover text, legend, title) is
HTML-escaped: plotly renders those texts as HTML.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import shapely

from mergeopt.geo.maps.layers import MapLayers
from mergeopt.geo.maps.style import group_colours

if TYPE_CHECKING:
    from plotly.graph_objects import Figure as PlotlyFigure


def interactive_map(layers: MapLayers) -> PlotlyFigure:
    """An interactive map (plotly, no basemap, nothing fetched): group and current
    network catchments as switchable layers, one marker per practice with a tooltip; a
    two-level plan's federations as outlines over the groups."""
    import plotly.graph_objects as go

    fig = go.Figure()
    colours = group_colours(list(layers.groups.index))
    proposed = _area_traces(layers.groups, colours, "group")
    current = (
        _area_traces(layers.current, group_colours(list(layers.current.index)), "network")
        if layers.current is not None
        else []
    )
    for trace in proposed:
        fig.add_trace(trace)
    for trace in current:
        trace.visible = False
        fig.add_trace(trace)
    outlines = _outline_traces(layers.federations) if layers.federations is not None else []
    for trace in outlines:
        fig.add_trace(trace)
    p = layers.practices
    two_level = "federation" in p.columns
    hover = [_hover(str(code), r, layers.unit, two_level=two_level) for code, r in p.iterrows()]
    fig.add_trace(
        go.Scatter(
            x=p.geometry.x, y=p.geometry.y, mode="markers", name="practices",
            marker={"size": np.clip(np.sqrt(p["list_size"]) / 6, 7, 26),
                    "color": [colours[g] for g in p["group"]],
                    "symbol": ["star" if h else "circle" for h in p["is_hub"]],
                    "line": {"width": 1, "color": "black"}},
            text=hover, hoverinfo="text", customdata=list(p.index),
        )
    )  # fmt: skip
    n_prop, n_cur, n_fed = len(proposed), len(current), len(outlines)
    buttons = [
        {"label": "Proposed groups", "method": "update",
         "args": [{"visible": [True] * n_prop + [False] * n_cur + [True] * n_fed + [True]}]},
    ]  # fmt: skip
    if n_cur:
        buttons.append(
            {"label": "Current networks", "method": "update",
             "args": [{"visible": [False] * n_prop + [True] * n_cur + [False] * n_fed + [True]}]}
        )  # fmt: skip
    fig.update_layout(
        title={"text": escape(layers.title), "x": 0.5, "xanchor": "center"},
        updatemenus=[
            {"type": "buttons", "direction": "right", "x": 0, "y": 1.08, "buttons": buttons}
        ],
        xaxis={"visible": False}, yaxis={"visible": False, "scaleanchor": "x"},
        plot_bgcolor="white", hovermode="closest", height=800, showlegend=True,
        legend={"title": {"text": "layers"}},
    )  # fmt: skip
    if layers.attribution:
        fig.add_annotation(
            text=escape(layers.attribution), xref="paper", yref="paper", x=1, y=0,
            xanchor="right", yanchor="bottom", showarrow=False, font={"size": 10},
        )  # fmt: skip
    return fig


def _outline_traces(federations: gpd.GeoDataFrame) -> list[Any]:
    """A two-level plan's federations as dark outlines (no fill) over the groups' fills,
    each with its figures on hover."""
    import plotly.graph_objects as go

    traces = []
    for label, row in federations.iterrows():
        xs, ys = _rings(row.geometry)
        text = (
            f"<b>federation {escape(str(label))}</b> "
            f"(hub {escape(str(row['hub']) + ' ' + str(row['hub_name']).title())})<br>"
            f"{int(row['list_size']):,} patients, {int(row['networks'])} networks, "
            f"{int(row['practices'])} practices<br>{row['area_km2']:.1f} km²"
        )
        traces.append(
            go.Scatter(
                x=xs, y=ys, mode="lines", name=escape(f"federation {label}"),
                line={"color": "#111111", "width": 3.5}, hoverinfo="text", text=text,
                hoveron="points",
            )
        )  # fmt: skip
    return traces


def _rings(geometry: Any) -> tuple[list[float | None], list[float | None]]:
    """Every ring of a (multi)polygon as one line, rings separated by gaps."""
    xs: list[float | None] = []
    ys: list[float | None] = []
    for polygon in shapely.get_parts(geometry):
        if polygon.geom_type != "Polygon":
            continue
        for ring in [polygon.exterior, *polygon.interiors]:
            x, y = ring.xy
            xs += [*x, None]
            ys += [*y, None]
    return xs, ys


def _hover(code: str, row: Any, unit: str, *, two_level: bool) -> str:
    """A practice's hover text, its names and codes escaped."""
    name = escape(f"{code} {str(row['name']).title()}")
    federation = (
        f"<br>federation {escape(str(row['federation']))} "
        f"(hub {escape(str(row['federation_hub']))})"
        if two_level
        else ""
    )
    return (
        f"<b>{name}</b><br>{int(row['list_size']):,} patients<br>"
        f"group {escape(str(row['group']))} (hub {escape(str(row['hub']))})<br>"
        f"travel to hub {row['travel']:.1f} {unit}"
        f"<br>current network {escape(str(row['current_group'] or 'none'))}{federation}"
    )


def _area_traces(areas: gpd.GeoDataFrame, colours: dict[str, str], noun: str) -> list[Any]:
    import plotly.graph_objects as go

    traces = []
    for label, row in areas.iterrows():
        xs, ys = _rings(row.geometry)
        text = (
            f"<b>{noun} {escape(str(label))}</b><br>{int(row['list_size']):,} patients, "
            f"{int(row['practices'])} practices<br>{row['area_km2']:.1f} km², "
            f"{int(row['pieces'])} piece(s)"
        )
        traces.append(
            go.Scatter(
                x=xs, y=ys, fill="toself", mode="lines", name=escape(f"{noun} {label}"),
                fillcolor=colours[str(label)], opacity=0.45, line={"color": "white", "width": 1},
                hoverinfo="text", text=text, hoveron="fills",
            )
        )  # fmt: skip
    return traces
