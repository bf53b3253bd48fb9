"""Colours and page sizes shared by the static and interactive maps."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mergeopt.geo.maps.layers import MapLayers

#: The colour of a federation's outline over its networks' fills, on every map.
FEDERATION_COLOUR = "#111111"
#: An A4 page, landscape, in inches (matplotlib's unit).
A4_LANDSCAPE = (11.69, 8.27)


def group_colours(groups: list[Any]) -> dict[str, str]:
    import matplotlib

    tab20 = matplotlib.colormaps["tab20"]
    palette = [matplotlib.colors.to_hex(tab20(k)) for k in range(20)]
    palette = palette[::2] + palette[1::2]
    return {str(g): palette[k % len(palette)] for k, g in enumerate(groups)}


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
    ours = group_colours(list(layers.groups.index))
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
