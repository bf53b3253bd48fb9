"""The interactive map: plotly figures and the page that shows them (map.html).

The page draws the grouping on OpenStreetMap tiles when they can be fetched, and
otherwise (no internet, or the tile server blocked) on a plain map of the study area
with its boundary and place names, so it always opens. It loads plotly.js from one file
beside it (:data:`PLOTLY_JS`, or the sweep folder's, shared by every scenario) instead
of embedding 4.7 MB in every map.

Two layers, switched with the buttons above the map: the proposed groups and today's
networks. The title, legend and practice colours follow the layer shown; hovering a
practice, a hub or an area names it (practice, hub and network names, with codes). A
two-level plan's federations are outlined over the proposed groups.

Every name is HTML-escaped before it goes into hover text, a legend or the page.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from mergeopt.geo.crs import BNG
from mergeopt.geo.maps.basemap import OSM_CREDIT
from mergeopt.geo.maps.layers import MapLayers
from mergeopt.geo.maps.style import FEDERATION_COLOUR, current_colours, proposal_colours

if TYPE_CHECKING:
    from plotly.graph_objects import Figure as PlotlyFigure

#: The plotly.js file a map page loads, beside it (a sweep's scenarios share the sweep's).
PLOTLY_JS = "plotly.min.js"
#: A tile fetched to learn whether the basemap can be drawn (the tile server's own).
_PROBE = "https://tile.openstreetmap.org/0/0/0.png"
_WGS84 = "EPSG:4326"


@dataclass(frozen=True)
class _Layer:
    """One switchable layer of the map: its areas, colours and words."""

    key: str
    label: str
    title: str
    legend: str
    areas: gpd.GeoDataFrame
    names: list[str]  # each area's legend name, escaped
    colours: dict[str, str]  # by area label
    practice_colours: list[str]


def interactive_map(layers: MapLayers, *, basemap: bool = True) -> PlotlyFigure:
    """The interactive map as a plotly figure (renders inline in Jupyter).

    With ``basemap`` (the default), drawn on OpenStreetMap tiles, fetched from the web when
    shown; without, on a plain map of the study area (its boundary and place names), which
    fetches nothing.
    """
    import plotly.graph_objects as go

    fig = go.Figure()
    shown = _layers(layers)
    visible: list[list[bool]] = [[] for _ in shown]
    for k, layer in enumerate(shown):
        traces = _traces(layers, layer, basemap=basemap, hubs=k == 0)
        for trace in traces:
            trace.visible = k == 0
            fig.add_trace(trace)
        for m in range(len(shown)):
            visible[m] += [m == k] * len(traces)
    if not basemap:
        for trace in _orientation(layers):
            fig.add_trace(trace)
            for flags in visible:
                flags.append(True)
    buttons = [
        {
            "label": layer.label,
            "method": "update",
            "args": [
                {"visible": flags},
                {"title.text": layer.title, "legend.title.text": layer.legend},
            ],
        }
        for layer, flags in zip(shown, visible, strict=True)
    ]
    first = shown[0]
    fig.update_layout(
        title={"text": first.title, "x": 0.5, "xanchor": "center"},
        updatemenus=[{"type": "buttons", "direction": "right", "x": 0, "y": 1.06,
                      "xanchor": "left", "buttons": buttons, "showactive": True}],
        hovermode="closest", height=800, showlegend=True, margin={"t": 90},
        legend={"title": {"text": first.legend}, "itemsizing": "constant"},
    )  # fmt: skip
    credits = [*layers.attribution, *([OSM_CREDIT] if basemap else [])]
    fig.add_annotation(
        text="<br>".join(html.escape(line) for line in credits), xref="paper", yref="paper",
        x=0, y=-0.01, xanchor="left", yanchor="top", showarrow=False, align="left",
        font={"size": 10, "color": "#333"},
    )  # fmt: skip
    if basemap:
        fig.update_layout(map=_view(layers))
    else:
        fig.update_layout(
            xaxis={"visible": False}, yaxis={"visible": False, "scaleanchor": "x"},
            plot_bgcolor="white",
        )  # fmt: skip
    return fig


def write_page(layers: MapLayers, path: Path, *, plotly_js: str = PLOTLY_JS) -> None:
    """Write map.html: the basemap figure when its tiles load, the plain one otherwise,
    with plotly.js loaded from ``plotly_js`` (a path relative to the page)."""
    figures = {
        "basemap": interactive_map(layers, basemap=True),
        "plain": interactive_map(layers, basemap=False),
    }
    data = {key: json.loads(fig.to_json()) for key, fig in figures.items()}
    payload = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    page = _PAGE.format(
        title=html.escape(layers.title),
        script=html.escape(plotly_js, quote=True),
        figures=payload,
        probe=_PROBE,
    )
    path.write_text(page, encoding="utf-8")


def write_plotly_js(folder: Path) -> Path:
    """Write plotly.js into ``folder`` (unless the same file is there already)."""
    from plotly.offline import get_plotlyjs

    target = Path(folder) / PLOTLY_JS
    text = get_plotlyjs()
    if not target.exists() or target.stat().st_size != len(text.encode("utf-8")):
        staging = target.with_name(f".{PLOTLY_JS}.tmp")
        staging.write_text(text, encoding="utf-8")
        staging.replace(target)
    return target


def _layers(layers: MapLayers) -> list[_Layer]:
    p = layers.practices
    colours = proposal_colours(layers)
    name = layers.title.split(":")[0]
    proposed = _Layer(
        key="proposed",
        label="Proposed groups",
        title=html.escape(layers.title),
        legend="Proposed groups" if layers.federations is None else "Networks and federations",
        areas=layers.groups,
        names=[_group_name(g, r["hub_name"]) for g, r in layers.groups.iterrows()],
        colours=colours,
        practice_colours=[colours[g] for g in p["group"]],
    )
    if layers.current is None:
        return [proposed]
    ours = current_colours(layers)
    networks = sum(1 for code in layers.current.index if _is_network(str(code)))
    today = _Layer(
        key="current",
        label="Current networks",
        title=html.escape(f"{name}: current networks ({networks} networks)"),
        legend="Current networks",
        areas=layers.current,
        names=[_network_name(str(c), str(n)) for c, n in layers.current["name"].items()],
        colours=ours,
        practice_colours=[ours.get(_current_label(code, g), "#999999") for code, g in
                          zip(p.index, p["current_group"], strict=True)],
    )  # fmt: skip
    return [proposed, today]


def _is_network(code: str) -> bool:
    """A real network: not the unallocated 'U', nor a practice in none."""
    return code != "U" and not code.startswith("none:")


def _current_label(code: str, group: str) -> str:
    return group if group else f"none:{code}"


def _group_name(group: Any, hub_name: Any) -> str:
    hub = str(hub_name).strip()
    return html.escape(f"{hub.title()} ({group})" if hub else str(group))


def _network_name(code: str, name: str) -> str:
    if code == "U":
        return "unallocated (U)"
    if code.startswith("none:"):
        return html.escape(f"in no network ({code.removeprefix('none:')})")
    return html.escape(f"{name} ({code})" if name else code)


def _practice_hover(layers: MapLayers) -> list[str]:
    p = layers.practices
    groups = layers.groups
    names = {} if layers.current is None else layers.current.get("name", pd.Series()).to_dict()
    texts = []
    for code, r in p.iterrows():
        group = _group_name(r["group"], groups.loc[r["group"], "hub_name"])
        current = str(r["current_group"])
        network = _network_name(current, str(names.get(current, ""))) if current else "none"
        role = "<br><i>hub of its group</i>" if r["is_hub"] else ""
        federation = (
            f"<br>federation: {html.escape(str(r['federation']))} "
            f"(hub {html.escape(str(r['federation_hub']))})"
            if "federation" in p.columns
            else ""
        )
        texts.append(
            f"<b>{html.escape(str(r['name']).title())}</b> ({html.escape(str(code))}){role}"
            f"<br>{int(r['list_size']):,} patients"
            f"<br>proposed group: {group}"
            f"<br>travel to its hub: {r['travel']:.1f} {html.escape(layers.unit)}"
            f"<br>current network: {network}{federation}"
        )
    return texts


def _area_hover(name: str, row: pd.Series, unit_noun: str) -> str:
    return (
        f"<b>{name}</b><br>{unit_noun}<br>{int(row['list_size']):,} patients, "
        f"{int(row['practices'])} practice(s)<br>{row['area_km2']:.1f} km², "
        f"{int(row['pieces'])} piece(s)"
    )


def _traces(layers: MapLayers, layer: _Layer, *, basemap: bool, hubs: bool) -> list[Any]:
    """One layer's traces: its areas, the practices in its colours (and the hubs)."""
    noun = "proposed group" if layer.key == "proposed" else "current network"
    traces = [
        _area(geometry, name=name, colour=layer.colours[str(label)],
              hover=_area_hover(name, row, noun), basemap=basemap)
        for (label, row), geometry, name in
        zip(layer.areas.iterrows(), layer.areas.geometry, layer.names, strict=True)
    ]  # fmt: skip
    if layer.key == "proposed" and layers.federations is not None:
        traces += _federation_outlines(layers.federations, basemap=basemap)
    p = layers.practices
    hover = _practice_hover(layers)
    size = np.clip(np.sqrt(p["list_size"].to_numpy(dtype=float)) / 6, 7, 26)
    if hubs:  # drawn first: each hub's gold mark rings its own dot
        mask = p["is_hub"].to_numpy()
        traces.append(
            _points(p[mask], name="hubs", colour=["gold"] * int(mask.sum()), size=size[mask] + 10,
                    hover=[h for h, m in zip(hover, mask, strict=True) if m], basemap=basemap,
                    star=True)
        )  # fmt: skip
    traces.append(
        _points(p, name="practices", colour=layer.practice_colours, size=size, hover=hover,
                basemap=basemap)
    )  # fmt: skip
    return traces


