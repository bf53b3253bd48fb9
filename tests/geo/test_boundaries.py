"""The study area: a boundary file in any CRS read or refused in one line; a boundary that
does not hold the practices is named."""

from __future__ import annotations

import io
import json
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
import shapely.geometry
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import Polygon

from mergeopt._errors import InputError
from mergeopt.config import Geography
from mergeopt.geo.boundaries import study_area
from mergeopt.geo.catchments import practice_catchments
from tests.builders import square
from tests.hostile import TALLY

ROOT = Path(__file__).resolve().parents[2]


def test_boundary_that_does_not_cover_the_practices(tmp_path):
    geography = Geography(boundary=square(tmp_path))
    with pytest.raises(
        InputError, match=r"area.geojson: the boundary does not cover 1 practice\(s\): #2"
    ):
        practice_catchments(
            geography, ["A", "B"], np.array([505_000, 530_000.0]), np.array([405_000, 405_000.0])
        )


def test_boundary_in_the_wrong_crs_is_caught_not_drawn(tmp_path):
    # metres written into a file that says WGS84: the area lands far from the practices
    path = square(tmp_path, crs="EPSG:4326")
    with pytest.raises(InputError, match=r"is its CRS right|does not cover"):
        practice_catchments(
            Geography(boundary=path), ["A"], np.array([505_000.0]), np.array([405_000.0])
        )


def test_boundary_without_crs(tmp_path):
    path = tmp_path / "nocrs.geojson"
    path.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, '
        '"geometry": {"type": "Polygon", "coordinates": [[[0,0],[1,0],[1,1],[0,0]]]}}]}'
    )
    frame = gpd.read_file(path)
    if frame.crs is not None:  # GeoJSON readers assume WGS84; then the cover check speaks
        with pytest.raises(InputError, match="does not cover"):
            practice_catchments(
                Geography(boundary=path), ["A"], np.array([505_000.0]), np.array([405_000.0])
            )
    else:
        with pytest.raises(InputError, match="no CRS"):
            practice_catchments(
                Geography(boundary=path), ["A"], np.array([505_000.0]), np.array([405_000.0])
            )


def test_empty_and_invalid_boundary_geometry(tmp_path):
    bowtie = Polygon(
        [(500_000, 400_000), (510_000, 410_000), (510_000, 400_000), (500_000, 410_000)]
    )
    found = practice_catchments(
        Geography(boundary=square(tmp_path, bowtie)),
        ["A"],
        np.array([508_000.0]),
        np.array([405_000.0]),
    )
    assert found.frame.geometry.is_valid.all()  # a self-crossing boundary is repaired
    empty = gpd.GeoDataFrame({"code": ["A"]}, geometry=[Polygon()], crs="EPSG:27700")
    empty.to_file(tmp_path / "empty.gpkg")
    with pytest.raises(InputError, match=r"empty\.gpkg: the boundary has no geometry"):
        practice_catchments(
            Geography(boundary=tmp_path / "empty.gpkg"),
            ["A"],
            np.array([505_000.0]),
            np.array([405_000.0]),
        )


def test_boundary_values_that_match_nothing(tmp_path):
    geography = Geography(
        boundary=square(tmp_path), boundary_field="code", boundary_values=["ZZZ"]
    )
    with pytest.raises(InputError, match=r"column 'code' has none of \['ZZZ'\]"):
        practice_catchments(geography, ["A"], np.array([505_000.0]), np.array([405_000.0]))


SITES_EAST = np.array([502_000.0, 505_000.0, 508_000.0])


SITES_NORTH = np.array([402_000.0, 405_000.0, 408_000.0])


SQUARE = shapely.box(500_000, 400_000, 510_000, 410_000)


JUNK_PROPERTIES = st.dictionaries(
    st.sampled_from(["code", "name", "", "geometry", "type", "id", "ümlaut", "a b", "x" * 80]),
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers(-(2**70), 2**70)
        | st.floats()
        | st.text(max_size=6),
        lambda children: (
            st.lists(children, max_size=2)
            | st.dictionaries(st.text(max_size=3), children, max_size=2)
        ),
        max_leaves=4,
    ),
    max_size=4,
)


def _to_degrees(shape):
    from pyproj import Transformer

    to_wgs84 = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
    return shapely.transform(shape, lambda xy: np.column_stack(to_wgs84.transform(*xy.T)))


