"""Derive the practice and illustrative premises tables that mergeopt ships, and the
local authorities its offline maps are labelled with.

Run from the repository root: ``python data/derive_tables.py``. It reads only files in
data/nhs and writes data/hull/, data/somerset/ and
mergeopt/geo/maps/local_authorities.geojson (England's local authorities of 2024, their
names only, coordinates to 5 decimals: inside the package, so an installed mergeopt has
them). Practices without a Feb 2026 list
size (merged or closed since the Oct 2025 mapping) are left out and listed on screen.

The premises tables are ILLUSTRATIVE: no public per-practice premises data exists, so
floor areas are drawn at random (seeded) around list size and practices under 3,000
patients are marked as unable to host a hub. Replace them with your own estates data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent
LOCAL_AUTHORITIES = ROOT.parent / "mergeopt" / "geo" / "maps" / "local_authorities.geojson"
AREAS = {
    "hull": "practices_hull_03F_oct2025_joined.csv",
    "somerset": "practices_somerset_11X_oct2025_joined.csv",
}
COLUMNS = {
    "practice_code": "practice_code",
    "practice_name": "practice_name",
    "practice_postcode": "postcode",
    "list_size_2026_02": "list_size",
    "lat": "lat",
    "long": "long",
    "easting_osgb": "easting",
    "northing_osgb": "northing",
    "pcn_code": "pcn_code",
    "pcn_name": "pcn_name",
    "sub_icb_code": "sub_icb_code",
    "icb_code": "icb_code",
}


def main() -> None:
    for area, source in AREAS.items():
        joined = pd.read_csv(ROOT / "nhs" / source, dtype={"practice_code": str})
        missing = joined[joined["list_size_2026_02"].isna()]
        for code, name in zip(missing["practice_code"], missing["practice_name"], strict=True):
            print(f"{area}: left out {code} {name}: no Feb 2026 list size")
        table = joined.dropna(subset=["list_size_2026_02"])[list(COLUMNS)].rename(columns=COLUMNS)
        table["list_size"] = table["list_size"].astype(int)
        (ROOT / area).mkdir(exist_ok=True)
        table.to_csv(ROOT / area / "practices.csv", index=False)

        rng = np.random.default_rng(20260201)
        factor = rng.uniform(0.03, 0.09, len(table))
        premises = pd.DataFrame(
            {
                "practice_code": table["practice_code"],
                "floor_area_m2": (np.maximum(table["list_size"] * factor, 120) / 10).round() * 10,
                "hub_eligibility": np.where(table["list_size"] < 3000, "never", "may"),
                "source": "ILLUSTRATIVE - not real premises data",
            }
        )
        premises.to_csv(ROOT / area / "premises_illustrative.csv", index=False)
        print(f"{area}: {len(table)} practices, {table['list_size'].sum():,} patients")
    local_authorities()


def local_authorities(out: Path = LOCAL_AUTHORITIES) -> None:
    """England's lower-tier local authorities (ONS, 2024), named, for the offline maps."""
    import geopandas as gpd

    layer = gpd.read_file(ROOT / "nhs" / "boundaries" / "boundaries_ltla24.geojson")
    england = layer[layer["ltla24_code"].str.startswith("E")]
    named = england[["ltla24_name", "geometry"]].rename(columns={"ltla24_name": "name"})
    out.unlink(missing_ok=True)  # the GeoJSON driver will not overwrite
    named.to_file(out, driver="GeoJSON", COORDINATE_PRECISION=5)
    print(f"{out.name}: {len(named)} local authorities")


if __name__ == "__main__":
    main()