def _area(geometry: Any, *, name: str, colour: str, hover: str, basemap: bool) -> Any:
    import plotly.graph_objects as go

    if basemap:
        shape = gpd.GeoSeries([geometry], crs=BNG).to_crs(_WGS84).iloc[0]
        feature = {"type": "Feature", "id": "a", "geometry": shapely.geometry.mapping(shape)}
        return go.Choroplethmap(
            geojson={"type": "FeatureCollection", "features": [feature]}, locations=["a"],
            z=[1], colorscale=[[0, colour], [1, colour]], showscale=False, name=name,
            showlegend=True, marker={"opacity": 0.45, "line": {"color": "white", "width": 1}},
            hovertemplate=f"{hover}<extra></extra>",
        )  # fmt: skip
    xs, ys = _rings(geometry)
    return go.Scatter(
        x=xs, y=ys, fill="toself", mode="lines", name=name, fillcolor=colour, opacity=0.45,
        line={"color": "white", "width": 1}, hoverinfo="text", text=hover, hoveron="fills",
    )  # fmt: skip


def _federation_outlines(federations: gpd.GeoDataFrame, *, basemap: bool) -> list[Any]:
    """A two-level plan's federations as dark outlines (no fill) over the groups' fills,
    each with its figures on hover."""
    import plotly.graph_objects as go

    traces: list[Any] = []
    for label, row in federations.iterrows():
        hub = f"{row['hub']} {str(row['hub_name']).title()}"
        hover = (
            f"<b>federation {html.escape(str(label))}</b> (hub {html.escape(hub)})<br>"
            f"{int(row['list_size']):,} patients, {int(row['networks'])} networks, "
            f"{int(row['practices'])} practices<br>{row['area_km2']:.1f} km²"
        )
        name = "federation " + _group_name(label, row["hub_name"])
        line = {"color": FEDERATION_COLOUR, "width": 3.5}
        if basemap:
            shape = gpd.GeoSeries([row.geometry], crs=BNG).to_crs(_WGS84).iloc[0]
            lon, lat = _rings(shape)
            traces.append(
                go.Scattermap(lon=lon, lat=lat, mode="lines", name=name, line=line,
                              hoverinfo="text", text=hover)
            )  # fmt: skip
        else:
            xs, ys = _rings(row.geometry)
            traces.append(
                go.Scatter(x=xs, y=ys, mode="lines", name=name, line=line, hoverinfo="text",
                           text=hover, hoveron="points")
            )  # fmt: skip
    return traces


