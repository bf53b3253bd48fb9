"""Practice and group catchments: Voronoi cells that tile the study area, practices at one
site, LSOA catchments, and stray pieces given to a neighbour."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely
import shapely.geometry
from shapely.geometry import box

from mergeopt.config import Geography, load_config
from mergeopt.geo.adjacency import adjacency
from mergeopt.geo.catchments import group_catchments, practice_catchments
from mergeopt.runs.problem import prepare_problem
from tests.builders import square

ROOT = Path(__file__).resolve().parents[2]


def test_four_practices_split_a_square_into_quadrants(tmp_path):
    geography = Geography(boundary=square(tmp_path))
    x = np.array([502_500, 507_500, 502_500, 507_500.0])
    y = np.array([402_500, 402_500, 407_500, 407_500.0])
    found = practice_catchments(geography, ["P1", "P2", "P3", "P4"], x, y)
    assert found.frame.area.to_numpy() == pytest.approx([25e6] * 4)
    assert len(adjacency(found)) == 4  # the ring of quadrants; diagonals only touch at a corner


def test_practices_at_one_site_each_get_a_cell(tmp_path):
    geography = Geography(boundary=square(tmp_path))
    x = np.array([505_000, 505_000, 505_000, 502_000.0])
    y = np.array([405_000, 405_000, 405_000, 402_000.0])
    found = practice_catchments(geography, ["A", "B", "C", "D"], x, y)
    frame = found.frame
    assert frame.geometry.is_valid.all() and (frame.area > 0).all()
    assert all(
        cell.contains(point) for cell, point in zip(frame.geometry, frame["point"], strict=True)
    )
    assert frame.area.sum() == pytest.approx(1e8)


def test_hull_catchments_tile_the_study_area():
    config = load_config(ROOT / "configs" / "hull_pcn.yaml")
    problem, _ = prepare_problem(config)
    practices = problem.practices
    found = practice_catchments(
        config.geography,
        problem.codes,
        practices["easting"].to_numpy(),
        practices["northing"].to_numpy(),
    )
    frame = found.frame
    assert frame.geometry.is_valid.all()
    assert abs(frame.area.sum() - found.area.area) / found.area.area < 0.001  # no overlaps
    union = shapely.union_all(frame.geometry.to_numpy())
    assert union.symmetric_difference(found.area).area / found.area.area < 0.001  # no gaps
    assert all(
        cell.contains(point) for cell, point in zip(frame.geometry, frame["point"], strict=True)
    )
    groups = group_catchments(found, practices["current_group"].fillna("none").to_numpy())
    assert groups["area_km2"].sum() == pytest.approx(found.area.area / 1e6, rel=1e-3)
    assert (groups["pieces"] >= 1).all()


def test_lsoa_catchments_give_every_lsoa_to_a_practice():
    config = load_config(ROOT / "configs" / "hull_pcn.yaml")
    geography = config.geography.model_copy(update={"catchments": "lsoa"})
    problem, _ = prepare_problem(config)
    practices = problem.practices
    found = practice_catchments(
        geography, problem.codes, practices["easting"].to_numpy(), practices["northing"].to_numpy()
    )
    frame = found.frame
    assert frame.geometry.is_valid.all()
    pairs = [(i, k) for i in range(len(frame)) for k in range(i + 1, len(frame))]
    overlap = sum(
        frame.geometry.iloc[i].intersection(frame.geometry.iloc[k]).area for i, k in pairs
    )
    assert overlap < 1.0


def test_a_cell_cut_by_the_boundary_gives_its_stray_piece_to_the_neighbour(tmp_path):
    """A slit in the study area (an estuary) cuts B's Voronoi cell in two: the piece cut
    off from B joins A, the cell it shares most border with; the cells still tile."""
    km = 1000.0
    x0, y0 = 500_000.0, 400_000.0
    slit = box(x0 + 4.9 * km, y0 + 2 * km, x0 + 5.1 * km, y0 + 10 * km)
    area = box(x0, y0, x0 + 10 * km, y0 + 10 * km).difference(slit)
    geography = Geography(boundary=square(tmp_path, area))
    x = x0 + np.array([2.0, 6.0, 5.0]) * km  # A, B, C
    y = y0 + np.array([5.0, 5.0, 1.0]) * km
    found = practice_catchments(geography, ["A", "B", "C"], x, y)
    cells = found.frame.geometry
    assert (shapely.get_num_geometries(cells.to_numpy()) == 1).all()
    assert shapely.contains(cells.to_numpy(), found.frame["point"].to_numpy()).all()
    assert cells.area.sum() == pytest.approx(area.area, rel=1e-9)
    assert cells.union_all().symmetric_difference(area).area < 1.0
    # the strip between the A|B bisector (x = 4 km) and the slit went to A
    assert cells["A"].contains(shapely.Point(x0 + 4.5 * km, y0 + 6 * km))
