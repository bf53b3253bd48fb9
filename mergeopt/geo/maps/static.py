"""The static maps, for print (matplotlib): the grouping, and today beside the proposal."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np

from mergeopt.geo.crs import BNG
from mergeopt.geo.maps.basemap import add_basemap
from mergeopt.geo.maps.layers import MapLayers
from mergeopt.geo.maps.style import (
    A4_LANDSCAPE,
    FEDERATION_COLOUR,
    current_colours,
    palette,
    proposal_colours,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def static_map(
    layers: MapLayers, *, ax: Axes | None = None, basemap: bool = True
) -> tuple[Figure, Axes]:
    """A static map for print: groups coloured, hubs marked and labelled, legend, scale
    bar, north arrow and the data's credit lines. Beyond :data:`MANY_GROUPS`, the hubs
    are numbered and the legend, numbered alike, is under the map in columns. Returns
    ``(fig, ax)``; draws on ``ax`` if given. With ``basemap``, OpenStreetMap tiles
    underneath where they can be had (:func:`~mergeopt.geo.maps.basemap.add_basemap`:
    contextily installed, online or cached), their credit added."""
    import matplotlib

    if ax is None:
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    groups = layers.groups
    many = len(groups) > MANY_GROUPS
    entries = len(groups) + 1 + len(_federation_handles(layers))
    page = ax is None
    if ax is None:
        fig, ax = plt.subplots(figsize=_page(entries if many else 0), layout="constrained")
    else:
        fig = ax.get_figure()  # type: ignore[assignment]
    colours = proposal_colours(layers)
    numbers = {str(g): str(k) for k, g in enumerate(groups.index, start=1)}
    _fill(ax, layers.groups, colours, linewidth=1.2)
    gpd.GeoSeries([layers.catchments.area], crs=BNG).boundary.plot(
        ax=ax, color="#444", linewidth=1
    )
    _federation_outlines(ax, layers)
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
    _hub_labels(ax, layers.hubs, numbers if many else None)
    handles: list[Any] = [
        matplotlib.patches.Patch(
            color=colours[str(g)],
            label=f"{numbers[str(g)] + '  ' if many else ''}{_title(r['hub_name'])} "
            f"({_plain(g)}): {int(r['list_size']):,} patients, "
            f"{_plural(int(r['practices']), 'practice')}",
        )
        for g, r in groups.iterrows()
    ]
    handles.append(
        matplotlib.lines.Line2D([], [], marker="*", color="gold", markeredgecolor="black",
                                 markersize=13, linestyle="", label="hub")
    )  # fmt: skip
    handles += _federation_handles(layers)
    kind = "Proposed groups" if layers.federations is None else "Networks and federations"
    legend: Any
    if many:  # under the map, in columns, numbered as the hubs are
        below = {"handles": handles, "fontsize": 7.5, "ncols": LEGEND_COLUMNS,
                 "title": f"{kind}: number on the map, hub practice"}  # fmt: skip
        if page:  # the page's layout keeps room for it (under the axes it shrank them)
            legend = fig.legend(loc="outside lower center", **below)
        else:
            legend = ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.01), **below)
    else:
        legend = ax.legend(
            handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8,
            title=f"{kind} (hub practice)",
        )  # fmt: skip
    credit = add_basemap(ax) if basemap else None
    _scale_bar(ax)
    _north_arrow(ax)
    credits = (*layers.attribution, *([credit] if credit else []))
    _attribution(fig, credits, under=[ax, legend])
    ax.set_title(_plain(layers.title), fontsize=13)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    return fig, ax


def compare_map(layers: MapLayers, *, basemap: bool = True) -> tuple[Figure, Any]:
    """Today's networks (left) and the proposal (right), side by side, A4 wide.

    Each panel colours its areas and practices, and has a scale bar and north arrow
    (and the basemap, as :func:`static_map`); the legend names each proposed group by
    its hub, but for more than :data:`MANY_GROUPS`, whose colours name no group (the
    note under the map says map.png lists them). Returns ``(fig, axes)``.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    if layers.current is None:
        raise ValueError("the practices have no current networks to compare with")
    many = len(layers.groups) > MANY_GROUPS
    fig, axes = plt.subplots(1, 2, figsize=(A4_LANDSCAPE[0], 7.0), layout="constrained")
    networks = sum(1 for code in layers.current.index if code != "U" and ":" not in str(code))
    panels = (
        (axes[0], layers.current, "current_group", current_colours(layers),
         f"Today: {_plural(networks, 'network')}"),
        (axes[1], layers.groups, "group", proposal_colours(layers),
         f"Proposed: {_plural(len(layers.groups), 'group')}"),
    )  # fmt: skip
    area = gpd.GeoSeries([layers.catchments.area], crs=BNG)
    credits: list[str] = []
    for ax, areas, column, colours, title in panels:
        _fill(ax, areas, colours, linewidth=1)
        area.boundary.plot(ax=ax, color="#444", linewidth=1)
        if column == "group":
            _federation_outlines(ax, layers)
        members = layers.practices[column].where(
            layers.practices[column] != "", "none:" + layers.practices.index.to_series()
        )
        ax.scatter(
            layers.practices.geometry.x, layers.practices.geometry.y,
            s=np.clip(layers.practices["list_size"] / 500, 6, 60),
            c=[colours.get(str(g), "#999999") for g in members],
            edgecolors="black", linewidths=0.5, zorder=3,
        )  # fmt: skip
        ax.set_title(title, fontsize=12)
        ax.set_aspect("equal")
        ax.set_axis_off()
        credit = add_basemap(ax) if basemap else None
        if credit and credit not in credits:
            credits.append(credit)
        basemap = credit is not None  # no tiles for the first panel: none for the second
        _scale_bar(ax)
        _north_arrow(ax)
    axes[1].scatter(
        layers.hubs.geometry.x, layers.hubs.geometry.y, marker="*", s=180,
        c="gold", edgecolors="black", linewidths=0.7, zorder=4,
    )  # fmt: skip
    colours = proposal_colours(layers)
    handles: list[Any] = [
        matplotlib.patches.Patch(
            color=colours[str(g)], label=f"{_title(r['hub_name'])} ({_plain(g)})"
        )
        for g, r in layers.groups.iterrows()
    ]
    if many:  # colours come round again, so they name no group: map.png numbers them
        handles = []
    handles.append(
        matplotlib.lines.Line2D([], [], marker="*", color="gold", markeredgecolor="black",
                                 markersize=11, linestyle="", label="hub")
    )  # fmt: skip
    fig.legend(
        handles=handles, loc="outside right upper", fontsize=7.5,
        title="Proposed groups (hub)" if not many else None, title_fontsize=8,
    )  # fmt: skip
    note = (
        "Today's networks take the colour of the proposed group that takes most of their "
        "patients (lighter where several do; grey: in no network)."
    )
    if many:
        note += (
            f" The {len(layers.groups)} proposed groups share {len(palette())} colours, "
            "neighbours apart: map.png numbers and lists them."
        )
    lines = [note, *map(_plain, (*layers.attribution, *credits))]
    fig.supxlabel("\n".join(lines), fontsize=6.5, color="#333")
    fig.suptitle(f"{_plain(layers.title.split(':')[0])}: today's networks and the proposal")
    return fig, axes


