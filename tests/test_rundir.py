"""A run directory: written whole, with one groups.csv contract, and opened again."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

import mergeopt
from mergeopt.runs.rundir import write_run

ROOT = Path(__file__).resolve().parents[1]
HULL = ROOT / "configs" / "hull_pcn.yaml"


def test_groups_csv_has_the_same_columns_and_figures_with_or_without_maps(tmp_path):
    """groups.csv carries each group's catchment area and pieces whether or not the maps
    were drawn: its columns never depend on ``maps``."""
    result = mergeopt.solve(HULL, overrides={"maps": False})
    drawn = write_run(result, tmp_path / "drawn", maps=True)
    plain = write_run(result, tmp_path / "plain", maps=False)
    assert (drawn / "groups.csv").read_bytes() == (plain / "groups.csv").read_bytes()
    table = pd.read_csv(plain / "groups.csv")
    assert list(table.columns[-2:]) == ["area_km2", "pieces"]
    assert (table["area_km2"] > 0).all() and (table["pieces"] >= 1).all()
    assert not (plain / "map.png").exists() and (drawn / "map.png").is_file()