def _points(
    frame: gpd.GeoDataFrame,
    *,
    name: str,
    colour: Sequence[str],
    size: np.ndarray,
    hover: list[str],
    basemap: bool,
    star: bool = False,
) -> Any:
    import plotly.graph_objects as go

    if basemap:
        where = frame.geometry.to_crs(_WGS84)
        return go.Scattermap(
            lon=where.x, lat=where.y, mode="markers", name=name,
            marker={"size": size, "color": list(colour), "opacity": 0.95},
            text=hover, hoverinfo="text", customdata=list(frame.index),
        )  # fmt: skip
    return go.Scatter(
        x=frame.geometry.x, y=frame.geometry.y, mode="markers", name=name,
        marker={"size": size, "color": list(colour), "symbol": "star" if star else "circle",
                "line": {"width": 1, "color": "black"}},
        text=hover, hoverinfo="text", customdata=list(frame.index),
    )  # fmt: skip


def _orientation(layers: MapLayers) -> list[Any]:
    """The study area's outline and place names, for the map with no basemap."""
    import plotly.graph_objects as go

    xs, ys = _rings(layers.catchments.area, holes=False)
    traces: list[Any] = [
        go.Scatter(x=xs, y=ys, mode="lines", name="study area", hoverinfo="skip",
                   line={"color": "#444", "width": 1.5})
    ]  # fmt: skip
    places = layers.places
    if len(places):
        traces.append(
            go.Scatter(
                x=places["easting"], y=places["northing"], mode="text", name="places",
                text=[html.escape(str(n)) for n in places["name"]], hoverinfo="skip",
                textfont={"size": 14, "color": "#555"}, showlegend=False,
            )
        )  # fmt: skip
    return traces