#: Beyond this many groups (the palette's colours), a static map's legend goes under
#: the map in columns, the page made taller for it, and the hubs are labelled by
#: numbers the legend gives: ICB QRV's 77 groups, listed beside the map, squeezed it to
#: a quarter of the page, and their codes piled on each other.
MANY_GROUPS = 20
#: Columns of a legend under the map.
LEGEND_COLUMNS = 3
#: Inches of page a legend row takes (7.5-point type).
LEGEND_ROW_INCHES = 0.17


def _legend_rows(entries: int) -> int:
    return -(-entries // LEGEND_COLUMNS)


def _page(entries: int) -> tuple[float, float]:
    """An A4 landscape page, and below it room for a legend of ``entries`` in
    columns (none for 0)."""
    width, height = A4_LANDSCAPE
    if entries:
        height += 0.8 + _legend_rows(entries) * LEGEND_ROW_INCHES
    return width, height


#: How wide a federation's outline is drawn over its networks' fills (static maps).
FEDERATION_WIDTH = 2.8


def _fill(ax: Any, areas: gpd.GeoDataFrame, colours: dict[str, str], *, linewidth: float) -> None:
    """Each area filled in its colour (by its label), in one collection: geopandas draws
    the whole figure after each plot call, so a call per area made a map of 77 groups
    take seconds per panel (ICB QRV's two maps: 15 s of a 39 s run)."""
    if areas.empty:
        return
    gpd.GeoSeries(list(areas.geometry), index=areas.index).plot(
        ax=ax,
        color=[colours[str(label)] for label in areas.index],
        alpha=0.55,
        edgecolor="white",
        linewidth=linewidth,
    )


def _federation_outlines(ax: Axes, layers: MapLayers) -> None:
    """A two-level plan's federations as dark outlines over the networks' fills."""
    if layers.federations is not None:
        layers.federations.boundary.plot(
            ax=ax, zorder=2, color=FEDERATION_COLOUR, linewidth=FEDERATION_WIDTH
        )
        hubs = layers.practices.loc[layers.federations["hub"]]
        ax.scatter(
            hubs.geometry.x, hubs.geometry.y, marker="o", s=620, facecolors="none",
            edgecolors=FEDERATION_COLOUR, linewidths=2.2, zorder=4,
        )  # fmt: skip


def _federation_handles(layers: MapLayers) -> list[Any]:
    """Legend entries for the federations: one line each, with its size."""
    import matplotlib

    if layers.federations is None:
        return []
    ring = matplotlib.lines.Line2D(
        [], [], marker="o", markersize=16, markerfacecolor="none", linestyle="",
        markeredgecolor=FEDERATION_COLOUR, markeredgewidth=2.2, label="federation hub",
    )  # fmt: skip
    return [ring] + [
        matplotlib.lines.Line2D(
            [],
            [],
            color=FEDERATION_COLOUR,
            linewidth=FEDERATION_WIDTH,
            label=f"federation {_title(r['hub_name'])} ({_plain(f)}): "
            f"{int(r['list_size']):,} patients, {_plural(int(r['networks']), 'network')}",
        )
        for f, r in layers.federations.sort_values("list_size", ascending=False).iterrows()
    ]


def _plain(text: object) -> str:
    """A name from the inputs as matplotlib shows it as it is: ``$`` would start math
    (two of them, around anything it cannot parse, fail the whole map).

    >>> print(_plain("Dr $mith & $ons"))
    Dr \\$mith & \\$ons
    """
    return str(text).replace("$", r"\$")


def _attribution(fig: Figure, lines: tuple[str, ...], *, under: list[Any]) -> None:
    """The data's credit lines, small, at the left of the first of ``under`` (the map)
    and below the lowest of them (the map, or its legend where that reaches lower), so
    they never run into the legend; the page saved with ``bbox_inches="tight"`` grows to
    take them."""
    from matplotlib.text import Annotation
    from matplotlib.transforms import Bbox

    def spot(renderer: Any) -> Bbox:
        left = under[0].get_window_extent(renderer).x0
        bottom = min(artist.get_window_extent(renderer).y0 for artist in under)
        return Bbox.from_extents(left, bottom, left + 1, bottom + 1)

    credit = Annotation(
        "\n".join(map(_plain, lines)), xy=(0, 0), xycoords=spot, xytext=(0, -8),
        textcoords="offset points", ha="left", va="top", fontsize=6.5, color="#333",
    )  # fmt: skip
    fig.add_artist(credit)


def _hub_labels(ax: Axes, hubs: gpd.GeoDataFrame, numbers: dict[str, str] | None) -> None:
    """Each hub's group label beside its star (its number in ``numbers``, if given),
    moved apart where they would overlap (adjustText), with a leader line back to the
    hub."""
    from adjustText import adjust_text

    def label(group: object) -> str:
        return numbers[str(group)] if numbers is not None else _plain(group)

    texts = [
        ax.text(
            hub.geometry.x, hub.geometry.y, label(hub["group"]), fontsize=8, fontweight="bold",
            zorder=5, bbox={"boxstyle": "round,pad=0.2", "fc": "white", "alpha": 0.85, "lw": 0},
        )
        for _, hub in hubs.iterrows()
    ]  # fmt: skip
    if texts:
        adjust_text(
            texts, x=hubs.geometry.x.to_numpy(), y=hubs.geometry.y.to_numpy(), ax=ax,
            arrowprops={"arrowstyle": "-", "color": "#333", "lw": 0.6},
            expand=(1.3, 1.6), ensure_inside_axes=True,
        )  # fmt: skip


def _title(name: object) -> str:
    """A practice's name in title case, whole (no cut), ``$`` shown as it is."""
    return _plain(str(name).strip().title())


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


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


def close(fig: Figure) -> None:
    import matplotlib.pyplot as plt

    plt.close(fig)