def _boundary_shapes(kind: str) -> tuple[list, bool]:
    """Geometries in EPSG:27700 and whether they hold the practices."""
    bowtie = shapely.Polygon(
        [(500_000, 400_000), (510_000, 410_000), (510_000, 400_000), (500_000, 410_000)]
    )
    hole = shapely.box(509_000, 409_000, 509_500, 409_500)
    far = shapely.box(600_000, 500_000, 601_000, 501_000)
    return {
        "square": ([SQUARE], True),
        "bowtie-and-square": ([bowtie, SQUARE], True),
        "holed": ([SQUARE.difference(hole)], True),
        "multi": ([shapely.MultiPolygon([SQUARE, far])], True),
        "mixed": ([SQUARE, shapely.Point(505_000, 405_000), None, shapely.Polygon()], True),
        "empty": ([shapely.Polygon()], False),
        "null": ([None], False),
        "point": ([shapely.Point(505_000, 405_000)], False),
        "line": ([shapely.LineString([(500_000, 400_000), (510_000, 410_000)])], False),
        "far": ([far], False),
    }[kind]


@st.composite
def boundary_files(draw: st.DrawFn) -> tuple[str, str, bytes, bool, bool]:
    kind = draw(
        st.sampled_from(
            [
                "square",
                "square",
                "bowtie-and-square",
                "holed",
                "multi",
                "mixed",
                "empty",
                "null",
                "point",
                "line",
                "far",
            ]
        )
    )
    crs = draw(
        st.sampled_from(["27700", "4326", "3857", "metres-as-4326", "degrees-as-27700", "none"])
    )
    fmt = draw(st.sampled_from(["geojson", "gpkg"]))
    shapes, holds = _boundary_shapes(kind)
    if crs in {"4326", "degrees-as-27700"}:
        shapes = [None if g is None else _to_degrees(g) for g in shapes]
    elif crs == "3857":
        shapes = list(gpd.GeoSeries(shapes, crs=27700).to_crs(3857))
    label = {"4326": 4326, "3857": 3857, "metres-as-4326": 4326, "degrees-as-27700": 27700}
    epsg = label.get(crs, 27700 if crs == "27700" else None)
    works = holds and crs in {"27700", "4326", "3857"}
    # the features that hold the practices are coded "A"; the others carry junk codes
    holding = 2 if kind == "bowtie-and-square" else 1
    properties = [
        {
            **draw(JUNK_PROPERTIES),
            "code": "A" if k < holding else draw(st.sampled_from(["B", 1, None, ["A"], {}])),
        }
        for k in range(len(shapes))
    ]
    field = draw(st.booleans())
    if fmt == "gpkg":
        frame = gpd.GeoDataFrame(
            {"code": [str(p.get("code")) for p in properties]},
            geometry=gpd.GeoSeries(shapes),
            crs=None if epsg is None else f"EPSG:{epsg}",
        )
        buffer = io.BytesIO()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # writing with no CRS on purpose
            frame.to_file(buffer, driver="GPKG", layer="boundary")
        return kind, fmt, buffer.getvalue(), works, field
    features = [
        {
            "type": "Feature",
            "properties": p,
            "geometry": None if g is None else shapely.geometry.mapping(g),
        }
        for p, g in zip(properties, shapes, strict=True)
    ]
    collection: dict = {"type": "FeatureCollection", "features": features}
    if epsg not in {4326, None}:
        collection["crs"] = {"type": "name", "properties": {"name": f"EPSG:{epsg}"}}
    if crs == "none":  # GeoJSON has no "no CRS": metres with no crs member read as degrees
        works = False
    return kind, fmt, json.dumps(collection, allow_nan=True).encode(), works, field


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(boundary_files())
@pytest.mark.filterwarnings("ignore:Could not parse column:UserWarning")  # junk on purpose
def test_boundary_files_in_any_crs_work_or_fail_clearly(tmp_path, case):
    kind, fmt, data, works, field = case
    path = tmp_path / f"boundary.{fmt}"
    path.write_bytes(data)
    TALLY["boundary files tried"] += 1
    geography = Geography(
        boundary=path, boundary_field="code" if field else None, boundary_values=["A"] * field
    )
    try:
        area, _ = study_area(geography, SITES_EAST, SITES_NORTH)
    except InputError as exc:
        message = str(exc)
        assert not works, message
        assert "\n" not in message and f"boundary.{fmt}" in message, message
        TALLY["boundary files: clear one-line error"] += 1
    else:
        assert works, kind
        assert area.is_valid and area.geom_type in {"Polygon", "MultiPolygon"}
        assert shapely.distance(area, shapely.points(SITES_EAST, SITES_NORTH)).max() < 1.0
        assert abs(area.intersection(SQUARE).area - SQUARE.area) / SQUARE.area < 0.05
        TALLY["boundary files: read, area holds every practice"] += 1


