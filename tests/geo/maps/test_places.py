"""Place names on a map with no basemap: the local authorities the study area covers,
from the config's LSOA file or else from England's shipped with mergeopt, so that a new
area's offline map is labelled too."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import shapely

from mergeopt.config import Geography
from mergeopt.geo.catchments import Catchments
from mergeopt.geo.crs import BNG
from mergeopt.geo.maps.layers import PLACE_COLUMNS, place_names

ROOT = Path(__file__).resolve().parents[3]
CCGS = ROOT / "data" / "nhs" / "boundaries" / "boundaries_ccg21.geojson"
HULL_LSOAS = ROOT / "data" / "nhs" / "boundaries" / "boundaries_lsoa21_hull_03F.geojson"


def _area(code: str) -> Catchments:
    """A CCG of 2021 (Devon: E38000230, Hull: E38000085) as the study area."""
    ccgs = gpd.read_file(CCGS).to_crs(BNG)
    area = shapely.unary_union(ccgs.loc[ccgs["ccg21_code"] == code].geometry.to_numpy())
    return Catchments(frame=gpd.GeoDataFrame(geometry=[], crs=BNG), area=area, area_source=code)


def test_a_new_area_is_named_by_its_local_authorities() -> None:
    devon = _area("E38000230")
    places = place_names(Geography(), devon)
    assert list(places.columns) == PLACE_COLUMNS
    names = set(places["name"])
    assert {"Exeter", "Plymouth", "Torbay", "East Devon", "Torridge", "South Hams"} <= names
    # neighbours along the edge (slivers of the generalised layers) are not named
    assert not names & {"Cornwall", "Somerset", "Dorset"}
    assert all(
        devon.area.contains(shapely.Point(x, y))
        for x, y in places[["easting", "northing"]].to_numpy()
    )


def test_a_city_of_is_named_as_people_say_it() -> None:
    names = set(place_names(Geography(), _area("E38000085"))["name"])
    assert names == {"Kingston upon Hull"}  # ONS: 'Kingston upon Hull, City of'


def test_the_config_s_lsoa_file_names_its_places() -> None:
    places = place_names(Geography(lsoa=HULL_LSOAS), _area("E38000085"))
    assert places["name"].tolist() == ["Kingston upon Hull"]


def test_an_area_outside_england_has_no_place_names() -> None:
    sea = Catchments(
        frame=gpd.GeoDataFrame(geometry=[], crs=BNG),
        area=shapely.box(-50_000, -50_000, -10_000, -10_000),  # the sea west of Scilly
        area_source="box",
    )
    assert place_names(Geography(), sea).empty
