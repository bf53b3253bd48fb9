"""The static maps: a real picture with every group's colour, and today beside the proposal."""

from __future__ import annotations

import numpy as np
import pandas as pd
from PIL import Image


def test_static_map_is_a_real_picture_with_every_group_colour(hull_run):
    image = Image.open(hull_run / "map.png").convert("RGB")
    width, height = image.size
    assert width >= 1200 and height >= 800
    pixels = np.asarray(image).reshape(-1, 3).astype(int)
    assert pixels.std() > 30  # not blank
    from mergeopt.geo.maps.style import group_colours

    groups = pd.read_csv(hull_run / "groups.csv")["group"].astype(str).tolist()
    for group, colour in group_colours(sorted(groups)).items():
        rgb = np.array([int(colour[k : k + 2], 16) for k in (1, 3, 5)])
        assert (np.abs(pixels - rgb).max(axis=1) <= 3).any(), f"no pixel of group {group}'s colour"


def test_side_by_side_map_shows_today_and_the_proposal(hull_run):
    image = np.asarray(Image.open(hull_run / "map_compare.png").convert("RGB"))
    height, width, _ = image.shape
    assert width >= 1200 and width > 1.5 * height  # two panels across an A4 width
    left, right = image[:, : width // 2], image[:, width // 2 :]
    assert left.std() > 30 and right.std() > 30  # neither panel blank
    assert not np.array_equal(left, right)