def _square_file(tmp_path: Path, geometries, crs: str | None, properties=None) -> Path:
    frame = gpd.GeoDataFrame(properties or {"code": ["A"] * len(geometries)}, geometry=geometries)
    path = tmp_path / "boundary.gpkg"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # writing with no CRS on purpose
        frame.set_crs(crs, allow_override=True).to_file(path) if crs else frame.to_file(path)
    return path


def test_boundary_in_degrees_with_practices_in_metres_works(tmp_path):
    degrees = gpd.GeoSeries([SQUARE], crs=27700).to_crs(4326)
    path = _square_file(tmp_path, list(degrees), "EPSG:4326")
    TALLY["boundary files tried"] += 1
    area, _ = study_area(Geography(boundary=path), SITES_EAST, SITES_NORTH)
    assert area.symmetric_difference(SQUARE).area / SQUARE.area < 1e-3
    TALLY["boundary files: read, area holds every practice"] += 1


@pytest.mark.parametrize(
    ("geometries", "crs", "match"),
    [
        # GEOS could not union a self-crossing polygon with its neighbour
        (
            [
                shapely.Polygon(
                    [
                        (500_000, 400_000),
                        (510_000, 410_000),
                        (510_000, 400_000),
                        (500_000, 410_000),
                    ]
                ),
                SQUARE,
            ],
            "EPSG:27700",
            None,
        ),
        ([SQUARE], None, r"boundary\.gpkg: the boundary file has no CRS"),
        ([shapely.LineString([(500_000, 400_000), (510_000, 410_000)])], "EPSG:27700", "no poly"),
        ([SQUARE], "EPSG:4326", r"boundary\.gpkg: the boundary has no area .*is its CRS right"),
    ],
    ids=["bowtie-beside-square", "no-crs", "only-lines", "metres-as-degrees"],
)
def test_boundary_regressions(tmp_path, geometries, crs, match):
    path = _square_file(tmp_path, geometries, crs)
    TALLY["boundary files tried"] += 1
    if match is None:
        area, _ = study_area(Geography(boundary=path), SITES_EAST, SITES_NORTH)
        assert area.is_valid and area.area == pytest.approx(SQUARE.area)
        TALLY["boundary files: read, area holds every practice"] += 1
        return
    with pytest.raises(InputError, match=match) as info:
        study_area(Geography(boundary=path), SITES_EAST, SITES_NORTH)
    assert "\n" not in str(info.value)
    TALLY["boundary files: clear one-line error"] += 1


@pytest.mark.filterwarnings("ignore:Could not parse column:UserWarning")
def test_boundary_field_with_a_list_in_one_feature_still_matches(tmp_path):
    """GDAL reads every feature's property as a list once one feature has a list."""
    far = shapely.box(600_000, 500_000, 601_000, 501_000)
    features = [
        {"type": "Feature", "properties": {"code": code, "junk": junk}, "geometry": shape}
        for code, junk, shape in [
            ("A", {"x": [1, None]}, shapely.geometry.mapping(_to_degrees(SQUARE))),
            (["B"], None, shapely.geometry.mapping(_to_degrees(far))),
        ]
    ]
    path = tmp_path / "boundary.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    geography = Geography(boundary=path, boundary_field="code", boundary_values=["A"])
    TALLY["boundary files tried"] += 1
    area, _ = study_area(geography, SITES_EAST, SITES_NORTH)
    assert area.symmetric_difference(SQUARE).area / SQUARE.area < 1e-3
    TALLY["boundary files: read, area holds every practice"] += 1


def test_unreadable_lsoa_file_is_a_clear_error(tmp_path):
    from mergeopt.geo.catchments import practice_catchments

    boundary = _square_file(tmp_path, [SQUARE], "EPSG:27700")
    lsoa = tmp_path / "lsoa.geojson"
    lsoa.write_text('{"type": "FeatureCollection", "features": [')
    geography = Geography(boundary=boundary, catchments="lsoa", lsoa=lsoa)
    TALLY["boundary files tried"] += 1
    with pytest.raises(InputError, match=r"lsoa\.geojson: cannot read LSOA") as info:
        practice_catchments(geography, ["A", "B", "C"], SITES_EAST, SITES_NORTH)
    assert "\n" not in str(info.value)
    TALLY["boundary files: clear one-line error"] += 1
