"""Maps of a grouping: a GeoPackage for QGIS, a static map for print, an interactive page.

:func:`write_maps` is the run-directory writer (``groups.gpkg``, ``map.png``,
``map.html``, and ``area_km2``/``pieces`` added to ``groups.csv``). The interactive map
is a self-contained HTML page (plotly, with its JavaScript embedded): it fetches nothing,
so it works with no internet access. Its layers (proposed groups, current networks) are
switched with the buttons above the map; hovering a practice or a group shows its details.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from mergeopt.catchments import CRS, Catchments, group_catchments, practice_catchments

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from plotly.graph_objects import Figure as PlotlyFigure

    from mergeopt.runs import RunResult

A4_LANDSCAPE = (11.69, 8.27)


@dataclass(frozen=True)
class MapLayers:
    """The geography of a grouping, in EPSG:27700, ready to draw or save.

    ``practices`` (index code: name, list_size, group, hub, travel, current_group, is_hub,
    point geometry), ``hubs`` (the hub practices), ``groups`` (group catchments with
    list_size, practices, area_km2, pieces), ``current`` (current networks' catchments,
    or None), ``lines`` (hub-practice lines), ``catchments`` (per practice).
    """

    practices: gpd.GeoDataFrame
    hubs: gpd.GeoDataFrame
    groups: gpd.GeoDataFrame
    current: gpd.GeoDataFrame | None
    lines: gpd.GeoDataFrame
    catchments: Catchments
    title: str
    unit: str


def map_layers(result: RunResult) -> MapLayers:
    """Build every layer of a result's maps."""
    table = result.assignments
    codes = table["practice_code"].astype(str).tolist()
    catchments = practice_catchments(
        result.config.geography, codes, table["easting"].to_numpy(), table["northing"].to_numpy()
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
        crs=CRS,
    )
    groups = group_catchments(catchments, practices["group"])
    sizes = practices.groupby("group").agg(
        list_size=("list_size", "sum"), practices=("name", "size")
    )
    groups = groups.join(sizes)
    hubs_of_group = practices.loc[practices["is_hub"]].set_index("group")["name"]
    groups["hub_name"] = hubs_of_group.reindex(groups.index).fillna("")
    current = None
    known = practices["current_group"] != ""
    if known.any() and result.grouping is None:
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
        crs=CRS,
    )
    kind = f"existing grouping '{result.grouping}'" if result.grouping else "proposed groups"
    title = f"{result.config.name}: {kind} ({len(groups)} groups)"
    return MapLayers(
        practices=practices,
        hubs=practices.loc[practices["is_hub"]],
        groups=groups,
        current=current,
        lines=lines[lines.geometry.length > 0],
        catchments=catchments,
        title=title,
        unit=result.config.travel.unit,
    )


def explore(result: RunResult) -> Any:
    """The interactive map, to show inline in a notebook (works with no internet).

    Returns an ``IPython.display.HTML`` object holding the map with plotly's JavaScript
    embedded, so nothing is fetched when the notebook is opened.
    """
    from IPython.display import HTML

    figure = interactive_map(map_layers(result))
    return HTML(figure.to_html(include_plotlyjs=True, full_html=False))  # type: ignore[no-untyped-call]


def plot(result: RunResult, *, ax: Axes | None = None) -> tuple[Figure, Axes]:
    """The static map of a result; draws on ``ax`` if given. Returns ``(fig, ax)``.

    >>> import mergeopt
    >>> fig, ax = plot(mergeopt.solve("configs/hull_pcn.yaml"))
    >>> ax.get_title()
    'hull_pcn: proposed groups (8 groups)'
    """
    return static_map(map_layers(result), ax=ax)


