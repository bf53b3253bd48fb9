"""Checks before solving: files of another area are found at once, named by code."""

from __future__ import annotations

from pathlib import Path

import pytest

from mergeopt import InputError
from mergeopt.config import load_config
from mergeopt.runs.preflight import read_checked

ROOT = Path(__file__).resolve().parents[2]
HULL = ROOT / "configs" / "hull_pcn.yaml"
SOMERSET_LSOA = ROOT / "data" / "nhs" / "boundaries" / "boundaries_lsoa21_somerset_11X.geojson"
SOMERSET_PREMISES = ROOT / "data" / "somerset" / "premises_illustrative.csv"


def test_the_shipped_config_fits() -> None:
    assert len(read_checked(load_config(HULL))) == 25


def test_every_file_of_another_area_is_named_in_one_message() -> None:
    config = load_config(HULL).with_overrides(
        **{
            "geography.boundary_values": ["E38000150"],  # Somerset's boundary for Hull
            "geography.lsoa": str(SOMERSET_LSOA),
            "inputs.premises": str(SOMERSET_PREMISES),
        }
    )
    with pytest.raises(InputError) as caught:
        read_checked(config)
    message = str(caught.value)
    assert "\n" not in message
    assert "premises_illustrative.csv: column 'practice_code' has practices not in" in message
    assert "the boundary does not reach any of the 25 practices: B81631 (305.9 km)" in message
    assert "boundaries_lsoa21_somerset_11X.geojson: the LSOA file does not reach" in message


def test_one_practice_outside_is_named_by_code_with_its_distance(tmp_path: Path) -> None:
    table = (ROOT / "data" / "hull" / "practices.csv").read_text().splitlines()
    header, rows = table[0], table[1:]
    columns = header.split(",")
    e, n = columns.index("easting"), columns.index("northing")
    moved = rows[0].split(",")
    moved[e] = str(int(float(moved[e])) + 20_000)  # 20 km east, into the Humber estuary
    moved[n] = str(int(float(moved[n])))
    (tmp_path / "practices.csv").write_text("\n".join([header, ",".join(moved), *rows[1:]]) + "\n")
    config = load_config(HULL).with_overrides(
        **{"inputs.practices": str(tmp_path / "practices.csv"), "inputs.premises": None}
    )
    with pytest.raises(
        InputError, match=r"leaves 1 of 25 practices outside it: B8\d{4} \(1\d\.\d km\)"
    ):
        read_checked(config.with_overrides(**{"premises.rule": "none"}))
