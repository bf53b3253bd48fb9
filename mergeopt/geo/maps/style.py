"""Colours and page sizes shared by the static and interactive maps."""

from __future__ import annotations

from typing import Any

#: An A4 page, landscape, in inches (matplotlib's unit).
A4_LANDSCAPE = (11.69, 8.27)


def group_colours(groups: list[Any]) -> dict[str, str]:
    import matplotlib

    tab20 = matplotlib.colormaps["tab20"]
    palette = [matplotlib.colors.to_hex(tab20(k)) for k in range(20)]
    palette = palette[::2] + palette[1::2]
    return {str(g): palette[k % len(palette)] for k, g in enumerate(groups)}
