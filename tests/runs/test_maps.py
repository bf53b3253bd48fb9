"""A run's maps: an evaluation's maps, and contiguity seen on the map."""

from __future__ import annotations

from pathlib import Path

import pyogrio
from typer.testing import CliRunner

from mergeopt.cli import app

ROOT = Path(__file__).resolve().parents[2]


def test_evaluate_writes_the_same_maps(tmp_path):
    out = tmp_path / "today"
    args = [
        "evaluate",
        str(ROOT / "configs/hull_pcn.yaml"),
        "--grouping",
        "pcn_code",
        "--out",
        str(out),
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.stderr
    assert {"groups.gpkg", "map.png", "map.html"} <= {p.name for p in out.iterdir()}
    groups = pyogrio.read_dataframe(out / "groups.gpkg", layer="group_catchments")
    assert "U82095" in set(groups["group"])


def test_contiguous_option_makes_every_group_one_piece():
    import mergeopt
    from mergeopt.runs.maps import result_layers as map_layers

    config = ROOT / "configs/hull_pcn.yaml"
    plain = map_layers(mergeopt.solve(config))
    assert (plain.groups["pieces"] > 1).any()  # the plain optimum has a group in two pieces
    joined = mergeopt.solve(config, overrides={"geography.contiguous": True})
    assert joined.status == "optimal"
    assert (map_layers(joined).groups["pieces"] == 1).all()
