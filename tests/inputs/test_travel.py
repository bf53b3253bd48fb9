"""Straight-line distance and the road model: matrices in the order of the practices,
symmetric, zero on the diagonal."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mergeopt.inputs.travel import ROAD_MODEL, RoadModel, road_minutes, straight_line_km

# Four points in EPSG:27700 metres: a 3-4-5 triangle plus a point 10 km north of the first.
EASTING = np.array([500_000.0, 503_000.0, 500_000.0, 500_000.0])


NORTHING = np.array([400_000.0, 404_000.0, 404_000.0, 410_000.0])


def test_straight_line_km_known_triangle():
    km = straight_line_km(EASTING, NORTHING)
    assert km[0, 1] == pytest.approx(5.0)
    assert km[0, 2] == pytest.approx(4.0)
    assert km[1, 2] == pytest.approx(3.0)
    assert km[0, 3] == pytest.approx(10.0)


def test_straight_line_km_symmetric_zero_diagonal():
    km = straight_line_km(EASTING, NORTHING)
    assert km.shape == (4, 4)
    np.testing.assert_array_equal(km, km.T)
    np.testing.assert_array_equal(np.diag(km), 0.0)


def test_straight_line_km_empty():
    assert straight_line_km([], []).shape == (0, 0)


@pytest.mark.parametrize(
    ("easting", "northing"),
    [([0.0, 1.0], [0.0]), ([[0.0, 1.0]], [[0.0, 1.0]]), ([0.0, np.nan], [0.0, 1.0])],
    ids=["unequal-length", "2-d", "nan"],
)
def test_straight_line_km_rejects_bad_coordinates(easting, northing):
    with pytest.raises(ValueError, match="easting and northing"):
        straight_line_km(easting, northing)


def test_road_minutes_symmetric_zero_diagonal_and_linear():
    model = RoadModel(intercept_minutes=8.0, minutes_per_km=1.5)
    minutes = road_minutes(EASTING, NORTHING, model=model)
    np.testing.assert_array_equal(minutes, minutes.T)
    np.testing.assert_array_equal(np.diag(minutes), 0.0)
    assert minutes[0, 1] == pytest.approx(8.0 + 1.5 * 5.0)
    assert minutes[0, 3] == pytest.approx(8.0 + 1.5 * 10.0)


def test_road_minutes_uses_road_model_by_default():
    minutes = road_minutes(EASTING, NORTHING)
    assert minutes[0, 1] == pytest.approx(
        ROAD_MODEL.intercept_minutes + 5 * ROAD_MODEL.minutes_per_km
    )


def test_two_practices_on_one_site_are_zero_minutes_apart():
    minutes = road_minutes([450_000.0, 450_000.0], [120_000.0, 120_000.0])
    np.testing.assert_array_equal(minutes, 0.0)


def test_road_model_minutes_keeps_shape_and_inf():
    minutes = ROAD_MODEL.minutes(np.array([[0.0, np.inf]]))
    assert minutes.shape == (1, 2)
    assert minutes[0, 0] == 0.0
    assert minutes[0, 1] == np.inf


@given(
    st.floats(min_value=0.0, max_value=1_000.0),
    st.floats(min_value=0.001, max_value=1_000.0),
)
def test_road_minutes_increase_with_distance(km, extra):
    shorter, longer = ROAD_MODEL.minutes([km, km + extra])
    assert longer > shorter


@pytest.mark.parametrize(
    ("intercept", "slope", "match"),
    [(-1.0, 1.0, "intercept_minutes"), (5.0, 0.0, "minutes_per_km"), (np.nan, 1.0, "intercept")],
)
def test_road_model_rejects_bad_constants(intercept, slope, match):
    with pytest.raises(ValueError, match=match):
        RoadModel(intercept_minutes=intercept, minutes_per_km=slope)


def test_road_model_rejects_negative_distance():
    with pytest.raises(ValueError, match=">= 0 km"):
        ROAD_MODEL.minutes([-0.1])
