"""Small inputs several test modules write into a temporary folder: a practices table with
the config that names it, and a square study area."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
from shapely.geometry import box

#: Four practices in two current networks, one hub a must, one a never.
PRACTICES = """practice_code,practice_name,list_size,easting,northing,pcn_code,hub_eligibility
A1,Alpha,12000,510000,430000,N1,may
A2,Beta,9000,511000,430500,N1,may
A3,Gamma,15000,512000,429000,N2,must
A4,Delta,7000,509000,431000,N2,never
"""


def write_config(folder: Path, text: str, practices: str = PRACTICES) -> Path:
    """``practices.csv`` and ``config.yaml`` (name ``t``, the practices, then ``text``) in
    ``folder``; the config's path."""
    (folder / "practices.csv").write_text(practices)
    path = folder / "config.yaml"
    path.write_text("name: t\ninputs:\n  practices: practices.csv\n" + text)
    return path


def square(
    tmp_path: Path, geometry: Any = None, crs: str = "EPSG:27700", name: str = "area.geojson"
) -> Path:
    """A 10 km square study area (or the given geometry) saved as GeoJSON."""
    shape = box(500_000, 400_000, 510_000, 410_000) if geometry is None else geometry
    frame = gpd.GeoDataFrame({"code": ["A"]}, geometry=[shape], crs=crs)
    path = tmp_path / name
    frame.to_file(path)
    return path