def _rings(geometry: Any, *, holes: bool = True) -> tuple[list[float | None], list[float | None]]:
    xs: list[float | None] = []
    ys: list[float | None] = []
    for polygon in shapely.get_parts(geometry):
        if polygon.geom_type != "Polygon":
            continue
        for ring in [polygon.exterior, *(polygon.interiors if holes else [])]:
            x, y = ring.xy
            xs += [*x, None]
            ys += [*y, None]
    return xs, ys


def _view(layers: MapLayers) -> dict[str, Any]:
    """The tile map's centre and zoom, to show the whole study area in a plot about
    900 by 600 pixels (MapLibre's zoom counts 512-pixel tiles)."""
    area = gpd.GeoSeries([layers.catchments.area], crs=BNG).to_crs(_WGS84)
    west, south, east, north = area.total_bounds
    middle = math.radians((south + north) / 2)
    wide = math.log2(360 * 900 / (512 * max(east - west, 1e-4)))
    tall = math.log2(360 * 600 * math.cos(middle) / (512 * max(north - south, 1e-4)))
    return {
        "style": "open-street-map",
        "center": {"lon": (west + east) / 2, "lat": (south + north) / 2},
        "zoom": round(float(np.clip(min(wide, tall) - 0.3, 3, 15)), 2),
    }


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>body {{ margin: 0; font-family: sans-serif; }} #map {{ width: 100%; height: 98vh; }}
#note {{ padding: 1em; }}</style>
<script src="{script}"></script>
</head>
<body>
<div id="map"></div>
<script>
(function () {{
  var figures = {figures};
  var el = document.getElementById("map");
  function draw(key) {{
    el.setAttribute("data-basemap", key);
    var fig = figures[key];
    Plotly.newPlot(el, fig.data, fig.layout, {{responsive: true, displaylogo: false}});
  }}
  if (typeof Plotly === "undefined") {{
    el.id = "note";
    el.textContent = "This map needs the file {script} beside it (it is written with " +
      "every run; mergeopt map FOLDER writes it again).";
    return;
  }}
  if (!navigator.onLine) {{ draw("plain"); return; }}
  var done = false;
  function choose(online) {{
    if (done) {{ return; }}
    done = true;
    draw(online ? "basemap" : "plain");
  }}
  var probe = new Image();
  probe.onload = function () {{ choose(true); }};
  probe.onerror = function () {{ choose(false); }};
  setTimeout(function () {{ choose(false); }}, 4000);
  probe.src = "{probe}";
}})();
</script>
</body>
</html>
"""
