"""Colours and page sizes shared by the static and interactive maps."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import geopandas as gpd

    from mergeopt.geo.maps.layers import MapLayers

#: The colour of a federation's outline over its networks' fills, on every map.
FEDERATION_COLOUR = "#111111"
#: An A4 page, landscape, in inches (matplotlib's unit).
A4_LANDSCAPE = (11.69, 8.27)


#: How near (metres) two groups' catchments must come to count as neighbours, which
#: are given different colours where there are more groups than colours.
NEIGHBOUR_METRES = 100.0


def palette() -> list[str]:
    """The groups' colours: matplotlib's tab20, the strong ten first."""
    import matplotlib

    tab20 = matplotlib.colormaps["tab20"]
    colours = [matplotlib.colors.to_hex(tab20(k)) for k in range(20)]
    return colours[::2] + colours[1::2]


def group_colours(groups: list[Any], areas: gpd.GeoSeries | None = None) -> dict[str, str]:
    """A colour for each group, in order, from :func:`palette`. Where there are more
    groups than colours, a colour comes round again: with the groups' catchments
    (``areas``, in the order of ``groups``, in metres), never on a neighbour (a catchment
    within :data:`NEIGHBOUR_METRES`), where one of the colours is free of them.

    >>> group_colours(["A", "B"])
    {'A': '#1f77b4', 'B': '#ff7f0e'}
    """
    colours = palette()
    if areas is None or len(groups) <= len(colours):
        return {str(g): colours[k % len(colours)] for k, g in enumerate(groups)}
    shapes = areas.reset_index(drop=True)
    near, far = shapes.sindex.query(shapes, predicate="dwithin", distance=NEIGHBOUR_METRES)
    neighbours: list[set[int]] = [set() for _ in groups]
    for a, b in zip(near.tolist(), far.tolist(), strict=True):
        if a != b:
            neighbours[a].add(b)
    chosen: list[int] = []
    for k in range(len(groups)):
        taken = {chosen[j] for j in neighbours[k] if j < k}
        turn = [(k + step) % len(colours) for step in range(len(colours))]
        chosen.append(next((c for c in turn if c not in taken), k % len(colours)))
    return {str(g): colours[c] for g, c in zip(groups, chosen, strict=True)}


def proposal_colours(layers: MapLayers) -> dict[str, str]:
    """Each proposed group's colour on every map (:func:`group_colours` of its groups,
    neighbours apart)."""
    return group_colours(list(layers.groups.index), layers.groups.geometry)


def current_colours(layers: MapLayers) -> dict[str, str]:
    """A colour for each current network (the labels of ``layers.current``): the colour
    of the proposed group that takes most of its patients, so a map of today reads
    against the proposal. Where several networks go mostly to one group, the largest
    takes the group's colour and the others lighter shades of it; practices in no
    network (and the unallocated 'U') are grey.
    """
    import matplotlib

    if layers.current is None:
        return {}
    ours = proposal_colours(layers)
    p = layers.practices
    labels = p["current_group"].where(p["current_group"] != "", "none:" + p.index.to_series())
    shares = p.assign(label=labels.to_numpy()).groupby(["label", "group"])["list_size"].sum()
    colours: dict[str, str] = {}
    taken: dict[str, int] = {}
    for label in shares.groupby(level=0).sum().sort_values(ascending=False).index:
        if label == "U" or str(label).startswith("none:"):
            colours[str(label)] = "#9e9e9e"
            continue
        group = str(shares.loc[label].idxmax())
        shade = taken.get(group, 0)
        taken[group] = shade + 1
        red, green, blue = matplotlib.colors.to_rgb(ours[group])
        mix = min(0.3 * shade, 0.75)
        colours[str(label)] = matplotlib.colors.to_hex(
            (red + (1 - red) * mix, green + (1 - green) * mix, blue + (1 - blue) * mix)
        )
    return colours