def write_maps(result: RunResult, folder: Path) -> None:
    """Run-directory writer: groups.gpkg, map.png, map.html (and map_compare.png when the
    practices have current networks); area and pieces in groups.csv."""
    layers = map_layers(result)
    write_geopackage(layers, folder / "groups.gpkg")
    fig, _ = static_map(layers)
    fig.savefig(folder / "map.png", dpi=150, bbox_inches="tight", pad_inches=0.3)
    _close(fig)
    if layers.current is not None:
        fig, _ = compare_map(layers)
        fig.savefig(folder / "map_compare.png", dpi=150, bbox_inches="tight", pad_inches=0.3)
        _close(fig)
    interactive_map(layers).write_html(folder / "map.html", include_plotlyjs=True, full_html=True)
    groups_csv = folder / "groups.csv"
    if groups_csv.exists():
        table = pd.read_csv(groups_csv)
        geo = layers.groups[["area_km2", "pieces"]]
        table = table.drop(columns=[c for c in ("area_km2", "pieces") if c in table])
        table = table.merge(geo, left_on=table["group"].astype(str), right_index=True, how="left")
        table.drop(columns="key_0", errors="ignore").to_csv(groups_csv, index=False)


def redraw(result: RunResult, folder: Path) -> Path:
    """Write a result's maps into an existing run directory, each file replaced whole."""
    import shutil
    import tempfile

    folder = Path(folder)
    staging = Path(tempfile.mkdtemp(prefix=".maps-", dir=folder))
    try:
        shutil.copy(folder / "groups.csv", staging / "groups.csv")
        write_maps(result, staging)
        for item in staging.iterdir():
            item.replace(folder / item.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


def write_geopackage(layers: MapLayers, path: Path) -> None:
    """practices, hubs, group_catchments, hub_lines (and current_networks) in EPSG:27700."""
    path.unlink(missing_ok=True)
    practices = layers.practices.reset_index()
    practices.to_file(path, layer="practices", driver="GPKG")
    practices[practices["is_hub"]].to_file(path, layer="hubs", driver="GPKG")
    layers.groups.reset_index().to_file(path, layer="group_catchments", driver="GPKG")
    layers.lines.to_file(path, layer="hub_lines", driver="GPKG")
    if layers.current is not None:
        layers.current.reset_index().to_file(path, layer="current_networks", driver="GPKG")


def static_map(layers: MapLayers, *, ax: Axes | None = None) -> tuple[Figure, Axes]:
    """A static map for print: groups coloured, hubs marked and labelled, legend, scale
    bar and north arrow. Returns ``(fig, ax)``; draws on ``ax`` if given."""
    import matplotlib

    if ax is None:
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=A4_LANDSCAPE, layout="constrained")
    else:
        fig = ax.get_figure()  # type: ignore[assignment]
    colours = _colours(list(layers.groups.index))
    for group, row in layers.groups.iterrows():
        gpd.GeoSeries([row.geometry]).plot(
            ax=ax, color=colours[str(group)], alpha=0.55, edgecolor="white", linewidth=1.2
        )
    gpd.GeoSeries([layers.catchments.area], crs=CRS).boundary.plot(
        ax=ax, color="#444", linewidth=1
    )
    layers.lines.plot(ax=ax, color="#333", linewidth=0.6, alpha=0.6)
    ax.scatter(
        layers.practices.geometry.x,
        layers.practices.geometry.y,
        s=np.clip(layers.practices["list_size"] / 400, 8, 80),
        c=[colours[g] for g in layers.practices["group"]],
        edgecolors="black",
        linewidths=0.6,
        zorder=3,
    )
    ax.scatter(
        layers.hubs.geometry.x, layers.hubs.geometry.y, marker="*", s=260,
        c="gold", edgecolors="black", linewidths=0.8, zorder=4,
    )  # fmt: skip
    hubs = layers.hubs
    for (_, hub), lift in zip(hubs.iterrows(), _label_lifts(hubs), strict=True):
        ax.annotate(
            str(hub["group"]), (hub.geometry.x, hub.geometry.y),
            xytext=(6, 5 - 16 * lift), textcoords="offset points", fontsize=8,
            fontweight="bold", zorder=5,
            bbox={"boxstyle": "round,pad=0.2", "fc": "white", "alpha": 0.8, "lw": 0},
        )  # fmt: skip
    handles: list[Any] = [
        matplotlib.patches.Patch(
            color=colours[str(g)],
            label=f"{g} {str(r['hub_name']).title()[:26]}: {int(r['list_size']):,} patients, "
            f"{_plural(int(r['practices']), 'practice')}",
        )
        for g, r in layers.groups.iterrows()
    ]
    handles.append(
        matplotlib.lines.Line2D([], [], marker="*", color="gold", markeredgecolor="black",
                                 markersize=13, linestyle="", label="hub")
    )  # fmt: skip
    ax.legend(
        handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, title="Groups"
    )
    _scale_bar(ax)
    _north_arrow(ax)
    ax.set_title(layers.title, fontsize=13)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    return fig, ax


def compare_map(layers: MapLayers) -> tuple[Figure, Any]:
    """Today's networks (left) and the proposal (right), side by side, A4 wide.

    Each panel colours its areas and practices, labels each area at its largest member,
    and has a scale bar and north arrow. Returns ``(fig, axes)``.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    if layers.current is None:
        raise ValueError("the practices have no current networks to compare with")
    fig, axes = plt.subplots(1, 2, figsize=(A4_LANDSCAPE[0], 6.0), layout="constrained")
    panels = (
        (axes[0], layers.current, "current_group", f"Today: {len(layers.current)} networks"),
        (axes[1], layers.groups, "group", f"Proposed: {len(layers.groups)} groups"),
    )
    area = gpd.GeoSeries([layers.catchments.area], crs=CRS)
    for ax, areas, column, title in panels:
        colours = _colours(list(areas.index))
        for label, row in areas.iterrows():
            gpd.GeoSeries([row.geometry]).plot(
                ax=ax, color=colours[str(label)], alpha=0.55, edgecolor="white", linewidth=1
            )
        area.boundary.plot(ax=ax, color="#444", linewidth=1)
        members = layers.practices[column].where(layers.practices[column] != "", "none")
        ax.scatter(
            layers.practices.geometry.x, layers.practices.geometry.y,
            s=np.clip(layers.practices["list_size"] / 500, 6, 60),
            c=[colours.get(str(g), "#999999") for g in members],
            edgecolors="black", linewidths=0.5, zorder=3,
        )  # fmt: skip
        ax.set_title(title, fontsize=12)
        ax.set_aspect("equal")
        ax.set_axis_off()
        _scale_bar(ax)
        _north_arrow(ax)
    fig.suptitle(f"{layers.title.split(':')[0]}: today's networks and the proposal")
    return fig, axes


def _label_lifts(hubs: gpd.GeoDataFrame) -> list[int]:
    """How many label rows to drop each hub's label, so hubs at (nearly) one site get
    their labels stacked instead of printed over each other."""
    x, y = hubs.geometry.x.to_numpy(), hubs.geometry.y.to_numpy()
    span = max(float(np.ptp(x)) if len(x) else 0.0, float(np.ptp(y)) if len(y) else 0.0)
    near = max(span * 0.06, 1.0)
    lifts: list[int] = []
    for k in range(len(hubs)):
        close = [lifts[m] for m in range(k) if np.hypot(x[k] - x[m], y[k] - y[m]) < near]
        lifts.append(max(close) + 1 if close else 0)
    return lifts


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _colours(groups: list[Any]) -> dict[str, str]:
    import matplotlib

    tab20 = matplotlib.colormaps["tab20"]
    palette = [matplotlib.colors.to_hex(tab20(k)) for k in range(20)]
    palette = palette[::2] + palette[1::2]
    return {str(g): palette[k % len(palette)] for k, g in enumerate(groups)}


def _scale_bar(ax: Axes) -> None:
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    span = (x1 - x0) / 5
    length = next(v for v in (50_000, 20_000, 10_000, 5_000, 2_000, 1_000, 500) if v <= span)
    left, base = x0 + (x1 - x0) * 0.04, y0 + (y1 - y0) * 0.04
    ax.plot([left, left + length], [base, base], color="black", linewidth=3, solid_capstyle="butt")
    ax.text(
        left + length / 2,
        base + (y1 - y0) * 0.012,
        f"{length / 1000:g} km",
        ha="center",
        fontsize=9,
    )


def _north_arrow(ax: Axes) -> None:
    ax.annotate(
        "N", xy=(0.96, 0.95), xytext=(0.96, 0.85), xycoords="axes fraction",
        ha="center", va="center", fontsize=13, fontweight="bold",
        arrowprops={"facecolor": "black", "width": 4, "headwidth": 12},
    )  # fmt: skip


def interactive_map(layers: MapLayers) -> PlotlyFigure:
    """An interactive map (plotly, no basemap, nothing fetched): group and current
    network catchments as switchable layers, one marker per practice with a tooltip."""
    import plotly.graph_objects as go

    fig = go.Figure()
    colours = _colours(list(layers.groups.index))
    proposed = _area_traces(layers.groups, colours, "group")
    current = (
        _area_traces(layers.current, _colours(list(layers.current.index)), "network")
        if layers.current is not None
        else []
    )
    for trace in proposed:
        fig.add_trace(trace)
    for trace in current:
        trace.visible = False
        fig.add_trace(trace)
    p = layers.practices
    hover = [
        f"<b>{code} {str(r['name']).title()}</b><br>{int(r['list_size']):,} patients<br>"
        f"group {r['group']} (hub {r['hub']})<br>travel to hub {r['travel']:.1f} {layers.unit}"
        f"<br>current network {r['current_group'] or 'none'}"
        for code, r in p.iterrows()
    ]
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
    n_prop, n_cur = len(proposed), len(current)
    buttons = [
        {"label": "Proposed groups", "method": "update",
         "args": [{"visible": [True] * n_prop + [False] * n_cur + [True]}]},
    ]  # fmt: skip
    if n_cur:
        buttons.append(
            {"label": "Current networks", "method": "update",
             "args": [{"visible": [False] * n_prop + [True] * n_cur + [True]}]}
        )  # fmt: skip
    fig.update_layout(
        title={"text": layers.title, "x": 0.5, "xanchor": "center"},
        updatemenus=[
            {"type": "buttons", "direction": "right", "x": 0, "y": 1.08, "buttons": buttons}
        ],
        xaxis={"visible": False}, yaxis={"visible": False, "scaleanchor": "x"},
        plot_bgcolor="white", hovermode="closest", height=800, showlegend=True,
        legend={"title": {"text": "layers"}},
    )  # fmt: skip
    return fig


def _area_traces(areas: gpd.GeoDataFrame, colours: dict[str, str], noun: str) -> list[Any]:
    import plotly.graph_objects as go

    traces = []
    for label, row in areas.iterrows():
        xs: list[float | None] = []
        ys: list[float | None] = []
        for polygon in shapely.get_parts(row.geometry):
            if polygon.geom_type != "Polygon":
                continue
            for ring in [polygon.exterior, *polygon.interiors]:
                x, y = ring.xy
                xs += [*x, None]
                ys += [*y, None]
        text = (
            f"<b>{noun} {label}</b><br>{int(row['list_size']):,} patients, "
            f"{int(row['practices'])} practices<br>{row['area_km2']:.1f} km², "
            f"{int(row['pieces'])} piece(s)"
        )
        traces.append(
            go.Scatter(
                x=xs, y=ys, fill="toself", mode="lines", name=f"{noun} {label}",
                fillcolor=colours[str(label)], opacity=0.45, line={"color": "white", "width": 1},
                hoverinfo="text", text=text, hoveron="fills",
            )
        )  # fmt: skip
    return traces


def _close(fig: Figure) -> None:
    import matplotlib.pyplot as plt

    plt.close(fig)
